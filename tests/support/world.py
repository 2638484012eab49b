"""An in-memory world of both sides that applies plans as the real services would.

It mirrors the services' rules that the engine relies on: CleverReach keeps
one receiver per address in a group and never re-activates a withdrawn one
through an upsert; Dataverse upserts a record under a chosen id. It runs the
executor's contract too: actions in execution order, a pair's link saved only
after all its actions succeeded, and a crash after any action.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from crm2cr.sync.actions import (
    Action,
    AddMember,
    ChangeReceiverEmail,
    CreateReceiver,
    CreateRecord,
    DeactivateReceiver,
    DropLink,
    RecordConsent,
    RemoveMember,
    RemoveReceiver,
    SaveLink,
    SetOptOut,
    UpdateReceiver,
    UpdateRecord,
)
from crm2cr.sync.model import Coupling, Link, Member, Policy, Receiver, normalise_email
from crm2cr.sync.pairing import pair_up
from crm2cr.sync.planner import Plan, plan


class Crash(Exception):
    """The executor was killed after some action."""


@dataclass
class Record:
    email: str
    in_list: bool = True
    active: bool = True
    opted_out: bool = False
    modified: int = 0
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class Box:
    email: str
    activated: int = 1
    deactivated: int = 0
    bounced: int = 0
    blacklisted: bool = False
    last_changed: int = 0
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    coupling: Coupling
    mapped: tuple[str, ...] = ("firstname", "owner")
    writable: frozenset[str] = frozenset({"firstname"})
    remove_leavers: bool = True
    records: dict[str, Record] = field(default_factory=dict)
    receivers: dict[str, Box] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    consent: dict[str, str] = field(default_factory=dict)
    reactivations: list[str] = field(default_factory=list)  # receiver ids re-activated by us
    created_for: dict[str, int] = field(default_factory=dict)  # receiver id → records created
    clock: int = 1_800_000_000
    next_receiver: int = 1

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    # snapshots ---------------------------------------------------------------------------

    def member(self, record_id: str) -> Member:
        rec = self.records[record_id]
        values = {k: rec.values.get(k, "") for k in self.mapped}
        return Member(
            record_id, rec.email, rec.in_list, rec.active, rec.opted_out, rec.modified, values
        )

    def receiver(self, receiver_id: str) -> Receiver:
        box = self.receivers[receiver_id]
        values = {k: box.values.get(k, "") for k in self.mapped}
        return Receiver(
            receiver_id,
            box.email,
            box.activated,
            box.deactivated,
            box.bounced,
            box.blacklisted,
            box.last_changed,
            values,
        )

    def plan(self) -> Plan:
        members = [self.member(i) for i, r in self.records.items() if r.in_list]
        receivers = [self.receiver(i) for i in self.receivers]
        linked = {link.crm_id for link in self.links.values()}
        addresses = {normalise_email(b.email) for b in self.receivers.values()}
        candidates = [
            self.member(i)
            for i, r in self.records.items()
            if not r.in_list and (i in linked or normalise_email(r.email) in addresses)
        ]
        policy = Policy(now=self.clock, remove_leavers=self.remove_leavers, writable=self.writable)
        return plan(
            self.coupling,
            pair_up(
                members,
                receivers,
                list(self.links.values()),
                candidates,
                self.coupling.direction,
                self.remove_leavers,
            ),
            policy,
        )

    # execution -----------------------------------------------------------------------------

    def sync(self, crash_after: int | None = None) -> Plan:
        """One run: plan and execute; records it created settle in a second pass.

        A record created from a receiver gets values only the CRM computes (an
        owner's name through a lookup path); the second pass pushes them, so the
        run ends settled and the next one writes nothing (invariant 4).
        """
        first = self.plan()
        self.execute(first, crash_after)
        if any(isinstance(a, CreateRecord) for a in first.actions):
            self.execute(self.plan())
        return first

    def execute(self, the_plan: Plan, crash_after: int | None = None) -> int:
        """Run the plan; raise Crash after `crash_after` actions. Returns actions run."""
        failed_pairs: set[int] = set()
        done = 0
        for action in the_plan.ordered():
            if crash_after is not None and done >= crash_after:
                raise Crash
            ok, receiver_id = self._apply(action)
            done += 1
            if not ok:
                failed_pairs.add(action.pair)
                continue
            if action.pair in failed_pairs:
                continue
            if action.link is not None:
                saved = action.link
                if not saved.receiver_id and receiver_id:
                    box = self.receivers[receiver_id]
                    saved = replace(
                        saved,
                        receiver_id=receiver_id,
                        activated=box.activated,
                        cr_stamp=box.last_changed,
                    )
                self.links[saved.id] = saved
            if action.drop_link:
                self.links.pop(action.drop_link, None)
        return done

    def _find(self, email: str) -> str | None:
        key = normalise_email(email)
        for rid, box in self.receivers.items():
            if normalise_email(box.email) == key:
                return rid
        return None

    def _apply(self, action: Action) -> tuple[bool, str]:
        now = self.tick()
        if isinstance(action, CreateReceiver):
            rid = self._find(action.email)
            if rid is None:
                rid = f"r{self.next_receiver}"
                self.next_receiver += 1
                self.receivers[rid] = Box(action.email.lower(), activated=now, last_changed=now)
            box = self.receivers[rid]
            box.values.update(action.values)
            box.last_changed = now
            return True, rid
        if isinstance(action, UpdateReceiver):
            box = self.receivers.get(action.receiver_id)
            if box is None:
                return False, ""
            box.values.update(action.values)
            box.last_changed = now
            return True, action.receiver_id
        if isinstance(action, ChangeReceiverEmail):
            taken = self._find(action.new_email)
            if taken is not None and taken != action.receiver_id:
                return False, ""
            self.receivers[action.receiver_id].email = action.new_email.lower()
            self.receivers[action.receiver_id].last_changed = now
            return True, action.receiver_id
        if isinstance(action, DeactivateReceiver):
            self.receivers[action.receiver_id].deactivated = now
            self.receivers[action.receiver_id].last_changed = now
            return True, action.receiver_id
        if isinstance(action, RemoveReceiver):
            box = self.receivers[action.receiver_id]
            assert box.activated and not (box.deactivated or box.bounced or box.blacklisted), (
                "a withdrawn receiver was deleted"
            )
            del self.receivers[action.receiver_id]
            return True, ""
        if isinstance(action, CreateRecord):
            if action.record_id not in self.records:
                self.created_for[action.receiver_id] = (
                    self.created_for.get(action.receiver_id, 0) + 1
                )
            rec = self.records.setdefault(action.record_id, Record(action.email))
            rec.email, rec.in_list, rec.modified = action.email, True, now
            rec.values.update(action.values)
            return True, action.receiver_id
        if isinstance(action, UpdateRecord):
            rec = self.records[action.record_id]
            rec.values.update(action.values)
            if action.new_email:
                rec.email = action.new_email
            rec.modified = now
            return True, action.receiver_id
        if isinstance(action, AddMember | RemoveMember):
            self.records[action.record_id].in_list = isinstance(action, AddMember)
            return True, action.receiver_id
        if isinstance(action, SetOptOut):
            rec = self.records[action.record_id]
            rec.opted_out, rec.modified = action.opted_out, now
            return True, action.receiver_id
        if isinstance(action, RecordConsent):
            self.consent[action.event_key] = str(action.kind)
            return True, action.receiver_id
        if isinstance(action, SaveLink | DropLink):
            return True, action.receiver_id
        raise AssertionError(f"unknown action {action!r}")
