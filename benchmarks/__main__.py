"""`python -m benchmarks [--quick] [--only NAME]`: run every benchmark, then write the report."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from benchmarks.common import ROOT, record
from benchmarks.registry import BENCHMARKS
from benchmarks.report import write_report


def run_one(name: str, count: int) -> dict[str, object]:
    """Run one benchmark in a fresh process so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_one", name, str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"benchmark {name} failed (exit {out.returncode})")
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--only", action="append", default=[], help="run only this benchmark")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    for bench in BENCHMARKS:
        if args.only and bench.name not in args.only:
            continue
        for count in bench.sizes(quick=args.quick):
            print(f"{bench.name} at {count:,} …", flush=True)
            figures = run_one(bench.name, count)
            command = f"make bench{'-quick' if args.quick else ''}"
            row = record(bench.name, {"mode": mode, "count": count, **figures}, command=command)
            print(
                "  "
                + ", ".join(
                    f"{k}={v}"
                    for k, v in row.items()
                    if k not in {"benchmark", "machine", "command"}
                ),
                flush=True,
            )
    write_report()
    print("wrote docs/performance.md")


if __name__ == "__main__":
    main()
