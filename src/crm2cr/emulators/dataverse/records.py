"""Rows as the service completes them: defaults, computed columns, owner columns.

Shared by the write handlers, the seeds and the synthetic-data generator, so
a row looks the same however it got into the store.
"""

from __future__ import annotations

from typing import Any

from crm2cr.emulators.dataverse.metadata import EntityDef, default_status
from crm2cr.emulators.dataverse.store import Row

PERSON_TABLES = frozenset({"contact", "lead", "systemuser"})


def storage_default(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def apply_defaults(entity: EntityDef, row: Row) -> None:
    """Column defaults for a new row (statecode 0, booleans false, list type static...)."""
    for attr in entity.attributes.values():
        if attr.logical_name not in row and attr.default is not None:
            row[attr.logical_name] = storage_default(attr.default)
    status = entity.attributes.get("statuscode")
    if status is not None and row.get("statuscode") is None and "statecode" in row:
        row["statuscode"] = default_status(status, int(row["statecode"] or 0))


def full_name(first: Any, last: Any) -> str | None:
    """Dataverse's default full-name format, "First Last"."""
    parts = [str(p).strip() for p in (first, last) if p not in (None, "")]
    return " ".join(p for p in parts if p) or None


def compute(entity: EntityDef, row: Row, existing: Row | None = None) -> None:
    """Recompute derived columns after `row` (new values) is merged over `existing`."""
    if entity.logical_name in PERSON_TABLES and ({"firstname", "lastname"} & row.keys()):
        before = existing or {}
        first = row.get("firstname", before.get("firstname"))
        last = row.get("lastname", before.get("lastname"))
        row[entity.primary_name] = full_name(first, last)
    if "ownerid" in row and "ownerid" in entity.attributes:
        owner_type = row.get("ownerid__type") or "systemuser"
        row["owninguser"] = row["ownerid"] if owner_type == "systemuser" else None
        row["owninguser__type"] = "systemuser" if owner_type == "systemuser" else None
        row["owningteam"] = row["ownerid"] if owner_type == "team" else None
        row["owningteam__type"] = "team" if owner_type == "team" else None


def new_row(
    entity: EntityDef,
    values: Row,
    *,
    user_id: str,
    business_unit_id: str,
) -> Row:
    """A complete new row: defaults, creator, owner (the creator unless given), computed."""
    row = dict(values)
    apply_defaults(entity, row)
    for column in ("createdby", "modifiedby"):
        if column in entity.attributes:
            row.setdefault(column, user_id)
            row.setdefault(f"{column}__type", "systemuser")
    if "ownerid" in entity.attributes and not row.get("ownerid"):
        row["ownerid"] = user_id
        row["ownerid__type"] = "systemuser"
    if "owningbusinessunit" in entity.attributes:
        row.setdefault("owningbusinessunit", business_unit_id)
        row.setdefault("owningbusinessunit__type", "businessunit")
    compute(entity, row)
    return row
