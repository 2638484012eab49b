"""Where crm2cr keeps per-user files.

The platform's app-data folder (on Windows the manual's AppData\\Roaming),
unless CRM2CR_HOME names another folder, so several profiles and test runs
never mix.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
