"""Synthetic rows in bulk, for benchmarks (`POST /_emulator/generate`).

One executemany per 50,000 rows inside one transaction; a million contacts
take seconds, not the hours a million POSTs would. Rows look like the
seed's: owner, business unit, state, versions and timestamps are all set.
Names and addresses repeat across calls; e-mails are unique
(`<first>.<last>.<serial>@synthetic.example`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.common import demo_people
from crm2cr.emulators.dataverse import seed
from crm2cr.emulators.dataverse.errors import record_not_found
from crm2cr.emulators.dataverse.store import quote

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

CHUNK = 50_000
MAX_COUNT = 5_000_000
MEMBER_CODES = {"account": 1, "contact": 2, "lead": 4}


def _person(rng: random.Random, serial: int) -> dict[str, Any]:
    first = rng.choice(demo_people.FIRST_NAMES)
    last = rng.choice(demo_people.LAST_NAMES)
    email_name = f"{first}.{last}".lower().translate(_ASCII)
    return {
        "firstname": first,
        "lastname": last,
        "fullname": f"{first} {last}",
        "emailaddress1": f"{email_name}.{serial}@synthetic.example",
        "address1_city": rng.choice(demo_people.CITIES),
    }


_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _contact(rng: random.Random, serial: int) -> dict[str, Any]:
    row = _person(rng, serial)
    row["gendercode"] = 2 if row["firstname"] in demo_people.FEMALE else 1
    row["preferredcontactmethodcode"] = 1
    row["statuscode"] = 1
    return row


def _lead(rng: random.Random, serial: int) -> dict[str, Any]:
    row = _person(rng, serial)
    row["subject"] = "Synthetic lead"
    row["companyname"] = f"{rng.choice(demo_people.COMPANY_STEMS)} {serial}"
    row["statuscode"] = 1
    return row


def _account(rng: random.Random, serial: int) -> dict[str, Any]:
    stem = rng.choice(demo_people.COMPANY_STEMS)
    kind = rng.choice(demo_people.COMPANY_KINDS)
    return {
        "name": f"{stem} {kind} {serial}",
        "emailaddress1": f"info.{serial}@synthetic.example",
        "address1_city": rng.choice(demo_people.CITIES),
        "statuscode": 1,
    }


BUILDERS: dict[str, Callable[[random.Random, int], dict[str, Any]]] = {
    "contact": _contact,
    "account": _account,
    "lead": _lead,
}


def generate(emu: DataverseEmulator, body: dict[str, Any]) -> dict[str, Any]:
    """Insert `count` synthetic rows of contact, account or lead; optionally into a static list."""
    table = str(body.get("entity", "contact"))
    if table not in BUILDERS:
        raise ValueError(f"entity must be one of {sorted(BUILDERS)}")
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= MAX_COUNT:
        raise ValueError(f"count must be an integer between 1 and {MAX_COUNT}")
    list_id = str(body["list"]).lower() if body.get("list") else None
    store = emu.store
    with store.lock, store.transaction():
        if list_id is not None:
            list_row = store.get("list", list_id)
            if list_row is None:
                raise record_not_found("list", list_id)
            if list_row.get("type") or list_row.get("createdfromcode") != MEMBER_CODES[table]:
                raise ValueError(f"list {list_id} is not a static {table} list")
        start = int(store.org_value(f"generated:{table}", "0"))
        rng = random.Random((emu.options.random_seed or 0) * 1_000_003 + start)
        ids = _insert(emu, table, count, start, rng)
        store.set_org_value(f"generated:{table}", str(start + count))
        if list_id is not None:
            _add_members(emu, table, list_id, ids, rng)
    return {"entity": table, "count": count, "first_serial": start, "list": list_id}


def _system_values(emu: DataverseEmulator, entity_name: str) -> dict[str, Any]:
    now = emu.clock.stamp()
    user = seed.APP_USER_ID
    values: dict[str, Any] = {
        "createdon": now,
        "modifiedon": now,
        "statecode": 0,
        "donotbulkemail": 0,
        "donotemail": 0,
        "donotphone": 0,
    }
    for column in ("createdby", "modifiedby", "ownerid", "owninguser"):
        values[column] = user
        values[f"{column}__type"] = "systemuser"
    values["owningbusinessunit"] = seed.ROOT_BUSINESS_UNIT_ID
    values["owningbusinessunit__type"] = "businessunit"
    return values


def _rows(
    emu: DataverseEmulator, table: str, count: int, start: int, rng: random.Random
) -> Iterator[dict[str, Any]]:
    entity = emu.metadata.require(table)
    fixed = _system_values(emu, table)
    builder = BUILDERS[table]
    for serial in range(start, start + count):
        row = builder(rng, serial)
        row.update(fixed)
        row[entity.primary_id] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        yield row


def _insert(
    emu: DataverseEmulator, table: str, count: int, start: int, rng: random.Random
) -> list[str]:
    entity = emu.metadata.require(table)
    store = emu.store
    columns: list[str] | None = None
    pick: Callable[[dict[str, Any]], Any] = tuple
    ids: list[str] = []
    first_version = store.next_version(count)
    chunk: list[tuple[Any, ...]] = []
    known = set(store.columns(table))
    for offset, row in enumerate(_rows(emu, table, count, start, rng)):
        row["versionnumber"] = first_version + offset
        if columns is None:
            columns = [c for c in row if c in known]
            pick = itemgetter(*columns)
        ids.append(row[entity.primary_id])
        chunk.append(pick(row))
        if len(chunk) >= CHUNK:
            _flush(emu, table, columns, chunk)
            chunk = []
    if chunk and columns is not None:
        _flush(emu, table, columns, chunk)
    return ids


def _flush(
    emu: DataverseEmulator, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    emu.store.conn.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)


def _add_members(
    emu: DataverseEmulator, table: str, list_id: str, ids: list[str], rng: random.Random
) -> None:
    store = emu.store
    now = emu.clock.stamp()
    first_version = store.next_version(len(ids))
    columns = [
        "listmemberid",
        "listid",
        "listid__type",
        "entityid",
        "entityid__type",
        "entitytype",
        "createdon",
        "modifiedon",
        "versionnumber",
        "createdby",
        "createdby__type",
        "modifiedby",
        "modifiedby__type",
    ]
    rows = [
        (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            list_id,
            "list",
            member,
            table,
            table,
            now,
            now,
            first_version + offset,
            seed.APP_USER_ID,
            "systemuser",
            seed.APP_USER_ID,
            "systemuser",
        )
        for offset, member in enumerate(ids)
    ]
    for begin in range(0, len(rows), CHUNK):
        _flush(emu, "listmember", columns, rows[begin : begin + CHUNK])
    from crm2cr.emulators.dataverse.lists import refresh_member_count

    refresh_member_count(emu, list_id)
