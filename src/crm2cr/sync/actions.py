"""What a plan is made of: actions on either side, consent events, link bookkeeping, skips.

No action re-activates a receiver: there is no such type, so the sticky
unsubscribe (invariant 2) cannot be planned away (STYLE §1). An action's
`link` is the link row to save right after the action succeeded (STYLE §3);
for a new receiver its id, activation and change stamp are filled in by the
executor from the service's answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from crm2cr.sync.model import Link, Values
from crm2cr.sync.reasons import Reason


class Side(StrEnum):
    CLEVERREACH = "cleverreach"
    CRM = "crm"
    BOOKKEEPING = "bookkeeping"


@dataclass(frozen=True, slots=True)
class Action:
    reason: Reason
    email: str
    record_id: str = ""  # the CRM record concerned, if any
    receiver_id: str = ""  # the receiver concerned, if any
    link: Link | None = None  # saved right after the action succeeded
    drop_link: str = ""  # link row id deleted right after the action succeeded
    pair: int = 0  # actions of one pair share it: a failed one keeps the pair's link as it was

    side = Side.BOOKKEEPING


# CleverReach writes ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateReceiver(Action):
    values: Values = field(default_factory=dict)
    side = Side.CLEVERREACH


@dataclass(frozen=True, slots=True)
class UpdateReceiver(Action):
    values: Values = field(default_factory=dict)  # only the attributes that change
    side = Side.CLEVERREACH


@dataclass(frozen=True, slots=True)
class ChangeReceiverEmail(Action):
    new_email: str = ""
    side = Side.CLEVERREACH


@dataclass(frozen=True, slots=True)
class DeactivateReceiver(Action):
    side = Side.CLEVERREACH


@dataclass(frozen=True, slots=True)
class RemoveReceiver(Action):
    """Delete an active receiver from the group; never used for a withdrawn one."""

    side = Side.CLEVERREACH


# CRM writes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateRecord(Action):
    """Create a record under a chosen id (an upsert, so a repeat makes no twin) and add it."""

    values: Values = field(default_factory=dict)
    side = Side.CRM


@dataclass(frozen=True, slots=True)
class UpdateRecord(Action):
    values: Values = field(default_factory=dict)  # only the attributes that change
    new_email: str = ""
    side = Side.CRM


@dataclass(frozen=True, slots=True)
class AddMember(Action):
    side = Side.CRM


@dataclass(frozen=True, slots=True)
class RemoveMember(Action):
    side = Side.CRM


# Consent and bookkeeping (the only writes a one-way direction allows on its read side) --


class ConsentKind(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    BLACKLISTED = "blacklisted"
    CRM_OPT_OUT = "crm opt-out"
    DOUBLE_OPT_IN = "double opt-in re-activation"


class ConsentSource(StrEnum):
    CLEVERREACH = "cleverreach"
    CRM = "crm"
    WEBHOOK = "webhook"
    AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class RecordConsent(Action):
    """One crm2cr_cleverreachunsubscribe row; `event_key` makes a repeat the same row."""

    event_key: str = ""
    kind: ConsentKind = ConsentKind.UNSUBSCRIBED
    source: ConsentSource = ConsentSource.CLEVERREACH
    at: int = 0


@dataclass(frozen=True, slots=True)
class SetOptOut(Action):
    """The CRM's "no bulk e-mail" flag, set on unsubscribe or cleared on a double opt-in."""

    opted_out: bool = True


@dataclass(frozen=True, slots=True)
class SaveLink(Action):
    """A link change with no write on either side (adoption, status, base)."""


@dataclass(frozen=True, slots=True)
class DropLink(Action):
    """Delete a link row whose pair is gone."""


# What is left out -------------------------------------------------------------


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Note:
    """A log-worthy decision: a record left out (invariant 7) or a conflict decided."""

    reason: Reason
    email: str
    record_id: str = ""
    receiver_id: str = ""
    level: Level = Level.INFO
    skipped: bool = True  # False: the record is synced, the note only explains how


def consent_event_key(
    group_id: str, receiver_or_email: str, kind: ConsentKind, episode: int
) -> str:
    """One unsubscribe row per event: the same withdrawal of the same activation is one key.

    A CRM opt-out that deactivates a receiver and a deactivation seen in
    CleverReach end the same activation, so both map to one key: a rerun after
    a crash half way through either writes the same row again, never a second.
    """
    family = {
        ConsentKind.CRM_OPT_OUT: "withdrawn",
        ConsentKind.UNSUBSCRIBED: "withdrawn",
        ConsentKind.BOUNCED: "bounced",
        ConsentKind.BLACKLISTED: "blacklisted",
        ConsentKind.DOUBLE_OPT_IN: "reactivated",
    }[kind]
    return f"{group_id}:{receiver_or_email.lower()}:{family}:{episode}"
