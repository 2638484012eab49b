"""Sticky unsubscribe in the client: no body can re-activate a receiver (reference §6.7).

SPEC invariant 2. CleverReach re-activates on `deactivated: 0` and may on
`activated: <ts>`; the payload builder must never produce either, and must
send no activation field at all for a receiver known to be in the group,
except a deactivation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crm2cr.cleverreach
from crm2cr.cleverreach.payloads import (
    Activation,
    ReceiverData,
    check_sticky,
    receiver_payload,
)
from crm2cr.errors import ReactivationRefused

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
values = st.text(max_size=20)
receiver_data = st.builds(
    ReceiverData,
    email=st.emails(),
    global_attributes=st.dictionaries(names, values, max_size=4),
    attributes=st.dictionaries(names, values, max_size=4),
    tags=st.lists(names, max_size=3).map(tuple),
    source=st.text(max_size=10),
    activation=st.sampled_from(Activation),
    in_group=st.booleans(),
)
ACTIVATE = re.compile(r"(?<![a-z])activate(?![a-z])")  # not deactivate, not activated
stamps = st.integers(min_value=-(2**31), max_value=2**33)


def reactivates(body: dict[str, Any]) -> bool:
    return (
        body.get("deactivated", 1) == 0
        or ("activated" in body and body["activated"] != 0)
        or "registered" in body
    )


@given(receiver_data, stamps)
def test_no_payload_can_reactivate(data: ReceiverData, now: int) -> None:
    """Reference §6.7: never `deactivated: 0`, never `activated` > 0, never `registered`."""
    body = receiver_payload(data, now=now)
    assert not reactivates(body)
    if data.in_group:
        assert "activated" not in body
    if "deactivated" in body:
        assert body["deactivated"] > 0
        assert data.activation is Activation.DEACTIVATE


@given(receiver_data, stamps)
def test_the_payload_carries_the_data(data: ReceiverData, now: int) -> None:
    """Reference §6.4: data belongs in the attribute maps, not at the top level."""
    body = receiver_payload(data, now=now)
    assert body["email"] == data.email
    assert body.get("global_attributes", {}) == dict(data.global_attributes)
    assert body.get("attributes", {}) == dict(data.attributes)
    assert body.get("tags", []) == list(data.tags)
    assert set(body) <= {
        "email",
        "global_attributes",
        "attributes",
        "tags",
        "source",
        "activated",
        "deactivated",
    }


def test_a_new_receiver_awaiting_opt_in_is_created_inactive() -> None:
    """Reference §6.7: `activated: 0` creates an inactive receiver awaiting opt-in."""
    body = receiver_payload(
        ReceiverData("a@example.org", activation=Activation.AWAITING_OPT_IN), now=1
    )
    assert body["activated"] == 0
    known = ReceiverData("a@example.org", activation=Activation.AWAITING_OPT_IN, in_group=True)
    assert "activated" not in receiver_payload(known, now=1)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.org", "deactivated": 0},
        {"email": "a@example.org", "deactivated": False},
        {"email": "a@example.org", "deactivated": None},
        {"email": "a@example.org", "activated": 1700000000},
        {"email": "a@example.org", "registered": 1700000000},
    ],
)
def test_the_guard_refuses_reactivating_bodies(body: dict[str, Any]) -> None:
    """Reference §6.7: the last line of defence on every receiver body."""
    with pytest.raises(ReactivationRefused):
        check_sticky(body)


def test_no_client_module_calls_the_activate_endpoint() -> None:
    """Reference §6.8: `PUT …/activate` re-activates anyone; the client has no such call.

    The only `activate` path the package may name is the double opt-in mail
    `forms/{id}/send/activate`, which activates only when the recipient confirms.
    """
    package = Path(crm2cr.cleverreach.__file__).parent
    offenders = []
    for source in sorted(package.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if " " in text or "\n" in text:  # prose, not a path
                continue
            if ACTIVATE.search(text) and source.name != "forms.py":
                offenders.append((source.name, text))
    assert offenders == []
