"""A solution as the organisation holds it now: its components, read from the metadata.

An import records the solution's components (its tables, the columns and
options it added to other tables, its relationships); InsertOptionValue with a
SolutionUniqueName adds to them. ExportSolution rebuilds the `Solution` from
those components and the current metadata, so what it writes is what the
organisation has, and re-imports.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.metadata import AttributeDef, EntityDef
from crm2cr.solution.schema import (
    AlternateKey,
    CascadeDelete,
    Column,
    ColumnType,
    Label,
    Option,
    Publisher,
    Relationship,
    RequiredLevel,
    Solution,
    Table,
    TableExtension,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

TYPES: dict[str, ColumnType] = {
    "String": "string",
    "Memo": "memo",
    "Integer": "integer",
    "BigInt": "bigint",
    "DateTime": "datetime",
    "Boolean": "boolean",
    "Picklist": "picklist",
    "Lookup": "lookup",
}
REQUIRED: dict[str, RequiredLevel] = {
    "None": "none",
    "Recommended": "recommended",
    "ApplicationRequired": "required",
    "SystemRequired": "required",
}


@dataclass
class Components:
    """What belongs to one solution; persisted as JSON in the store."""

    tables: list[str] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)  # extended table -> columns
    options: list[tuple[str, str, int]] = field(default_factory=list)  # table, column, value
    relationships: list[dict[str, str]] = field(default_factory=list)

    def add(self, solution: Solution) -> None:
        for table in solution.tables:
            if table.logical_name not in self.tables:
                self.tables.append(table.logical_name)
        for ext in solution.extensions:
            names = self.columns.setdefault(ext.table, [])
            names.extend(c.logical_name for c in ext.columns if c.logical_name not in names)
            for column, option in ext.options:
                self.add_option(ext.table, column, option.value)
        known = {r["schema_name"] for r in self.relationships}
        for rel in solution.relationships:
            if rel.schema_name not in known:
                self.relationships.append({k: str(v) for k, v in asdict(rel).items()})

    def add_option(self, table: str, column: str, value: int) -> None:
        self.columns.setdefault(table, [])
        if (table, column, value) not in self.options:
            self.options.append((table, column, value))


def _key(unique_name: str) -> str:
    return f"solution_components:{unique_name.lower()}"


def load_components(emu: DataverseEmulator, unique_name: str) -> Components:
    raw = emu.store.org_value(_key(unique_name))
    if not raw:
        return Components()
    data: dict[str, Any] = json.loads(raw)
    return Components(
        list(data.get("tables", [])),
        {k: list(v) for k, v in data.get("columns", {}).items()},
        [(str(t), str(c), int(v)) for t, c, v in data.get("options", [])],
        [dict(r) for r in data.get("relationships", [])],
    )


def save_components(emu: DataverseEmulator, unique_name: str, components: Components) -> None:
    emu.store.set_org_value(_key(unique_name), json.dumps(asdict(components)))


def column_of(attr: AttributeDef) -> Column:
    return Column(
        attr.schema_name,
        Label(attr.display_name),
        TYPES[attr.kind],
        max_length=attr.max_length if attr.kind in ("String", "Memo") else None,
        required=REQUIRED[attr.required_level],
        targets=attr.targets if attr.is_lookup else (),
        options=tuple(Option(o.value, Label(o.label)) for o in attr.options.values())
        if attr.kind in ("Picklist", "Boolean")
        else (),
        description=attr.description,
    )


def table_of(entity: EntityDef) -> Table:
    custom = [
        attr
        for attr in entity.attributes.values()
        if attr.is_custom and attr.logical_name != entity.primary_name and attr.kind in TYPES
    ]
    return Table(
        entity.schema_name,
        Label(entity.display_name),
        Label(entity.display_collection_name),
        column_of(entity.attributes[entity.primary_name]),
        tuple(column_of(a) for a in custom),
        tuple(AlternateKey(name, Label(name), columns) for name, columns in entity.keys.items()),
        ownership="OrganizationOwned" if entity.ownership == "OrganizationOwned" else "UserOwned",
        change_tracking=entity.change_tracking,
        description=entity.description,
    )


def extension_of(emu: DataverseEmulator, table: str, components: Components) -> TableExtension:
    entity = emu.metadata.require(table)
    columns = tuple(
        column_of(entity.attributes[name])
        for name in components.columns.get(table, [])
        if name in entity.attributes
    )
    options = []
    for owner, column, value in components.options:
        attr = entity.attributes.get(column)
        if owner == table and attr is not None and value in attr.options:
            options.append((column, Option(value, Label(attr.options[value].label))))
    return TableExtension(table, entity.schema_name, columns, tuple(options))


def _cascade(value: str) -> CascadeDelete:
    for cascade in ("Cascade", "RemoveLink", "Restrict"):
        if cascade == value:
            return cascade
    return "RemoveLink"


def installed_solution(
    emu: DataverseEmulator, row: dict[str, Any], publisher: Publisher, *, managed: bool
) -> Solution:
    """The solution of a `solution` row, as the organisation holds it now."""
    unique_name = str(row["uniquename"])
    components = load_components(emu, unique_name)
    tables = tuple(
        table_of(entity)
        for name in components.tables
        if (entity := emu.metadata.entity(name)) is not None
    )
    extensions = tuple(
        extension_of(emu, table, components)
        for table in components.columns
        if table in emu.metadata
    )
    relationships = tuple(
        Relationship(
            r["schema_name"],
            r["referenced"],
            r["referencing"],
            r["lookup"],
            _cascade(r.get("cascade_delete", "")),
        )
        for r in components.relationships
    )
    return Solution(
        unique_name,
        Label(str(row.get("friendlyname") or unique_name)),
        str(row["version"]),
        publisher,
        tables,
        extensions,
        relationships,
        managed=managed,
        description=str(row.get("description") or ""),
    )
