"""The CleverReach contract suite against the emulator in process (STYLE §10)."""

from __future__ import annotations

from tests.integration.cleverreach.contract import CleverReachContract
from tests.support.cleverreach import cleverreach_in_process


class TestInProcess(CleverReachContract):
    context = staticmethod(cleverreach_in_process)
