"""The SQLite store: versions, transactions, persistence with --data (reference §17.16)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.emulators.dataverse.metadata import new_entity, string
from crm2cr.emulators.dataverse.store import Store, quote
from tests.support.inprocess import InProcessTransport


class Boom(Exception):
    pass


def test_versions_come_from_one_counter(emu: DataverseEmulator, api: httpx.Client) -> None:
    """Reference §17.16: one org-wide counter, bumped per write, across tables."""
    before = emu.store.version
    api.post("contacts", json={"lastname": "A"})
    api.post("accounts", json={"name": "B"})
    rows = emu.store.query(
        'SELECT versionnumber FROM "contact" WHERE lastname = ? '
        'UNION ALL SELECT versionnumber FROM "account" WHERE name = ?',
        ("A", "B"),
    )
    versions = sorted(int(r["versionnumber"]) for r in rows)
    assert versions[0] > before and versions[1] > versions[0]
    assert emu.store.version >= versions[1]


def test_nested_transactions_roll_back_only_their_level(emu: DataverseEmulator) -> None:
    """A failed change set (inner level) leaves the outer work in place; a failed outer none."""
    store = emu.store
    entity = emu.metadata.require("contact")

    def insert(name: str) -> None:
        store.insert(
            "contact", {"contactid": f"00000000-0000-0000-0000-0000000000{name}", "lastname": name}
        )

    with store.transaction():
        insert("01")
        with pytest.raises(Boom), store.transaction():
            insert("02")
            raise Boom
        insert("03")
    names = [r["lastname"] for r in store.query('SELECT lastname FROM "contact" ORDER BY 1')]
    assert names == ["01", "03"]
    with pytest.raises(Boom), store.transaction():
        insert("04")
        raise Boom
    assert store.scalar('SELECT COUNT(*) FROM "contact"') == 2
    assert entity.primary_id == "contactid"


def test_identifiers_are_checked_before_they_reach_sql() -> None:
    """Table and column names come from metadata only; anything else is refused."""
    assert quote("contact") == '"contact"'
    for bad in ('contact"; drop table x; --', "Contact", "a b", ""):
        with pytest.raises(ValueError):
            quote(bad)


def test_data_file_keeps_rows_and_new_tables_across_restarts(tmp_path: Path) -> None:
    """`--data FILE`: a restart keeps rows, the version counter and tables added later."""
    data = tmp_path / "org.sqlite"
    first = DataverseEmulator(EmulatorOptions(seed="empty", data=data, limits=False))
    table = new_entity(
        "crm2cr_sample",
        "crm2cr_samples",
        primary_name="crm2cr_name",
        object_type_code=10042,
        schema_name="crm2cr_Sample",
        is_custom=True,
        change_tracking=True,
    )
    table.add(string("crm2cr_note", 20))
    first.store.create_table(table)
    transport = InProcessTransport(first)
    with httpx.Client(
        transport=transport,
        base_url="http://127.0.0.1/api/data/v9.2/",
        headers={"Authorization": "Bearer x"},
    ) as api:
        assert api.post("crm2cr_samples", json={"crm2cr_name": "kept"}).status_code == 204
        assert api.post("contacts", json={"lastname": "Kept"}).status_code == 204
    transport.close()
    version = first.store.version
    first.close()

    second = DataverseEmulator(EmulatorOptions(seed="demo", data=data, limits=False))
    transport = InProcessTransport(second)
    with httpx.Client(
        transport=transport,
        base_url="http://127.0.0.1/api/data/v9.2/",
        headers={"Authorization": "Bearer x"},
    ) as api:
        rows = api.get("crm2cr_samples?$select=crm2cr_name").json()["value"]
        assert [r["crm2cr_name"] for r in rows] == ["kept"]
        contacts = api.get("contacts?$select=lastname").json()["value"]
        assert [c["lastname"] for c in contacts] == ["Kept"]
        meta = api.get("EntityDefinitions(LogicalName='crm2cr_sample')").json()
        assert meta["SchemaName"] == "crm2cr_Sample" and meta["IsCustomEntity"] is True
        too_long = api.post("crm2cr_samples", json={"crm2cr_name": "x", "crm2cr_note": "y" * 21})
        assert too_long.status_code == 400
    transport.close()
    assert second.store.version >= version
    second.close()


def test_store_in_memory_starts_fresh() -> None:
    store = Store(None, Clock())
    assert store.fresh and list(store.metadata) == []
    store.close()
