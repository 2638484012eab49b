"""Start-up options shared by both emulators (SPEC §9 `crm2cr emulate`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

AuthMode = Literal["dev", "strict"]
SeedName = Literal["empty", "demo"]


@dataclass(frozen=True)
class EmulatorOptions:
    """How an emulator starts; faults can also be changed at run time."""

    seed: SeedName = "empty"
    data: Path | None = None  # SQLite file to persist state; None keeps it in memory
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    auth: AuthMode = "dev"
    limits: bool = True  # the service's rate limits; off for benchmarks of our own code
    random_seed: int | None = None  # makes faults and generated data repeatable
    extra: dict[str, str] = field(default_factory=dict)
