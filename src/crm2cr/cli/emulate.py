"""`crm2cr emulate dataverse|cleverreach`: the local emulators."""

from __future__ import annotations

import sys
from typing import Any, cast

import typer

from crm2cr.cli.options import (
    AuthOpt,
    DataOpt,
    FaultRateOpt,
    LatencyOpt,
    NoLimitsOpt,
    PortOpt,
    RandomSeedOpt,
    SeedOpt,
)
from crm2cr.emulators.common.options import AuthMode, EmulatorOptions, SeedName
from crm2cr.emulators.common.runner import run_foreground
from crm2cr.errors import InvalidInput

app = typer.Typer(
    help="Run a faithful local emulator of one of the two services.", no_args_is_help=True
)


def _options(
    seed: str,
    data: Any,
    latency_ms: float,
    fault_rate: float,
    auth: str,
    no_limits: bool,
    random_seed: int | None,
) -> EmulatorOptions:
    if seed not in ("empty", "demo"):
        raise InvalidInput(
            f"--seed {seed!r} is not a seed.", hint="Use --seed empty or --seed demo."
        )
    if auth not in ("dev", "strict"):
        raise InvalidInput(
            f"--auth {auth!r} is not an auth mode.", hint="Use --auth dev or --auth strict."
        )
    return EmulatorOptions(
        seed=cast(SeedName, seed),
        data=data,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        auth=cast(AuthMode, auth),
        limits=not no_limits,
        random_seed=random_seed,
    )


def _announce(url: str) -> None:
    sys.stdout.write(url + "\n")
    sys.stdout.flush()


def _emulate(
    ctx: typer.Context,
    port: PortOpt = 0,
    seed: SeedOpt = "empty",
    data: DataOpt = None,
    latency_ms: LatencyOpt = 0.0,
    fault_rate: FaultRateOpt = 0.0,
    auth: AuthOpt = "dev",
    no_limits: NoLimitsOpt = False,
    random_seed: RandomSeedOpt = None,
) -> None:
    options = _options(seed, data, latency_ms, fault_rate, auth, no_limits, random_seed)
    emulator: Any
    if ctx.info_name == "dataverse":
        from crm2cr.emulators.dataverse.app import DataverseEmulator

        emulator = DataverseEmulator(options)
    else:
        from crm2cr.emulators.cleverreach.app import CleverReachEmulator

        emulator = CleverReachEmulator(options)
    try:
        run_foreground(emulator, port=port, announce=_announce)
    finally:
        emulator.close()


app.command(
    "dataverse",
    help="Run the Dataverse Web API emulator; the first line printed is the organisation URL."
    "\n\nExample: crm2cr emulate dataverse --seed demo --port 8701",
)(_emulate)
app.command(
    "cleverreach",
    help="Run the CleverReach REST API v3 emulator; the first line printed is its base URL."
    "\n\nExample: crm2cr emulate cleverreach --seed demo --port 8702",
)(_emulate)
