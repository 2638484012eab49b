"""Receiver payloads (reference §6.4–6.6): parsing one item, merging values and tags.

Pure functions: what a payload asks for, judged apart from storage, so the
write engine (receivers_write.py) only decides and stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crm2cr.emulators.cleverreach.attributes import Attribute, Catalog
from crm2cr.emulators.cleverreach.rules import Requested
from crm2cr.emulators.cleverreach.wire import Refusal, normalize_email, stamp_field, valid_email

_INCREMENT = re.compile(r"^[+-]\d+(\.\d+)?$")


class ItemFailure(Exception):
    """One item of a batch failed; the batch goes on (a single write answers 4xx)."""

    def __init__(self, email: str, status: str, http_status: int = 400) -> None:
        super().__init__(status)
        self.email = email
        self.status = status
        self.http_status = http_status


@dataclass
class Item:
    email: str
    requested: Requested
    source: str | None
    imported: int | None
    global_values: list[tuple[Attribute, Any]]
    group_values: list[tuple[Attribute, Any]]
    tags: list[str] | None
    orders: list[Any] | None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str) -> float:
    try:
        return float(text) if text.strip() else 0.0
    except ValueError:
        return 0.0


def merge_values(current: dict[str, str], given: list[tuple[Attribute, Any]]) -> dict[str, str]:
    """Unmentioned attributes keep their values; "" clears (reference §6.5); "+1"/"-1" on a
    number attribute increments or decrements (§6.6)."""
    result = dict(current)
    for attr, raw in given:
        text = _text(raw)
        if attr.type == "number" and isinstance(raw, str) and _INCREMENT.match(raw.strip()):
            total = _number(result.get(attr.key, "")) + float(raw.strip())
            text = str(int(total)) if total.is_integer() else str(total)
        if text == "":
            result.pop(attr.key, None)
        else:
            result[attr.key] = text
    return result


def merge_tags(current: list[str], given: list[str], *, replace_all: bool) -> list[str]:
    """Batch tags are added; `-Tag` removes one, `-Origin.*` a whole origin (§6.6)."""
    result = [] if replace_all else list(current)
    for raw in given:
        tag = str(raw).strip()
        if not tag:
            continue
        if tag.startswith("-"):
            name = tag[1:]
            if name.endswith(".*"):
                result = [t for t in result if not t.startswith(name[:-1])]
            else:
                result = [t for t in result if t != name]
        elif tag not in result:
            result.append(tag)
    return result


def _values(raw: Any, lookup: Any, email: str) -> list[tuple[Attribute, Any]]:
    """Defined attributes from a payload map; undefined names are ignored (§6.4, emulator)."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise ItemFailure(email, "invalid attributes")
    found = []
    for name, value in raw.items():
        attr = lookup(str(name).strip().lower().replace(" ", "_"))
        if attr is not None:
            if isinstance(value, dict | list):
                raise ItemFailure(email, f"invalid value for '{name}'")
            found.append((attr, value))
    return found


def parse_item(raw: Any, catalog: Catalog, group_id: int) -> Item:
    """One payload item; top-level attribute names (`firstname`) are ignored (§6.4)."""
    if not isinstance(raw, dict):
        raise ItemFailure(str(raw) if isinstance(raw, str) else "", f"invalid address '{raw}'")
    given = raw.get("email")
    email = normalize_email(given) if isinstance(given, str) else ""
    if not valid_email(email):
        raise ItemFailure(email or _text(given), f"invalid address '{_text(given)}'")
    try:
        requested = Requested(
            stamp_field(raw, "registered"),
            stamp_field(raw, "activated"),
            stamp_field(raw, "deactivated"),
        )
        imported = stamp_field(raw, "imported")
    except Refusal as refusal:
        raise ItemFailure(email, refusal.detail) from None
    tags = raw.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
    ):
        raise ItemFailure(email, "invalid tags")
    orders = raw.get("orders")
    if orders is not None and not isinstance(orders, list):
        raise ItemFailure(email, "invalid orders")
    source = raw.get("source")
    return Item(
        email=email,
        requested=requested,
        source=None if source is None else _text(source),
        imported=imported,
        global_values=_values(raw.get("global_attributes"), catalog.global_named, email),
        group_values=_values(
            raw.get("attributes"), lambda n: catalog.group_named(group_id, n), email
        ),
        tags=tags,
        orders=orders,
    )
