"""The emulator's conformance checklist (reference §15) in process."""

from __future__ import annotations

from tests.unit.cr_emulator.contract_hooks import HooksContract
from tests.unit.cr_emulator.contract_lists import ListsContract
from tests.unit.cr_emulator.contract_receivers import ReceiverContract
from tests.unit.cr_emulator.contract_wire import WireContract


class TestWireInProcess(WireContract):
    pass


class TestReceiversInProcess(ReceiverContract):
    pass


class TestListsInProcess(ListsContract):
    pass


class TestHooksInProcess(HooksContract):
    pass
