"""Conformance checklist §15 items 11–24 (receivers, activation, tags, attributes)."""

from __future__ import annotations

from typing import Any

from tests.unit.cr_emulator.support import Api, MakeApi

TS = 1_700_000_000


def _now(api: Api) -> int:
    stamp = api.control("GET", "health")["time"]
    assert isinstance(stamp, int)
    return stamp


class ReceiverContract:
    def test_single_create_duplicate_409_invalid_400(self, api: Api) -> None:
        """Reference §4.1, §6.4 (checklist 11)."""
        gid = api.group()
        path = f"/v3/groups/{gid}/receivers"
        assert api.post(path, json={"email": "anna@example.org"}).status_code == 200
        dup = api.post(path, json={"email": "ANNA@example.org"})
        assert dup.status_code == 409
        assert dup.json()["error"]["message"] == "Conflict: duplicate address 'anna@example.org'"
        bad = api.post(path, json={"email": "not-an-address"})
        assert bad.status_code == 400
        assert bad.json()["error"]["message"] == "Bad Request: invalid address 'not-an-address'"

    def test_new_receiver_active_now_unless_activated_zero(self, api: Api) -> None:
        """Reference §6.7 (checklist 12)."""
        gid = api.group()
        now = _now(api)
        plain = api.ok("POST", f"/v3/groups/{gid}/receivers", json={"email": "a@example.org"})
        assert plain["active"] is True
        assert plain["registered"] == plain["activated"] and plain["activated"] >= now
        assert plain["deactivated"] == 0
        waiting = api.ok(
            "POST", f"/v3/groups/{gid}/receivers", json={"email": "b@example.org", "activated": 0}
        )
        assert waiting["active"] is False and waiting["activated"] == 0
        given = api.ok(
            "POST",
            f"/v3/groups/{gid}/receivers",
            json={"email": "c@example.org", "activated": TS, "registered": TS - 5},
        )
        assert (given["activated"], given["registered"], given["active"]) == (TS, TS - 5, True)

    def test_attributes_every_defined_one_appears(self, api: Api) -> None:
        """Reference §6.1, §6.4 (checklist 13): top-level firstname ignored."""
        api.attribute("firstname")
        api.attribute("lastname")
        gid = api.group()
        created = api.ok(
            "POST",
            f"/v3/groups/{gid}/receivers",
            json={
                "email": "anna@example.org",
                "firstname": "Top",
                "global_attributes": {"firstname": "Anna", "undefined_thing": "x"},
            },
        )
        assert created["global_attributes"] == {"firstname": "Anna", "lastname": ""}
        assert created["attributes"] == {}
        assert "firstname" not in created
        assert api.receiver(gid, "anna@example.org")["global_attributes"]["firstname"] == "Anna"

    def test_upsert_answers_per_input_in_order(self, api: Api) -> None:
        """Reference §6.6 (checklist 14): a bad address fails alone; ids are kept."""
        gid = api.group()
        first = api.upsert(gid, [{"email": "anna@example.org"}])[0]
        answer = api.upsert(
            gid,
            [
                {"email": "ben@example.org"},
                {"email": "broken"},
                {"email": "anna@example.org", "source": "CRM"},
                {"email": "ben@example.org"},
            ],
        )
        assert [a.get("status") for a in answer] == [
            "insert success",
            "invalid address 'broken'",
            "update success",
            "duplicate address 'ben@example.org'",
        ]
        assert answer[0]["email"] == "ben@example.org" and "id" in answer[0]
        assert answer[2]["id"] == first["id"] and answer[2]["source"] == "CRM"
        assert "id" not in answer[1] and "id" not in answer[3]
        assert len(api.ok("GET", f"/v3/groups/{gid}/receivers")) == 2

    def test_batch_over_the_limit_is_413_and_writes_nothing(self, api: Api) -> None:
        """Reference §4.3 (checklist 15)."""
        gid = api.group()
        items = [{"email": f"r{i}@example.org"} for i in range(1001)]
        for endpoint in ("upsert", "insert", "upsertplus"):
            response = api.post(f"/v3/groups/{gid}/receivers/{endpoint}", json=items)
            assert response.status_code == 413
            assert response.json()["error"]["code"] == 413
        assert api.ok("GET", f"/v3/groups/{gid}/receivers") == []
        assert len(api.upsert(gid, items[:1000])) == 1000

    def test_activated_upsert_leaves_deactivated_receiver_deactivated(self, api: Api) -> None:
        """Reference §6.7 (checklist 16): the sticky deactivation."""
        gid = api.group()
        api.upsert(gid, [{"email": "anna@example.org", "deactivated": TS}])
        answer = api.upsert(gid, [{"email": "anna@example.org", "activated": TS + 100}])[0]
        assert answer["active"] is False and answer["deactivated"] == TS
        stored = api.receiver(gid, "anna@example.org")
        assert stored["active"] is False and stored["deactivated"] == TS

    def test_activated_upsert_activates_never_activated(self, api: Api) -> None:
        """Reference §6.7 (checklist 17)."""
        gid = api.group()
        api.upsert(gid, [{"email": "anna@example.org", "activated": 0}])
        answer = api.upsert(gid, [{"email": "anna@example.org", "activated": TS}])[0]
        assert (answer["active"], answer["activated"]) == (True, TS)

    def test_deactivated_stamp_deactivates_and_sticks(self, api: Api) -> None:
        """Reference §6.7 (checklist 18)."""
        gid = api.group()
        api.upsert(gid, [{"email": "anna@example.org"}])
        answer = api.upsert(gid, [{"email": "anna@example.org", "deactivated": TS}])[0]
        assert (answer["active"], answer["deactivated"]) == (False, TS)
        later = api.upsert(gid, [{"email": "anna@example.org", "source": "again"}])[0]
        assert (later["active"], later["deactivated"]) == (False, TS)
        single = api.ok(
            "PUT", f"/v3/groups/{gid}/receivers/anna@example.org", json={"activated": TS + 9}
        )
        assert single["active"] is False

    def test_deactivated_zero_reactivates_and_is_flagged(self, make_api: MakeApi) -> None:
        """Reference §6.7, §13 (checklist 19): faithful re-activates, strict refuses;
        both are flagged in the audit log."""
        for sticky, comes_back in (("faithful", True), ("strict", False)):
            api = make_api(extra={"sticky": sticky})
            gid = api.group()
            api.upsert(gid, [{"email": "anna@example.org", "deactivated": TS}])
            answer = api.upsert(gid, [{"email": "anna@example.org", "deactivated": 0}])[0]
            assert answer["active"] is comes_back
            flagged = api.audit(reactivations=1)
            assert [e["email"] for e in flagged] == ["anna@example.org"]
            action = "receiver.reactivated" if comes_back else "receiver.reactivation_refused"
            assert flagged[0]["action"] == action and flagged[0]["reactivation"] is True

    def test_activated_upsert_leaves_bounced_and_blacklisted_inactive(self, api: Api) -> None:
        """Reference §6.1, §6.7 (checklist 20)."""
        gid = api.group()
        api.upsert(gid, [{"email": "b@example.org"}, {"email": "x@example.org"}])
        api.control("POST", "bounce", {"email": "b@example.org"})
        api.ok("POST", "/v3/blacklist", json={"email": "x@example.org"})
        answer = api.upsert(
            gid,
            [
                {"email": "b@example.org", "activated": TS},
                {"email": "x@example.org", "activated": TS},
            ],
        )
        assert [a["active"] for a in answer] == [False, False]
        fresh = api.upsert(gid, [{"email": "x@example.org"}])[0]
        assert fresh["active"] is False

    def test_batch_tags_added_and_removed_by_modifiers(self, api: Api) -> None:
        """Reference §6.6 (checklist 21): add; `-Tag` removes one; `-Origin.*` an origin."""
        gid = api.group()
        api.upsert(gid, [{"email": "a@example.org", "tags": ["Shop.Kunde", "Shop.VIP", "News"]}])
        added = api.upsert(gid, [{"email": "a@example.org", "tags": ["CRM.Lead"]}])[0]
        assert added["tags"] == ["Shop.Kunde", "Shop.VIP", "News", "CRM.Lead"]
        one = api.upsert(gid, [{"email": "a@example.org", "tags": ["-News"]}])[0]
        assert one["tags"] == ["Shop.Kunde", "Shop.VIP", "CRM.Lead"]
        origin = api.ok(
            "POST",
            f"/v3/groups/{gid}/receivers/upsertplus",
            json=[{"email": "a@example.org", "tags": ["-Shop.*"]}],
        )[0]
        assert origin["tags"] == ["CRM.Lead"]
        replaced = api.ok(
            "PUT", f"/v3/groups/{gid}/receivers/a@example.org", json={"tags": ["Only"]}
        )
        assert replaced["tags"] == ["Only"]

    def test_deactivate_answers_true_and_delete_then_404(self, api: Api) -> None:
        """Reference §2.4, §6.8 (checklist 22)."""
        gid = api.group()
        rid = api.upsert(gid, [{"email": "a@example.org"}])[0]["id"]
        assert api.ok("PUT", f"/v3/groups/{gid}/receivers/{rid}/deactivate") is True
        receiver = api.receiver(gid, rid)
        assert receiver["active"] is False and receiver["deactivated"] > 0
        assert api.ok("DELETE", f"/v3/groups/{gid}/receivers/{rid}") is True
        assert api.get(f"/v3/groups/{gid}/receivers/{rid}").status_code == 404
        assert api.delete(f"/v3/groups/{gid}/receivers/{rid}").status_code == 404

    def test_attribute_limits_and_shape(self, api: Api) -> None:
        """Reference §4.3, §7 (checklist 23): 409 duplicate, 41st 403, tag and groups_id."""
        first = api.attribute("Communication Key")
        assert first["name"] == "communication_key"
        assert first["tag"] == "{COMMUNICATION_KEY}" and first["groups_id"] == 0
        dup = api.post("/v3/attributes", json={"name": "communication_key", "type": "text"})
        assert dup.status_code == 409 and dup.json()["error"]["code"] == 409
        gid = api.group()
        api.attribute("communication_key", group_id=gid)  # another scope: allowed
        for i in range(38):
            api.attribute(f"field_{i}")
        over = api.post("/v3/attributes", json={"name": "one_too_many", "type": "text"})
        assert over.status_code == 403 and over.json()["error"]["code"] == 403

    def test_group_attributes_only_in_their_group(self, api: Api) -> None:
        """Reference §6.1, §7 (checklist 24)."""
        api.attribute("firstname")
        g1, g2 = api.group("A"), api.group("B")
        kundennr = api.ok(
            "POST", f"/v3/groups/{g1}/attributes", json={"name": "kundennr", "type": "text"}
        )
        assert kundennr["groups_id"] == int(g1)
        item = {
            "email": "a@example.org",
            "attributes": {"kundennr": "4711"},
            "global_attributes": {"firstname": "Anna"},
        }
        in_g1 = api.upsert(g1, [item])[0]
        in_g2 = api.upsert(g2, [item])[0]
        assert in_g1["attributes"] == {"kundennr": "4711"}
        assert in_g2["attributes"] == {}
        assert in_g1["global_attributes"] == in_g2["global_attributes"] == {"firstname": "Anna"}
        assert in_g1["id"] == in_g2["id"]  # one pool id per address
        listed = api.ok("GET", "/v3/attributes", params={"group_id": g1})
        assert [a["name"] for a in listed] == ["kundennr"]
        assert [a["name"] for a in api.ok("GET", "/v3/attributes")] == ["firstname"]

    def test_update_keeps_unmentioned_values_and_empty_clears(self, api: Api) -> None:
        """Reference §6.5: a PUT with a subset; "" clears; PUT attributes/{id} sets one."""
        first = api.attribute("firstname")
        api.attribute("lastname")
        points = api.attribute("visits", kind="number")
        gid = api.group()
        rid = api.upsert(
            gid,
            [
                {
                    "email": "a@example.org",
                    "global_attributes": {"firstname": "Anna", "lastname": "Alt", "visits": "3"},
                }
            ],
        )[0]["id"]
        put = api.ok(
            "PUT", f"/v3/groups/{gid}/receivers/{rid}", json={"global_attributes": {"lastname": ""}}
        )
        assert put["global_attributes"] == {"firstname": "Anna", "lastname": "", "visits": "3"}
        step = api.upsert(gid, [{"email": "a@example.org", "global_attributes": {"visits": "+1"}}])[
            0
        ]
        assert step["global_attributes"]["visits"] == "4"
        step = api.upsert(gid, [{"email": "a@example.org", "global_attributes": {"visits": "-2"}}])[
            0
        ]
        assert step["global_attributes"]["visits"] == "2"
        assert (
            api.ok("PUT", f"/v3/receivers/{rid}/attributes/{first['id']}", json={"value": "Anne"})
            is True
        )
        assert api.receiver(gid, rid)["global_attributes"]["firstname"] == "Anne"
        assert points["type"] == "number"

    def test_email_change_keeps_the_id(self, api: Api) -> None:
        """Reference §6.5: PUT /v3/receivers/{id}/email — the sync relies on the kept id."""
        gid = api.group()
        rid = api.upsert(gid, [{"email": "old@example.org"}, {"email": "taken@example.org"}])[0][
            "id"
        ]
        moved = api.ok("PUT", f"/v3/receivers/{rid}/email", json={"email": "New@example.org"})
        assert (moved["id"], moved["email"]) == (rid, "new@example.org")
        assert api.receiver(gid, "new@example.org")["id"] == rid
        assert api.get(f"/v3/groups/{gid}/receivers/old@example.org").status_code == 404
        clash = api.put(f"/v3/receivers/{rid}/email", json={"email": "taken@example.org"})
        assert clash.status_code == 409
        assert api.put(f"/v3/receivers/{rid}/email", json={"email": "x"}).status_code == 400

    def test_account_wide_reads_and_deletes(self, api: Api) -> None:
        """Reference §6.3, §6.8: GET/DELETE /v3/receivers/{id|email}, …/groups, batch delete."""
        g1, g2 = api.group("A"), api.group("B")
        rid = api.upsert(g1, [{"email": "a@example.org"}])[0]["id"]
        api.upsert(
            g2, [{"email": "a@example.org"}, {"email": "b@example.org"}, {"email": "c@example.org"}]
        )
        anywhere = api.ok("GET", "/v3/receivers/a@example.org")
        assert (anywhere["id"], anywhere["group_id"]) == (rid, g1)
        assert api.ok("GET", f"/v3/receivers/{rid}", params={"group_id": g2})["group_id"] == g2
        assert [g["id"] for g in api.ok("GET", f"/v3/receivers/{rid}/groups")] == [g1, g2]
        assert api.ok("DELETE", f"/v3/receivers/{rid}") is True
        assert api.get(f"/v3/receivers/{rid}").status_code == 404
        assert api.get(f"/v3/groups/{g2}/receivers/{rid}").status_code == 404
        bare = api.ok("POST", "/v3/receivers/delete", json=["b@example.org", "zz@example.org"])
        assert [x["status"] for x in bare] == ["success", "not found"]
        wrapped = api.ok("POST", "/v3/receivers/delete", json={"receivers": ["c@example.org"]})
        assert [x["status"] for x in wrapped] == ["success"]
        assert api.ok("GET", f"/v3/groups/{g2}/receivers") == []

    def test_group_batch_delete_and_update_only(self, api: Api) -> None:
        """Reference §6.6: update touches only existing receivers; delete answers per item."""
        gid = api.group()
        api.upsert(gid, [{"email": "a@example.org"}])
        updated = api.ok(
            "PUT",
            f"/v3/groups/{gid}/receivers/update",
            json=[{"email": "a@example.org", "source": "x"}, {"email": "new@example.org"}],
        )
        assert [u["status"] for u in updated] == ["update success", "not found"]
        inserted = api.ok(
            "POST",
            f"/v3/groups/{gid}/receivers/insert",
            json=[{"email": "a@example.org"}, {"email": "b@example.org"}],
        )
        assert [i["status"] for i in inserted] == [
            "duplicate address 'a@example.org'",
            "insert success",
        ]
        deleted = api.ok(
            "POST",
            f"/v3/groups/{gid}/receivers/delete",
            json=["a@example.org", "nobody@example.org"],
        )
        assert deleted[0]["status"] == "success" and deleted[1]["status"] == "not found"

    def test_receiver_write_bumps_group_last_changed(self, api: Api) -> None:
        """Reference §5, emulator: receiver writes bump the group's last_changed."""
        gid = api.group()
        before = api.ok("GET", f"/v3/groups/{gid}")["last_changed"]
        api.advance(100)
        api.upsert(gid, [{"email": "a@example.org"}])
        assert api.ok("GET", f"/v3/groups/{gid}")["last_changed"] >= before + 100

    def test_activate_switch_and_single_put_activation(self, make_api: MakeApi) -> None:
        """Reference §6.8: activate sets activated = now, deactivated = 0 even after an
        unsubscribe (flagged); under sticky=strict it is refused."""
        api = make_api()
        gid = api.group()
        api.upsert(gid, [{"email": "a@example.org", "deactivated": TS}])
        assert api.ok("PUT", f"/v3/groups/{gid}/receivers/a@example.org/activate") is True
        assert api.receiver(gid, "a@example.org")["active"] is True
        assert api.audit(reactivations=1)[0]["action"] == "receiver.reactivated"
        strict = make_api(extra={"sticky": "strict"})
        sgid = strict.group()
        strict.upsert(sgid, [{"email": "a@example.org", "deactivated": TS}])
        assert strict.ok("PUT", f"/v3/groups/{sgid}/receivers/a@example.org/activate") is True
        assert strict.receiver(sgid, "a@example.org")["active"] is False

    def test_listing_detail_bitmask(self, api: Api) -> None:
        """Reference §6.2: lists carry events/orders/tags only as `detail` asks."""
        gid = api.group()
        api.upsert(
            gid,
            [
                {
                    "email": "a@example.org",
                    "tags": ["T"],
                    "orders": [{"order_id": "1", "product": "Tee"}],
                }
            ],
        )

        def keys(detail: int) -> set[str]:
            row: dict[str, Any] = api.ok(
                "GET", f"/v3/groups/{gid}/receivers", params={"detail": detail}
            )[0]
            return {"events", "orders", "tags"} & set(row)

        assert keys(0) == set()
        assert keys(1) == {"events"}
        assert keys(2) == {"orders"}
        assert keys(4) == {"tags"}
        full = api.receiver(gid, "a@example.org")
        assert full["orders"] == [{"order_id": "1", "product": "Tee"}]
        assert full["events"][0]["type"] == "api"

    def test_listing_order_by_and_id_list(self, api: Api) -> None:
        """Reference §6.2: `order_by` ("activated desc") and `id_list` filter the listing."""
        gid = api.group()
        ids = [
            r["id"]
            for r in api.upsert(
                gid,
                [
                    {"email": "a@example.org", "activated": TS + 1},
                    {"email": "b@example.org", "activated": TS + 3},
                    {"email": "c@example.org", "activated": TS + 2},
                ],
            )
        ]
        path = f"/v3/groups/{gid}/receivers"
        newest = api.ok("GET", path, params={"order_by": "activated desc"})
        assert [r["email"] for r in newest] == ["b@example.org", "c@example.org", "a@example.org"]
        by_email = api.ok("GET", path, params={"order_by": "email"})
        assert [r["email"] for r in by_email] == ["a@example.org", "b@example.org", "c@example.org"]
        picked = api.ok("GET", path, params={"id_list": f"{ids[2]},{ids[0]}"})
        assert sorted(r["id"] for r in picked) == sorted([ids[0], ids[2]])
        assert api.get(path, params={"order_by": "password"}).status_code == 400

    def test_account_wide_switches_reach_every_group(self, api: Api) -> None:
        """Reference §6.8: deactivate/activate by pool id act on every membership."""
        g1, g2 = api.group("A"), api.group("B")
        rid = api.upsert(g1, [{"email": "a@example.org"}])[0]["id"]
        api.upsert(g2, [{"email": "a@example.org"}])
        assert api.ok("PUT", f"/v3/receivers/{rid}/deactivate") is True
        assert [api.receiver(g, rid)["active"] for g in (g1, g2)] == [False, False]
        assert api.ok("PUT", f"/v3/receivers/{rid}/activate") is True
        assert [api.receiver(g, rid)["active"] for g in (g1, g2)] == [True, True]
        assert len(api.audit(reactivations=1)) == 2
        assert api.put("/v3/receivers/nobody@example.org/activate").status_code == 404
