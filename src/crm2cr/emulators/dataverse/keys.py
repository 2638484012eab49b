"""Record keys in URLs: `contacts(<guid>)`, alternate keys `contacts(emailaddress1='a@b.c')`.

Reference §1, §7.4.

An alternate key works only when the table defines it (standard ones, or
`POST EntityDefinitions(LogicalName='x')/Keys`); the values then identify at
most one row, since defining a key refuses duplicates.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import bad_guid, bad_request
from crm2cr.emulators.dataverse.metadata import EntityDef
from crm2cr.emulators.dataverse.odata import FilterCompiler, parse_filter
from crm2cr.emulators.dataverse.query import split_top_level
from crm2cr.emulators.dataverse.store import quote

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_guid(text: str) -> str:
    """A lower-case GUID, or 400 as the service answers a malformed one."""
    value = text.strip()
    if not GUID.match(value):
        raise bad_guid(value)
    return str(uuid.UUID(value))


@dataclass(frozen=True)
class RecordKey:
    """A parsed key: `record_id` for a GUID key, else `values` (column → storage value)."""

    text: str
    record_id: str | None = None
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def is_alternate(self) -> bool:
        return self.record_id is None


def parse_key(emu: DataverseEmulator, entity: EntityDef, text: str) -> RecordKey:
    stripped = text.strip()
    if "=" not in stripped:
        return RecordKey(stripped, record_id=parse_guid(stripped))
    compiler = FilterCompiler(emu.metadata, entity)
    pairs: list[tuple[str, Any]] = []
    for part in split_top_level(stripped):
        name, sep, literal = part.partition("=")
        name = name.strip()
        if not sep:
            raise bad_request(f"The key '{text}' is not valid.")
        if name == entity.primary_id:
            return RecordKey(stripped, record_id=parse_guid(literal))
        attr = compiler.column(name)
        # The literal goes through the filter grammar, so quoting and types match $filter.
        node = parse_filter(f"{name} eq {literal.strip()}")
        right = getattr(node, "right", None)
        if right is None:
            raise bad_request(f"The key '{text}' is not valid.")
        pairs.append((attr.logical_name, compiler.value(attr, right, "Equal")))
    columns = tuple(sorted(name for name, _ in pairs))
    if not any(tuple(sorted(key)) == columns for key in entity.keys.values()):
        raise bad_request(
            f"The key attributes ({', '.join(columns)}) are not an alternate key of "
            f"the entity '{entity.logical_name}'."
        )
    return RecordKey(stripped, values=tuple(pairs))


def find_record_id(emu: DataverseEmulator, entity: EntityDef, key: RecordKey) -> str | None:
    """The id the key names, if such a row exists."""
    if key.record_id is not None:
        return key.record_id if emu.store.exists(entity.logical_name, key.record_id) else None
    where = " AND ".join(f"{quote(name)} = ?" for name, _ in key.values)
    found = emu.store.scalar(
        f"SELECT {quote(entity.primary_id)} FROM {quote(entity.logical_name)} "
        f"WHERE {where} LIMIT 1",
        [value for _, value in key.values],
    )
    return str(found) if found is not None else None
