"""FetchXML condition values → the store's column values (reference §3, §5).

Condition values are text; the store keeps GUIDs lower case, booleans 0/1,
choices as integers and DateTime as UTC Unix seconds (store.py), so each value
is converted by its column's type before it becomes an SQL parameter. A value
that does not fit is a 400 naming the column.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from crm2cr.emulators.dataverse.errors import ODataError, bad_guid, bad_request
from crm2cr.emulators.dataverse.fetchxml_dates import parse_datetime
from crm2cr.emulators.dataverse.metadata import (
    INTEGER_KINDS,
    NUMBER_KINDS,
    AttributeDef,
    EntityDef,
)

GUID_KINDS = frozenset({"Uniqueidentifier", "Lookup", "Owner", "Customer"})


def value_converter(attr: AttributeDef, entity: EntityDef) -> Callable[[str], Any]:
    """How a condition's text value becomes the stored form of `attr` (store.py's layout)."""
    where = f"{entity.logical_name}.{attr.logical_name}"

    def guid(text: str) -> str:
        cleaned = text.strip().strip("{}")
        try:
            return str(uuid.UUID(cleaned))
        except ValueError:
            raise bad_guid(text) from None

    def whole(text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise _bad_value(where, text, "a whole number") from None

    def number(text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            raise _bad_value(where, text, "a number") from None

    def flag(text: str) -> int:
        lowered = text.strip().lower()
        if lowered in ("1", "true"):
            return 1
        if lowered in ("0", "false"):
            return 0
        raise _bad_value(where, text, "true, false, 1 or 0")

    def moment(text: str) -> float:
        return parse_datetime(text).timestamp()

    if attr.kind in GUID_KINDS:
        return guid
    if attr.kind in INTEGER_KINDS:
        return whole
    if attr.kind in NUMBER_KINDS:
        return number
    if attr.kind == "Boolean":
        return flag
    if attr.kind == "DateTime":
        return moment
    return str


def _bad_value(where: str, text: str, expected: str) -> ODataError:
    return bad_request(f"Condition for attribute '{where}': '{text}' is not {expected}.")
