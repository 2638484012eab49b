"""Small helpers of the CleverReach contract suite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm2cr.cleverreach import CleverReachClient, Group, ReceiverData
from crm2cr.cleverreach.api import anything
from tests.support.cleverreach import CleverReachHarness

Start = Callable[..., CleverReachHarness]


def new_group(cr: CleverReachClient, name: str = "Newsletter") -> Group:
    return cr.groups.create(name)


def addresses(count: int, prefix: str = "r") -> list[str]:
    return [f"{prefix}{i:05d}@example.org" for i in range(count)]


def fill(cr: CleverReachClient, group_id: str, emails: list[str]) -> None:
    outcome = cr.receivers.upsert(group_id, [ReceiverData(e) for e in emails])
    assert not outcome.failed


def raw(cr: CleverReachClient, method: str, path: str, body: Any = None, **params: Any) -> Any:
    """A request our client would never build itself, through its own request core."""
    return cr.api.call(method, path, anything, body=body, params=params or None)
