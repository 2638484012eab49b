"""The Dataverse contract suite against the emulator in process (reference §18)."""

from __future__ import annotations

from tests.integration.dataverse.contract import DataverseContract
from tests.support.dataverse import dataverse_in_process


class TestInProcess(DataverseContract):
    open_env = staticmethod(dataverse_in_process)
