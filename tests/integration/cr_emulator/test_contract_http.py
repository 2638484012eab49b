"""The emulator's conformance checklist (reference §15) over real HTTP on 127.0.0.1."""

from __future__ import annotations

from tests.unit.cr_emulator.contract_hooks import HooksContract
from tests.unit.cr_emulator.contract_lists import ListsContract
from tests.unit.cr_emulator.contract_receivers import ReceiverContract
from tests.unit.cr_emulator.contract_wire import WireContract


class TestWireOverHttp(WireContract):
    pass


class TestReceiversOverHttp(ReceiverContract):
    pass


class TestListsOverHttp(ListsContract):
    pass


class TestHooksOverHttp(HooksContract):
    pass
