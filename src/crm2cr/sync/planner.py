"""Pure: the decision table. `plan(coupling, pairs, policy) -> Plan`, no I/O, no clock.

Per pair, in this order (SPEC §5):
1. a duplicate address: warn, leave the record out;
2. consent: a withdrawn receiver (unsubscribed, bounced, blacklisted) is an
   event once, recorded with the CRM's opt-out flag; an active receiver whose
   link says withdrawn came back by double opt-in; a record that opted out in
   the CRM deactivates its receiver. This runs in every direction;
3. membership and fields, by the coupling's direction.

Within a pair, actions come in the order the executor runs them (see
`EXECUTION_ORDER`), and the pair's new link rides on the last one, so it is
saved only after every write of the pair succeeded (STYLE §3).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from crm2cr.errors import ReadOnlyViolation
from crm2cr.sync.actions import (
    Action,
    AddMember,
    ChangeReceiverEmail,
    ConsentKind,
    ConsentSource,
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
    Side,
    UpdateReceiver,
    UpdateRecord,
    consent_event_key,
)
from crm2cr.sync.eligibility import ineligibility
from crm2cr.sync.model import (
    Coupling,
    Direction,
    Link,
    LinkStatus,
    Member,
    Policy,
    Receiver,
    ReceiverState,
    Values,
)
from crm2cr.sync.pairing import Pair, crm_address_wins
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
CRM_BUSINESS = (CreateRecord, UpdateRecord, AddMember, RemoveMember)
CONSENT_ON_CLEVERREACH = (DeactivateReceiver,)


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
class Plan:
    coupling: Coupling
    actions: list[Action] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(type(a).__name__ for a in self.actions)

    @property
    def changes_anything(self) -> bool:
        return bool(self.actions)

    def ordered(self) -> list[Action]:
        """Actions in execution order (stable within a kind)."""
        return sorted(self.actions, key=lambda a: RANK[type(a)])


@dataclass
class _Budget:
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
class _Pair:
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


def plan(coupling: Coupling, pairs: Iterable[Pair], policy: Policy) -> Plan:
    """Decide every pair; the result is checked against the direction (invariant 6)."""
    result = Plan(coupling)
    budget = _Budget(policy.new_receivers_allowed, policy.recipient_limit)
    for number, pair in enumerate(pairs, start=1):
        decision = _Pair(coupling, policy, number)
        decide(pair, decision, budget)
        result.actions.extend(decision.actions)
        result.notes.extend(decision.notes)
    check_direction(coupling.direction, result.actions)
    return result


def check_direction(direction: Direction, actions: Iterable[Action]) -> None:
    """One-way purity: the read-only side gets consent and bookkeeping writes only."""
    for action in actions:
        if direction is Direction.TO_CLEVERREACH and isinstance(action, CRM_BUSINESS):
            raise ReadOnlyViolation(f"{type(action).__name__} planned for a read-only CRM side")
        if (
            direction is Direction.TO_CRM
            and action.side is Side.CLEVERREACH
            and not isinstance(action, CONSENT_ON_CLEVERREACH)
        ):
            raise ReadOnlyViolation(
                f"{type(action).__name__} planned for a read-only CleverReach side"
            )


def decide(pair: Pair, d: _Pair, budget: _Budget) -> None:
    member, receiver, link = pair.member, pair.receiver, pair.link
    if pair.duplicate_of and member is not None:
        d.note(
            because(Code.DUPLICATE_EMAIL, email=member.email, winner=pair.duplicate_of),
            member.email,
            record_id=member.id,
            level=Level.WARNING,
        )
        return
    if receiver is not None and receiver.state is not ReceiverState.ACTIVE:
        _withdrawn_or_pending(member, receiver, link, d)
        return
    if receiver is not None and link is not None and link.status.is_consent_withdrawn:
        member, link = _double_opt_in(member, receiver, link, d)
        original = pair.link
    else:
        original = link
    if receiver is not None and member is not None and member.opted_out:
        _crm_opt_out(member, receiver, link, d)
        return
    reason = ineligibility(member) if member is not None else None
    if member is not None and member.in_list and reason is not None:
        level = Level.WARNING if reason.code in WARN_CODES else Level.INFO
        d.note(reason, member.email, record_id=member.id, level=level)
    direction = d.coupling.direction
    if direction is Direction.TO_CLEVERREACH:
        new_link = _to_cleverreach(member, receiver, link, reason, d, budget)
    elif direction is Direction.TO_CRM:
        new_link = _to_crm(member, receiver, link, d, budget)
    else:
        new_link = _both_ways(member, receiver, link, reason, d, budget)
    d.finish(new_link, original)


# Consent ------------------------------------------------------------------------------


def _withdrawn_or_pending(
    member: Member | None, receiver: Receiver, link: Link | None, d: _Pair
) -> None:
    state = receiver.state
    record_id = member.id if member is not None else (link.crm_id if link else "")
    if state is ReceiverState.PENDING:
        d.note(
            because(Code.PENDING_OPT_IN),
            receiver.email,
            record_id=record_id,
            receiver_id=receiver.id,
        )
        return
    since = _date(receiver.deactivated or receiver.bounced)
    if link is not None and link.status.is_consent_withdrawn:
        if member is not None and not member.opted_out and d.policy.optout_on_unsubscribe:
            d.note(
                because(Code.OPT_OUT_CLEARED_IN_CRM),
                receiver.email,
                record_id=record_id,
                receiver_id=receiver.id,
                level=Level.WARNING,
            )
        else:
            d.note(
                _withdrawn_reason(state, since),
                receiver.email,
                record_id=record_id,
                receiver_id=receiver.id,
            )
        return
    if member is None and link is None:
        d.note(_withdrawn_reason(state, since), receiver.email, receiver_id=receiver.id)
        return
    crm_first = (
        member is not None
        and member.opted_out
        and state is ReceiverState.DEACTIVATED
        and member.modified <= receiver.deactivated
    )
    kind = ConsentKind.CRM_OPT_OUT if crm_first else _consent_kind(state)
    source = ConsentSource.CRM if crm_first else ConsentSource.CLEVERREACH
    at = receiver.deactivated or receiver.bounced or d.policy.now
    event = _event_reason(state, since)
    d.add(
        RecordConsent(
            event,
            receiver.email,
            record_id=record_id,
            receiver_id=receiver.id,
            event_key=consent_event_key(d.coupling.group_id, receiver.id, kind, receiver.activated),
            kind=kind,
            source=source,
            at=at,
        )
    )
    if member is not None and not member.opted_out and d.policy.optout_on_unsubscribe:
        d.add(
            SetOptOut(
                event, receiver.email, record_id=member.id, receiver_id=receiver.id, opted_out=True
            )
        )
    new_link = _link(
        d,
        record_id,
        receiver,
        LinkStatus.for_state(state),
        link.base if link else (member.values if member else {}),
        link,
    )
    d.finish(new_link, link)


def _double_opt_in(
    member: Member | None, receiver: Receiver, link: Link, d: _Pair
) -> tuple[Member | None, Link]:
    """Active again although the link says withdrawn: only a double opt-in does that."""
    d.add(
        RecordConsent(
            because(Code.DOUBLE_OPT_IN),
            receiver.email,
            record_id=link.crm_id,
            receiver_id=receiver.id,
            event_key=consent_event_key(
                d.coupling.group_id, receiver.id, ConsentKind.DOUBLE_OPT_IN, receiver.activated
            ),
            kind=ConsentKind.DOUBLE_OPT_IN,
            source=ConsentSource.CLEVERREACH,
            at=receiver.activated,
        )
    )
    if member is not None and member.opted_out:
        d.add(
            SetOptOut(
                because(Code.DOUBLE_OPT_IN),
                receiver.email,
                record_id=member.id,
                receiver_id=receiver.id,
                opted_out=False,
            )
        )
        member = replace(member, opted_out=False)
    return member, replace(link, status=LinkStatus.ACTIVE, activated=receiver.activated)


def _crm_opt_out(member: Member, receiver: Receiver, link: Link | None, d: _Pair) -> None:
    reason = because(Code.OPTED_OUT_IN_CRM)
    d.add(DeactivateReceiver(reason, receiver.email, record_id=member.id, receiver_id=receiver.id))
    d.add(
        RecordConsent(
            reason,
            receiver.email,
            record_id=member.id,
            receiver_id=receiver.id,
            event_key=consent_event_key(
                d.coupling.group_id, receiver.id, ConsentKind.CRM_OPT_OUT, receiver.activated
            ),
            kind=ConsentKind.CRM_OPT_OUT,
            source=ConsentSource.CRM,
            at=member.modified,
        )
    )
    base = link.base if link else member.values
    d.finish(_link(d, member.id, receiver, LinkStatus.UNSUBSCRIBED, base, link), link)


# CRM → CleverReach ---------------------------------------------------------------------


def _to_cleverreach(
    member: Member | None,
    receiver: Receiver | None,
    link: Link | None,
    reason: Reason | None,
    d: _Pair,
    budget: _Budget,
) -> Link | None:
    if member is not None and reason is None:
        if receiver is None:
            return _create_receiver(member, link, d, budget)
        return _push(member, receiver, link, d, budget)
    why = (
        reason
        if reason is not None and (member is None or member.in_list)
        else (because(Code.LEFT_LIST) if link is not None else because(Code.NOT_IN_LIST))
    )
    if receiver is not None:
        if d.policy.remove_leavers:
            d.add(
                RemoveReceiver(
                    why,
                    receiver.email,
                    record_id=member.id if member else "",
                    receiver_id=receiver.id,
                    drop_link=link.id if link else "",
                )
            )
        else:
            d.note(because(Code.KEPT_BY_POLICY), receiver.email, receiver_id=receiver.id)
    elif link is not None:
        d.add(DropLink(why, link.email, record_id=link.crm_id, drop_link=link.id))
    return None


def _create_receiver(member: Member, link: Link | None, d: _Pair, budget: _Budget) -> Link | None:
    if link is None and not budget.take():
        d.note(_licence(budget), member.email, record_id=member.id, level=Level.WARNING)
        return None
    reason = because(Code.RECREATED) if link is not None else because(Code.NEW_IN_CRM)
    d.add(CreateReceiver(reason, member.email, record_id=member.id, values=member.values))
    return Link(
        link.id if link else link_id(d.coupling.group_id, member.id),
        member.id,
        "",
        member.email,
        LinkStatus.ACTIVE,
        member.values,
        0,
        member.modified,
    )


def _push(
    member: Member, receiver: Receiver, link: Link | None, d: _Pair, budget: _Budget
) -> Link | None:
    if link is None and not budget.take():
        d.note(_licence(budget), member.email, record_id=member.id, level=Level.WARNING)
        return None
    email = receiver.email
    if member.key != receiver.key:
        d.add(
            ChangeReceiverEmail(
                because(Code.EMAIL_CHANGED_IN_CRM, old=receiver.email, new=member.email),
                receiver.email,
                record_id=member.id,
                receiver_id=receiver.id,
                new_email=member.email,
            )
        )
        email = member.email
    changes = _diff(member.values, receiver.values)
    if changes:
        if link is None:
            why = because(Code.ADOPTED)
        elif member.values != link.base:
            why = because(Code.CRM_CHANGED, fields=_fields(changes))
        else:
            why = because(Code.MIRROR_CRM, fields=_fields(changes))
        d.add(
            UpdateReceiver(why, email, record_id=member.id, receiver_id=receiver.id, values=changes)
        )
    return _link(
        d,
        member.id,
        receiver,
        LinkStatus.ACTIVE,
        member.values,
        link,
        email=member.email,
        crm_stamp=member.modified,
    )


# CleverReach → CRM ---------------------------------------------------------------------


def _to_crm(
    member: Member | None, receiver: Receiver | None, link: Link | None, d: _Pair, budget: _Budget
) -> Link | None:
    if receiver is None:
        if link is not None:
            if member is not None and member.in_list:
                d.add(
                    RemoveMember(
                        because(Code.REMOVED_IN_CLEVERREACH),
                        member.email,
                        record_id=member.id,
                        drop_link=link.id,
                    )
                )
            else:
                d.add(
                    DropLink(
                        because(Code.GONE_ON_BOTH_SIDES),
                        link.email,
                        record_id=link.crm_id,
                        drop_link=link.id,
                    )
                )
        elif member is not None and member.in_list:
            d.add(RemoveMember(because(Code.NOT_IN_GROUP), member.email, record_id=member.id))
        return None
    if link is None and not budget.take():
        d.note(_licence(budget), receiver.email, receiver_id=receiver.id, level=Level.WARNING)
        return None
    if member is None:
        return _create_record(receiver, link, d)
    if not member.in_list:
        d.add(
            AddMember(
                because(Code.NEW_IN_CLEVERREACH if link is None else Code.MIRROR_CLEVERREACH),
                receiver.email,
                record_id=member.id,
                receiver_id=receiver.id,
            )
        )
    _pull(member, receiver, link, d)
    return _link(
        d, member.id, receiver, LinkStatus.ACTIVE, receiver.values, link, crm_stamp=member.modified
    )


def _create_record(receiver: Receiver, link: Link | None, d: _Pair) -> Link:
    record = link.crm_id if link is not None else record_id_for(d.coupling.group_id, receiver.id)
    values = {k: v for k, v in receiver.values.items() if k in d.policy.writable}
    reason = because(Code.RECREATED if link is not None else Code.NEW_IN_CLEVERREACH)
    d.add(
        CreateRecord(
            reason, receiver.email, record_id=record, receiver_id=receiver.id, values=values
        )
    )
    return _link(d, record, receiver, LinkStatus.ACTIVE, receiver.values, link)


def _pull(member: Member, receiver: Receiver, link: Link | None, d: _Pair) -> None:
    changes = {
        k: v for k, v in _diff(receiver.values, member.values).items() if k in d.policy.writable
    }
    new_email = receiver.email if member.key != receiver.key else ""
    if not changes and not new_email:
        return
    if new_email:
        why = because(Code.EMAIL_CHANGED_IN_CLEVERREACH, old=member.email, new=receiver.email)
    elif link is not None and receiver.values != link.base:
        why = because(Code.CLEVERREACH_CHANGED, fields=_fields(changes))
    else:
        why = because(Code.MIRROR_CLEVERREACH, fields=_fields(changes))
    d.add(
        UpdateRecord(
            why,
            receiver.email,
            record_id=member.id,
            receiver_id=receiver.id,
            values=changes,
            new_email=new_email,
        )
    )


# Both ways ------------------------------------------------------------------------------


def _both_ways(
    member: Member | None,
    receiver: Receiver | None,
    link: Link | None,
    reason: Reason | None,
    d: _Pair,
    budget: _Budget,
) -> Link | None:
    eligible = member is not None and reason is None
    if eligible and member is not None:
        if receiver is None:
            if link is None:
                return _create_receiver(member, link, d, budget)
            d.add(
                RemoveMember(
                    because(Code.REMOVED_IN_CLEVERREACH),
                    member.email,
                    record_id=member.id,
                    drop_link=link.id,
                )
            )
            return None
        if link is None and not budget.take():
            d.note(_licence(budget), member.email, record_id=member.id, level=Level.WARNING)
            return None
        return _merge(member, receiver, link, d)
    if receiver is None:
        if link is not None:
            d.add(
                DropLink(
                    reason or because(Code.GONE_ON_BOTH_SIDES),
                    link.email,
                    record_id=link.crm_id,
                    drop_link=link.id,
                )
            )
        return None
    if link is not None:
        why = (
            reason
            if reason is not None and member is not None and member.in_list
            else (because(Code.LEFT_LIST))
        )
        d.add(
            RemoveReceiver(
                why,
                receiver.email,
                record_id=link.crm_id,
                receiver_id=receiver.id,
                drop_link=link.id,
            )
        )
        return None
    if member is not None and member.in_list:
        return None  # in the list but not eligible: noted above, left alone
    if member is not None and not member.active:
        # both ways the list holds eligible records: an inactive one is not added
        d.note(
            because(Code.INACTIVE_IN_CRM),
            receiver.email,
            record_id=member.id,
            receiver_id=receiver.id,
            level=Level.WARNING,
        )
        return None
    if not budget.take():
        d.note(_licence(budget), receiver.email, receiver_id=receiver.id, level=Level.WARNING)
        return None
    if member is None:
        return _create_record(receiver, link, d)
    d.add(
        AddMember(
            because(Code.NEW_IN_CLEVERREACH),
            receiver.email,
            record_id=member.id,
            receiver_id=receiver.id,
        )
    )
    return _merge(replace(member, in_list=True), receiver, None, d)


def _merge(member: Member, receiver: Receiver, link: Link | None, d: _Pair) -> Link:
    """Three-way, field by field: the side that changed since the base wins; both → newer."""
    writable = d.policy.writable
    crm_newer = member.modified >= receiver.last_changed  # ties go to the CRM
    push: dict[str, str] = {}
    pull: dict[str, str] = {}
    conflicts: list[str] = []
    merged: dict[str, str] = {}
    for name in sorted(set(member.values) | set(receiver.values)):
        crm_value = member.values.get(name, "")
        cr_value = receiver.values.get(name, "")
        merged[name] = crm_value
        if crm_value == cr_value:
            continue
        base = link.base.get(name) if link is not None else None
        crm_changed = base is None or crm_value != base
        cr_changed = base is None or cr_value != base
        if crm_changed and cr_changed:
            conflicts.append(name)
            take_cr = not crm_newer
        else:
            take_cr = cr_changed
        if take_cr and name in writable:
            pull[name] = cr_value
            merged[name] = cr_value
        else:
            push[name] = crm_value
    if conflicts:
        code = (
            Code.CONFLICT_TIE
            if member.modified == receiver.last_changed
            else Code.CONFLICT_CRM_NEWER
            if crm_newer
            else Code.CONFLICT_CLEVERREACH_NEWER
        )
        d.note(
            because(code, fields=", ".join(conflicts)),
            member.email,
            record_id=member.id,
            receiver_id=receiver.id,
            level=Level.WARNING,
            skipped=False,
        )
    email = _merge_email(member, receiver, link, d)
    if push:
        why = (
            because(Code.ADOPTED)
            if link is None
            else because(Code.CRM_CHANGED, fields=_fields(push))
        )
        d.add(UpdateReceiver(why, email, record_id=member.id, receiver_id=receiver.id, values=push))
    new_email = receiver.email if email == receiver.email and member.key != receiver.key else ""
    if pull or new_email:
        why = (
            because(Code.EMAIL_CHANGED_IN_CLEVERREACH, old=member.email, new=receiver.email)
            if new_email
            else because(Code.CLEVERREACH_CHANGED, fields=_fields(pull))
        )
        d.add(
            UpdateRecord(
                why,
                receiver.email,
                record_id=member.id,
                receiver_id=receiver.id,
                values=pull,
                new_email=new_email,
            )
        )
    return _link(
        d,
        member.id,
        receiver,
        LinkStatus.ACTIVE,
        merged,
        link,
        email=email,
        crm_stamp=member.modified,
    )


def _merge_email(member: Member, receiver: Receiver, link: Link | None, d: _Pair) -> str:
    """The address both sides end with; a change on the CRM side moves the receiver."""
    if member.key == receiver.key or not crm_address_wins(
        member, receiver, link, d.coupling.direction
    ):
        return receiver.email
    d.add(
        ChangeReceiverEmail(
            because(Code.EMAIL_CHANGED_IN_CRM, old=receiver.email, new=member.email),
            receiver.email,
            record_id=member.id,
            receiver_id=receiver.id,
            new_email=member.email,
        )
    )
    return member.email


# Helpers ---------------------------------------------------------------------------------


def _link(
    d: _Pair,
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


def _diff(wanted: Mapping[str, str], current: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in wanted.items() if current.get(k, "") != v}


def _fields(values: Mapping[str, str]) -> str:
    return ", ".join(sorted(values))


def _date(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d") if stamp else "?"


def _withdrawn_reason(state: ReceiverState, since: str) -> Reason:
    if state is ReceiverState.BOUNCED:
        return because(Code.BOUNCED_IN_CLEVERREACH, since=since)
    if state is ReceiverState.BLACKLISTED:
        return because(Code.BLACKLISTED_IN_CLEVERREACH)
    return because(Code.STAYS_DEACTIVATED, since=since)


def _event_reason(state: ReceiverState, since: str) -> Reason:
    if state is ReceiverState.DEACTIVATED:
        return because(Code.UNSUBSCRIBED_IN_CLEVERREACH, since=since)
    return _withdrawn_reason(state, since)


def _consent_kind(state: ReceiverState) -> ConsentKind:
    if state is ReceiverState.BOUNCED:
        return ConsentKind.BOUNCED
    if state is ReceiverState.BLACKLISTED:
        return ConsentKind.BLACKLISTED
    return ConsentKind.UNSUBSCRIBED


def _licence(budget: _Budget) -> Reason:
    return because(Code.LICENCE_LIMIT, limit=budget.limit if budget.limit is not None else 0)
