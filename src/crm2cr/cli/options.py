"""Options shared by several commands, as Annotated aliases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PortOpt = Annotated[
    int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")
]
SeedOpt = Annotated[str, typer.Option("--seed", help="Starting data: empty or demo.")]
DataOpt = Annotated[
    Path | None, typer.Option("--data", dir_okay=False, help="SQLite file that keeps the state.")
]
LatencyOpt = Annotated[
    float, typer.Option("--latency-ms", min=0.0, help="Added latency per request, in ms.")
]
FaultRateOpt = Annotated[
    float,
    typer.Option(
        "--fault-rate",
        min=0.0,
        max=1.0,
        help="Share of requests that fail (429, 503, dropped connection, token expiry).",
    ),
]
AuthOpt = Annotated[
    str,
    typer.Option(
        "--auth", help="dev: any bearer token; strict: only unexpired tokens issued here."
    ),
]
NoLimitsOpt = Annotated[
    bool, typer.Option("--no-limits", help="Switch off the service's rate limits.")
]
RandomSeedOpt = Annotated[
    int | None, typer.Option("--random-seed", help="Makes generated data and faults repeatable.")
]
