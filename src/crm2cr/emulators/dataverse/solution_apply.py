"""What an imported solution does to the organisation's schema (reference §10, §13).

`check` refuses, before anything changes, a solution the organisation cannot
take (a table to extend that does not exist, a lookup to a missing table, a
column whose type would change). `apply` then creates the solution's tables
(with the system columns every table has), adds its columns, choice options,
alternate keys and lookups, and returns what it touched. On an upgrade the
same calls add only what is new, so every existing row stays.

Lookups get the navigation names Dataverse gives custom lookups: the
single-valued navigation is the lookup's schema name (`crm2cr_ContactId`,
case-sensitive in `@odata.bind`), the relationship keeps its schema name.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.metadata import (
    AttributeDef,
    AttributeKind,
    EntityDef,
    NavigationDef,
    OptionDef,
    RequiredLevel,
    bigint,
    boolean,
    datetime_,
    integer,
    lookup,
    memo,
    new_entity,
    picklist,
    string,
)
from crm2cr.emulators.dataverse.store import quote
from crm2cr.solution.schema import Column, Relationship, Solution, Table, TableExtension

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

FIRST_CUSTOM_OTC = 10_000
KINDS: dict[str, AttributeKind] = {
    "string": "String",
    "memo": "Memo",
    "integer": "Integer",
    "bigint": "BigInt",
    "datetime": "DateTime",
    "boolean": "Boolean",
    "picklist": "Picklist",
    "lookup": "Lookup",
}
REQUIRED_LEVELS: dict[str, RequiredLevel] = {
    "none": "None",
    "recommended": "Recommended",
    "required": "ApplicationRequired",
}
# An import the organisation refuses: 400 with the reason (emulator default [I]).
IMPORT_FAILED = "0x80048033"


def refused(message: str) -> ODataError:
    return ODataError(400, IMPORT_FAILED, message)


def check(emu: DataverseEmulator, solution: Solution) -> None:
    """Raise 400 naming the first reason the organisation cannot take `solution`."""
    metadata = emu.metadata
    own = {t.logical_name for t in solution.tables}
    for table in solution.tables:
        existing = metadata.entity(table.logical_name)
        if existing is not None and not existing.is_custom:
            raise refused(
                f"The table '{table.logical_name}' is a system table of this organisation."
            )
        if existing is None and metadata.by_set(table.entity_set_name) is not None:
            raise refused(f"The entity set name '{table.entity_set_name}' is already in use.")
        for column in table.all_columns:
            _check_column(emu, table.logical_name, column, own)
        if existing is not None:
            _check_new_keys(emu, existing, table)
    for ext in solution.extensions:
        entity = metadata.entity(ext.table)
        if entity is None:
            raise refused(
                f"The solution extends the table '{ext.table}', which this organisation "
                "does not have."
            )
        for column in ext.columns:
            _check_column(emu, ext.table, column, own)
        for name, _option in ext.options:
            attr = entity.attribute(name)
            if attr is None or attr.kind != "Picklist":
                raise refused(f"'{ext.table}.{name}' is not a choice column of this organisation.")


def _check_column(emu: DataverseEmulator, table: str, column: Column, own: set[str]) -> None:
    for target in column.targets:
        if target not in own and target not in emu.metadata:
            raise refused(
                f"The lookup '{table}.{column.logical_name}' points at the table '{target}', "
                "which this organisation does not have."
            )
    entity = emu.metadata.entity(table)
    attr = entity.attribute(column.logical_name) if entity else None
    if attr is not None and attr.kind != KINDS[column.type]:
        raise refused(
            f"The column '{table}.{column.logical_name}' is a {attr.kind} column; "
            f"the solution cannot change it to {KINDS[column.type]}."
        )


def _check_new_keys(emu: DataverseEmulator, entity: EntityDef, table: Table) -> None:
    """A key added by an upgrade must hold for the rows already there."""
    for key in table.keys:
        if key.schema_name in entity.keys or not set(key.columns) <= entity.attributes.keys():
            continue
        columns = ", ".join(quote(c) for c in key.columns)
        condition = " AND ".join(f"{quote(c)} IS NOT NULL" for c in key.columns)
        duplicate = emu.store.query(
            f"SELECT 1 FROM {quote(entity.logical_name)} WHERE {condition} "
            f"GROUP BY {columns} HAVING count(*) > 1 LIMIT 1"
        )
        if duplicate:
            raise refused(
                f"The key '{key.schema_name}' cannot be created: rows of "
                f"'{entity.logical_name}' share its values."
            )


def apply(emu: DataverseEmulator, solution: Solution) -> list[str]:
    """Create or extend the solution's tables; returns the logical names of tables touched.

    Call inside a store transaction after `check`.
    """
    touched: list[str] = []
    for table in solution.tables:
        if table.logical_name not in emu.metadata:
            _create_table(emu, table)
        touched.append(table.logical_name)
    # Lookups last: they may point at a table this same solution creates.
    for table in solution.tables:
        _add_columns(emu, table.logical_name, table.all_columns, solution.relationships)
        _add_keys(emu, table)
    for ext in solution.extensions:
        _add_columns(emu, ext.table, ext.columns, solution.relationships)
        _add_options(emu, ext)
        touched.append(ext.table)
    emu.store.save_metadata()
    return touched


def attribute_for(column: Column) -> AttributeDef:
    name = column.logical_name
    common: dict[str, Any] = {
        "schema_name": column.schema_name,
        "display_name": column.display.en,
        "description": column.description,
        "is_custom": True,
        "required_level": REQUIRED_LEVELS[column.required],
    }
    labels = {o.value: o.label.en for o in column.options}
    match column.type:
        case "string":
            return string(name, column.max_length or 100, **common)
        case "memo":
            return memo(name, column.max_length or 2000, **common)
        case "integer":
            return integer(name, **common)
        case "bigint":
            return bigint(name, **common)
        case "datetime":
            return datetime_(name, **common)
        case "boolean":
            return boolean(name, true=labels.get(1, "Yes"), false=labels.get(0, "No"), **common)
        case "picklist":
            return picklist(name, labels, **common)
        case "lookup":
            return lookup(name, column.targets, **common)
    raise refused(f"The column type '{column.type}' is not supported.")


def _next_object_type_code(emu: DataverseEmulator) -> int:
    codes = [e.object_type_code for e in emu.metadata if e.object_type_code >= FIRST_CUSTOM_OTC]
    return max(codes, default=FIRST_CUSTOM_OTC - 1) + 1


def _create_table(emu: DataverseEmulator, table: Table) -> None:
    primary = table.primary_name
    entity = new_entity(
        table.logical_name,
        table.entity_set_name,
        primary_name=primary.logical_name,
        object_type_code=_next_object_type_code(emu),
        primary_name_length=primary.max_length or 100,
        ownership=table.ownership,
        schema_name=table.schema_name,
        display_name=table.display.en,
        display_collection_name=table.display_plural.en,
        description=table.description,
        is_custom=True,
        change_tracking=table.change_tracking,
    )
    entity.attributes[entity.primary_id].schema_name = table.schema_name + "Id"
    name = entity.attributes[primary.logical_name]
    name.schema_name = primary.schema_name
    name.display_name = primary.display.en
    name.description = primary.description
    name.required_level = REQUIRED_LEVELS[primary.required]
    name.is_custom = True
    for column in table.columns:
        if column.type != "lookup":
            entity.add(attribute_for(column))
    emu.store.create_table(entity)


def _add_columns(
    emu: DataverseEmulator,
    table: str,
    columns: tuple[Column, ...],
    relationships: tuple[Relationship, ...],
) -> None:
    entity = emu.metadata.require(table)
    for column in columns:
        attr = entity.attribute(column.logical_name)
        if attr is None:
            attr = emu.store.add_column(table, attribute_for(column))
            if attr.is_lookup:
                _name_navigation(entity, column, relationships)
        elif attr.kind == "Picklist":
            _merge_options(attr, column)


def _name_navigation(
    entity: EntityDef, column: Column, relationships: tuple[Relationship, ...]
) -> None:
    (target,) = column.targets[:1] or ("",)
    relationship = next(
        (
            r.schema_name
            for r in relationships
            if r.referencing == entity.logical_name and r.lookup == column.logical_name
        ),
        f"{target}_{entity.logical_name}_{column.logical_name}",
    )
    entity.navigations.pop(column.logical_name, None)
    entity.navigations[column.schema_name] = NavigationDef(
        column.schema_name, column.logical_name, column.targets, relationship
    )


def _merge_options(attr: AttributeDef, column: Column) -> None:
    for option in column.options:
        if option.value not in attr.options:
            attr.options[option.value] = OptionDef(option.value, option.label.en)


def _add_options(emu: DataverseEmulator, ext: TableExtension) -> None:
    entity = emu.metadata.require(ext.table)
    for name, option in ext.options:
        attr = entity.attributes[name]
        existing = attr.options.get(option.value)
        if existing is None:
            attr.options[option.value] = OptionDef(option.value, option.label.en)
        else:
            existing.label = option.label.en


def _add_keys(emu: DataverseEmulator, table: Table) -> None:
    entity = emu.metadata.require(table.logical_name)
    for key in table.keys:
        if key.schema_name in entity.keys:
            continue
        entity.keys[key.schema_name] = key.columns
        # The index makes the key hold whatever path a write takes.
        condition = " AND ".join(f"{quote(c)} IS NOT NULL" for c in key.columns)
        try:
            emu.store.execute(
                f"CREATE UNIQUE INDEX {quote('uk_' + table.logical_name + '_' + key.logical_name)} "
                f"ON {quote(table.logical_name)} ({', '.join(quote(c) for c in key.columns)}) "
                f"WHERE {condition}"
            )
        except sqlite3.IntegrityError as exc:
            raise refused(
                f"The key '{key.schema_name}' cannot be created: rows of '{table.logical_name}' "
                "share its values."
            ) from exc
