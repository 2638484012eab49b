"""Conformance checklist §15 items 30–36 (double opt-in, webhooks, rate limit, faults)."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.cr_emulator.support import (
    Api,
    MakeApi,
    hook_sink,
    register,
    wait_until,
)

TS = 1_700_000_000


class HooksContract:
    def test_double_opt_in_confirms_even_a_deactivated_receiver(self, api: Api) -> None:
        """Reference §10 (checklist 30): confirm activates and fires receiver.subscribed."""
        gid = api.group()
        rid = api.upsert(gid, [{"email": "a@example.org", "deactivated": TS}])[0]["id"]
        form = api.ok("GET", f"/v3/groups/{gid}/forms")[0]
        assert form["customer_tables_id"] == gid
        with hook_sink() as sink:
            register(api, sink, "receiver.subscribed", gid)
            sent = api.ok(
                "POST",
                f"/v3/forms/{form['id']}/send/activate",
                json={
                    "email": "a@example.org",
                    "doidata": {"user_ip": "203.0.113.7", "referer": "x", "user_agent": "y"},
                },
            )
            assert sent == {"success": True}
            assert api.receiver(gid, rid)["active"] is False  # not before the click
            mail = api.control("GET", "outbox")[-1]
            assert (mail["email"], mail["kind"]) == ("a@example.org", "activate")
            api.control("POST", f"outbox/{mail['id']}/confirm")
            receiver = api.receiver(gid, rid)
            assert receiver["active"] is True and receiver["deactivated"] == 0
            sink.wait_for(1)
            assert sink.events() == [("receiver.subscribed", gid, rid)]
        assert api.audit(reactivations=1) == []  # a confirmed opt-in is no re-activation

    def test_form_send_for_an_address_outside_the_group_is_404(self, api: Api) -> None:
        """Reference §10, emulator: an address outside the form's group → 404."""
        g1, g2 = api.group("A"), api.group("B")
        api.upsert(g2, [{"email": "a@example.org"}])
        form = api.ok("GET", f"/v3/groups/{g1}/forms")[0]
        assert api.ok("GET", f"/v3/forms/{form['id']}") == form
        missing = api.post(f"/v3/forms/{form['id']}/send/activate", json={"email": "a@example.org"})
        assert missing.status_code == 404

    def test_registration_handshake_must_answer_exactly(self, api: Api) -> None:
        """Reference §11 (checklist 31): `GET url?secret=…` → exactly `<verify> <secret>`;
        a 9-character verify is a 400."""
        with hook_sink() as sink:
            register(api, sink)
            assert len(sink.handshakes) == 1 and len(sink.handshakes[0]) >= 16
            short = api.post(
                "/hooks/eventhook",
                json={"url": sink.url, "event": "receiver.created", "verify": "123456789"},
            )
            assert short.status_code == 400
            sink.answer = "wrong answer"
            refused = api.post(
                "/hooks/eventhook",
                json={"url": sink.url, "event": "receiver.updated", "verify": sink.verify},
            )
            assert refused.status_code == 400
            sink.answer = f"{sink.verify}  padded"
            assert (
                api.post(
                    "/hooks/eventhook",
                    json={"url": sink.url, "event": "group", "verify": sink.verify},
                ).status_code
                == 400
            )

    def test_registration_returns_call_token_and_secret(self, api: Api) -> None:
        """Reference §11 (checklist 32); duplicates 409, listing, DELETE by event."""
        with hook_sink() as sink:
            answer = register(api, sink, "receiver", "123")
            assert answer["success"] is True
            assert len(answer["call_token"]) == 64 and len(answer["secret"]) == 32
            again = api.post(
                "/hooks/eventhook",
                json={
                    "url": sink.url,
                    "event": "receiver",
                    "condition": "123",
                    "verify": sink.verify,
                },
            )
            assert again.status_code == 409
            listed = api.ok("GET", "/hooks/eventhook")
            assert [(h["url"], h["event"], h["condition"]) for h in listed] == [
                (sink.url, "receiver", "123")
            ]
            assert (
                api.ok("DELETE", "/hooks/eventhook/receiver", params={"condition": "123"}) is True
            )
            assert api.ok("GET", "/hooks/eventhook") == []
            remote = api.post(
                "/hooks/eventhook",
                json={
                    "url": "http://crm2cr.example/hook",
                    "event": "receiver",
                    "verify": sink.verify,
                },
            )
            assert remote.status_code == 400  # http only on loopback

    def test_changes_in_the_watched_group_are_posted(self, api: Api) -> None:
        """Reference §11 (checklist 33): header, body shape; other groups stay silent."""
        watched, other = api.group("A"), api.group("B")
        with hook_sink() as sink:
            token = register(api, sink, "receiver", watched)["call_token"]
            api.upsert(other, [{"email": "b@example.org"}])
            rid = api.upsert(watched, [{"email": "a@example.org"}])[0]["id"]
            api.upsert(watched, [{"email": "a@example.org", "source": "changed"}])
            api.ok("DELETE", f"/v3/groups/{watched}/receivers/{rid}")
            calls = sink.wait_for(3)
            assert calls[0]["headers"]["x-cr-calltoken"] == token
            assert calls[0]["body"] == {
                "event": "receiver.created",
                "condition": watched,
                "payload": {"group_id": watched, "pool_id": rid},
            }
            assert sink.events() == [
                ("receiver.created", watched, rid),
                ("receiver.updated", watched, rid),
                ("receiver.deleted", watched, rid),
            ]

    def test_unsubscribe_fires_and_failing_endpoint_gets_three_attempts(self, api: Api) -> None:
        """Reference §11 (checklist 34)."""
        gid = api.group()
        rid = api.upsert(gid, [{"email": "a@example.org"}])[0]["id"]
        with hook_sink() as sink:
            register(api, sink, "receiver.unsubscribed", gid)
            sink.status = 500
            api.control("POST", "unsubscribe", {"email": "a@example.org", "group_id": gid})
            calls = sink.wait_for(3)
            assert all(c["body"]["event"] == "receiver.unsubscribed" for c in calls)
            assert calls[0]["body"]["payload"] == {"group_id": gid, "pool_id": rid}
            wait_until(lambda: api.control("GET", "webhooks")["failed"] == 1)
            attempts = [a["attempt"] for a in api.control("GET", "webhooks")["attempts"]]
            assert attempts == [1, 2, 3]
            assert len(sink.calls) == 3
        receiver = api.receiver(gid, rid)
        assert receiver["active"] is False and receiver["deactivated"] > 0

    def test_bounce_and_blacklist_fire_unsubscribed_and_removal_subscribed(self, api: Api) -> None:
        """Reference §11, emulator: every transition fires, whatever the cause."""
        gid = api.group()
        a, b = (
            r["id"]
            for r in api.upsert(gid, [{"email": "a@example.org"}, {"email": "b@example.org"}])
        )
        with hook_sink() as sink:
            register(api, sink, "receiver", gid)
            api.control("POST", "bounce", {"email": "a@example.org"})
            api.ok("POST", "/v3/blacklist", json={"email": "b@example.org"})
            api.ok("DELETE", "/v3/blacklist/b@example.org")
            sink.wait_for(3)
            assert sink.events() == [
                ("receiver.unsubscribed", gid, a),
                ("receiver.unsubscribed", gid, b),
                ("receiver.subscribed", gid, b),
            ]

    def test_rate_limit_answers_429_with_retry_after(self, make_api: MakeApi) -> None:
        """Reference §4.2 (checklist 35)."""
        api = make_api(limits=True, extra={"rate_limit": "0.001", "rate_burst": "3"})
        assert [api.get("/v3/groups").status_code for _ in range(3)] == [200, 200, 200]
        limited = api.get("/v3/groups")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json() == {"error": {"code": 429, "message": "Too Many Requests"}}
        other_token = api.get("/v3/groups", headers={"Authorization": "Bearer another"})
        assert other_token.status_code == 200  # a bucket per token
        api.settings(rate_limit=0)
        assert api.get("/v3/groups").status_code == 200

    def test_no_limits_switches_the_rate_limit_off(self, make_api: MakeApi) -> None:
        """SPEC §9 `--no-limits`: options.limits False means no 429 at all."""
        api = make_api(limits=False, extra={"rate_limit": "0.001", "rate_burst": "1"})
        assert {api.get("/v3/groups").status_code for _ in range(5)} == {200}

    def test_injected_faults_never_leave_a_write_half_applied(self, api: Api) -> None:
        """Reference §13 (checklist 36): 429, 502/503, dropped connections."""
        gid = api.group()
        items = [{"email": f"r{i}@example.org"} for i in range(50)]
        path = f"/v3/groups/{gid}/receivers/upsert"
        for kind in ("429", "502", "503", "drop"):
            api.control("POST", "faults", {"fault_rate": 1.0, "kinds": [kind]})
            if kind == "drop":
                with pytest.raises(httpx.TransportError):
                    api.post(path, json=items)
            else:
                response = api.post(path, json=items)
                assert response.status_code == int(kind)
                assert response.json()["error"]["code"] == int(kind)
                assert kind != "429" or "retry-after" in response.headers
            api.control("POST", "faults", {"fault_rate": 0.0})
            assert api.ok("GET", f"/v3/groups/{gid}/receivers") == []
        api.control("POST", "faults", {"fault_rate": 1.0, "kinds": ["drop-after"]})
        with pytest.raises(httpx.TransportError):
            api.post(path, json=items)  # the answer is lost after the commit
        api.control("POST", "faults", {"fault_rate": 0.0})
        rows = api.ok("GET", f"/v3/groups/{gid}/receivers", params={"pagesize": 100})
        assert len(rows) == 50  # whole, never half

    def test_group_events_fire_with_group_id(self, api: Api) -> None:
        """Reference §11: group events carry `group_id`."""
        with hook_sink() as sink:
            register(api, sink, "group")
            gid = api.group("New")
            api.ok("PUT", f"/v3/groups/{gid}", json={"name": "Renamed"})
            api.ok("DELETE", f"/v3/groups/{gid}")
            sink.wait_for(3)
            assert [(e, g) for e, g, _ in sink.events()] == [
                ("group.created", gid),
                ("group.updated", gid),
                ("group.deleted", gid),
            ]

    def test_confirmed_opt_out_deactivates(self, api: Api) -> None:
        """Reference §10, emulator: a confirmed `send/deactivate` deactivates the receiver
        and fires receiver.unsubscribed."""
        gid = api.group()
        rid = api.upsert(gid, [{"email": "a@example.org"}])[0]["id"]
        form = api.ok("GET", f"/v3/groups/{gid}/forms")[0]
        with hook_sink() as sink:
            register(api, sink, "receiver", gid)
            sent = api.ok(
                "POST", f"/v3/forms/{form['id']}/send/deactivate", json={"email": "a@example.org"}
            )
            assert sent == {"success": True}
            assert api.receiver(gid, rid)["active"] is True
            mail = api.control("GET", "outbox")[-1]
            assert mail["kind"] == "deactivate"
            assert api.control("POST", f"outbox/{mail['id']}/confirm")["confirmed"] > 0
            sink.wait_for(1)
            assert sink.events() == [("receiver.unsubscribed", gid, rid)]
        assert api.receiver(gid, rid)["active"] is False
