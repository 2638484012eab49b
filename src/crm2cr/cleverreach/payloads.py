"""Receiver write bodies, and the rule that keeps unsubscribes sticky (§6.7, SPEC invariant 2).

CleverReach re-activates a receiver on `deactivated: 0` and (per CORE1, only
when it was never deactivated) on `activated: <ts>`; `PUT …/activate` turns
any receiver active. crm2cr must never undo an unsubscribe, so this module is
the only place receiver bodies are made, and what it makes can only:

- leave the activation state alone (no `activated`, `registered` or
  `deactivated`): a new receiver becomes active, as the service does for a
  create without those fields, and an existing one keeps its state;
- create a receiver inactive, awaiting double opt-in (`activated: 0`), which
  is never sent for a receiver known to be in the group;
- deactivate (`deactivated: <now>`, never 0).

`check_sticky` guards every receiver body on its way out, so a body made
elsewhere cannot slip through either.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm2cr.errors import ReactivationRefused


class Activation(enum.Enum):
    """What a write does to the receiver's activation state."""

    UNCHANGED = "unchanged"  # new: active (the service's default); existing: as it is
    AWAITING_OPT_IN = "awaiting_opt_in"  # new: inactive until the double opt-in is confirmed
    DEACTIVATE = "deactivate"  # unsubscribe: deactivated = now


@dataclass(frozen=True, slots=True)
class ReceiverData:
    """One receiver to write: its key (e-mail), attribute values and tags.

    `in_group` says the caller knows the e-mail is in the group already;
    such a receiver never gets an activation field other than a deactivation.
    Attribute values are strings, `""` clears one (§6.5).
    """

    email: str
    global_attributes: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    source: str = ""
    activation: Activation = Activation.UNCHANGED
    in_group: bool = False


def receiver_payload(data: ReceiverData, *, now: int) -> dict[str, Any]:
    """The JSON body of one receiver for create, update, insert and upsert."""
    body: dict[str, Any] = {"email": data.email}
    if data.global_attributes:
        body["global_attributes"] = dict(data.global_attributes)
    if data.attributes:
        body["attributes"] = dict(data.attributes)
    if data.tags:
        body["tags"] = list(data.tags)
    if data.source:
        body["source"] = data.source
    if data.activation is Activation.DEACTIVATE:
        body["deactivated"] = max(1, now)
    elif data.activation is Activation.AWAITING_OPT_IN and not data.in_group:
        body["activated"] = 0
    check_sticky(body)
    return body


def check_sticky(body: Mapping[str, Any]) -> None:
    """Refuse a receiver body that could re-activate an unsubscribed receiver."""
    if "deactivated" in body and not _positive(body["deactivated"]):
        raise ReactivationRefused(
            "refusing to send deactivated=0: it would re-activate an unsubscribed receiver"
        )
    if "activated" in body and body["activated"] != 0:
        raise ReactivationRefused(
            "refusing to send activated>0: only a confirmed double opt-in re-activates"
        )
    if "registered" in body:
        raise ReactivationRefused("refusing to send registered: the service sets it")


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
