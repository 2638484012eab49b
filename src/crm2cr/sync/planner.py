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

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from crm2cr.errors import ReadOnlyViolation
from crm2cr.sync.actions import (
    Action,
    AddMember,
    CreateRecord,
    DeactivateReceiver,
    Level,
    Note,
    RemoveMember,
    Side,
    UpdateRecord,
)
from crm2cr.sync.consent import crm_opt_out, double_opt_in, withdrawn_or_pending
from crm2cr.sync.decision import (
    RANK,
    WARN_CODES,
    Budget,
    Decision,
)
from crm2cr.sync.directions import both_ways, to_cleverreach, to_crm
from crm2cr.sync.eligibility import ineligibility
from crm2cr.sync.model import (
    Coupling,
    Direction,
    Policy,
    ReceiverState,
)
from crm2cr.sync.pairing import Pair
from crm2cr.sync.reasons import Code, because

CRM_BUSINESS = (CreateRecord, UpdateRecord, AddMember, RemoveMember)


CONSENT_ON_CLEVERREACH = (DeactivateReceiver,)


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


def plan(coupling: Coupling, pairs: Iterable[Pair], policy: Policy) -> Plan:
    """Decide every pair; the result is checked against the direction (invariant 6)."""
    result = Plan(coupling)
    budget = Budget(policy.new_receivers_allowed, policy.recipient_limit)
    for number, pair in enumerate(pairs, start=1):
        decision = Decision(coupling, policy, number)
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


def decide(pair: Pair, d: Decision, budget: Budget) -> None:
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
        withdrawn_or_pending(member, receiver, link, d)
        return
    if receiver is not None and link is not None and link.status.is_consent_withdrawn:
        member, link = double_opt_in(member, receiver, link, d)
        original = pair.link
    else:
        original = link
    if receiver is not None and member is not None and member.opted_out:
        crm_opt_out(member, receiver, link, d)
        return
    reason = ineligibility(member) if member is not None else None
    if member is not None and member.in_list and reason is not None:
        level = Level.WARNING if reason.code in WARN_CODES else Level.INFO
        d.note(reason, member.email, record_id=member.id, level=level)
    direction = d.coupling.direction
    if direction is Direction.TO_CLEVERREACH:
        new_link = to_cleverreach(member, receiver, link, reason, d, budget)
    elif direction is Direction.TO_CRM:
        new_link = to_crm(member, receiver, link, d, budget)
    else:
        new_link = both_ways(member, receiver, link, reason, d, budget)
    d.finish(new_link, original)
