"""The decision for one pair while it is made, and what every rule shares.

Link ids and created-record ids are deterministic, so a repeated write is the
same row; a pair's new link rides on its last action (STYLE §3).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from crm2cr.sync.actions import (
    Action,
    AddMember,
    ChangeReceiverEmail,
    CreateReceiver,
    CreateRecord,
    DeactivateReceiver,
    DropLink,
    Level,
    Note,
    RecordConsent,
    RemoveMember,
    RemoveReceiver,
    SaveLink,
    SetOptOut,
    UpdateReceiver,
    UpdateRecord,
)
from crm2cr.sync.model import (
    Coupling,
    Link,
    LinkStatus,
    Policy,
    Receiver,
    Values,
)
from crm2cr.sync.reasons import Code, Reason, because

NAMESPACE = uuid.UUID("6f1c2e0a-2c2c-4c2c-8c2c-000000c2c2c2")


EXECUTION_ORDER: tuple[type[Action], ...] = (
    DeactivateReceiver,
    RecordConsent,
    SetOptOut,
    RemoveReceiver,  # first, so an address it frees can be taken by a moved receiver
    ChangeReceiverEmail,
    CreateReceiver,
    UpdateReceiver,
    CreateRecord,
    UpdateRecord,
    AddMember,
    RemoveMember,
    SaveLink,
    DropLink,
)


RANK = {kind: rank for rank, kind in enumerate(EXECUTION_ORDER)}


WARN_CODES = frozenset({Code.INACTIVE_IN_CRM, Code.INVALID_EMAIL, Code.NO_EMAIL})


def same_link(a: Link, b: Link | None) -> bool:
    """Equal in what the sync decides on; stamps and the activation are informational."""
    return b is not None and (
        a.id,
        a.crm_id,
        a.receiver_id,
        a.key,
        a.status,
        dict(a.base),
        a.activated,
    ) == (b.id, b.crm_id, b.receiver_id, b.key, b.status, dict(b.base), b.activated)


def link_id(group_id: str, crm_id: str) -> str:
    """One link row per CRM record and group: a deterministic id, so a repeat is no twin."""
    return str(uuid.uuid5(NAMESPACE, f"link|{group_id}|{crm_id.lower()}"))


def record_id_for(group_id: str, receiver_id: str) -> str:
    """The id a record created from a receiver gets: a repeated create is the same record."""
    return str(uuid.uuid5(NAMESPACE, f"record|{group_id}|{receiver_id}"))


@dataclass
class Budget:
    """Licence head-room for new recipients (new active links) in this plan."""

    remaining: int | None
    limit: int | None = None

    def take(self) -> bool:
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass
class Decision:
    """The decision for one pair while it is being made."""

    coupling: Coupling
    policy: Policy
    number: int
    actions: list[Action] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def add(self, action: Action) -> None:
        self.actions.append(replace(action, pair=self.number))

    def note(
        self,
        reason: Reason,
        email: str,
        *,
        record_id: str = "",
        receiver_id: str = "",
        level: Level = Level.INFO,
        skipped: bool = True,
    ) -> None:
        self.notes.append(Note(reason, email, record_id, receiver_id, level, skipped))

    def finish(self, new_link: Link | None, old_link: Link | None) -> None:
        """Put the pair's new link on its last write, or save it alone if it changed.

        Change stamps alone never count: a bare stamp bump writes nothing (invariant 4).
        """
        self.actions.sort(key=lambda a: RANK[type(a)])
        if new_link is None or (not self.actions and same_link(new_link, old_link)):
            return
        if self.actions and not isinstance(self.actions[-1], DropLink):
            self.actions[-1] = replace(self.actions[-1], link=new_link)
        else:
            self.add(
                SaveLink(
                    because(Code.ADOPTED),
                    new_link.email,
                    record_id=new_link.crm_id,
                    receiver_id=new_link.receiver_id,
                    link=new_link,
                )
            )


def make_link(
    d: Decision,
    record_id: str,
    receiver: Receiver,
    status: LinkStatus,
    base: Values,
    old: Link | None,
    *,
    email: str | None = None,
    crm_stamp: int = 0,
) -> Link:
    return Link(
        id=old.id if old is not None else link_id(d.coupling.group_id, record_id),
        crm_id=record_id,
        receiver_id=receiver.id,
        email=email if email is not None else receiver.email,
        status=status,
        base=dict(base),
        cr_stamp=receiver.last_changed,
        crm_stamp=crm_stamp or (old.crm_stamp if old is not None else 0),
        activated=receiver.activated,
    )


def diff(wanted: Mapping[str, str], current: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in wanted.items() if current.get(k, "") != v}


def fields(values: Mapping[str, str]) -> str:
    return ", ".join(sorted(values))


def licence(budget: Budget) -> Reason:
    return because(Code.LICENCE_LIMIT, limit=budget.limit if budget.limit is not None else 0)
