"""FetchXML result rows → Web API JSON records (reference §3, §4.3, §5).

Values and annotations are formatted by serialize.py, as for OData queries;
what differs is the shape: null columns are omitted, link-entity columns are
named `{alias}.{attribute}`, and a root lookup reads as `_x_value` while a
linked one keeps its alias name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.fetchxml_sql import CompiledFetch, OutputColumn
from crm2cr.emulators.dataverse.serialize import (
    FORMATTED,
    LOOKUP_TABLE,
    NAVIGATION,
    Formatter,
    etag,
    navigation_name,
    wire_value,
)
from crm2cr.emulators.dataverse.store import Row
from crm2cr.emulators.dataverse.wire import Prefer

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator


class RecordWriter:
    """Turns the SQL rows of one compiled query into records, with the annotations asked for."""

    def __init__(self, compiled: CompiledFetch, emu: DataverseEmulator, prefer: Prefer) -> None:
        self.compiled = compiled
        self.formatter = Formatter(emu, prefer)

    def records(self, rows: list[Row]) -> list[dict[str, Any]]:
        split = [self._by_source(row) for row in rows]
        for source in self.compiled.sources:
            attrs = [c.attribute for c in self.compiled.columns if c.source is source]
            self.formatter.prime([s[source.sql_alias] for s in split], attrs)
        return [self._record(parts) for parts in split]

    def _by_source(self, row: Row) -> dict[str, Row]:
        """One SQL row as a storage row per table (logical names, `<lookup>__type`)."""
        parts: dict[str, Row] = {s.sql_alias: {} for s in self.compiled.sources}
        for column in self.compiled.columns:
            target = parts[column.source.sql_alias]
            name = column.attribute.logical_name
            target[name] = row[column.labels[0]]
            if column.attribute.is_lookup:
                target[f"{name}__type"] = row[column.labels[1]]
        return parts

    def _record(self, parts: dict[str, Row]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        version: Any = None
        for column in self.compiled.columns:
            row = parts[column.source.sql_alias]
            attr = column.attribute
            value = row.get(attr.logical_name)
            if value is None:
                continue  # FetchXML omits null columns (§5)
            if column.source is self.compiled.root and attr.logical_name == "versionnumber":
                version = value
                if column.hidden:
                    continue
            name = self._property_name(column)
            self._annotate(record, name, column, value, row)
            record[name] = wire_value(attr, value)
        return {"@odata.etag": etag(version), **record} if version is not None else record

    def _property_name(self, column: OutputColumn) -> str:
        attr = column.attribute
        if column.source is self.compiled.root and column.name == attr.logical_name:
            return attr.read_name
        return column.name

    def _annotate(
        self, record: dict[str, Any], name: str, column: OutputColumn, value: Any, row: Row
    ) -> None:
        formatter = self.formatter
        if not formatter.annotates:
            return
        attr = column.attribute
        if formatter.want_formatted:
            text = formatter.formatted(attr, value, row)
            if text is not None:
                record[f"{name}@{FORMATTED}"] = text
        if attr.is_lookup:
            table = str(row.get(f"{attr.logical_name}__type") or attr.targets[0])
            if formatter.want_navigation:
                nav = navigation_name(column.source.entity, attr, table)
                record[f"{name}@{NAVIGATION}"] = nav
            if formatter.want_lookup_table:
                record[f"{name}@{LOOKUP_TABLE}"] = table
