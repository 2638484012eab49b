"""Fixtures for the solution schema and solution file tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping

import pytest

from crm2cr.solution.package import build_solution_zip
from crm2cr.solution.schema import SCHEMA

Members = Mapping[str, bytes]


@pytest.fixture(scope="session")
def solution_file() -> bytes:
    return build_solution_zip(SCHEMA)


@pytest.fixture(scope="session")
def members(solution_file: bytes) -> dict[str, bytes]:
    """The members of the crm2cr solution file, by name."""
    with zipfile.ZipFile(io.BytesIO(solution_file)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="session")
def rezip() -> Callable[[Members], bytes]:
    """Pack members into a new zip, as an attacker or an editing admin would."""

    def pack(files: Members) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        return buffer.getvalue()

    return pack
