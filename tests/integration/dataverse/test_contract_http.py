"""The Dataverse contract suite against the emulator over real HTTP (reference §18)."""

from __future__ import annotations

from tests.integration.dataverse.contract import DataverseContract
from tests.support.dataverse import dataverse_over_http


class TestOverHttp(DataverseContract):
    open_env = staticmethod(dataverse_over_http)
