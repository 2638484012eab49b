"""Rows → the JSON the Web API answers (reference §4.2, §4.3).

Every entity carries `@odata.etag` (`W/"<versionnumber>"`) and its primary
key. Lookups read as `_x_value`. Annotations come only when the request's
`Prefer: odata.include-annotations` asks for them, each right before its
property: `FormattedValue` (choice and two-option labels, lookup target
names, money with its currency symbol, numbers, dates as `M/d/yyyy h:mm tt`
in UTC, §17.13), and on lookups `associatednavigationproperty` and
`lookuplogicalname`.

`wire_value(attr, value)` and `Formatter.formatted(...)` are what FetchXML
answers reuse, so both kinds of query format values alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.metadata import (
    CHOICE_KINDS,
    NUMBER_KINDS,
    AttributeDef,
    EntityDef,
)
from crm2cr.emulators.dataverse.store import Row, quote
from crm2cr.emulators.dataverse.wire import Prefer

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_TABLE = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"


def iso(stamp: int | float) -> str:
    """UTC, whole seconds, `Z` (§3)."""
    return datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def etag(version: Any) -> str:
    return f'W/"{int(version)}"'


def wire_value(attr: AttributeDef, value: Any) -> Any:
    """A storage value as JSON (booleans, dates, numbers); None stays None."""
    if value is None:
        return None
    kind = attr.kind
    if kind == "Boolean":
        return bool(value)
    if kind == "DateTime":
        return iso(value)
    if kind in NUMBER_KINDS:
        return float(value)
    if kind in ("Integer", "BigInt") or kind in CHOICE_KINDS:
        return int(value)
    return value


def format_datetime(stamp: int | float) -> str:
    moment = datetime.fromtimestamp(int(stamp), UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {half}"


def format_number(attr: AttributeDef, value: Any) -> str:
    if attr.kind in ("Integer", "BigInt"):
        return f"{int(value):,}"
    precision = attr.precision if attr.precision is not None else 2
    return f"{float(value):,.{precision}f}"


class Formatter:
    """Formats the rows of one answer; looks lookup names and currencies up once per page."""

    def __init__(self, emu: DataverseEmulator, prefer: Prefer) -> None:
        self.emu = emu
        self.prefer = prefer
        self.want_formatted = prefer.wants(FORMATTED)
        self.want_lookup_table = prefer.wants(LOOKUP_TABLE)
        self.want_navigation = prefer.wants(NAVIGATION)
        self._names: dict[tuple[str, str], str | None] = {}
        self._symbols: dict[str, str] = {}

    @property
    def annotates(self) -> bool:
        return self.want_formatted or self.want_lookup_table or self.want_navigation

    def prime(self, rows: Iterable[Row], attrs: Sequence[AttributeDef]) -> None:
        """Fetch the names of every lookup target in `rows` with one query per table."""
        if not self.want_formatted:
            return
        wanted: dict[str, set[str]] = defaultdict(set)
        lookups = [a for a in attrs if a.is_lookup]
        money = any(a.kind == "Money" for a in attrs)
        for row in rows:
            for attr in lookups:
                target_id = row.get(attr.logical_name)
                table = row.get(f"{attr.logical_name}__type") or (attr.targets[:1] or ("",))[0]
                if target_id and (table, target_id) not in self._names:
                    wanted[table].add(target_id)
            if money and row.get("transactioncurrencyid"):
                wanted["transactioncurrency"].add(row["transactioncurrencyid"])
        for table, ids in wanted.items():
            self._load_names(table, ids)

    def _load_names(self, table: str, ids: set[str]) -> None:
        entity = self.emu.metadata.entity(table)
        if entity is None:
            return
        name_column = entity.primary_name or entity.primary_id
        id_list = sorted(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            extra = ', "currencysymbol"' if table == "transactioncurrency" else ""
            for found in self.emu.store.query(
                f"SELECT {quote(entity.primary_id)} AS id, {quote(name_column)} AS name{extra} "
                f"FROM {quote(table)} WHERE {quote(entity.primary_id)} IN ({marks})",
                chunk,
            ):
                self._names[(table, found["id"])] = found["name"]
                if table == "transactioncurrency":
                    self._symbols[found["id"]] = found.get("currencysymbol") or ""
        for target_id in id_list:
            self._names.setdefault((table, target_id), None)

    def target_name(self, table: str, target_id: str) -> str | None:
        key = (table, target_id)
        if key not in self._names:
            self._load_names(table, {target_id})
        return self._names.get(key)

    def formatted(self, attr: AttributeDef, value: Any, row: Row) -> str | None:
        """The FormattedValue annotation of one value, or None when it has none."""
        if value is None:
            return None
        kind = attr.kind
        if kind in CHOICE_KINDS or kind == "Boolean":
            return attr.label(int(value))
        if attr.is_lookup:
            table = row.get(f"{attr.logical_name}__type") or attr.targets[0]
            return self.target_name(str(table), str(value))
        if kind == "DateTime":
            return format_datetime(value)
        if kind == "Money":
            currency = row.get("transactioncurrencyid")
            symbol = self._symbols.get(currency, "") if currency else ""
            if currency and not symbol:
                self.target_name("transactioncurrency", currency)
                symbol = self._symbols.get(currency, "")
            return f"{symbol or '€'}{format_number(attr, value)}"
        if kind in ("Integer", "Decimal", "Double"):
            return format_number(attr, value)
        return None

    def entity(
        self, entity: EntityDef, row: Row, attrs: Sequence[AttributeDef], *, with_etag: bool = True
    ) -> dict[str, Any]:
        """One record as JSON: etag, the selected columns (annotated if asked), primary key."""
        out: dict[str, Any] = {}
        if with_etag and row.get("versionnumber") is not None:
            out["@odata.etag"] = etag(row["versionnumber"])
        for attr in attrs:
            self.put(out, entity, attr, row)
        key = entity.primary_id
        if key not in out and key in row:
            out[key] = row[key]
        return out

    def put(self, out: dict[str, Any], entity: EntityDef, attr: AttributeDef, row: Row) -> None:
        name = attr.read_name
        value = row.get(attr.logical_name)
        if self.annotates and value is not None:
            if self.want_formatted:
                text = self.formatted(attr, value, row)
                if text is not None:
                    out[f"{name}@{FORMATTED}"] = text
            if attr.is_lookup:
                table = str(row.get(f"{attr.logical_name}__type") or attr.targets[0])
                if self.want_navigation:
                    out[f"{name}@{NAVIGATION}"] = navigation_name(entity, attr, table)
                if self.want_lookup_table:
                    out[f"{name}@{LOOKUP_TABLE}"] = table
        out[name] = wire_value(attr, value)


def navigation_name(entity: EntityDef, attr: AttributeDef, table: str) -> str:
    """The navigation property a lookup value goes through (`parentcustomerid_account`)."""
    for nav in entity.navigations.values():
        if nav.attribute == attr.logical_name and table in nav.targets:
            return nav.name
    return attr.logical_name


def context_url(api_root: str, entity_set: str, attrs: Sequence[AttributeDef] | None) -> str:
    """`{api}/$metadata#contacts(fullname,_ownerid_value)`; all columns → `#contacts`."""
    if attrs is None:
        return f"{api_root}/$metadata#{entity_set}"
    return f"{api_root}/$metadata#{entity_set}({','.join(a.read_name for a in attrs)})"
