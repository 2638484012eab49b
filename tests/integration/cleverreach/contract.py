"""The CleverReach contract suite (STYLE §10): the reference, pinned through our client.

One class of tests, written through `CleverReachClient` against the emulator,
each naming the reference section (reference/cleverreach.md) it pins and
together covering every item of the §15 checklist a client can observe. It
runs twice: in process (tests/unit/cleverreach/test_contract_inprocess.py)
and over real HTTP (tests/integration/cleverreach/test_contract_http.py).
Where a checklist item is about a request our client refuses to send (it
would re-activate a receiver), the test sends it through `cr.api`, the
client's raw request core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import ClassVar

import pytest

from crm2cr.cleverreach import CleverReachClient
from tests.integration.cleverreach.contract_consent import ConsentContract
from tests.integration.cleverreach.contract_protocol import ProtocolContract
from tests.integration.cleverreach.contract_resources import ResourceContract
from tests.integration.cleverreach.helpers import Start
from tests.support.cleverreach import CleverReachHarness


class CleverReachContract(ProtocolContract, ConsentContract, ResourceContract):
    """Subclasses set `context` to cleverreach_in_process or cleverreach_over_http."""

    context: ClassVar[Callable[..., AbstractContextManager[CleverReachHarness]]]

    @pytest.fixture
    def start(self) -> Iterator[Start]:
        with ExitStack() as stack:
            yield lambda *args, **kwargs: stack.enter_context(type(self).context(*args, **kwargs))

    @pytest.fixture
    def h(self, start: Start) -> CleverReachHarness:
        return start()

    @pytest.fixture
    def cr(self, h: CleverReachHarness) -> CleverReachClient:
        return h.client()
