"""Benchmarks: `make bench` (full size) and `make bench-quick` (CI size).

Each benchmark runs in a process of its own, so the peak RSS it reports is
its own; emulators run in further processes (`crm2cr emulate …`), so their
memory and CPU never count as ours. Results are appended to
docs/performance/results.jsonl and docs/performance.md is regenerated from it.
"""
