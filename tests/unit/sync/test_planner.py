"""The decision table, one rule per test (SPEC §5)."""

from __future__ import annotations

import pytest

from crm2cr.errors import ReadOnlyViolation
from crm2cr.sync.actions import (
    ConsentKind,
    ConsentSource,
    CreateReceiver,
    CreateRecord,
    Level,
    RecordConsent,
    SetOptOut,
    UpdateReceiver,
    UpdateRecord,
)
from crm2cr.sync.decision import record_id_for
from crm2cr.sync.model import Direction, LinkStatus
from crm2cr.sync.planner import check_direction
from crm2cr.sync.reasons import Code, because
from tests.unit.sync.builders import GROUP, NOW, kinds, link, member, receiver, run

TO_CR, TO_CRM, BOTH = Direction.TO_CLEVERREACH, Direction.TO_CRM, Direction.BOTH


def test_a_new_eligible_member_becomes_a_receiver_with_its_link_saved_after() -> None:
    m = member(1, firstname="Anna")
    p = run(TO_CR, [m], [], [])
    assert kinds(p) == ["CreateReceiver"]
    action = p.actions[0]
    assert isinstance(action, CreateReceiver)
    assert action.values == {"firstname": "Anna"}
    assert action.link is not None and action.link.crm_id == m.id
    assert action.reason.code is Code.NEW_IN_CRM


def test_an_inactive_member_is_left_out_with_a_warning() -> None:
    p = run(TO_CR, [member(1, active=False)], [], [])
    assert p.actions == []
    assert [(n.reason.code, n.level) for n in p.notes] == [(Code.INACTIVE_IN_CRM, Level.WARNING)]


def test_an_invalid_address_is_left_out_with_a_warning() -> None:
    p = run(TO_CR, [member(1, email="not an address")], [], [])
    assert p.actions == []
    assert p.notes[0].reason.code is Code.INVALID_EMAIL


def test_two_records_with_one_address_sync_the_newest_and_warn_about_the_other() -> None:
    old = member(1, email="same@firma.de", modified=NOW - 500)
    new = member(2, email="Same@Firma.de", modified=NOW - 10)
    p = run(TO_CR, [old, new], [], [])
    assert [a.record_id for a in p.actions] == [new.id]
    warning = [n for n in p.notes if n.reason.code is Code.DUPLICATE_EMAIL]
    assert [(n.record_id, n.reason.get("winner")) for n in warning] == [(old.id, new.id)]


def test_a_linked_record_keeps_its_address_against_a_newer_duplicate() -> None:
    linked = member(1, email="same@firma.de", modified=NOW - 500)
    newer = member(2, email="same@firma.de", modified=NOW - 1)
    r = receiver(1, email="same@firma.de")
    p = run(TO_CR, [linked, newer], [r], [link(linked, r)])
    assert p.actions == []
    assert [n.record_id for n in p.notes if n.reason.code is Code.DUPLICATE_EMAIL] == [newer.id]


def test_a_member_that_left_the_list_is_removed_from_the_group_by_default() -> None:
    m, r = member(1), receiver(1)
    p = run(TO_CR, [], [r], [link(m, r)])
    assert kinds(p) == ["RemoveReceiver"]
    assert p.actions[0].drop_link == link(m, r).id


def test_a_member_that_left_the_list_is_kept_when_the_setting_says_keep() -> None:
    m, r = member(1), receiver(1)
    p = run(TO_CR, [], [r], [link(m, r)], remove_leavers=False)
    assert p.actions == []
    assert p.notes[0].reason.code is Code.KEPT_BY_POLICY


def test_an_unsubscribe_in_cleverreach_is_recorded_once_and_sets_the_opt_out_flag() -> None:
    m = member(1)
    r = receiver(1, deactivated=NOW - 60)
    first = run(TO_CR, [m], [r], [link(m, r)])
    assert kinds(first) == ["RecordConsent", "SetOptOut"]
    consent = first.actions[0]
    assert isinstance(consent, RecordConsent)
    assert consent.kind is ConsentKind.UNSUBSCRIBED
    assert consent.source is ConsentSource.CLEVERREACH
    saved = first.ordered()[-1].link
    assert saved is not None and saved.status is LinkStatus.UNSUBSCRIBED
    # the next run sees the link's status and the flag: nothing new happened
    flagged = member(1, opted_out=True, modified=NOW)
    second = run(TO_CR, [flagged], [r], [saved])
    assert second.actions == []


