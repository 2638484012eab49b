"""Contract, part 2: receiver writes and consent (reference §6, §9, §10, §15.11–22, 25, 26, 30)."""

from __future__ import annotations

from typing import Any

import pytest

from crm2cr.cleverreach import Activation, CleverReachClient, ReceiverData
from crm2cr.cleverreach.models import Receiver
from crm2cr.cleverreach.receivers import EVENTS, TAGS
from crm2cr.errors import BatchTooLarge, ConflictError, NotFoundError, ValidationError
from tests.integration.cleverreach.helpers import addresses, fill, new_group, raw
from tests.support.cleverreach import CleverReachHarness

ANNA = "anna@example.org"


def deactivated(cr: CleverReachClient, group_id: str, email: str = ANNA) -> Receiver:
    outcome = cr.receivers.upsert(
        group_id, [ReceiverData(email, activation=Activation.DEACTIVATE, in_group=True)]
    )
    assert not outcome.failed
    receiver = cr.receivers.get(group_id, email)
    assert not receiver.active and receiver.deactivated > 0
    return receiver


def upsert_raw(cr: CleverReachClient, group_id: str, items: list[dict[str, Any]]) -> Any:
    return raw(cr, "POST", f"v3/groups/{group_id}/receivers/upsert", items)


def reactivations(h: CleverReachHarness) -> list[Any]:
    entries = h.control("GET", "audit")
    rows = entries["entries"] if isinstance(entries, dict) else entries
    return [e for e in rows if e.get("reactivation")]


