"""Contract, part 3: groups, attributes, mailings, webhooks, faults (reference §5, §7, §8,
§11, §14; §15.23, 24, 27–29, 31–34, 36)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from crm2cr.cleverreach import CleverReachClient, MailingDraft, MailingFigures, ReceiverData
from crm2cr.cleverreach.webhooks import calltoken_matches, new_verify_token
from crm2cr.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidInput,
    TransientError,
    ValidationError,
)
from tests.integration.cleverreach.helpers import addresses, fill, new_group, raw
from tests.integration.cleverreach.hook_endpoint import hook_endpoint
from tests.support.cleverreach import CleverReachHarness

ANNA = "anna@example.org"


class CutAnswer(httpx.BaseTransport):
    """A network cut on chosen requests: after the service got them, or before."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        cut: Callable[[httpx.Request], bool],
        *,
        after: bool,
        times: int = 1,
    ) -> None:
        self.inner, self.cut, self.after, self.left = inner, cut, after, times
        self.cuts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        hit = self.left > 0 and self.cut(request)
        if hit:
            self.left -= 1
            self.cuts += 1
            if not self.after:
                raise httpx.ReadError(
                    "connection reset before the request arrived", request=request
                )
        response = self.inner.handle_request(request)
        if hit:
            response.read()
            raise httpx.ReadError("connection reset before the answer came", request=request)
        return response


def posts_to(suffix: str) -> Callable[[httpx.Request], bool]:
    return lambda r: r.method == "POST" and r.url.path.endswith(suffix)


def draft(group_id: str, name: str = "Mai-Newsletter") -> MailingDraft:
    return MailingDraft(
        name=name,
        subject="Unser Mai-Newsletter",
        sender_name="Acme GmbH",
        sender_email="news@acme.example",
        group_ids=(group_id,),
        html="<html><body>Hallo {FIRSTNAME}</body></html>",
        text="Hallo",
    )