def test_the_opt_out_flag_is_left_alone_when_the_setting_is_off() -> None:
    m, r = member(1), receiver(1, deactivated=NOW - 60)
    p = run(TO_CR, [m], [r], [link(m, r)], optout_on_unsubscribe=False)
    assert kinds(p) == ["RecordConsent"]


@pytest.mark.parametrize("direction", [TO_CR, TO_CRM, BOTH])
def test_a_withdrawn_receiver_is_never_removed_even_when_its_record_leaves(
    direction: Direction,
) -> None:
    m = member(1)
    for r in (
        receiver(1, bounced=NOW - 9),
        receiver(1, blacklisted=True),
        receiver(1, deactivated=NOW - 9),
    ):
        known = link(m, r, status=LinkStatus.for_state(r.state))
        p = run(direction, [], [r], [known])
        assert p.actions == [], (direction, r.state)


def test_an_opt_out_in_the_crm_deactivates_the_receiver_in_every_direction() -> None:
    for direction in (TO_CR, TO_CRM, BOTH):
        m, r = member(1, opted_out=True), receiver(1)
        p = run(direction, [m], [r], [link(m, r)])
        assert kinds(p) == ["DeactivateReceiver", "RecordConsent"], direction
        consent = p.actions[1]
        assert isinstance(consent, RecordConsent)
        assert consent.kind is ConsentKind.CRM_OPT_OUT
        assert consent.link is not None and consent.link.status is LinkStatus.UNSUBSCRIBED


def test_a_rerun_after_a_crash_mid_opt_out_writes_the_same_consent_row() -> None:
    m, r = member(1, opted_out=True, modified=NOW - 50), receiver(1)
    first = run(TO_CR, [m], [r], [link(m, r)])
    deactivated = receiver(1, deactivated=NOW - 40)
    rerun = run(TO_CR, [m], [deactivated], [link(m, r)])
    keys = {a.event_key for a in first.actions + rerun.actions if isinstance(a, RecordConsent)}
    assert len(keys) == 1
    kinds_ = {a.kind for a in first.actions + rerun.actions if isinstance(a, RecordConsent)}
    assert kinds_ == {ConsentKind.CRM_OPT_OUT}


def test_only_a_double_opt_in_brings_a_receiver_back_and_it_is_recorded() -> None:
    m = member(1, opted_out=True)
    old = receiver(1, deactivated=NOW - 900, activated=NOW - 5000)
    known = link(m, old, status=LinkStatus.UNSUBSCRIBED)
    back = receiver(1, activated=NOW - 30)
    p = run(TO_CR, [m], [back], [known])
    assert kinds(p) == ["RecordConsent", "SetOptOut"]
    consent, optin = p.ordered()
    assert isinstance(consent, RecordConsent) and consent.kind is ConsentKind.DOUBLE_OPT_IN
    assert isinstance(optin, SetOptOut) and optin.opted_out is False
    assert optin.link is not None and optin.link.status is LinkStatus.ACTIVE


def test_clearing_the_opt_out_flag_in_the_crm_does_not_reactivate_anyone() -> None:
    m, r = member(1), receiver(1, deactivated=NOW - 900)
    p = run(BOTH, [m], [r], [link(m, r, status=LinkStatus.UNSUBSCRIBED)])
    assert p.actions == []
    assert p.notes[0].reason.code is Code.OPT_OUT_CLEARED_IN_CRM


def test_a_receiver_awaiting_double_opt_in_is_left_alone() -> None:
    m, r = member(1), receiver(1, activated=0)
    assert run(TO_CR, [m], [r], []).actions == []


