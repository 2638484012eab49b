"""Membership and fields, by the coupling's direction (SPEC §5).

CRM → CleverReach mirrors the list into the group; CleverReach → CRM mirrors
the group into the list; both ways merges field by field against the base.
"""

from __future__ import annotations

from dataclasses import replace

from crm2cr.sync.actions import (
    AddMember,
    ChangeReceiverEmail,
    CreateReceiver,
    CreateRecord,
    DropLink,
    Level,
    RemoveMember,
    RemoveReceiver,
    UpdateReceiver,
    UpdateRecord,
)
from crm2cr.sync.decision import (
    Budget,
    Decision,
    diff,
    fields,
    licence,
    link_id,
    make_link,
    record_id_for,
)
from crm2cr.sync.model import (
    Link,
    LinkStatus,
    Member,
    Receiver,
)
from crm2cr.sync.pairing import crm_address_wins
from crm2cr.sync.reasons import Code, Reason, because


def to_cleverreach(
    member: Member | None,
    receiver: Receiver | None,
    link: Link | None,
    reason: Reason | None,
    d: Decision,
    budget: Budget,
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


def _create_receiver(member: Member, link: Link | None, d: Decision, budget: Budget) -> Link | None:
    if link is None and not budget.take():
        d.note(licence(budget), member.email, record_id=member.id, level=Level.WARNING)
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
    member: Member, receiver: Receiver, link: Link | None, d: Decision, budget: Budget
) -> Link | None:
    if link is None and not budget.take():
        d.note(licence(budget), member.email, record_id=member.id, level=Level.WARNING)
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
    changes = diff(member.values, receiver.values)
    if changes:
        if link is None:
            why = because(Code.ADOPTED)
        elif member.values != link.base:
            why = because(Code.CRM_CHANGED, fields=fields(changes))
        else:
            why = because(Code.MIRROR_CRM, fields=fields(changes))
        d.add(
            UpdateReceiver(why, email, record_id=member.id, receiver_id=receiver.id, values=changes)
        )
    return make_link(
        d,
        member.id,
        receiver,
        LinkStatus.ACTIVE,
        member.values,
        link,
        email=member.email,
        crm_stamp=member.modified,
    )


def to_crm(
    member: Member | None, receiver: Receiver | None, link: Link | None, d: Decision, budget: Budget
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
        d.note(licence(budget), receiver.email, receiver_id=receiver.id, level=Level.WARNING)
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
    return make_link(
        d, member.id, receiver, LinkStatus.ACTIVE, receiver.values, link, crm_stamp=member.modified
    )


def _create_record(receiver: Receiver, link: Link | None, d: Decision) -> Link:
    record = link.crm_id if link is not None else record_id_for(d.coupling.group_id, receiver.id)
    values = {k: v for k, v in receiver.values.items() if k in d.policy.writable}
    reason = because(Code.RECREATED if link is not None else Code.NEW_IN_CLEVERREACH)
    d.add(
        CreateRecord(
            reason, receiver.email, record_id=record, receiver_id=receiver.id, values=values
        )
    )
    return make_link(d, record, receiver, LinkStatus.ACTIVE, receiver.values, link)


def _pull(member: Member, receiver: Receiver, link: Link | None, d: Decision) -> None:
    changes = {
        k: v for k, v in diff(receiver.values, member.values).items() if k in d.policy.writable
    }
    new_email = receiver.email if member.key != receiver.key else ""
    if not changes and not new_email:
        return
    if new_email:
        why = because(Code.EMAIL_CHANGED_IN_CLEVERREACH, old=member.email, new=receiver.email)
    elif link is not None and receiver.values != link.base:
        why = because(Code.CLEVERREACH_CHANGED, fields=fields(changes))
    else:
        why = because(Code.MIRROR_CLEVERREACH, fields=fields(changes))
    _update_record(d, member, receiver, changes, new_email, why)


def _update_record(
    d: Decision,
    member: Member,
    receiver: Receiver,
    values: dict[str, str],
    new_email: str,
    why: Reason,
) -> None:
    """Write CleverReach's values (and address) onto the CRM record."""
    d.add(
        UpdateRecord(
            why,
            receiver.email,
            record_id=member.id,
            receiver_id=receiver.id,
            values=values,
            new_email=new_email,
        )
    )


def both_ways(
    member: Member | None,
    receiver: Receiver | None,
    link: Link | None,
    reason: Reason | None,
    d: Decision,
    budget: Budget,
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
            d.note(licence(budget), member.email, record_id=member.id, level=Level.WARNING)
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
        d.note(licence(budget), receiver.email, receiver_id=receiver.id, level=Level.WARNING)
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


def _merge(member: Member, receiver: Receiver, link: Link | None, d: Decision) -> Link:
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
            else because(Code.CRM_CHANGED, fields=fields(push))
        )
        d.add(UpdateReceiver(why, email, record_id=member.id, receiver_id=receiver.id, values=push))
    new_email = receiver.email if email == receiver.email and member.key != receiver.key else ""
    if pull or new_email:
        why = (
            because(Code.EMAIL_CHANGED_IN_CLEVERREACH, old=member.email, new=receiver.email)
            if new_email
            else because(Code.CLEVERREACH_CHANGED, fields=fields(pull))
        )
        _update_record(d, member, receiver, pull, new_email, why)
    return make_link(
        d,
        member.id,
        receiver,
        LinkStatus.ACTIVE,
        merged,
        link,
        email=email,
        crm_stamp=member.modified,
    )


def _merge_email(member: Member, receiver: Receiver, link: Link | None, d: Decision) -> str:
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
