"""Sign-in: dev tokens and the token endpoint of `--auth strict` (reference §2, §18.1)."""

from __future__ import annotations

from typing import Any

import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse import seed

from .conftest import Org, error_of, with_query


def _token(org: Org, **form: str) -> Any:
    return org.root.post(f"/{org.emu.tenant_id}/oauth2/v2.0/token", data=form)


def _who(org: Org, token: str) -> Any:
    return org.http.get("WhoAmI", headers={"Authorization": f"Bearer {token}"})


def test_dev_token_user_prefix_acts_as_that_user(org: Org) -> None:
    """Dev mode: any token is the application user; `user:<id>` is that system user."""
    me = org.get("WhoAmI")["UserId"]
    assert me == seed.APP_USER_ID
    other = org.create("systemusers", {"firstname": "Other", "lastname": "User"})
    assert _who(org, f"user:{other}").json()["UserId"] == other
    assert _who(org, "user:00000000-0000-0000-0000-000000000000").status_code == 401
    org.http.patch(f"systemusers({other})", json={"isdisabled": True})
    assert _who(org, f"user:{other}").status_code == 401


class TestStrict:
    @pytest.fixture
    def emulator_options(self) -> EmulatorOptions:
        return EmulatorOptions(seed="demo", auth="strict", limits=False)

    def test_only_issued_tokens_work_until_they_expire(self, org: Org) -> None:
        """Reference §2.3, §18.1: client credentials; forced expiry and the clock → 401."""
        assert org.http.get("WhoAmI").status_code == 401
        answer = _token(
            org,
            grant_type="client_credentials",
            client_id=seed.APP_CLIENT_ID,
            client_secret=seed.APP_CLIENT_SECRET,
            scope=f"{org.base}/.default",
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
        assert _who(org, body["access_token"]).json()["UserId"] == seed.APP_USER_ID
        assert org.control("tokens/expire", {})["expired"] >= 1
        expired = _who(org, body["access_token"])
        assert expired.status_code == 401
        assert "authorization_uri=" in expired.headers["WWW-Authenticate"]
        fresh = _token(
            org,
            grant_type="client_credentials",
            client_id=seed.APP_CLIENT_ID,
            client_secret=seed.APP_CLIENT_SECRET,
        ).json()["access_token"]
        assert _who(org, fresh).status_code == 200
        org.emu.clock.advance(3600)
        assert _who(org, fresh).status_code == 401

    def test_wrong_client_credentials_are_refused(self, org: Org) -> None:
        """Reference §2.3: 400/401 with an OAuth error body."""
        wrong = _token(
            org,
            grant_type="client_credentials",
            client_id=seed.APP_CLIENT_ID,
            client_secret="wrong",
        )
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        unknown = _token(
            org, grant_type="client_credentials", client_id="nobody", client_secret="x"
        )
        assert unknown.status_code == 400 and unknown.json()["error"] == "unauthorized_client"
        assert _token(org, grant_type="implicit").json()["error"] == "unsupported_grant_type"

    def test_device_code_flow_waits_for_approval(self, org: Org) -> None:
        """Reference §2.1, §2.3: polls answer authorization_pending until approved."""
        flow = org.root.post(
            f"/{org.emu.tenant_id}/oauth2/v2.0/devicecode",
            data={"client_id": "public-client", "scope": f"{org.base}/user_impersonation"},
        ).json()
        assert flow["user_code"] in flow["message"]
        grant = "urn:ietf:params:oauth:grant-type:device_code"
        pending = _token(
            org, grant_type=grant, client_id="public-client", device_code=flow["device_code"]
        )
        assert pending.status_code == 400
        assert pending.json()["error"] == "authorization_pending"
        approved = org.control(
            "devicecode/approve",
            {"user_code": flow["user_code"], "username": "sabine.vertrieb@crm2cr-demo.example"},
        )
        answer = _token(
            org, grant_type=grant, client_id="public-client", device_code=flow["device_code"]
        ).json()
        assert "refresh_token" in answer and "id_token" in answer
        assert _who(org, answer["access_token"]).json()["UserId"] == approved["systemuserid"]
        refreshed = _token(
            org,
            grant_type="refresh_token",
            client_id="public-client",
            refresh_token=answer["refresh_token"],
        )
        assert _who(org, refreshed.json()["access_token"]).status_code == 200

    def test_password_grant_for_seeded_users(self, org: Org) -> None:
        """Reference §2.1: username/password of a seeded user."""
        answer = _token(
            org,
            grant_type="password",
            client_id="public-client",
            username="max.admin@crm2cr-demo.example",
            password=seed.DEMO_PASSWORD,
        )
        assert answer.status_code == 200
        user = _who(org, answer.json()["access_token"]).json()["UserId"]
        name = org.http.get(
            with_query(f"systemusers({user})", {"$select": "fullname"}),
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
        ).json()["fullname"]
        assert name == "Max Admin"
        bad = _token(
            org,
            grant_type="password",
            client_id="public-client",
            username="max.admin@crm2cr-demo.example",
            password="nope",
        )
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"

    def test_openid_configuration_points_at_the_emulator(self, org: Org) -> None:
        """Reference §2.3: MSAL reads the endpoints below the authority {base}/{tenant}."""
        document = org.root.get(
            f"/{org.emu.tenant_id}/v2.0/.well-known/openid-configuration"
        ).json()
        assert document["token_endpoint"] == (f"{org.base}/{org.emu.tenant_id}/oauth2/v2.0/token")
        assert document["device_authorization_endpoint"].endswith("/oauth2/v2.0/devicecode")
        info = org.root.get("/_emulator/info").json()
        assert info["authority"] == f"{org.base}/{org.emu.tenant_id}"
        assert info["organisation_id"] == org.emu.organisation_id

    def test_a_registered_client_signs_in_as_its_own_application_user(self, org: Org) -> None:
        """An extra application registration (no roles) for rights tests under strict auth."""
        created = org.control("clients", {"client_id": "extra-app", "client_secret": "s3"})
        token = _token(
            org, grant_type="client_credentials", client_id="extra-app", client_secret="s3"
        ).json()["access_token"]
        assert _who(org, token).json()["UserId"] == created["systemuserid"]
        denied = org.http.get("contacts", headers={"Authorization": f"Bearer {token}"})
        assert denied.status_code == 403
        assert error_of(denied)[0] == "0x80040220"