def test_a_run_with_nothing_changed_plans_nothing() -> None:
    m, r = member(1, firstname="Anna"), receiver(1, firstname="Anna")
    for direction in (TO_CR, TO_CRM, BOTH):
        assert run(direction, [m], [r], [link(m, r)]).actions == []


def test_moved_change_stamps_alone_plan_nothing() -> None:
    m, r = member(1), receiver(1)
    known = link(m, r)
    bumped_m = member(1, modified=NOW + 999)
    bumped_r = receiver(1, last_changed=NOW + 999)
    assert run(BOTH, [bumped_m], [bumped_r], [known]).actions == []


def test_equal_values_on_both_sides_are_adopted_without_a_write() -> None:
    m, r = member(1), receiver(1)
    p = run(TO_CR, [m], [r], [])
    assert kinds(p) == ["SaveLink"]
    assert p.actions[0].reason.code is Code.ADOPTED


def test_to_cleverreach_mirrors_a_changed_field() -> None:
    m, r = member(1, firstname="Anna"), receiver(1, firstname="Anne")
    p = run(TO_CR, [m], [r], [link(m, r, base={"firstname": "Anne"})])
    assert kinds(p) == ["UpdateReceiver"]
    assert isinstance(p.actions[0], UpdateReceiver)
    assert p.actions[0].values == {"firstname": "Anna"}


def test_to_crm_creates_a_record_under_a_deterministic_id_and_adds_it() -> None:
    r = receiver(7, firstname="Neu", city="Köln")
    p = run(TO_CRM, [], [r], [])
    assert kinds(p) == ["CreateRecord"]
    action = p.actions[0]
    assert isinstance(action, CreateRecord)
    assert action.record_id == record_id_for(GROUP, "r7")
    assert action.values == {"firstname": "Neu"}  # only direct, writable columns


def test_to_crm_matches_an_existing_record_by_address_before_creating_one() -> None:
    outside = member(3, in_list=False)
    r = receiver(3)
    p = run(TO_CRM, [], [r], [], candidates=[outside])
    assert kinds(p) == ["AddMember"]
    assert p.actions[0].record_id == outside.id


def test_to_crm_removes_the_member_whose_receiver_left_the_group() -> None:
    m, r = member(1), receiver(1)
    p = run(TO_CRM, [m], [], [link(m, r)])
    assert kinds(p) == ["RemoveMember"]


def test_to_crm_never_writes_cleverreach_business_data() -> None:
    m, r = member(1, firstname="CRM"), receiver(1, firstname="CR")
    p = run(TO_CRM, [m], [r], [link(m, r, base={"firstname": "X"})])
    assert kinds(p) == ["UpdateRecord"]
    with pytest.raises(ReadOnlyViolation):
        check_direction(TO_CRM, [UpdateReceiver(p.actions[0].reason, "x@y.de")])


def test_to_cleverreach_never_writes_crm_business_data() -> None:
    m = member(1, firstname="CRM")
    r = receiver(1, firstname="CR")
    p = run(TO_CR, [m], [r], [link(m, r, base={"firstname": "CR"})])
    assert kinds(p) == ["UpdateReceiver"]
    with pytest.raises(ReadOnlyViolation):
        check_direction(TO_CR, [UpdateRecord(because(Code.CRM_CHANGED), "x@y.de")])


def test_both_ways_takes_each_field_from_the_side_that_changed() -> None:
    m = member(1, firstname="Anna-CRM", lastname="Muster")
    r = receiver(1, firstname="Anna", lastname="Muster-CR")
    base = {"firstname": "Anna", "lastname": "Muster"}
    p = run(BOTH, [m], [r], [link(m, r, base=base)], writable=frozenset({"firstname", "lastname"}))
    pushed = [a for a in p.actions if isinstance(a, UpdateReceiver)]
    pulled = [a for a in p.actions if isinstance(a, UpdateRecord)]
    assert pushed[0].values == {"firstname": "Anna-CRM"}
    assert pulled[0].values == {"lastname": "Muster-CR"}
    final = p.ordered()[-1].link
    assert final is not None and dict(final.base) == {
        "firstname": "Anna-CRM",
        "lastname": "Muster-CR",
    }
    assert not [n for n in p.notes if n.reason.code.name.startswith("CONFLICT")]