class ConsentContract:
    def test_a_single_create_refuses_a_duplicate_and_a_bad_address(
        self, cr: CleverReachClient
    ) -> None:
        """Reference §4.1, §6.4 (§15.11): existing address → 409, invalid → 400."""
        group = new_group(cr)
        cr.receivers.create(group.id, ReceiverData(ANNA))
        with pytest.raises(ConflictError) as duplicate:
            cr.receivers.create(group.id, ReceiverData(ANNA))
        assert ANNA in duplicate.value.api_message
        with pytest.raises(ValidationError) as invalid:
            cr.receivers.create(group.id, ReceiverData("not-an-address"))
        assert "invalid address" in invalid.value.api_message

    def test_a_new_receiver_is_active_unless_it_awaits_opt_in(self, cr: CleverReachClient) -> None:
        """Reference §6.7 (§15.12): no activation fields → active, registered = activated."""
        group = new_group(cr)
        anna = cr.receivers.create(group.id, ReceiverData(ANNA))
        assert anna.active and anna.activated > 0 and anna.registered == anna.activated
        ben = cr.receivers.create(
            group.id, ReceiverData("ben@example.org", activation=Activation.AWAITING_OPT_IN)
        )
        assert not ben.active and ben.activated == 0 and ben.deactivated == 0

    def test_data_belongs_in_the_attribute_maps(self, cr: CleverReachClient) -> None:
        """Reference §6.1, §6.4 (§15.13): top-level fields ignored; every attribute shown."""
        group = new_group(cr)
        cr.attributes.create("firstname")
        cr.attributes.create("lastname")
        cr.attributes.create("kundennr", group_id=group.id)
        raw(
            cr,
            "POST",
            f"v3/groups/{group.id}/receivers",
            {"email": ANNA, "firstname": "Top", "global_attributes": {"lastname": "Muster"}},
        )
        anna = cr.receivers.get(group.id, ANNA)
        assert anna.global_attributes == {"firstname": "", "lastname": "Muster"}
        assert anna.attributes == {"kundennr": ""}

    def test_an_upsert_answers_each_item_in_order(self, cr: CleverReachClient) -> None:
        """Reference §6.6 (§15.14): one element per input; a bad address fails alone."""
        group = new_group(cr)
        anna = cr.receivers.create(group.id, ReceiverData(ANNA))
        items = [ReceiverData("ben@example.org"), ReceiverData("broken"), ReceiverData(ANNA)]
        outcome = cr.receivers.upsert(group.id, items)
        assert [r.item for r in outcome.results] == items
        assert [r.ok for r in outcome.results] == [True, False, True]
        assert "invalid address" in outcome.results[1].status
        updated = outcome.results[2].receiver
        assert updated is not None and updated.id == anna.id

    def test_an_upsert_over_the_limit_writes_nothing_and_the_client_halves(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §4.3, §6.6, §14 Batches (§15.15): 1001 items → 413; halve, keep size."""
        group = new_group(cr)
        items = [{"email": e} for e in addresses(1001)]
        with pytest.raises(BatchTooLarge):
            upsert_raw(cr, group.id, items)
        assert list(cr.receivers.stream(group.id)) == []
        big = h.client(batch_size=1001)
        outcome = big.receivers.upsert(group.id, [ReceiverData(e) for e in addresses(1001)])
        assert len(outcome.succeeded) == 1001 and not outcome.failed
        assert big.batch_size.current == 500
        assert len(list(cr.receivers.stream(group.id))) == 1001

    def test_activated_never_reactivates_a_deactivated_receiver(
        self, cr: CleverReachClient
    ) -> None:
        """Reference §6.7 (§15.16): upsert with `activated>0` leaves it deactivated."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA])
        before = deactivated(cr, group.id)
        upsert_raw(cr, group.id, [{"email": ANNA, "activated": before.deactivated + 10}])
        after = cr.receivers.get(group.id, ANNA)
        assert not after.active and after.deactivated == before.deactivated

    def test_activated_activates_a_receiver_never_activated(self, cr: CleverReachClient) -> None:
        """Reference §6.7 (§15.17)."""
        group = new_group(cr)
        cr.receivers.create(group.id, ReceiverData(ANNA, activation=Activation.AWAITING_OPT_IN))
        upsert_raw(cr, group.id, [{"email": ANNA, "activated": 1_700_000_000}])
        assert cr.receivers.get(group.id, ANNA).active

    def test_a_deactivation_sticks_through_later_upserts(self, cr: CleverReachClient) -> None:
        """Reference §6.7 (§15.18): `deactivated: ts` deactivates; later upserts keep it."""
        group = new_group(cr)
        cr.attributes.create("firstname")
        fill(cr, group.id, [ANNA])
        outcome = cr.receivers.deactivate_many(group.id, [ANNA])
        assert not outcome.failed
        before = cr.receivers.get(group.id, ANNA)
        cr.receivers.upsert(group.id, [ReceiverData(ANNA, global_attributes={"firstname": "A"})])
        after = cr.receivers.get(group.id, ANNA)
        assert not after.active and after.deactivated == before.deactivated > 0
        assert after.global_attributes["firstname"] == "A"

    def test_deactivated_zero_reactivates_and_is_audited(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §6.7 (§15.19): why the client never sends it (faithful mode)."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA])
        deactivated(cr, group.id)
        assert reactivations(h) == []
        upsert_raw(cr, group.id, [{"email": ANNA, "deactivated": 0}])
        assert cr.receivers.get(group.id, ANNA).active
        assert len(reactivations(h)) == 1

    def test_activated_leaves_bounced_and_blacklisted_inactive(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §6.7, §9 (§15.20)."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA, "ben@example.org"])
        h.control("POST", "bounce", {"email": ANNA, "category": "hardbounce"})
        cr.blacklist.add("ben@example.org", comment="asked us")
        upsert_raw(
            cr,
            group.id,
            [{"email": e, "activated": 1_700_000_000} for e in (ANNA, "ben@example.org")],
        )
        assert not cr.receivers.get(group.id, ANNA).active
        assert not cr.receivers.get(group.id, "ben@example.org").active

    def test_batch_tags_are_added_and_removed(self, cr: CleverReachClient) -> None:
        """Reference §6.6 (§15.21): tags added; `-Tag` removes one; `-Origin.*` all of one."""
        group = new_group(cr)
        tags = ("CRM.Kunde", "CRM.Lead", "Shop.VIP")
        cr.receivers.upsert(group.id, [ReceiverData(ANNA, tags=tags)])
        assert set(cr.receivers.get(group.id, ANNA).tags) == set(tags)
        cr.receivers.upsert(group.id, [ReceiverData(ANNA, tags=("Other.New",))])
        assert set(cr.receivers.get(group.id, ANNA).tags) == {*tags, "Other.New"}
        cr.receivers.upsert(group.id, [ReceiverData(ANNA, tags=("-Shop.VIP", "-CRM.*"))])
        assert set(cr.receivers.get(group.id, ANNA).tags) == {"Other.New"}

    def test_deactivate_and_delete_answer_true(self, cr: CleverReachClient) -> None:
        """Reference §2.4, §6.8 (§15.22): `true`, then 404."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA, "ben@example.org"])
        cr.receivers.deactivate(group.id, ANNA)
        assert not cr.receivers.get(group.id, ANNA).active
        assert cr.receivers.delete(group.id, ANNA) is True
        with pytest.raises(NotFoundError):
            cr.receivers.get(group.id, ANNA)
        assert cr.receivers.delete(group.id, ANNA) is False
        outcome = cr.receivers.delete_many(group.id, ["ben@example.org", "nobody@example.org"])
        assert [r.status for r in outcome.results] == ["success", "not found"]
        assert list(cr.receivers.stream(group.id)) == []

    def test_a_blacklisted_address_is_inactive_everywhere_until_removed(
        self, cr: CleverReachClient
    ) -> None:
        """Reference §9 (§15.25): inactive in every group; removal restores the state."""
        one, two = new_group(cr), new_group(cr, "Two")
        fill(cr, one.id, [ANNA])
        fill(cr, two.id, [ANNA])
        entry = cr.blacklist.add(ANNA, comment="complaint")
        assert entry.email == ANNA
        assert cr.blacklist.get(ANNA) is not None
        assert ANNA in {e.email for e in cr.blacklist.all()}
        assert not cr.receivers.get(one.id, ANNA).active
        assert not cr.receivers.get(two.id, ANNA).active
        assert cr.receivers.get(one.id, ANNA).deactivated == 0
        assert cr.blacklist.remove(ANNA) is True
        assert cr.blacklist.remove(ANNA) is False
        assert cr.receivers.get(one.id, ANNA).active and cr.receivers.get(two.id, ANNA).active

    def test_a_bounce_is_recorded_and_filtered(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §6.2, §9 (§15.26, §15.9): `bounced`, a bounce entry, `type=bounce`."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA, "ben@example.org", "cleo@example.org"])
        cr.receivers.create(
            group.id, ReceiverData("dora@example.org", activation=Activation.AWAITING_OPT_IN)
        )
        deactivated(cr, group.id, "ben@example.org")
        h.control("POST", "bounce", {"email": ANNA, "category": "hardbounce"})
        assert cr.receivers.get(group.id, ANNA).bounced > 0
        assert ANNA in {b.email for b in cr.blacklist.bounces()}

        def emails(kind: Any) -> set[str]:
            return {r.email for r in cr.receivers.stream(group.id, type=kind)}

        assert emails("bounce") == {ANNA}
        assert emails("active") == {"cleo@example.org"}
        assert emails("inactive") == {"ben@example.org", "dora@example.org"}
        assert len(emails("all")) == 4
        found = {r.email for r in cr.receivers.find_many(group.id, [ANNA, "cleo@example.org"])}
        assert found == {ANNA, "cleo@example.org"}

    def test_only_a_confirmed_double_opt_in_reactivates(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §10 (§15.30): `send/activate` → success; confirming activates."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA])
        deactivated(cr, group.id)
        form = next(f for f in cr.forms.all(group_id=group.id))
        assert form.customer_tables_id == group.id
        assert [f.id for f in cr.forms.all() if f.customer_tables_id == group.id] == [form.id]
        cr.forms.send_activate(form.id, ANNA)
        assert not cr.receivers.get(group.id, ANNA).active  # a mail, not an activation
        outbox = h.control("GET", "outbox")
        mails = outbox["mails"] if isinstance(outbox, dict) else outbox
        mail = next(m for m in mails if m["email"] == ANNA)
        h.control("POST", f"outbox/{mail['id']}/confirm")
        assert cr.receivers.get(group.id, ANNA).active

    def test_a_receiver_is_changed_in_place(self, cr: CleverReachClient) -> None:
        """Reference §6.5, §6.8: PUT any subset, one value, a new address; delete account-wide."""
        group = new_group(cr)
        first = cr.attributes.create("firstname")
        cr.attributes.create("city")
        cr.receivers.upsert(
            group.id, [ReceiverData(ANNA, global_attributes={"firstname": "A", "city": "Köln"})]
        )
        anna = cr.receivers.update(
            group.id, ANNA, ReceiverData(ANNA, global_attributes={"firstname": "Anna"})
        )
        assert anna.global_attributes == {"firstname": "Anna", "city": "Köln"}
        cr.receivers.set_attribute(anna.id, first.id, "Änne")
        assert cr.receivers.get(group.id, anna.id).global_attributes["firstname"] == "Änne"
        cr.receivers.change_email(anna.id, "anna.neu@example.org")
        moved = cr.receivers.get(group.id, "anna.neu@example.org")
        assert moved.id == anna.id
        assert cr.receivers.find(group.id, ANNA) is None
        assert cr.receivers.delete_account("anna.neu@example.org") is True
        assert cr.receivers.find(group.id, anna.id) is None
        assert cr.receivers.delete_account("anna.neu@example.org") is False

    def test_lists_carry_events_and_tags_only_when_asked(self, cr: CleverReachClient) -> None:
        """Reference §6.2: `detail` bitmask 1 events, 4 tags; single GETs include them."""
        group = new_group(cr)
        cr.receivers.upsert(group.id, [ReceiverData(ANNA, tags=("CRM.Kunde",))])
        (plain,) = cr.receivers.stream(group.id)
        assert plain.tags == [] and plain.events == []
        (detailed,) = cr.receivers.stream(group.id, detail=EVENTS | TAGS)
        assert detailed.tags == ["CRM.Kunde"] and detailed.events
        single = cr.receivers.get(group.id, ANNA)
        assert single.tags == ["CRM.Kunde"] and single.events

    def test_an_opt_out_mail_deactivates_when_confirmed(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §10: `send/deactivate`; the confirmed opt-out deactivates."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA])
        (form,) = cr.forms.all(group_id=group.id)
        assert cr.forms.get(form.id).id == form.id
        cr.forms.send_deactivate(form.id, ANNA)
        assert cr.receivers.get(group.id, ANNA).active
        mail = next(m for m in h.control("GET", "outbox") if m["email"] == ANNA)
        h.control("POST", f"outbox/{mail['id']}/confirm")
        assert not cr.receivers.get(group.id, ANNA).active

    def test_no_client_write_reactivates_an_unsubscribed_receiver(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §6.7, §14 Activation: every receiver write of the client, on a
        deactivated receiver, leaves it deactivated (SPEC invariant 2)."""
        group = new_group(cr)
        fill(cr, group.id, [ANNA])
        before = deactivated(cr, group.id)
        for activation in Activation:
            for in_group in (True, False):
                data = ReceiverData(ANNA, tags=("CRM.x",), activation=activation, in_group=in_group)
                cr.receivers.upsert(group.id, [data])
                cr.receivers.update(group.id, ANNA, data)
                cr.receivers.insert(group.id, [data])
                with pytest.raises(ConflictError):
                    cr.receivers.create(group.id, data)
        cr.receivers.deactivate(group.id, ANNA)
        after = cr.receivers.get(group.id, ANNA)
        assert not after.active
        assert reactivations(h) == []
        assert after.deactivated >= before.deactivated
