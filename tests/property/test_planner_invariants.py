"""The SPEC's invariants over random sequences of changes, on an in-memory world.

The planner and the executor's contract (tests/support/world.py) against
invariants 1–4, 6 and 7, and crash safety (5) by cutting a run after any
action and running again. The same machine runs against the real emulators
in tests/integration once the executor exists; this one finds planner bugs
in milliseconds.
"""

from __future__ import annotations

import contextlib
import copy

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from crm2cr.sync.eligibility import ineligibility
from crm2cr.sync.model import Coupling, Direction, MemberType, normalise_email
from tests.support.world import Box, Crash, Record, World

POOL = [f"{n}@firma.de" for n in ("anna", "ben", "clara", "david", "eva", "finn")]
NAMES = ["Anna", "Ben", "Clara", ""]
emails = st.sampled_from(POOL)
names = st.sampled_from(NAMES)


def semantic(world: World) -> tuple[object, ...]:
    """What must be equal between an interrupted-and-rerun and an uninterrupted run."""
    records = sorted(
        (i, normalise_email(r.email), r.in_list, r.active, r.opted_out, sorted(r.values.items()))
        for i, r in world.records.items()
    )
    boxes = sorted(
        (
            normalise_email(b.email),
            bool(b.activated),
            bool(b.deactivated),
            bool(b.bounced),
            b.blacklisted,
            sorted(b.values.items()),
        )
        for b in world.receivers.values()
    )
    links = sorted(
        (
            k.crm_id,
            normalise_email(world.receivers[k.receiver_id].email)
            if k.receiver_id in world.receivers
            else "",
            k.status,
            sorted(k.base.items()),
        )
        for k in world.links.values()
    )
    return records, boxes, links, sorted(world.consent)


