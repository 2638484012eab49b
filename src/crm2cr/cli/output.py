"""How the command line prints: Rich for people, --json for scripts, one error format."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from crm2cr.errors import Crm2crError

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Machine-readable output: stable keys, UTF-8, nothing else on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def print_error(error: Crm2crError) -> None:
    """The one place the CLI renders an error: the problem, then the fix."""
    # soft_wrap: the problem and its fix stay one line each, whatever the terminal width
    err_console.print(
        f"[bold red]Error:[/] {escape(error.message)}", highlight=False, soft_wrap=True
    )
    if error.hint:
        err_console.print(f"[yellow]Fix:[/] {escape(error.hint)}", highlight=False, soft_wrap=True)
