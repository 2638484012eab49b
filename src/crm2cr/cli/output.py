"""How the command line prints: Rich for people, --json for scripts, one error format."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from crm2cr.errors import Crm2crError

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Machine-readable output: stable keys, UTF-8, nothing else on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def print_error(error: Crm2crError) -> None:
    """The one place the CLI renders an error: the problem, then the fix."""
    err_console.print(f"[bold red]Error:[/] {error.message}", highlight=False, markup=True)
    if error.hint:
        err_console.print(f"[yellow]Fix:[/] {error.hint}", highlight=False)
