"""Consent, in every direction: withdrawals seen in CleverReach, opt-outs set in the
CRM, and the double opt-in, the only way a receiver comes back (SPEC §5).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from crm2cr.sync.actions import (
    ConsentKind,
    ConsentSource,
    DeactivateReceiver,
    Level,
    RecordConsent,
    SetOptOut,
    consent_event_key,
)
from crm2cr.sync.decision import Decision, make_link
from crm2cr.sync.model import (
    Link,
    LinkStatus,
    Member,
    Receiver,
    ReceiverState,
)
from crm2cr.sync.reasons import Code, Reason, because


def withdrawn_or_pending(
    member: Member | None, receiver: Receiver, link: Link | None, d: Decision
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
    since = day(receiver.deactivated or receiver.bounced)
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
    new_link = make_link(
        d,
        record_id,
        receiver,
        LinkStatus.for_state(state),
        link.base if link else (member.values if member else {}),
        link,
    )
    d.finish(new_link, link)


def double_opt_in(
    member: Member | None, receiver: Receiver, link: Link, d: Decision
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


def crm_opt_out(member: Member, receiver: Receiver, link: Link | None, d: Decision) -> None:
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
    d.finish(make_link(d, member.id, receiver, LinkStatus.UNSUBSCRIBED, base, link), link)


def day(stamp: int) -> str:
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