class ResourceContract:
    def test_groups_are_created_read_changed_and_deleted(self, cr: CleverReachClient) -> None:
        """Reference §5: CRUD, `true` on DELETE, stats, duplicate names allowed."""
        group = cr.groups.create("Newsletter DE", receiver_info="CRM")
        twin = cr.groups.create("Newsletter DE")
        assert group.id != twin.id and isinstance(group.id, str)
        assert cr.groups.get(group.id).name == "Newsletter DE"
        assert cr.groups.update(group.id, name="Newsletter AT").name == "Newsletter AT"
        fill(cr, group.id, addresses(3))
        stats = cr.groups.stats(group.id)
        assert (stats.total_count, stats.active_count) == (3, 3)
        assert {g.id for g in cr.groups.all()} >= {group.id, twin.id}
        cr.groups.clear(group.id)
        assert list(cr.receivers.stream(group.id)) == []
        assert cr.groups.delete(twin.id) is True
        assert cr.groups.delete(twin.id) is False
        assert cr.groups.find(twin.id) is None

    def test_attributes_are_unique_limited_and_tagged(self, cr: CleverReachClient) -> None:
        """Reference §4.3, §7 (§15.23): duplicate → 409, 41st → 403, tag `{NAME}`."""
        first = cr.attributes.create("Communication Key", description="Schlüssel")
        assert first.name == "communication_key" and first.is_global
        listed = {a.name: a for a in cr.attributes.all()}["communication_key"]
        assert (listed.tag, listed.groups_id, listed.id) == ("{COMMUNICATION_KEY}", "0", first.id)
        with pytest.raises(ConflictError):
            cr.attributes.create("communication_key")
        with pytest.raises(InvalidInput) as named:
            cr.attributes.create("Straße")
        assert "a-z" in named.value.one_line()
        for i in range(39):
            cr.attributes.create(f"field_{i}")
        with pytest.raises(ForbiddenError):
            cr.attributes.create("one_too_many")
        assert cr.attributes.delete(first.id) is True
        assert cr.attributes.delete(first.id) is False

    def test_group_attributes_stay_in_their_group(self, cr: CleverReachClient) -> None:
        """Reference §7 (§15.24): group ones under `attributes`, global ones everywhere."""
        one, two = new_group(cr), new_group(cr, "Two")
        cr.attributes.create("firstname")
        kundennr = cr.attributes.create("kundennr", group_id=one.id)
        assert kundennr.groups_id == one.id
        assert [a.name for a in cr.attributes.all(group_id=one.id)] == ["kundennr"]
        assert cr.attributes.all(group_id=two.id) == []
        data = ReceiverData(ANNA, global_attributes={"firstname": "Anna"})
        cr.receivers.upsert(one.id, [ReceiverData(ANNA, attributes={"kundennr": "4711"})])
        cr.receivers.upsert(two.id, [data])
        in_one, in_two = cr.receivers.get(one.id, ANNA), cr.receivers.get(two.id, ANNA)
        assert in_one.attributes == {"kundennr": "4711"} and in_two.attributes == {}
        assert in_one.global_attributes == in_two.global_attributes == {"firstname": "Anna"}

    def test_a_draft_is_listed_under_draft(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §8.1, §8.2, §8.4 (§15.27): `{"success": true, "id"}`, state-keyed list."""
        group = new_group(cr)
        mailing_id = cr.mailings.create_draft(draft(group.id))
        assert isinstance(mailing_id, str) and mailing_id
        drafts = cr.mailings.by_state("draft")
        assert mailing_id in {m.id for m in drafts["draft"]}
        assert set(cr.mailings.by_state()) >= {"draft", "finished"}
        details = cr.mailings.get(mailing_id)
        assert (details.state, details.started, details.send_on) == ("draft", 0, 0)
        assert details.mailing_groups.group_ids == [group.id]
        cr.mailings.update(mailing_id, subject="Neuer Betreff")
        assert cr.mailings.get(mailing_id).subject == "Neuer Betreff"
        url = cr.mailings.editor_url(mailing_id)
        assert url == f"{cr.base_url}/editor/mailings/{mailing_id}"
        editor = h.raw.get(url.removeprefix(h.base_url))
        assert editor.status_code == 200 and "html" in editor.headers["content-type"]

    def test_a_release_runs_to_finished_and_reports_real_figures(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §8.3, §8.5 (§15.28, §15.29): waiting → running → finished; figures."""
        group = new_group(cr)
        fill(cr, group.id, addresses(300))
        mailing_id = cr.mailings.create_draft(draft(group.id))
        now = h.control("GET", "health")["time"]
        cr.mailings.release(mailing_id, at=now + 3600)
        assert cr.mailings.get(mailing_id).state == "waiting"
        with pytest.raises(ValidationError):
            cr.mailings.update(mailing_id, subject="too late")
        h.control("POST", "clock/advance", {"seconds": 3601})
        assert cr.mailings.get(mailing_id).state == "running"
        h.control("POST", "clock/advance", {"seconds": 61})
        assert cr.mailings.get(mailing_id).state == "finished"
        figures = cr.mailings.figures(mailing_id)
        assert figures.sent == 300
        receivers = list(cr.receivers.stream(group.id))
        bounced = sum(1 for r in receivers if r.bounced)
        unsubscribed = sum(1 for r in receivers if r.deactivated and not r.bounced)
        assert (figures.bounces, figures.unsubscribes) == (bounced, unsubscribed)
        assert figures.opens >= figures.clicks
        assert mailing_id in {r.id for r in cr.mailings.reports()}
        assert MailingFigures.of(cr.mailings.report(mailing_id)) == figures

    def test_a_waiting_mailing_can_be_stopped(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §8.1, §8.3: `stop` turns a waiting mailing back into a draft."""
        group = new_group(cr)
        fill(cr, group.id, addresses(5))
        mailing_id = cr.mailings.create_draft(draft(group.id))
        cr.mailings.release(mailing_id, at=h.control("GET", "health")["time"] + 600)
        assert mailing_id in {m.id for m in cr.mailings.by_state("waiting")["waiting"]}
        cr.mailings.stop(mailing_id)
        assert cr.mailings.get(mailing_id).state == "draft"

    def test_webhook_registration_needs_the_handshake(self, cr: CleverReachClient) -> None:
        """Reference §11 (§15.31, §15.32): `<verify> <secret>`; 64/32-character answer."""
        group = new_group(cr)
        verify = new_verify_token()
        with hook_endpoint(verify) as hook:
            registration = cr.webhooks.register(
                hook.url, "receiver", verify=verify, condition=group.id
            )
            assert len(hook.handshakes) == 1 and hook.handshakes[0]
            assert len(registration.call_token) == 64 and len(registration.secret) == 32
            listed = cr.webhooks.all()
            assert [(w.url, w.event, w.condition) for w in listed] == [
                (hook.url, "receiver", group.id)
            ]
            with pytest.raises(ConflictError):
                cr.webhooks.register(hook.url, "receiver", verify=verify, condition=group.id)
            with pytest.raises(InvalidInput):
                cr.webhooks.register(hook.url, "receiver", verify="123456789")
            with pytest.raises(ValidationError):  # the service's own check, past ours
                raw(
                    cr,
                    "POST",
                    "hooks/eventhook",
                    {"url": hook.url, "event": "receiver", "verify": "123456789"},
                )
            assert cr.webhooks.delete("receiver", condition=group.id) is True
            assert cr.webhooks.all() == []
        with hook_endpoint("a-different-verify") as wrong, pytest.raises(ValidationError):
            cr.webhooks.register(wrong.url, "receiver", verify=verify, condition=group.id)

    def test_webhooks_deliver_changes_of_the_watched_group_only(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §11 (§15.33, §15.34): X-CR-Calltoken, `{event, condition, payload}`."""
        watched, other = new_group(cr), new_group(cr, "Other")
        verify = new_verify_token()
        with hook_endpoint(verify) as hook:
            registration = cr.webhooks.register(
                hook.url, "receiver", verify=verify, condition=watched.id
            )
            fill(cr, other.id, ["ben@example.org"])
            anna = cr.receivers.create(watched.id, ReceiverData(ANNA))
            h.control("POST", "unsubscribe", {"email": ANNA, "group_id": watched.id})
            (form,) = cr.forms.all(group_id=watched.id)
            cr.forms.send_activate(form.id, ANNA)
            mail = next(m for m in h.control("GET", "outbox") if m["email"] == ANNA)
            h.control("POST", f"outbox/{mail['id']}/confirm")
            deliveries = hook.wait_for(3)
            events = [d.body["event"] for d in deliveries]
            assert events == ["receiver.created", "receiver.unsubscribed", "receiver.subscribed"]
            for delivery in deliveries:
                assert calltoken_matches(delivery.calltoken, registration.call_token)
                assert delivery.body["condition"] == watched.id
                assert delivery.body["payload"] == {"group_id": watched.id, "pool_id": anna.id}

    def test_a_failing_webhook_endpoint_gets_three_attempts(
        self, start: Callable[..., CleverReachHarness]
    ) -> None:
        """Reference §11 (§15.34): an endpoint answering 500 gets 3 attempts."""
        h = start(webhook_retry_delays="0.01,0.01")
        cr = h.client()
        group = new_group(cr)
        verify = new_verify_token()
        with hook_endpoint(verify, status=500) as hook:
            cr.webhooks.register(hook.url, "receiver.created", verify=verify, condition=group.id)
            cr.receivers.create(group.id, ReceiverData(ANNA))
            assert len(hook.wait_for(3)) == 3
            assert len({str(d.body) for d in hook.deliveries}) == 1

    def test_a_create_whose_answer_is_lost_is_looked_up_not_repeated(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §14 Retries: never blindly retry a create (SPEC invariant 3)."""
        group = new_group(cr)
        path = f"/v3/groups/{group.id}/receivers"
        after = CutAnswer(h.transport, posts_to(path), after=True)
        anna = h.client(transport=after).receivers.create(group.id, ReceiverData(ANNA))
        before = CutAnswer(h.transport, posts_to(path), after=False)
        ben = h.client(transport=before).receivers.create(group.id, ReceiverData("ben@ex.org"))
        assert (after.cuts, before.cuts) == (1, 1)
        emails = sorted(r.email for r in cr.receivers.stream(group.id))
        assert emails == sorted([ANNA, "ben@ex.org"])
        assert {anna.email, ben.email} == {ANNA, "ben@ex.org"}
        lost_group = CutAnswer(h.transport, posts_to("/v3/groups"), after=True)
        made = h.client(transport=lost_group).groups.create("Lost answer")
        assert [g.id for g in cr.groups.all() if g.name == "Lost answer"] == [made.id]

    def test_a_batch_insert_whose_answer_is_lost_makes_no_duplicates(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §6.6, §14 Retries: after a lost insert, look up by e-mail first."""
        group = new_group(cr)
        cut = CutAnswer(h.transport, posts_to("/receivers/insert"), after=True)
        emails = addresses(250)
        outcome = h.client(transport=cut).receivers.insert(
            group.id, [ReceiverData(e) for e in emails]
        )
        assert cut.cuts == 1
        assert len(outcome.succeeded) == 250 and not outcome.failed
        listed = [r.email for r in cr.receivers.stream(group.id)]
        assert sorted(listed) == emails

    def test_injected_faults_never_duplicate_an_upsert(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §13 faults, §14 Retries (§15.36): at fault rate 0.3 an upsert of
        3,000 receivers converges, with no duplicates and bounded retries."""
        group = new_group(cr)
        cr.attributes.create("firstname")
        emails = addresses(3000)
        pending = [ReceiverData(e, global_attributes={"firstname": e[:6]}) for e in emails]
        h.control("POST", "faults", {"fault_rate": 0.3})
        passes = 0
        while pending and passes < 8:  # bounded: each pass retries only what failed
            passes += 1
            try:
                outcome = cr.receivers.upsert(group.id, pending)
            except (TransientError, AuthError):
                continue
            pending = [item for item, _ in outcome.failed]
        h.control("POST", "faults", {"fault_rate": 0.0})
        assert pending == []
        listed = list(cr.receivers.stream(group.id))
        assert sorted(r.email for r in listed) == emails
        assert len({r.id for r in listed}) == 3000
        stats = cr.counter.snapshot()
        assert 0 < stats.retries <= 4 * (stats.requests - stats.retries)
        assert len(h.sleeps) == stats.retries
