"""docs/performance.md, regenerated from docs/performance/results.jsonl."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from benchmarks.common import ROOT, load_results
from benchmarks.registry import BENCHMARKS

REPORT = ROOT / "docs" / "performance.md"
SKIP = {"benchmark", "machine", "command", "date", "commit", "mode"}

HEADER = """# Performance

Every figure here was measured by `make bench` (full sizes) or `make bench-quick`
(CI sizes) on the machine named in its row; the raw rows are in
`docs/performance/results.jsonl`, and this page is regenerated from them by
`python -m benchmarks`. Emulators run in processes of their own, so time and
memory are the client's (peak RSS of the benchmark process). Rows are never
edited by hand.
"""


def _table(rows: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in SKIP and k not in keys]
    head = ["date", "commit", "mode", *keys, "machine"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [_cell(row.get(k, "")) for k in head]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_report() -> None:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in load_results():
        grouped[row["benchmark"]].append(row)
    out = [HEADER]
    for bench in BENCHMARKS:
        rows = grouped.get(bench.name, [])
        out.append(f"## {bench.title}\n")
        out.append(
            f"Command: `make bench` (sizes {', '.join(f'{n:,}' for n in bench.full)}), "
            f"`make bench-quick` ({', '.join(f'{n:,}' for n in bench.quick)}).\n"
        )
        out.extend(_table(rows) if rows else ["No measurement yet."])
        out.append("")
    REPORT.write_text("\n".join(out) + "\n", encoding="utf-8")
