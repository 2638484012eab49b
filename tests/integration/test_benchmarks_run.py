"""The benchmarks run end to end at a tiny size, and send no more requests than the floor.

Speed is measured by `make bench`, never asserted here; this only keeps the
harness working and pins the request counts (requests, not seconds).
"""

from __future__ import annotations

import pytest

from benchmarks import cleverreach_upsert, dataverse_read


@pytest.mark.parametrize("module", [dataverse_read, cleverreach_upsert])
def test_a_benchmark_runs_and_meets_the_request_floor(module: object) -> None:
    figures = module.run(1200)  # type: ignore[attr-defined]
    assert figures["ratio"] == 1.0
    assert figures["requests"] == figures["floor"]
    assert figures["peak_rss_mb"] > 0