class SyncMachine(RuleBasedStateMachine):
    world: World

    @initialize(direction=st.sampled_from(list(Direction)), remove=st.booleans())
    def start(self, direction: Direction, remove: bool) -> None:
        self.world = World(
            Coupling("c", "g1", "l1", direction, MemberType.CONTACT), remove_leavers=remove
        )
        self.counter = 0
        self.synced = False

    # changes in the CRM ---------------------------------------------------------------------

    @rule(email=emails, name=names, active=st.booleans(), opted_out=st.booleans())
    def crm_adds_a_record(self, email: str, name: str, active: bool, opted_out: bool) -> None:
        self.counter += 1
        rid = f"00000000-0000-4000-8000-{self.counter:012d}"
        self.world.records[rid] = Record(
            email, True, active, opted_out, self.world.tick(), {"firstname": name, "owner": "Max"}
        )

    @precondition(lambda self: self.world.records)
    @rule(data=st.data(), name=names)
    def crm_edits_a_field(self, data: st.DataObject, name: str) -> None:
        rec = self.world.records[data.draw(st.sampled_from(sorted(self.world.records)))]
        field = data.draw(st.sampled_from(["firstname", "owner"]))
        rec.values[field] = name
        rec.modified = self.world.tick()

    @precondition(lambda self: self.world.records)
    @rule(data=st.data())
    def crm_toggles_membership(self, data: st.DataObject) -> None:
        if self.world.coupling.direction is Direction.TO_CRM and data.draw(st.booleans()):
            return  # the list is CleverReach's to shape; edits still happen, less often
        rec = self.world.records[data.draw(st.sampled_from(sorted(self.world.records)))]
        rec.in_list = not rec.in_list

    @precondition(lambda self: self.world.records)
    @rule(data=st.data(), what=st.sampled_from(["deactivate", "activate", "opt out"]))
    def crm_changes_state(self, data: st.DataObject, what: str) -> None:
        rec = self.world.records[data.draw(st.sampled_from(sorted(self.world.records)))]
        if what == "deactivate":
            rec.active = False
        elif what == "activate":
            rec.active = True
        else:
            rec.opted_out = True
        rec.modified = self.world.tick()

    @precondition(lambda self: self.world.records)
    @rule(data=st.data())
    def crm_changes_an_address(self, data: st.DataObject) -> None:
        rec = self.world.records[data.draw(st.sampled_from(sorted(self.world.records)))]
        self.counter += 1
        rec.email = f"moved{self.counter}@firma.de"
        rec.modified = self.world.tick()

    # changes in CleverReach -------------------------------------------------------------------

    @rule(email=emails, name=names)
    def cleverreach_gets_a_receiver(self, email: str, name: str) -> None:
        if self.world._find(email) is not None:
            return
        rid = f"r{self.world.next_receiver}"
        self.world.next_receiver += 1
        now = self.world.tick()
        self.world.receivers[rid] = Box(
            email, activated=now, last_changed=now, values={"firstname": name}
        )

    @precondition(lambda self: self.world.receivers)
    @rule(data=st.data(), name=names)
    def cleverreach_edits_a_field(self, data: st.DataObject, name: str) -> None:
        box = self.world.receivers[data.draw(st.sampled_from(sorted(self.world.receivers)))]
        box.values[data.draw(st.sampled_from(["firstname", "owner"]))] = name
        box.last_changed = self.world.tick()

    @precondition(lambda self: self.world.receivers)
    @rule(
        data=st.data(),
        what=st.sampled_from(["unsubscribe", "bounce", "blacklist", "double opt-in", "delete"]),
    )
    def receiver_changes_state(self, data: st.DataObject, what: str) -> None:
        rid = data.draw(st.sampled_from(sorted(self.world.receivers)))
        box = self.world.receivers[rid]
        now = self.world.tick()
        if what == "unsubscribe":
            box.deactivated = box.deactivated or now
        elif what == "bounce":
            box.bounced = box.bounced or now
        elif what == "blacklist":
            box.blacklisted = True
        elif what == "double opt-in" and box.deactivated and not (box.bounced or box.blacklisted):
            box.activated, box.deactivated = now, 0
        elif what == "delete":
            del self.world.receivers[rid]
            return
        box.last_changed = now

    @precondition(lambda self: self.world.receivers)
    @rule(data=st.data())
    def cleverreach_changes_an_address(self, data: st.DataObject) -> None:
        box = self.world.receivers[data.draw(st.sampled_from(sorted(self.world.receivers)))]
        self.counter += 1
        box.email = f"cr-moved{self.counter}@firma.de"
        box.last_changed = self.world.tick()

    # syncs ---------------------------------------------------------------------------------------

    @rule()
    def sync(self) -> None:
        before = {
            rid: (b.activated, b.deactivated, b.bounced, b.blacklisted)
            for rid, b in self.world.receivers.items()
        }
        crm_before = copy.deepcopy(self.world.records)
        cr_before = copy.deepcopy(self.world.receivers)
        the_plan = self.world.sync()
        self._check_sticky(before)
        self._check_purity(crm_before, cr_before)
        self._check_nothing_lost(the_plan)
        self.synced = True
        again = self.world.plan()
        assert not again.actions, f"invariant 4: a second run would write {again.counts()}"

    @rule(cut=st.integers(min_value=0, max_value=12))
    def sync_killed_half_way_then_rerun(self, cut: int) -> None:
        reference = copy.deepcopy(self.world)
        reference.sync()
        with contextlib.suppress(Crash):
            self.world.sync(crash_after=cut)
        self.world.sync()
        assert semantic(self.world) == semantic(reference), "invariant 5"
        self.synced = True

    # invariants --------------------------------------------------------------------------

    def _check_sticky(self, before: dict[str, tuple[int, int, int, bool]]) -> None:
        for rid, (_activated, deactivated, bounced, blacklisted) in before.items():
            box = self.world.receivers.get(rid)
            withdrawn = deactivated or bounced or blacklisted
            if box is not None and withdrawn:
                assert box.deactivated or box.bounced or box.blacklisted, "invariant 2"
            if withdrawn:
                assert box is not None, "a withdrawn receiver was deleted"

    def _check_purity(self, crm_before: dict[str, Record], cr_before: dict[str, Box]) -> None:
        direction = self.world.coupling.direction
        if direction is Direction.TO_CLEVERREACH:
            for rid, rec in crm_before.items():
                now = self.world.records[rid]
                assert (now.email, now.in_list, now.values) == (
                    rec.email,
                    rec.in_list,
                    rec.values,
                ), "invariant 6"
            assert set(self.world.records) == set(crm_before), "invariant 6"
        if direction is Direction.TO_CRM:
            assert set(self.world.receivers) == set(cr_before), "invariant 6"
            for rid, box in cr_before.items():
                now_box = self.world.receivers[rid]
                assert (now_box.email, now_box.values) == (box.email, box.values), "invariant 6"

    def _check_nothing_lost(self, the_plan: object) -> None:
        from crm2cr.sync.planner import Plan

        assert isinstance(the_plan, Plan)
        acted = {a.record_id for a in the_plan.actions} | {n.record_id for n in the_plan.notes}
        linked = {k.crm_id for k in self.world.links.values()}
        for rid, rec in self.world.records.items():
            if rec.in_list and rid not in linked and rid not in acted:
                raise AssertionError(f"invariant 7: record {rid} neither synced nor logged")

    @invariant()
    def no_duplicates(self) -> None:
        if not hasattr(self, "world"):
            return
        keys = [normalise_email(b.email) for b in self.world.receivers.values()]
        assert len(keys) == len(set(keys)), "invariant 3: two receivers for one address"
        assert all(n <= 1 for n in self.world.created_for.values()), (
            "invariant 3: two records for one receiver"
        )
        crm_ids = [k.crm_id for k in self.world.links.values()]
        assert len(crm_ids) == len(set(crm_ids)), "invariant 3: two links for one record"
        receiver_ids = [k.receiver_id for k in self.world.links.values() if k.receiver_id]
        assert len(receiver_ids) == len(set(receiver_ids)), "invariant 3: two links, one receiver"

    @invariant()
    def converged_after_a_sync(self) -> None:
        if not getattr(self, "synced", False):
            return
        self.synced = False
        world = self.world
        active = {
            normalise_email(b.email)
            for b in world.receivers.values()
            if b.activated and not (b.deactivated or b.bounced or b.blacklisted)
        }
        withdrawn = {normalise_email(b.email) for b in world.receivers.values()} - active
        members = [world.member(i) for i in world.records]
        eligible = {m.key for m in members if ineligibility(m) is None}
        in_list = {m.key for m in members if m.in_list}
        direction = world.coupling.direction
        # a record linked to a withdrawn receiver stays as it is: sticky unsubscribe wins
        held = {
            world.member(k.crm_id).key
            for k in world.links.values()
            if k.crm_id in world.records
            and k.receiver_id in world.receivers
            and normalise_email(world.receivers[k.receiver_id].email) in withdrawn
        }
        if direction is Direction.TO_CRM:
            assert active <= in_list, f"invariant 1: receivers {active - in_list} not in list"
            assert in_list <= active | withdrawn | held, "invariant 1: list members not in group"
            return
        missing = eligible - active - withdrawn - held
        assert not missing, f"invariant 1: eligible {missing} not receivers"
        # both ways, a new receiver whose address belongs to an inactive record stays as it is
        inactive = (
            {m.key for m in members if not m.active} if direction is Direction.BOTH else set()
        )
        if direction is Direction.BOTH or world.remove_leavers:
            stray = active - in_list - inactive
            assert not stray, f"invariant 1: receivers {stray} not members"
            if direction is Direction.TO_CLEVERREACH:
                assert active <= eligible, "invariant 1: ineligible records still receivers"


TestSyncMachine = SyncMachine.TestCase
