"""The emulator's own machinery: paths, settings, rate limit, seeds, control API, storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crm2cr.emulators.cleverreach.app import CleverReachEmulator, normalize_path
from crm2cr.emulators.cleverreach.ratelimit import RateLimiter, retry_after
from crm2cr.emulators.cleverreach.settings import Settings, changed, from_options
from crm2cr.emulators.common.demo_people import people
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.errors import ConfigError
from tests.unit.cr_emulator.support import Api, MakeApi


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("/v3/groups.json/12/receivers", "/v3/groups/12/receivers"),
        ("/v3/receivers/filter.json", "/v3/receivers/filter"),
        ("/v3/groups/12/receivers/", "/v3/groups/12/receivers"),
        ("/v3/groups/1/receivers/anna@mail.json", "/v3/groups/1/receivers/anna@mail.json"),
        ("/oauth/token.php", "/oauth/token.php"),
        ("/", "/"),
    ],
)
def test_paths_lose_json_suffix_and_trailing_slash(given: str, normal: str) -> None:
    """Reference §2.2: `.json` optional on any segment (never cut from an address)."""
    assert normalize_path(given) == normal


def test_settings_from_options_and_changes() -> None:
    """Reference §13: settings from options.extra; --no-limits switches the rate off."""
    opts = EmulatorOptions(extra={"sticky": "strict", "webhook_retry_delays": "0.1,0.2"})
    s = from_options(opts)
    assert (s.sticky, s.webhook_retry_delays, s.rate_limit) == ("strict", (0.1, 0.2), 20.0)
    assert from_options(EmulatorOptions(limits=False)).rate_limit == 0.0
    assert from_options(EmulatorOptions(random_seed=7)).random_seed == 7
    with pytest.raises(ConfigError):
        from_options(EmulatorOptions(extra={"sticky": "lenient"}))
    with pytest.raises(ValueError, match="unknown settings"):
        changed(Settings(), {"nonsense": 1})
    with pytest.raises(ValueError):
        changed(Settings(), {"rate_burst": 0})
    assert changed(Settings(), {"send_duration": "5"}).send_duration == 5


def test_rate_limiter_is_a_token_bucket() -> None:
    """Reference §4.2: burst, then one request per 1/rate seconds; 0 = off."""
    clock = [100.0]
    limiter = RateLimiter(now=lambda: clock[0])
    assert [limiter.admit("t", 2.0, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.admit("t", 2.0, 3)
    assert wait == pytest.approx(0.5)
    assert retry_after(wait) == "1"
    clock[0] += 0.5
    assert limiter.admit("t", 2.0, 3) == 0.0
    assert limiter.admit("other", 2.0, 3) == 0.0
    assert limiter.admit("t", 0.0, 1) == 0.0


def test_empty_seed_is_an_account_with_nothing_in_it(api: Api) -> None:
    """Brief: `empty` = the account (customer number, OAuth app), nothing else."""
    assert api.ok("GET", "/v3/groups") == []
    assert api.ok("GET", "/v3/attributes") == []
    assert api.ok("GET", "/v3/debug/whoami")["id"] == "129148"


def test_demo_seed_holds_the_shared_demo_people(make_api: MakeApi) -> None:
    """Brief: the demo account — attributes, three groups, receivers from demo_people
    (the Dataverse demo's contacts), some deactivated, bounced, blacklisted, a draft and a
    finished mailing with a report; deterministic."""
    api = make_api(seed="demo")
    groups = {g["name"]: g["id"] for g in api.ok("GET", "/v3/groups")}
    assert set(groups) == {"Newsletter", "Kunden Premium", "Events 2026"}
    names = {a["name"] for a in api.ok("GET", "/v3/attributes")}
    assert {"firstname", "lastname", "company", "salutation", "gender", "city"} <= names
    rows = api.ok("GET", f"/v3/groups/{groups['Newsletter']}/receivers", params={"pagesize": 5000})
    emails = {r["email"] for r in rows}
    assert {p.email for p in people()[:250]} <= emails
    assert len(emails) > 250  # some only in CleverReach
    assert any(r["deactivated"] > 0 and r["bounced"] == 0 for r in rows)
    assert any(r["bounced"] > 0 for r in rows)
    assert api.ok("GET", "/v3/blacklist")
    mailings = api.ok("GET", "/v3/mailings")
    assert len(mailings["draft"]) == 1 and len(mailings["finished"]) == 1
    report = api.ok("GET", f"/v3/reports/{mailings['finished'][0]['id']}")
    assert report["stats"]["total"]["delivered"] > 0
    anna = next(r for r in rows if r["email"] == people()[0].email)
    assert anna["global_attributes"]["firstname"] == people()[0].firstname
    again = make_api(seed="demo")
    twin = again.ok(
        "GET", f"/v3/groups/{groups['Newsletter']}/receivers", params={"pagesize": 5000}
    )

    def strip(rs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(r["id"], r["email"], r["active"], r["global_attributes"]) for r in rs]

    assert strip(twin) == strip(rows)


def test_reset_returns_to_a_seed_and_never_reuses_ids(api: Api) -> None:
    """Reference §13 `POST reset`; §2.4: ids from counters, never reused."""
    gid = api.group()
    rid = api.upsert(gid, [{"email": "a@example.org"}])[0]["id"]
    api.control("POST", "reset", {})
    assert api.ok("GET", "/v3/groups") == []
    assert api.get("/v3/groups").status_code == 200  # tokens survive a reset
    gid2 = api.group()
    rid2 = api.upsert(gid2, [{"email": "a@example.org"}])[0]["id"]
    assert int(gid2) > int(gid) and int(rid2) > int(rid)
    demo = api.control("POST", "reset", {"seed": "demo"})
    assert demo["seed"] == "demo" and len(api.ok("GET", "/v3/groups")) == 3
    assert api.http.post("/_emulator/reset", json={"seed": "x"}).status_code == 400


def test_generate_inserts_synthetic_receivers(api: Api) -> None:
    """Reference §13, brief: `generate` {group_id, count} for benchmarks."""
    gid = api.group()
    api.ok("POST", "/v3/blacklist", json={"email": "receiver3@bench.example"})
    answer = api.control("POST", "generate", {"group_id": gid, "count": 10})
    assert answer["inserted"] == 10
    rows = api.ok("GET", f"/v3/groups/{gid}/receivers")
    assert [r["email"] for r in rows][:2] == ["receiver0@bench.example", "receiver1@bench.example"]
    assert [r["active"] for r in rows].count(False) == 1  # the blacklisted one
    again = api.control(
        "POST",
        "generate",
        {"group_id": gid, "count": 15, "email_format": "Bench{n}@other.example", "active": False},
    )
    assert again["inserted"] == 15
    stats = api.ok("GET", f"/v3/groups/{gid}/stats")
    assert (stats["total_count"], stats["active_count"]) == (25, 9)
    bad = api.http.post("/_emulator/generate", json={"group_id": gid, "count": 0})
    assert bad.status_code == 400


def test_audit_records_every_write(api: Api) -> None:
    """Reference §13 `GET audit`: every write; `since` pages on."""
    gid = api.group()
    last = api.audit()[-1]["seq"]
    api.upsert(gid, [{"email": "a@example.org"}])
    entries = api.audit(since=last)
    assert [e["action"] for e in entries] == ["receivers.upsert"]
    assert entries[0]["label"] == f"POST /v3/groups/{gid}/receivers/upsert"
    assert api.audit(since=entries[-1]["seq"]) == []


def test_settings_endpoint_changes_behaviour(api: Api) -> None:
    """Reference §13: settings for sticky, rate limit, send_duration."""
    assert api.control("GET", "settings")["sticky"] == "faithful"
    assert api.settings(sticky="strict", send_duration=5)["send_duration"] == 5
    assert api.http.post("/_emulator/settings", json={"sticky": "x"}).status_code == 400
    assert api.http.post("/_emulator/settings", json={"bogus": 1}).status_code == 400


def test_state_persists_in_the_data_file(tmp_path: Path) -> None:
    """SPEC §9 `--data FILE`: the state survives a restart; the seed applies only once."""
    data = tmp_path / "cr.sqlite"
    first = CleverReachEmulator(EmulatorOptions(seed="demo", data=data))
    with first.store.read() as conn:
        groups = conn.execute("SELECT id, name FROM groups ORDER BY id").fetchall()
    with first.store.write("test") as tx:
        tx.conn.execute("UPDATE groups SET name = 'Renamed' WHERE id = ?", (groups[0][0],))
    first.close()
    second = CleverReachEmulator(EmulatorOptions(seed="demo", data=data))
    with second.store.read() as conn:
        again = conn.execute("SELECT id, name FROM groups ORDER BY id").fetchall()
    second.close()
    assert [g[0] for g in again] == [g[0] for g in groups]
    assert again[0][1] == "Renamed"


def test_group_listing_pages_along_the_primary_key(api: Api) -> None:
    """Brief, performance: listing must not scan the table per request; the group listing
    walks the (group, id) key, continuing after the previous page's last id."""
    gid = api.group()
    api.control("POST", "generate", {"group_id": gid, "count": 30})
    with api.app.store.read() as conn:
        plan = " ".join(
            row[-1]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT r.pool_id FROM receivers r JOIN pool p"
                " ON p.id = r.pool_id WHERE r.group_id = ? AND r.pool_id > ?"
                " ORDER BY r.pool_id LIMIT 10",
                (int(gid), 0),
            )
        )
    assert "SEARCH r USING PRIMARY KEY" in plan, plan
    pages = [
        api.ok("GET", f"/v3/groups/{gid}/receivers", params={"page": p, "pagesize": 10})
        for p in range(3)
    ]
    assert len(api.app.store.page_marks) == 3  # each page left its mark for the next
    ids = [int(r["id"]) for page in pages for r in page]
    assert ids == sorted(ids) and len(set(ids)) == 30


def test_scopes_are_enforced_only_when_configured(make_api: MakeApi) -> None:
    """Reference §3.1, emulator: all scopes granted unless configured; then 403."""
    api = make_api()
    assert api.get("/v3/mailings").status_code == 200
    limited = make_api(extra={"scopes": "basic receivers"})
    assert limited.get("/v3/groups").status_code == 200
    refused = limited.get("/v3/mailings")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "Forbidden: the token's scope does not cover 'mailings'"
    )
    assert limited.get("/v3/debug/whoami").status_code == 200
    token = limited.http.post(
        "/oauth/token.php",
        data={
            "grant_type": "client_credentials",
            "client_id": "crm2cr-emulator-app",
            "client_secret": "emulator-only-not-a-secret-6f1c2b",
        },
    ).json()
    assert token["scope"] == "basic receivers"
