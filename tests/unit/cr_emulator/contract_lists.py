"""Conformance checklist §15 items 25–29 (blacklist, bounces, mailings, reports) and the
group resource (§5)."""

from __future__ import annotations

from typing import Any

from tests.unit.cr_emulator.support import Api, MakeApi


def _mailing(api: Api, gid: str, name: str = "News") -> str:
    answer = api.ok(
        "POST",
        "/v3/mailings",
        json={
            "name": name,
            "subject": f"{name} subject",
            "sender_name": "Acme",
            "sender_email": "news@acme.example",
            "content": {"type": "html/text", "html": "<p>Hallo</p>", "text": "Hallo"},
            "receivers": {"groups": [gid], "filter": ""},
            "settings": {"editor": "wizard", "open_tracking": True, "click_tracking": True},
        },
    )
    assert answer["success"] is True
    mid = answer["id"]
    assert isinstance(mid, str)
    return mid


class ListsContract:
    def test_blacklisted_address_inactive_everywhere_until_removed(self, api: Api) -> None:
        """Reference §9 (checklist 25): `deactivated` untouched; state restored on removal."""
        g1, g2 = api.group("A"), api.group("B")
        api.upsert(g1, [{"email": "x@example.org"}])
        api.upsert(g2, [{"email": "x@example.org", "deactivated": 1_700_000_000}])
        entry = api.ok(
            "POST", "/v3/blacklist", json={"email": "X@example.org", "comment": "complaint"}
        )
        assert entry["email"] == "x@example.org" and entry["comment"] == "complaint"
        assert api.receiver(g1, "x@example.org")["active"] is False
        assert api.receiver(g1, "x@example.org")["deactivated"] == 0
        assert api.ok("GET", "/v3/blacklist/x@example.org")["stamp"] > 0
        assert [e["email"] for e in api.ok("GET", "/v3/blacklist")] == ["x@example.org"]
        assert api.ok("DELETE", "/v3/blacklist/x@example.org") is True
        assert api.receiver(g1, "x@example.org")["active"] is True
        assert api.receiver(g2, "x@example.org")["active"] is False  # its own state
        assert api.get("/v3/blacklist/x@example.org").status_code == 404

    def test_group_blacklist_only_in_that_group(self, api: Api) -> None:
        """Reference §9: a group blacklist entry makes the address inactive in that group."""
        g1, g2 = api.group("A"), api.group("B")
        for gid in (g1, g2):
            api.upsert(gid, [{"email": "x@example.org"}])
        api.ok("POST", f"/v3/groups/{g1}/blacklist", json={"email": "x@example.org"})
        assert api.receiver(g1, "x@example.org")["active"] is False
        assert api.receiver(g2, "x@example.org")["active"] is True
        assert api.ok("DELETE", f"/v3/groups/{g1}/blacklist/x@example.org") is True
        assert api.receiver(g1, "x@example.org")["active"] is True

    def test_bounce_sets_bounced_and_lists_it(self, api: Api) -> None:
        """Reference §9 (checklist 26)."""
        gid = api.group()
        api.upsert(gid, [{"email": "b@example.org"}, {"email": "ok@example.org"}])
        api.control("POST", "bounce", {"email": "b@example.org", "category": "hardbounce"})
        receiver = api.receiver(gid, "b@example.org")
        assert receiver["bounced"] > 0 and receiver["active"] is False
        bounces = api.ok("GET", "/v3/bounces")
        assert [b["email"] for b in bounces] == ["b@example.org"]
        assert bounces[0]["category"] == "hardbounce" and bounces[0]["occurences"] == 1
        assert bounces[0]["last_update_gmt"].endswith("+00:00")
        listed = api.ok("GET", f"/v3/groups/{gid}/receivers", params={"type": "bounce"})
        assert [r["email"] for r in listed] == ["b@example.org"]
        assert [r["email"] for r in api.ok("GET", "/v3/receivers/bounced")] == ["b@example.org"]

    def test_mailing_draft_and_state_keyed_list(self, api: Api) -> None:
        """Reference §8.1–8.3 (checklist 27)."""
        gid = api.group()
        mid = _mailing(api, gid)
        listed = api.ok("GET", "/v3/mailings")
        assert set(listed) == {"draft", "waiting", "running", "finished", "automation"}
        assert [m["id"] for m in listed["draft"]] == [mid]
        assert "body_html" not in listed["draft"][0]
        assert list(api.ok("GET", "/v3/mailings", params={"state": "draft"})) == ["draft"]
        details = api.ok("GET", f"/v3/mailings/{mid}")
        assert details["state"] == "draft" and details["body_html"] == "<p>Hallo</p>"
        assert (details["started"], details["finished"], details["send_on"]) == (0, 0, 0)
        assert details["mailing_groups"]["group_ids"] == [gid]
        unknown = api.post("/v3/mailings", json={"name": "x", "receivers": {"groups": ["1"]}})
        assert unknown.status_code == 400

    def test_release_runs_on_the_clock_and_put_needs_a_draft(self, api: Api) -> None:
        """Reference §8.3 (checklist 28): waiting → running → finished."""
        gid = api.group()
        api.upsert(gid, [{"email": "a@example.org"}])
        mid = _mailing(api, gid)
        now = api.control("GET", "health")["time"]
        assert api.ok("POST", f"/v3/mailings/{mid}/release", json={"time": now + 3600}) is True

        def state() -> str:
            value = api.ok("GET", f"/v3/mailings/{mid}")["state"]
            assert isinstance(value, str)
            return value

        assert state() == "waiting"
        assert api.put(f"/v3/mailings/{mid}", json={"name": "late"}).status_code == 400
        api.advance(3600)
        assert state() == "running"
        api.advance(60)
        assert state() == "finished"
        assert api.ok("GET", f"/v3/mailings/{mid}")["finished"] > 0

    def test_stop_and_immediate_release(self, api: Api) -> None:
        """Reference §8.3: stop sends `waiting` back to draft; time 0 starts at once."""
        gid = api.group()
        mid = _mailing(api, gid)
        now = api.control("GET", "health")["time"]
        api.ok("POST", f"/v3/mailings/{mid}/release", json={"time": now + 100})
        assert api.ok("POST", f"/v3/mailings/{mid}/stop") is True
        assert api.ok("GET", f"/v3/mailings/{mid}")["state"] == "draft"
        assert api.ok("PUT", f"/v3/mailings/{mid}", json={"subject": "new"})["success"] is True
        api.ok("POST", f"/v3/mailings/{mid}/release", json={"time": 0})
        assert api.ok("GET", f"/v3/mailings/{mid}")["state"] == "running"
        assert api.post(f"/v3/mailings/{mid}/release", json={"time": 0}).status_code == 400

    def test_report_figures_add_up_and_are_applied(self, make_api: MakeApi) -> None:
        """Reference §8.5 (checklist 29): delivered + bounced = recipients; unsubscribed and
        bounced receivers really are."""
        api = make_api(extra={"bounce_rate": "0.1", "unsubscribe_rate": "0.1"})
        gid = api.group()
        api.control("POST", "generate", {"group_id": gid, "count": 300})
        api.upsert(gid, [{"email": "off@example.org", "deactivated": 1_700_000_000}])
        mid = _mailing(api, gid)
        api.ok("POST", f"/v3/mailings/{mid}/release", json={"time": 0})
        api.advance(60)
        report = api.ok("GET", f"/v3/reports/{mid}")
        total: dict[str, Any] = report["stats"]["total"]
        assert report["recipients"] == 300  # the deactivated one got nothing
        assert total["delivered"] + total["bounced"] == 300
        assert total["bounced"] > 0 and total["unsubscribed"] > 0
        assert total["unique_clicks"] <= total["unique_opened"] <= total["delivered"]

        def listed(state: str) -> list[dict[str, Any]]:
            rows = api.ok("GET", f"/v3/reports/{mid}/receivers/{state}", params={"pagesize": 5000})
            assert isinstance(rows, list)
            return rows

        assert len(listed("sent")) == 300
        assert len(listed("opened")) + len(listed("notopened")) == total["delivered"]
        for row in listed("bounced"):
            assert api.receiver(gid, row["id"])["bounced"] > 0
        for row in listed("unsubscribed"):
            receiver = api.receiver(gid, row["id"])
            assert receiver["deactivated"] > 0 and receiver["active"] is False
        assert len(api.ok("GET", "/v3/bounces", params={"pagesize": 5000})) == total["bounced"]
        assert [r["id"] for r in api.ok("GET", "/v3/reports")] == [mid]
        assert api.get("/v3/reports", params={"pagesize": 101}).status_code == 400

    def test_report_of_a_draft_is_404(self, api: Api) -> None:
        """Reference §8.5: only sent mailings have reports."""
        mid = _mailing(api, api.group())
        assert api.get(f"/v3/reports/{mid}").status_code == 404

    def test_editor_page_shows_the_draft(self, api: Api) -> None:
        """Reference §8.4: GET /editor/mailings/{id} is an HTML view of the draft."""
        mid = _mailing(api, api.group(), name="Mai <Aktion>")
        page = api.http.get(f"/editor/mailings/{mid}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "Mai &lt;Aktion&gt;" in page.text
        assert api.http.get("/editor/mailings/1").status_code == 404

    def test_groups_resource(self, api: Api) -> None:
        """Reference §5: list with order, get, update, stats, clear, delete."""
        a = api.group("A")
        api.advance(10)
        b = api.group("B")
        assert [g["id"] for g in api.ok("GET", "/v3/groups")] == [a, b]
        newest = api.ok("GET", "/v3/groups", params={"order": "created DESC"})
        assert [g["id"] for g in newest] == [b, a]
        group = api.ok("GET", f"/v3/groups/{a}")
        assert set(group) == {
            "id",
            "name",
            "locked",
            "backup",
            "receiver_info",
            "stamp",
            "last_mailing",
            "last_changed",
        }
        renamed = api.ok("PUT", f"/v3/groups/{a}", json={"name": "A2", "locked": True})
        assert (renamed["name"], renamed["locked"]) == ("A2", True)
        api.upsert(a, [{"email": "x@example.org"}, {"email": "y@example.org", "activated": 0}])
        stats = api.ok("GET", f"/v3/groups/{a}/stats")
        assert (stats["total_count"], stats["active_count"], stats["inactive_count"]) == (2, 1, 1)
        assert api.ok("DELETE", f"/v3/groups/{a}/clear") is True
        assert api.ok("GET", f"/v3/groups/{a}/receivers") == []
        api.upsert(b, [{"email": "x@example.org"}])
        assert api.ok("DELETE", f"/v3/groups/{b}") is True
        assert api.get(f"/v3/groups/{b}").status_code == 404
        assert api.get("/v3/receivers/x@example.org").status_code == 404
        assert api.post("/v3/groups", json={}).status_code == 400

    def test_mailing_list_limit_and_page(self, api: Api) -> None:
        """Reference §8.2: `limit` and `page` per state, newest first."""
        gid = api.group()
        ids = [_mailing(api, gid, name=f"M{i}") for i in range(5)]
        first = api.ok("GET", "/v3/mailings", params={"state": "draft", "limit": 2})["draft"]
        assert [m["id"] for m in first] == [ids[4], ids[3]]
        second = api.ok("GET", "/v3/mailings", params={"state": "draft", "limit": 2, "page": 1})[
            "draft"
        ]
        assert [m["id"] for m in second] == [ids[2], ids[1]]
        assert api.get("/v3/mailings", params={"state": "sent"}).status_code == 400
