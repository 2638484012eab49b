"""The CleverReach contract suite against the emulator over real HTTP (STYLE §10)."""

from __future__ import annotations

from tests.integration.cleverreach.contract import CleverReachContract
from tests.support.cleverreach import cleverreach_over_http


class TestOverHttp(CleverReachContract):
    context = staticmethod(cleverreach_over_http)
