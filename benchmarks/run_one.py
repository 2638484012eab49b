"""`python -m benchmarks.run_one NAME COUNT`: one benchmark, its figures as a JSON line."""

from __future__ import annotations

import importlib
import json
import sys

from benchmarks.registry import by_name


def main() -> None:
    name, count = sys.argv[1], int(sys.argv[2])
    bench = by_name(name)
    module = importlib.import_module(bench.module)
    figures = module.run(count)
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
