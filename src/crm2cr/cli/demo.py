"""`crm2cr demo`: the whole product on one machine with nothing configured.

Starts both emulators with the matching demo organisation and account on
127.0.0.1 and keeps them running until interrupted.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from crm2cr.cli.output import console
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.common.runner import BackgroundServer

app = typer.Typer(help="Run the whole product on this machine with demo data.")

DV_PORT = 8701
CR_PORT = 8702


@app.callback(invoke_without_command=True)
def demo(
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
    dataverse_port: Annotated[int, typer.Option(help="Port of the Dataverse emulator.")] = DV_PORT,
    cleverreach_port: Annotated[int, typer.Option(help="Port of the CleverReach emulator.")] = (
        CR_PORT
    ),
) -> None:
    """Start both emulators seeded with the demo organisation and account.

    Example: crm2cr demo --no-browser
    """
    from crm2cr.emulators.cleverreach.app import CleverReachEmulator
    from crm2cr.emulators.dataverse.app import DataverseEmulator

    options = EmulatorOptions(seed="demo")
    dataverse = DataverseEmulator(options)
    cleverreach = CleverReachEmulator(options)
    servers = [
        BackgroundServer(dataverse, port=dataverse_port),
        BackgroundServer(cleverreach, port=cleverreach_port),
    ]
    try:
        dv_url = servers[0].start()
        cr_url = servers[1].start()
        console.print(f"Dataverse emulator (demo organisation): [bold]{dv_url}[/]")
        console.print(f"  Web API: {dv_url}/api/data/v9.2/")
        console.print(f"CleverReach emulator (demo account):   [bold]{cr_url}[/]")
        console.print(f"  REST API: {cr_url}/v3/")
        console.print("Press Ctrl+C to stop.")
        while all(s.thread.is_alive() for s in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.stop()
        dataverse.close()
        cleverreach.close()
