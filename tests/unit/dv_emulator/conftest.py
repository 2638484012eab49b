"""Fixtures for unit tests of the Dataverse emulator's core: an in-process client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from tests.support.inprocess import InProcessTransport

API = "http://127.0.0.1/api/data/v9.2/"


@pytest.fixture
def emu() -> Iterator[DataverseEmulator]:
    emulator = DataverseEmulator(EmulatorOptions(seed="empty", limits=False))
    try:
        yield emulator
    finally:
        emulator.close()


@pytest.fixture
def api(emu: DataverseEmulator) -> Iterator[httpx.Client]:
    transport = InProcessTransport(emu)
    with httpx.Client(
        transport=transport, base_url=API, headers={"Authorization": "Bearer dev"}
    ) as client:
        yield client
    transport.close()
