"""The seeded organisations (reference §17.19, SPEC §6)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse import EMULATOR_ORGANISATION_ID
from crm2cr.emulators.dataverse.app import DataverseEmulator
from tests.support.inprocess import InProcessTransport


@pytest.fixture
def demo() -> Iterator[DataverseEmulator]:
    emu = DataverseEmulator(EmulatorOptions(seed="demo", limits=False))
    yield emu
    emu.close()


def _table(emu: DataverseEmulator, sql: str) -> list[dict[str, object]]:
    return emu.store.query(sql)


def test_empty_seed_has_one_application_user_and_no_lists(emu: DataverseEmulator) -> None:
    """Reference §17.19: organisation, business unit, 'crm2cr app'; no lists, no solution."""
    apps = _table(emu, 'SELECT fullname FROM "systemuser" WHERE applicationid IS NOT NULL')
    assert [a["fullname"] for a in apps] == ["crm2cr app"]
    orgs = _table(emu, 'SELECT organizationid FROM "organization"')
    assert orgs == [{"organizationid": EMULATOR_ORGANISATION_ID}]
    assert emu.store.scalar('SELECT COUNT(*) FROM "list"') == 0
    assert emu.store.scalar('SELECT COUNT(*) FROM "contact"') == 0
    assert emu.store.scalar("SELECT COUNT(*) FROM \"solution\" WHERE uniquename = 'crm2cr'") == 0


def test_demo_seed_is_realistic(demo: DataverseEmulator) -> None:
    """Reference §17.19: people, companies, owners, inactive rows, twins, opt-outs, campaigns."""
    assert demo.store.scalar('SELECT COUNT(*) FROM "account"') == 60
    assert demo.store.scalar('SELECT COUNT(*) FROM "contact"') == 403
    assert demo.store.scalar('SELECT COUNT(*) FROM "lead"') == 40
    inactive = demo.store.scalar('SELECT COUNT(*) FROM "contact" WHERE statecode = 1')
    opted_out = demo.store.scalar('SELECT COUNT(*) FROM "contact" WHERE donotbulkemail = 1')
    assert inactive and opted_out
    emails = Counter(
        r["emailaddress1"] for r in _table(demo, 'SELECT emailaddress1 FROM "contact"')
    )
    assert sorted(n for n in emails.values() if n > 1) == [2, 2, 2]
    owners = {r["ownerid"] for r in _table(demo, 'SELECT DISTINCT ownerid FROM "contact"')}
    assert len(owners) == 5
    with_parent = demo.store.scalar(
        "SELECT COUNT(*) FROM \"contact\" WHERE parentcustomerid__type = 'account'"
    )
    assert with_parent == 403
    activities = _table(
        demo, 'SELECT subject, channeltypecode, regardingobjectid__type FROM "campaignactivity"'
    )
    assert {a["regardingobjectid__type"] for a in activities} == {"campaign"}
    assert 7 in {a["channeltypecode"] for a in activities}
    assert demo.store.scalar('SELECT COUNT(*) FROM "campaignitem"') == 2


def test_demo_seed_is_deterministic(demo: DataverseEmulator) -> None:
    """The same ids and values on every start (the CleverReach demo matches them)."""
    other = DataverseEmulator(EmulatorOptions(seed="demo", limits=False))
    try:
        query = 'SELECT contactid, emailaddress1, fullname FROM "contact" ORDER BY contactid'
        assert demo.store.query(query) == other.store.query(query)
    finally:
        other.close()


def test_reset_returns_a_fresh_organisation(demo: DataverseEmulator) -> None:
    """POST /_emulator/reset {"seed": "empty"} replaces the organisation."""
    transport = InProcessTransport(demo)
    with httpx.Client(transport=transport, base_url="http://127.0.0.1") as client:
        assert client.post("/_emulator/reset", json={"seed": "empty"}).status_code == 200
        lists = client.get("/api/data/v9.2/lists", headers={"Authorization": "Bearer x"}).json()[
            "value"
        ]
        assert lists == []
        assert client.post("/_emulator/reset", json={"seed": "nope"}).status_code == 400
    transport.close()