@pytest.mark.parametrize(
    ("crm_time", "cr_time", "winner", "code"),
    [
        (NOW - 10, NOW - 20, "crm", Code.CONFLICT_CRM_NEWER),
        (NOW - 20, NOW - 10, "cr", Code.CONFLICT_CLEVERREACH_NEWER),
        (NOW - 10, NOW - 10, "crm", Code.CONFLICT_TIE),
    ],
)
def test_a_field_changed_on_both_sides_goes_to_the_newer_and_is_logged(
    crm_time: int, cr_time: int, winner: str, code: Code
) -> None:
    m = member(1, firstname="FromCRM", modified=crm_time)
    r = receiver(1, firstname="FromCR", last_changed=cr_time)
    p = run(BOTH, [m], [r], [link(m, r, base={"firstname": "Base"})])
    assert [n.reason.code for n in p.notes] == [code]
    if winner == "crm":
        assert kinds(p) == ["UpdateReceiver"]
    else:
        assert kinds(p) == ["UpdateRecord"]


def test_a_path_field_changed_in_cleverreach_is_set_back_from_the_crm() -> None:
    m = member(1, owner="Max")
    r = receiver(1, owner="Moritz")
    p = run(BOTH, [m], [r], [link(m, r, base={"owner": "Max"})])
    assert kinds(p) == ["UpdateReceiver"]
    assert isinstance(p.actions[0], UpdateReceiver) and p.actions[0].values == {"owner": "Max"}


def test_a_changed_address_in_the_crm_moves_the_receiver_instead_of_adding_one() -> None:
    m_old = member(1, email="alt@firma.de")
    r = receiver(1, email="alt@firma.de")
    known = link(m_old, r)
    m_new = member(1, email="neu@firma.de")
    for direction in (TO_CR, BOTH):
        p = run(direction, [m_new], [r], [known])
        assert kinds(p) == ["ChangeReceiverEmail"], direction
        assert p.actions[0].link is not None and p.actions[0].link.email == "neu@firma.de"


def test_a_changed_address_in_cleverreach_flows_back_where_the_direction_allows() -> None:
    m = member(1, email="alt@firma.de")
    r_old = receiver(1, email="alt@firma.de")
    known = link(m, r_old)
    r_new = receiver(1, email="neu@firma.de")
    for direction in (TO_CRM, BOTH):
        p = run(direction, [m], [r_new], [known])
        updates = [a for a in p.actions if isinstance(a, UpdateRecord)]
        assert updates and updates[0].new_email == "neu@firma.de", direction


def test_the_licence_limit_stops_new_recipients_but_not_existing_ones() -> None:
    linked_m, linked_r = member(1, firstname="Neu"), receiver(1, firstname="Alt")
    known = link(linked_m, linked_r, base={"firstname": "Alt"})
    newcomers = [member(2), member(3)]
    p = run(
        TO_CR,
        [linked_m, *newcomers],
        [linked_r],
        [known],
        new_receivers_allowed=1,
        recipient_limit=250,
    )
    assert sorted(kinds(p)) == ["CreateReceiver", "UpdateReceiver"]
    limited = [n for n in p.notes if n.reason.code is Code.LICENCE_LIMIT]
    assert len(limited) == 1 and limited[0].reason.get("limit") == "250"


def test_a_pairs_link_rides_on_its_last_action_in_execution_order() -> None:
    outside = member(3, in_list=False, firstname="Alt")
    r = receiver(3, firstname="Neu")
    p = run(TO_CRM, [], [r], [], candidates=[outside])
    ordered = p.ordered()
    assert [type(a).__name__ for a in ordered] == ["UpdateRecord", "AddMember"]
    assert ordered[0].link is None and ordered[1].link is not None
    assert len({a.pair for a in ordered}) == 1
