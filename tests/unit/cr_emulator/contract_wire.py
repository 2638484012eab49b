"""Conformance checklist §15 items 1–10 (wire, OAuth, errors, paging, lookups).

Run in process (test_contract_inprocess.py) and over real HTTP
(tests/integration/cr_emulator/test_contract_http.py)."""

from __future__ import annotations

import base64

from crm2cr.emulators.cleverreach import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from tests.unit.cr_emulator.support import Api, MakeApi

LIFETIME = 2_592_000


def _basic(client_id: str = EMULATOR_CLIENT_ID, secret: str = EMULATOR_CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _token(api: Api) -> str:
    answer = api.http.post(
        "/oauth/token.php",
        json={"grant_type": "client_credentials"},
        headers={"Authorization": _basic()},
    ).json()
    token = answer["access_token"]
    assert isinstance(token, str)
    return token


def _code(api: Api, state: str = "xyz") -> str:
    response = api.http.get(
        "/oauth/authorize.php",
        params={
            "client_id": EMULATOR_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": "http://127.0.0.1:9/callback",
            "grant": "basic",
            "state": state,
        },
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:9/callback?")
    assert f"state={state}" in location
    return location.split("code=")[1].split("&")[0]


def _exchange_code(api: Api, code: str) -> tuple[int, dict[str, str]]:
    response = api.http.post(
        "/oauth/token.php",
        json={
            "grant_type": "authorization_code",
            "client_id": EMULATOR_CLIENT_ID,
            "client_secret": EMULATOR_CLIENT_SECRET,
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/callback",
        },
    )
    return response.status_code, response.json()


class WireContract:
    def test_json_suffix_and_trailing_slash_answer_alike(self, api: Api) -> None:
        """Reference §2.2 (checklist 1): `.json` on any segment, trailing slash tolerated."""
        gid = api.group()
        api.upsert(gid, [{"email": "anna@example.org"}])
        variants = [
            f"/v3/groups.json/{gid}/receivers",
            f"/v3/groups/{gid}/receivers.json",
            f"/v3/groups/{gid}/receivers",
            f"/v3/groups/{gid}/receivers/",
        ]
        answers = [api.ok("GET", v) for v in variants]
        assert answers[0][0]["email"] == "anna@example.org"
        assert all(a == answers[0] for a in answers)
        assert api.ok("GET", "/v3/debug/whoami.json")["id"]

    def test_token_as_header_or_query_and_strict_mode_refuses(self, make_api: MakeApi) -> None:
        """Reference §3.1 (checklist 2): Bearer or ?token=, header wins; strict → 401."""
        api = make_api(auth="strict")
        token = _token(api)
        api.token = ""
        unauthorized = {"error": {"code": 401, "message": "Unauthorized"}}
        missing = api.get("/v3/groups")
        assert (missing.status_code, missing.json()) == (401, unauthorized)
        unknown = api.get("/v3/groups", headers={"Authorization": "Bearer made-up"})
        assert (unknown.status_code, unknown.json()) == (401, unauthorized)
        assert api.get("/v3/groups", params={"token": token}).status_code == 200
        header = {"Authorization": f"Bearer {token}"}
        assert api.get("/v3/groups", headers=header).status_code == 200
        # The header wins over the query.
        assert api.get("/v3/groups", headers=header, params={"token": "x"}).status_code == 200
        wrong = {"Authorization": "Bearer made-up"}
        assert api.get("/v3/groups", headers=wrong, params={"token": token}).status_code == 401
        api.control("POST", "tokens/expire")
        expired = api.get("/v3/groups", headers=header)
        assert (expired.status_code, expired.json()) == (401, unauthorized)

    def test_dev_mode_takes_any_non_empty_token(self, api: Api) -> None:
        """Reference §3.1: mode `dev` accepts any non-empty token; none at all is a 401."""
        assert api.get("/v3/groups", headers={"Authorization": "Bearer anything"}).is_success
        api.token = ""
        assert api.get("/v3/groups").status_code == 401

    def test_client_credentials_with_basic_json_and_form_body(self, api: Api) -> None:
        """Reference §3.2 (checklist 3): no refresh token, expires_in 2592000."""
        by_json = api.http.post(
            "/oauth/token.php",
            json={"grant_type": "client_credentials"},
            headers={"Authorization": _basic()},
        )
        by_form = api.http.post(
            "/oauth/token.php",
            data={
                "grant_type": "client_credentials",
                "client_id": EMULATOR_CLIENT_ID,
                "client_secret": EMULATOR_CLIENT_SECRET,
            },
        )
        for response in (by_json, by_form):
            assert response.status_code == 200
            body = response.json()
            assert body["token_type"] == "bearer"
            assert body["expires_in"] == LIFETIME
            assert isinstance(body["access_token"], str) and body["access_token"]
            assert "refresh_token" not in body

    def test_authorization_code_refresh_token_rotates(self, api: Api) -> None:
        """Reference §3.2–3.4 (checklist 4): the old refresh token dies on use."""
        status, first = _exchange_code(api, _code(api))
        assert status == 200 and first["refresh_token"]
        refreshed = api.http.post(
            "/oauth/token.php",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            headers={"Authorization": _basic()},
        )
        assert refreshed.status_code == 200
        assert refreshed.json()["refresh_token"] != first["refresh_token"]
        again = api.http.post(
            "/oauth/token.php",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            headers={"Authorization": _basic()},
        )
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"

    def test_authorization_code_is_single_use_and_expires(self, api: Api) -> None:
        """Reference §3.3: codes are single-use and live 10 minutes."""
        code = _code(api)
        assert _exchange_code(api, code)[0] == 200
        status, body = _exchange_code(api, code)
        assert (status, body["error"]) == (400, "invalid_grant")
        late = _code(api)
        api.advance(601)
        status, body = _exchange_code(api, late)
        assert (status, body["error"]) == (400, "invalid_grant")

    def test_token_and_api_error_shapes(self, api: Api) -> None:
        """Reference §3.2, §4.1 (checklist 5): OAuth errors vs `{"error":{code,message}}`."""
        cases = [
            ({"grant_type": "client_credentials"}, _basic(secret="wrong"), 401, "invalid_client"),
            ({}, _basic(), 400, "invalid_request"),
            ({"grant_type": "password"}, _basic(), 400, "unsupported_grant_type"),
            (
                {"grant_type": "refresh_token", "refresh_token": "no"},
                _basic(),
                400,
                "invalid_grant",
            ),
        ]
        for body, auth, status, error in cases:
            response = api.http.post("/oauth/token.php", json=body, headers={"Authorization": auth})
            assert response.status_code == status
            assert set(response.json()) == {"error", "error_description"}
            assert response.json()["error"] == error
        gid = api.group()
        api.upsert(gid, [{"email": "anna@example.org"}])
        api_cases: list[tuple[str, str, dict[str, str] | None, int]] = [
            ("GET", "/v3/groups/999999999", None, 404),
            ("POST", f"/v3/groups/{gid}/receivers", {"email": "nope"}, 400),
            ("POST", f"/v3/groups/{gid}/receivers", {"email": "anna@example.org"}, 409),
            ("DELETE", "/v3/groups", None, 405),
        ]
        for method, path, payload, status in api_cases:
            response = api.request(method, path, json=payload)
            assert response.status_code == status
            error = response.json()["error"]
            assert error["code"] == status
            assert isinstance(error["message"], str) and error["message"]
        assert api.get("/v3/groups/999999999").json()["error"]["message"] == (
            "Not Found: invalid group"
        )

    def test_expired_token_gets_401_and_ttl_counts_down(self, make_api: MakeApi) -> None:
        """Reference §3.4, §3.5 (checklist 6)."""
        api = make_api(auth="strict")
        api.token = _token(api)
        first = api.ok("GET", "/v3/debug/ttl")
        assert LIFETIME - 5 <= first["ttl"] <= LIFETIME
        assert first["date"].endswith("+00:00")
        api.advance(1000)
        assert api.ok("GET", "/v3/debug/ttl")["ttl"] <= first["ttl"] - 1000
        assert api.get("/v3/debug/validate").status_code == 200
        api.advance(LIFETIME)
        assert api.get("/v3/groups").status_code == 401
        assert api.get("/v3/debug/validate").status_code == 401

    def test_ids_are_strings_attribute_ids_integers_stamps_seconds(self, api: Api) -> None:
        """Reference §2.4 (checklist 7)."""
        gid = api.group()
        attr = api.attribute("kundennr")
        receiver = api.upsert(gid, [{"email": "anna@example.org"}])[0]
        mailing = api.ok("POST", "/v3/mailings", json={"name": "M", "receivers": {"groups": [gid]}})
        form = api.ok("GET", f"/v3/groups/{gid}/forms")[0]
        assert all(isinstance(x, str) for x in (gid, receiver["id"], mailing["id"], form["id"]))
        assert isinstance(attr["id"], int) and not isinstance(attr["id"], bool)
        for key in (
            "registered",
            "activated",
            "deactivated",
            "imported",
            "bounced",
            "last_changed",
        ):
            assert type(receiver[key]) is int
        assert receiver["deactivated"] == 0 and receiver["bounced"] == 0
        group = api.ok("GET", f"/v3/groups/{gid}")
        assert type(group["stamp"]) is int and group["last_mailing"] == 0

    def test_paging_is_zero_based_with_size_limits(self, api: Api) -> None:
        """Reference §2.5 (checklist 8): 120 at 50 → 50, 50, 20, then []."""
        gid = api.group()
        api.control("POST", "generate", {"group_id": gid, "count": 120})
        path = f"/v3/groups/{gid}/receivers"
        sizes = [len(api.ok("GET", path, params={"page": p, "pagesize": 50})) for p in range(4)]
        assert sizes == [50, 50, 20, 0]
        assert len(api.ok("GET", path)) == 50
        assert len(api.ok("GET", path, params={"pagesize": 5000})) == 120
        too_big = api.get(path, params={"pagesize": 5001})
        assert too_big.status_code == 400
        assert too_big.json()["error"]["code"] == 400
        ids = [r["id"] for p in range(3) for r in api.ok("GET", path, params={"page": p})]
        assert len(set(ids)) == 120 and ids == sorted(ids, key=int)

    def test_type_and_email_list_filter(self, api: Api) -> None:
        """Reference §6.2 (checklist 9)."""
        gid = api.group()
        api.upsert(
            gid,
            [
                {"email": "active@example.org"},
                {"email": "waiting@example.org", "activated": 0},
                {"email": "gone@example.org", "deactivated": 1_700_000_000},
                {"email": "bounce@example.org"},
            ],
        )
        api.control("POST", "bounce", {"email": "bounce@example.org"})

        def emails(**params: str) -> set[str]:
            rows = api.ok("GET", f"/v3/groups/{gid}/receivers", params=params)
            return {r["email"] for r in rows}

        assert emails(type="active") == {"active@example.org"}
        assert emails(type="inactive") == {"waiting@example.org", "gone@example.org"}
        assert emails(type="bounce") == {"bounce@example.org"}
        assert len(emails(type="all")) == 4
        listed = emails(email_list="gone@example.org,ACTIVE@example.org")
        assert listed == {"gone@example.org", "active@example.org"}
        assert api.get(f"/v3/groups/{gid}/receivers", params={"type": "x"}).status_code == 400

    def test_receiver_found_by_id_and_email(self, api: Api) -> None:
        """Reference §2.3, §6.3 (checklist 10): `@` or `%40`; unknown → 404."""
        gid = api.group()
        rid = api.upsert(gid, [{"email": "Anna@Example.org"}])[0]["id"]
        by_id = api.receiver(gid, rid)
        assert by_id["email"] == "anna@example.org"
        assert api.receiver(gid, "anna@example.org")["id"] == rid
        assert api.receiver(gid, "ANNA%40example.org")["id"] == rid
        for key in ("nobody@example.org", "999999999"):
            missing = api.get(f"/v3/groups/{gid}/receivers/{key}")
            assert missing.status_code == 404
            assert missing.json() == {
                "error": {"code": 404, "message": "Not Found: invalid receiver"}
            }
        other = api.group("Other")
        assert api.get(f"/v3/groups/{other}/receivers/{rid}").status_code == 404

    def test_wrong_method_is_405_and_unknown_route_404(self, api: Api) -> None:
        """Reference §4.1: emulator answers 405 for wrong methods, 404 for unknown routes."""
        wrong = api.request("PATCH", "/v3/groups")
        assert wrong.status_code == 405
        assert wrong.json()["error"] == {"code": 405, "message": "Method Not Allowed"}
        unknown = api.get("/v3/nothing/here")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == 404

    def test_debug_endpoints(self, api: Api) -> None:
        """Reference §3.5, §12: whoami (customer number, own host), ping without a token,
        exchange keeps the old token, both revoke paths answer true."""
        me = api.ok("GET", "/v3/debug/whoami")
        assert me["id"] == "129148"
        assert me["login_domain"] == api.base_url.split("://", 1)[1]
        assert api.http.get("/v3/debug/ping").status_code == 200
        swapped = api.ok("GET", "/v3/debug/exchange")
        assert {"access_token", "expires_in", "refresh_token"} <= set(swapped)
        assert api.get("/v3/groups").status_code == 200
        assert api.ok("DELETE", "/v3/oauth/token") is True
        assert api.ok("DELETE", "/oauth/token") is True

    def test_revoked_token_is_refused_in_strict_mode(self, make_api: MakeApi) -> None:
        """Reference §3.5: revoking a token makes it stop working."""
        api = make_api(auth="strict")
        api.token = _token(api)
        swapped = api.ok("GET", "/v3/debug/exchange")
        assert api.get("/v3/groups").status_code == 200  # exchange leaves the old one valid
        assert api.ok("DELETE", "/v3/oauth/token") is True
        assert api.get("/v3/groups").status_code == 401
        api.token = swapped["access_token"]
        assert api.get("/v3/groups").status_code == 200
