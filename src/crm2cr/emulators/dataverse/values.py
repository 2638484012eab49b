"""JSON values of a write → storage values, checked like the service checks them (§7.1).

Type mismatches are 400 `0x0` "Cannot convert the literal ..."; strings longer
than the column allows, numbers out of range and unknown choice values are
400 `0x80044331` validation errors.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from crm2cr.emulators.dataverse.errors import (
    ODataError,
    bad_request,
    length_exceeded,
    validation_error,
)
from crm2cr.emulators.dataverse.keys import GUID
from crm2cr.emulators.dataverse.metadata import (
    INTEGER_KINDS,
    NUMBER_KINDS,
    STRING_KINDS,
    AttributeDef,
    EntityDef,
)
from crm2cr.emulators.dataverse.odata import EDM_TYPES


def cannot_convert(value: Any, attr: AttributeDef) -> ODataError:
    literal = str(value).lower() if isinstance(value, bool) else value
    return bad_request(
        f"Cannot convert the literal '{literal}' to the expected type "
        f"'{EDM_TYPES.get(attr.kind, 'Edm.String')}'."
    )


def out_of_range(value: Any, attr: AttributeDef, entity: EntityDef) -> ODataError:
    return validation_error(
        f"The value {value} of '{attr.logical_name}' on record of type "
        f"'{entity.logical_name}' is outside the valid range."
    )


def to_storage(entity: EntityDef, attr: AttributeDef, value: Any) -> Any:
    """The value to store for `attr`; None clears the column."""
    if value is None:
        return None
    kind = attr.kind
    if kind in STRING_KINDS:
        if not isinstance(value, str):
            raise cannot_convert(value, attr)
        if attr.max_length is not None and len(value) > attr.max_length:
            raise length_exceeded(attr.logical_name, entity.logical_name, attr.max_length)
        return value
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise cannot_convert(value, attr)
        return int(value)
    if kind in INTEGER_KINDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise cannot_convert(value, attr)
        if attr.is_choice and attr.kind != "State" and value not in attr.options:
            raise out_of_range(value, attr, entity)
        if attr.kind == "State" and value not in attr.options:
            raise out_of_range(value, attr, entity)
        _check_range(value, attr, entity)
        return value
    if kind in NUMBER_KINDS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise cannot_convert(value, attr)
        _check_range(value, attr, entity)
        return float(value)
    if kind == "DateTime":
        if not isinstance(value, str):
            raise cannot_convert(value, attr)
        return parse_timestamp(value, attr)
    if kind == "Uniqueidentifier":
        if not isinstance(value, str) or not GUID.match(value):
            raise cannot_convert(value, attr)
        return value.lower()
    raise cannot_convert(value, attr)


def _check_range(value: float, attr: AttributeDef, entity: EntityDef) -> None:
    if attr.min_value is not None and value < attr.min_value:
        raise out_of_range(value, attr, entity)
    if attr.max_value is not None and value > attr.max_value:
        raise out_of_range(value, attr, entity)


def parse_timestamp(text: str, attr: AttributeDef) -> int:
    """ISO date-time (UTC if no offset) or date-only → Unix seconds."""
    value = text.strip()
    try:
        if len(value) == 10:
            return int(datetime.combine(date.fromisoformat(value), time(), UTC).timestamp())
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise cannot_convert(text, attr) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
