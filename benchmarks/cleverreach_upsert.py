"""Upserting receivers through the CleverReach client.

The emulator runs in its own process (`crm2cr emulate cleverreach
--no-limits`), so the figures are the client's: requests sent, wall time,
peak RSS of this process and receivers per second. Receivers are generated
lazily and sent in the client's batches (1000), so memory stays flat
whatever the count.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from benchmarks.common import Stopwatch, emulator, floor_ratio, peak_rss_mb
from crm2cr.cleverreach import ClientCredentials, ReceiverData, open_client
from crm2cr.emulators.cleverreach.account import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from crm2cr.http import RequestCounter


def receivers(count: int) -> Iterator[ReceiverData]:
    for i in range(count):
        yield ReceiverData(
            f"bench.{i:07d}@crm2cr-bench.example",
            global_attributes={"firstname": f"First{i}", "lastname": f"Last{i}"},
            tags=("CRM.bench",),
            source="crm2cr benchmark",
        )


def run(count: int = 100_000) -> dict[str, object]:
    counter = RequestCounter()
    with (
        emulator("cleverreach", "--no-limits") as base_url,
        open_client(
            base_url,
            credentials=ClientCredentials(EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET),
            counter=counter,
            timeout=300.0,
        ) as cr,
    ):
        for name in ("firstname", "lastname"):
            cr.attributes.create(name, "text")
        group = cr.groups.create("Benchmark")
        before = counter.snapshot()
        failed = 0
        with Stopwatch() as watch:
            for outcome in cr.receivers.upsert_batches(group.id, receivers(count)):
                failed += len(outcome.failed)
        sent = counter.snapshot()
        stats = cr.groups.stats(group.id)
    requests = sent.requests - before.requests
    floor, ratio = floor_ratio(requests, count, 1000)
    return {
        "receivers": count,
        "failed": failed,
        "requests": requests,
        "floor": floor,
        "ratio": ratio,
        "retries": sent.retries - before.retries,
        "batch_size": cr.batch_size.current,
        "wall_s": watch.seconds,
        "receivers_per_s": round(count / watch.seconds, 1) if watch.seconds else 0.0,
        "peak_rss_mb": peak_rss_mb(),
        "group_total": stats.total_count,
    }


if __name__ == "__main__":
    import json

    sys.stdout.write(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)) + "\n")
