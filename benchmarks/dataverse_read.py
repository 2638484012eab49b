"""Reading contacts through the Dataverse client.

The emulator runs in its own process (`crm2cr emulate dataverse --no-limits`),
so the figures are the client's: requests sent, wall time, peak RSS of this
process and rows per second. The contacts are made by the emulator's control
API (`POST /_emulator/generate`), or, where an emulator lacks it, through the
client's UpsertMultiple. The read streams page by page (5000 rows), so memory
stays flat whatever the count.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator

import httpx

from benchmarks.common import Stopwatch, emulator, floor_ratio, peak_rss_mb
from crm2cr.dataverse import BearerAuth, DataverseClient, Query, StaticToken
from crm2cr.http import RequestCounter

SELECT = ("fullname", "emailaddress1", "statecode", "donotbulkemail", "modifiedon")
TOKEN = "crm2cr-benchmark"  # the emulator's dev auth takes any non-empty token


def generate(org_url: str, dv: DataverseClient, count: int) -> str:
    """Make `count` contacts; the way it was done ('control' or 'upsertmultiple')."""
    answer = httpx.post(
        f"{org_url}/_emulator/generate",
        json={"entity": "contact", "count": count},
        timeout=3600.0,
    )
    if answer.status_code == 200:
        return "control"
    outcome = dv.bulk.upsert_multiple("contacts", "contact", list(contacts(count)))
    if not outcome.ok:
        raise SystemExit(f"{len(outcome.failed)} contacts could not be made")
    return "upsertmultiple"


def contacts(count: int) -> Iterator[dict[str, object]]:
    for i in range(count):
        yield {
            "contactid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"crm2cr-bench-{i}")),
            "firstname": f"First{i}",
            "lastname": f"Last{i}",
            "emailaddress1": f"bench.{i:07d}@crm2cr-bench.example",
        }


def run(count: int = 100_000) -> dict[str, object]:
    counter = RequestCounter()
    with (
        emulator("dataverse", "--no-limits") as org_url,
        DataverseClient.connect(org_url, BearerAuth(StaticToken(TOKEN)), counter=counter) as dv,
    ):
        with Stopwatch() as made:
            how = generate(org_url, dv, count)
        before = counter.snapshot()
        rows = 0
        with Stopwatch() as watch:
            for page in dv.pages("contacts", Query(select=SELECT)):
                rows += len(page.rows)
        sent = counter.snapshot()
    if rows < count:
        raise SystemExit(f"read {rows} contacts, expected at least {count}")
    requests = sent.requests - before.requests
    floor, ratio = floor_ratio(requests, rows, 5000)
    return {
        "rows": rows,
        "generated_by": how,
        "generate_s": made.seconds,
        "requests": requests,
        "floor": floor,
        "ratio": ratio,
        "retries": sent.retries - before.retries,
        "wall_s": watch.seconds,
        "rows_per_s": round(rows / watch.seconds, 1) if watch.seconds else 0.0,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    import json

    sys.stdout.write(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)) + "\n")
