"""FetchXML result rows → Web API JSON records (reference §3, §4.3, §5).

Differences from an OData query's records, as the service has them: null
columns are omitted, link-entity columns are named `{alias}.{attribute}`, and
a root lookup reads as `_x_value` while a linked one keeps its alias name.
Annotations come only when `Prefer: odata.include-annotations` asks for them,
each right before its property.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from crm2cr.emulators.dataverse.fetchxml_sql import CompiledFetch, OutputColumn
from crm2cr.emulators.dataverse.metadata import (
    INTEGER_KINDS,
    NUMBER_KINDS,
    AttributeDef,
    EntityDef,
    Metadata,
)
from crm2cr.emulators.dataverse.store import Row, Store, quote
from crm2cr.emulators.dataverse.wire import Prefer

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_TABLE = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"


def wire_value(attr: AttributeDef, stored: Any) -> Any:
    """A stored value as JSON: booleans true/false, DateTime `…Z`, numbers as numbers."""
    if attr.kind == "Boolean":
        return bool(stored)
    if attr.kind == "DateTime":
        return datetime.fromtimestamp(int(stored), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if attr.kind in INTEGER_KINDS:
        return int(stored)
    if attr.kind in NUMBER_KINDS:
        return float(stored)
    return stored


def formatted_date(stored: Any) -> str:
    """Dates as the emulator formats them for display: UTC, `M/d/yyyy h:mm tt` (§17.13)."""
    moment = datetime.fromtimestamp(int(stored), UTC)
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {suffix}"


class RecordWriter:
    """Turns the SQL rows of one compiled query into records, with the annotations asked for."""

    def __init__(self, compiled: CompiledFetch, store: Store, prefer: Prefer) -> None:
        self.compiled = compiled
        self.store = store
        self.metadata: Metadata = store.metadata
        self.formatted = prefer.wants(FORMATTED)
        self.lookup_table = prefer.wants(LOOKUP_TABLE)
        self.navigation = prefer.wants(NAVIGATION)

    def records(self, rows: list[Row]) -> list[dict[str, Any]]:
        names = self._lookup_names(rows) if self.formatted else {}
        return [self._record(row, names) for row in rows]

    def _record(self, row: Row, names: dict[tuple[str, str], str]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        etag: str | None = None
        for column in self.compiled.columns:
            stored = row[column.labels[0]]
            if stored is None:
                continue  # FetchXML omits null columns (§5)
            attr = column.attribute
            if attr.logical_name == "versionnumber" and column.source is self.compiled.root:
                etag = f'W/"{int(stored)}"'
                if column.hidden:
                    continue
            name = self._property_name(column)
            if attr.is_lookup:
                target = row[column.labels[1]] or (attr.targets[0] if attr.targets else "")
                self._lookup_annotations(record, name, attr, column, target, names, stored)
                record[name] = stored
                continue
            if self.formatted:
                label = self._label(attr, stored)
                if label is not None:
                    record[f"{name}@{FORMATTED}"] = label
            record[name] = wire_value(attr, stored)
        return {"@odata.etag": etag, **record} if etag is not None else record

    def _property_name(self, column: OutputColumn) -> str:
        attr = column.attribute
        if column.source is self.compiled.root and column.name == attr.logical_name:
            return attr.read_name
        return column.name

    def _lookup_annotations(
        self,
        record: dict[str, Any],
        name: str,
        attr: AttributeDef,
        column: OutputColumn,
        target: str,
        names: dict[tuple[str, str], str],
        stored: Any,
    ) -> None:
        if self.formatted:
            label = names.get((target, str(stored)))
            if label is not None:
                record[f"{name}@{FORMATTED}"] = label
        if self.navigation:
            nav = _navigation_name(column.source.entity, attr, target)
            if nav is not None:
                record[f"{name}@{NAVIGATION}"] = nav
        if self.lookup_table and target:
            record[f"{name}@{LOOKUP_TABLE}"] = target

    @staticmethod
    def _label(attr: AttributeDef, stored: Any) -> str | None:
        if attr.kind == "Boolean" or attr.is_choice:
            return attr.label(int(stored))
        if attr.kind == "DateTime":
            return formatted_date(stored)
        if attr.kind == "Money":
            return f"{float(stored):,.2f}"
        if attr.kind in INTEGER_KINDS or attr.kind in NUMBER_KINDS:
            return f"{stored:,}"
        return None

    def _lookup_names(self, rows: list[Row]) -> dict[tuple[str, str], str]:
        """Primary names of every lookup target on the page, one query per target table."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for column in self.compiled.columns:
            if not column.attribute.is_lookup:
                continue
            for row in rows:
                value = row[column.labels[0]]
                if value is not None:
                    target = row[column.labels[1]] or column.attribute.targets[0]
                    wanted[target].add(str(value))
        names: dict[tuple[str, str], str] = {}
        for target, ids in wanted.items():
            entity = self.metadata.entity(target)
            if entity is None or not entity.primary_name:
                continue
            for chunk in _chunks(sorted(ids), 500):
                marks = ", ".join("?" for _ in chunk)
                for found in self.store.query(
                    f"SELECT {quote(entity.primary_id)} AS id, {quote(entity.primary_name)} AS name"
                    f" FROM {quote(entity.logical_name)}"
                    f" WHERE {quote(entity.primary_id)} IN ({marks})",
                    chunk,
                ):
                    if found["name"] is not None:
                        names[(target, str(found["id"]))] = str(found["name"])
        return names


def _navigation_name(entity: EntityDef, attr: AttributeDef, target: str) -> str | None:
    for nav in entity.navigations.values():
        if nav.attribute == attr.logical_name and (target in nav.targets or not target):
            return nav.name
    return None


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
