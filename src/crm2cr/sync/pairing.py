"""Pure: join both sides' snapshots and the link rows into pairs (identity by link first).

1. Every link pairs its record and its receiver by id (a receiver that was
   recreated under a new id is found again by the link's address).
2. Records of the list not yet linked pair with a receiver by e-mail; several
   eligible records with one address pick a primary (eligibility.primary_first)
   and the others come as pairs of their own marked `duplicate_of`; an address a
   link already uses makes them all duplicates of that link's record.
3. Receivers left over pair with a candidate record (same address, not in the
   list) or with nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from crm2cr.sync.eligibility import ineligibility, primary_first
from crm2cr.sync.model import Direction, Link, Member, Receiver, ReceiverState


@dataclass(frozen=True, slots=True)
class Pair:
    member: Member | None
    receiver: Receiver | None
    link: Link | None
    duplicate_of: str = ""  # set when this record loses its address to another record


def crm_address_wins(
    member: Member, receiver: Receiver, link: Link | None, direction: Direction
) -> bool:
    """When the two addresses of a pair differ, does the CRM's win?

    One way, the source side's; both ways, the side that changed since the
    link was saved, and the newer one if both did (ties to the CRM).
    """
    if direction is Direction.TO_CLEVERREACH:
        return True
    if direction is Direction.TO_CRM:
        return False
    crm_moved = link is None or member.key != link.key
    cr_moved = link is None or receiver.key != link.key
    return crm_moved and (not cr_moved or member.modified >= receiver.last_changed)


def keeps_address(
    member: Member | None, receiver: Receiver | None, direction: Direction, remove_leavers: bool
) -> bool:
    """Does a linked pair still hold an address in the group once this run is done?

    A pair about to be dissolved frees its address for another record in the
    same run; one that persists keeps it, so no second record can take it.
    """
    eligible = member is not None and ineligibility(member) is None
    if receiver is None:
        return direction is Direction.TO_CLEVERREACH and eligible
    if receiver.state is not ReceiverState.ACTIVE or (member is not None and member.opted_out):
        return True  # a withdrawn receiver is never deleted
    if direction is Direction.TO_CRM or eligible:
        return True
    return direction is Direction.TO_CLEVERREACH and not remove_leavers


def settled_key(
    member: Member | None, receiver: Receiver | None, link: Link, direction: Direction
) -> str:
    """The address a linked pair has once this run is done.

    A receiver moves only for an eligible record whose address wins; a pair
    left as it is (ineligible record, withdrawn receiver) keeps the receiver's.
    """
    if receiver is None:
        return member.key if member is not None else link.key
    if (
        member is None
        or ineligibility(member) is not None
        or receiver.state is not ReceiverState.ACTIVE
        or member.key == receiver.key
    ):
        return receiver.key
    return member.key if crm_address_wins(member, receiver, link, direction) else receiver.key


def _holder_of_target(
    member: Member | None,
    receiver: Receiver | None,
    link: Link,
    direction: Direction,
    by_key: dict[str, Receiver],
    taken: set[str],
) -> Receiver | None:
    """A pair moving to an address another, unlinked receiver already has takes that one.

    CleverReach keeps one receiver per address: the move would fail for ever,
    so the pair adopts the receiver with the address, and the one it leaves
    is a receiver like any other without a record.
    """
    if member is None or receiver is None or ineligibility(member) is not None:
        return receiver
    target = settled_key(member, receiver, link, direction)
    holder = by_key.get(target)
    if target == receiver.key or holder is None or holder.id in taken:
        return receiver
    return holder


def pair_up(
    members: Iterable[Member],
    receivers: Iterable[Receiver],
    links: Iterable[Link],
    candidates: Iterable[Member] = (),
    direction: Direction = Direction.BOTH,
    remove_leavers: bool = True,
) -> Iterator[Pair]:
    in_list = {m.id: m for m in members}
    outside = {m.id: m for m in candidates if m.id not in in_list}
    by_id = {r.id: r for r in receivers}
    linked_receiver_ids = set()
    link_list = list(links)
    for link in link_list:
        linked_receiver_ids.add(link.receiver_id)
    by_key = {r.key: r for r in by_id.values()}

    used_members: set[str] = set()
    used_receivers: set[str] = set()
    used_keys: dict[str, str] = {}  # address → record id of the linked pair using it

    for link in sorted(link_list, key=lambda k: k.id):
        member = in_list.get(link.crm_id) or outside.get(link.crm_id)
        receiver = by_id.get(link.receiver_id)
        if receiver is None:
            stand_in = by_key.get(link.key)
            if stand_in is not None and stand_in.id not in linked_receiver_ids:
                receiver = stand_in
        if receiver is not None and receiver.id in used_receivers:
            receiver = None
        receiver = _holder_of_target(
            member, receiver, link, direction, by_key, linked_receiver_ids | used_receivers
        )
        if member is not None:
            used_members.add(member.id)
        if receiver is not None:
            used_receivers.add(receiver.id)
        if keeps_address(member, receiver, direction, remove_leavers):
            # only the address the pair ends with is taken; one it leaves is free
            used_keys.setdefault(settled_key(member, receiver, link, direction), link.crm_id)
        yield Pair(member, receiver, link)

    groups: dict[str, list[Member]] = defaultdict(list)
    for member in in_list.values():
        if member.id not in used_members:
            groups[member.key].append(member)
    for key in sorted(groups):
        records = groups[key]
        if key and key in used_keys:
            for member in sorted(records, key=lambda m: m.id):
                yield Pair(member, None, None, duplicate_of=used_keys[key])
            continue
        receiver = by_key.get(key) if key else None
        if receiver is not None and receiver.id in used_receivers:
            receiver = None
        eligible = primary_first([m for m in records if ineligibility(m) is None])
        ineligible = sorted(
            (m for m in records if ineligibility(m) is not None), key=lambda m: m.id
        )
        if eligible and receiver is None and direction is Direction.TO_CRM:
            # no receiver has this address: every record of it leaves the list alike
            for member in eligible:
                yield Pair(member, None, None)
        elif eligible:
            yield Pair(eligible[0], receiver, None)
            for member in eligible[1:]:
                yield Pair(member, None, None, duplicate_of=eligible[0].id)
        elif receiver is not None and ineligible:
            yield Pair(ineligible[0], receiver, None)
            ineligible = ineligible[1:]
        else:
            receiver = None
        if receiver is not None:
            used_receivers.add(receiver.id)
        for member in ineligible:
            yield Pair(member, None, None)

    by_candidate_key: dict[str, list[Member]] = defaultdict(list)
    for member in outside.values():
        if member.id not in used_members:
            by_candidate_key[member.key].append(member)
    for receiver in sorted(by_id.values(), key=lambda r: r.id):
        if receiver.id in used_receivers:
            continue
        found = primary_first(by_candidate_key.get(receiver.key, []))
        yield Pair(found[0] if found else None, receiver, None)
