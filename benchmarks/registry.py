"""The benchmarks `make bench` runs, and their sizes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str  # a module with run(count: int) -> dict of figures
    title: str
    full: tuple[int, ...]
    quick: tuple[int, ...]

    def sizes(self, *, quick: bool) -> tuple[int, ...]:
        return self.quick if quick else self.full


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "dataverse_read",
        "benchmarks.dataverse_read",
        "Reading contacts through the Dataverse client",
        (10_000, 100_000),
        (2_000,),
    ),
    Benchmark(
        "cleverreach_upsert",
        "benchmarks.cleverreach_upsert",
        "Upserting receivers through the CleverReach client",
        (10_000, 100_000),
        (2_000,),
    ),
)


def by_name(name: str) -> Benchmark:
    for bench in BENCHMARKS:
        if bench.name == name:
            return bench
    raise SystemExit(f"no benchmark named {name!r}; known: {[b.name for b in BENCHMARKS]}")
