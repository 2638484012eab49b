"""What every benchmark shares: emulators in subprocesses, peak memory, results."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "performance" / "results.jsonl"
START_TIMEOUT = 60.0


@contextmanager
def emulator(kind: str, *args: str) -> Iterator[str]:
    """Run `crm2cr emulate KIND ARGS` in a subprocess; yield the URL it prints first."""
    command = [sys.executable, "-m", "crm2cr", "emulate", kind, "--port", "0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        while not line.startswith("http") and time.monotonic() < deadline:
            line = process.stdout.readline().strip()
            if process.poll() is not None:
                break
        if not line.startswith("http"):
            raise RuntimeError(f"the {kind} emulator did not start")
        yield line
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)


@dataclass
class Stopwatch:
    started: float = 0.0
    seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = round(time.perf_counter() - self.started, 3)


def floor_ratio(requests: int, count: int, per_request: int) -> tuple[int, float]:
    """The fewest requests the API allows for `count` items, and how far above it we are."""
    floor = max(1, -(-count // per_request))
    return floor, round(requests / floor, 3)


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def record(benchmark: str, figures: dict[str, Any], *, command: str) -> dict[str, Any]:
    """Append one dated result row."""
    row = {
        "benchmark": benchmark,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "commit": commit(),
        "command": command,
        **figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row


def load_results() -> list[dict[str, Any]]:
    if not RESULTS.exists():
        return []
    rows = []
    for line in RESULTS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows
