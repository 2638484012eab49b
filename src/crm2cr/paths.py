"""Where crm2cr keeps per-user files.

The platform's app-data folder (on Windows the manual's AppData\\Roaming),
unless CRM2CR_HOME names another folder, so several profiles and test runs
never mix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs

from crm2cr.errors import ConfigError

HOME_ENV = "CRM2CR_HOME"


def home() -> Path:
    """The per-user folder, created on first use."""
    override = os.environ.get(HOME_ENV, "").strip()
    folder = (
        Path(override).expanduser()
        if override
        else Path(platformdirs.user_data_dir("crm2cr", appauthor=False, roaming=True))
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file(name: str) -> Path:
    """A file in the per-user folder."""
    return home() / name


def write_private(path: Path, text: str) -> None:
    """Write a file only the user can read (mode 0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.chmod(0o600)
    tmp.replace(path)


def write_atomic(path: Path, text: str) -> None:
    """Write a file atomically, so a crash never leaves it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_json_object(path: Path, *, fix: str) -> dict[str, Any]:
    """A JSON object from a per-user file ({} when missing); damage is a ConfigError with `fix`."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({type(exc).__name__}).", hint=fix) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object.", hint=fix)
    return data
