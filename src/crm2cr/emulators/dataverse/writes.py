"""Create, update, upsert and delete of records (reference §7).

Callable without HTTP, for bulk operations and `$batch`:

    record_id = create_record(emu, entity, body, caller)            # POST semantics
    update_record(emu, entity, record_id, body, caller)             # PATCH of an existing row
    created = upsert_record(emu, entity, key, body, caller)         # PATCH without conditions
    delete_record(emu, entity, record_id, caller)

`body` is the JSON object of the request (columns, `nav@odata.bind`, deep
inserts). Each raises ODataError as the service would answer, checks the
caller's privileges (security.require) and bumps `versionnumber`/`modifiedon`
of every row it writes. Wrap several calls in `emu.store.transaction()` to
make them all-or-nothing.

Non-updatable columns (`list.type`, `createdfromcode`, `regardingobjectid`,
computed ones) are ignored on update (§17.10); read-only `_x_value`
properties are refused, as the service refuses them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crm2cr.emulators.dataverse.errors import (
    ODataError,
    bad_request,
    invalid_property,
    record_not_found,
    segment_not_found,
)
from crm2cr.emulators.dataverse.keys import RecordKey, find_record_id, parse_key
from crm2cr.emulators.dataverse.metadata import AttributeDef, EntityDef, NavigationDef
from crm2cr.emulators.dataverse.records import compute, new_row
from crm2cr.emulators.dataverse.router import require_access
from crm2cr.emulators.dataverse.store import Row, quote
from crm2cr.emulators.dataverse.values import to_storage
from crm2cr.emulators.dataverse.wire import Caller, parse_segments

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

IGNORED_KEYS = frozenset({"@odata.type", "@odata.etag", "@odata.context", "@odata.id"})
# Set by the service itself whatever a client sends (it keeps them consistent).
AUTOMATIC = frozenset({"ownerid", "statecode", "statuscode", "businessunitid"})
SYSTEM_LOOKUPS = frozenset(
    {"ownerid", "owninguser", "owningteam", "owningbusinessunit", "createdby", "modifiedby"}
)


@dataclass
class Bind:
    navigation: NavigationDef
    target: EntityDef | None  # None clears the lookup
    target_id: str | None


@dataclass
class Changes:
    """A write body decoded against the metadata."""

    values: Row = field(default_factory=dict)
    binds: list[Bind] = field(default_factory=list)
    associations: list[tuple[str, EntityDef, str]] = field(default_factory=list)


def entity_reference(emu: DataverseEmulator, text: str) -> tuple[EntityDef, str]:
    """`/accounts(<id>)`, `accounts(<id>)`, absolute URLs, alternate keys → (table, id)."""
    path = urlsplit(text).path if text.startswith(("http://", "https://")) else text
    marker = path.find("/api/data/")
    if marker >= 0:
        path = path[marker + len("/api/data/") :].partition("/")[2]
    segments = parse_segments(path)
    if len(segments) != 1 or segments[0].key is None:
        raise bad_request(f"The entity reference '{text}' is not valid.")
    entity = emu.metadata.by_set(segments[0].name)
    if entity is None:
        raise segment_not_found(segments[0].name)
    key = parse_key(emu, entity, segments[0].key)
    record_id = find_record_id(emu, entity, key)
    if record_id is None:
        raise record_not_found(entity.logical_name, key.record_id or key.text)
    return entity, record_id


def decode(
    emu: DataverseEmulator,
    entity: EntityDef,
    body: dict[str, Any],
    caller: Caller,
    *,
    creating: bool,
) -> Changes:
    changes = Changes()
    for name, value in body.items():
        if name in IGNORED_KEYS:
            continue
        if name.endswith("@odata.bind"):
            _decode_bind(emu, entity, changes, name[: -len("@odata.bind")], value)
            continue
        if "@" in name:
            continue
        nav = entity.navigation(name)
        if nav is not None:
            if value is None:
                changes.binds.append(Bind(nav, None, None))
            elif isinstance(value, dict):
                target = emu.metadata.require(nav.targets[0])
                target_id = create_record(emu, target, value, caller)
                changes.binds.append(Bind(nav, target, target_id))
            else:
                raise bad_request(f"The navigation property '{name}' needs an object or null.")
            continue
        attr = entity.attributes.get(name)
        if attr is None or attr.is_lookup:
            if name.startswith("_") and name.endswith("_value") and entity.by_read_name(name):
                raise ODataError(
                    400,
                    "0x80060888",
                    "CRM do not support direct update of Entity Reference properties, "
                    "Use Navigation properties instead.",
                )
            raise invalid_property(name, entity.logical_name)
        writable = attr.valid_for_create if creating else attr.valid_for_update
        if (attr.computed or not writable) and not (creating and attr.is_primary_id):
            continue
        changes.values[attr.logical_name] = to_storage(entity, attr, value)
    return changes


def _decode_bind(
    emu: DataverseEmulator, entity: EntityDef, changes: Changes, name: str, value: Any
) -> None:
    nav = entity.navigation(name)
    if nav is not None:
        if value is None:
            changes.binds.append(Bind(nav, None, None))
            return
        if not isinstance(value, str):
            raise bad_request(f"The value of '{name}@odata.bind' must be an entity reference.")
        target, target_id = entity_reference(emu, value)
        if target.logical_name not in nav.targets:
            raise bad_request(
                f"The entity '{target.logical_name}' is not a valid target of the navigation "
                f"property '{name}' of '{entity.logical_name}'."
            )
        changes.binds.append(Bind(nav, target, target_id))
        return
    if name in entity.many_to_many and isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise bad_request(f"'{name}@odata.bind' must list entity references.")
            target, target_id = entity_reference(emu, item)
            changes.associations.append((name, target, target_id))
        return
    raise bad_request(
        f"An undeclared property '{name}' which only has property annotations in the payload "
        "but no property value was found in the payload. In OData, only declared navigation "
        "properties and declared named streams can be represented as properties without values."
    )


def _apply_binds(
    emu: DataverseEmulator, entity: EntityDef, changes: Changes, caller: Caller, *, creating: bool
) -> None:
    for bind in changes.binds:
        attr = entity.attributes[bind.navigation.attribute]
        if not creating and not attr.valid_for_update:
            continue
        if bind.target is not None:
            require_access(emu, caller, "Append", entity)
            require_access(emu, caller, "AppendTo", bind.target)
        changes.values[attr.logical_name] = bind.target_id
        changes.values[f"{attr.logical_name}__type"] = (
            bind.target.logical_name if bind.target is not None else None
        )


def _states(entity: EntityDef, values: Row, existing: Row | None) -> None:
    """Keep statecode and statuscode consistent, as the service does."""
    status_attr = entity.attributes.get("statuscode")
    if status_attr is None or not ({"statecode", "statuscode"} & values.keys()):
        return
    from crm2cr.emulators.dataverse.metadata import default_status

    state = values.get("statecode", (existing or {}).get("statecode", 0))
    if "statuscode" in values and values["statuscode"] is not None:
        option = status_attr.options[int(values["statuscode"])]
        if "statecode" not in values and option.state is not None:
            values["statecode"] = option.state
        elif option.state is not None and option.state != state:
            raise ODataError(
                400,
                "0x8004431a",
                f"{values['statuscode']} is not a valid status code for state code "
                f"{entity.schema_name}State.{state}.",
            )
    else:
        values["statuscode"] = default_status(status_attr, int(state or 0))


def _required(entity: EntityDef, row: Row) -> None:
    for attr in entity.attributes.values():
        if (
            attr.required_level == "SystemRequired"
            and not attr.is_primary_id
            and not attr.computed
            and attr.logical_name not in AUTOMATIC
            and row.get(attr.logical_name) is None
        ):
            raise ODataError(
                400,
                "0x80040203",
                f"The attribute '{attr.logical_name}' of the entity '{entity.logical_name}' "
                "is required and cannot be empty.",
            )


def create_record(
    emu: DataverseEmulator,
    entity: EntityDef,
    body: dict[str, Any],
    caller: Caller,
    *,
    record_id: str | None = None,
    key_values: Row | None = None,
) -> str:
    """Create a row (POST semantics); returns its id. `record_id` forces the id (upsert)."""
    require_access(emu, caller, "Create", entity)
    with emu.store.transaction():
        changes = decode(emu, entity, body, caller, creating=True)
        _apply_binds(emu, entity, changes, caller, creating=True)
        values = changes.values
        values.update(key_values or {})
        if record_id is not None:
            values[entity.primary_id] = record_id
        new_id = str(values.get(entity.primary_id) or uuid.uuid4()).lower()
        values[entity.primary_id] = new_id
        if entity.logical_name == "listmember":
            from crm2cr.emulators.dataverse import lists

            return lists.create_listmember(emu, values, caller)
        if emu.store.exists(entity.logical_name, new_id):
            from crm2cr.emulators.dataverse.errors import duplicate_record

            raise duplicate_record()
        _states(entity, values, None)
        row = new_row(
            entity, values, user_id=caller.systemuserid, business_unit_id=caller.businessunitid
        )
        _required(entity, row)
        _check_unique_keys(emu, entity, row, None)
        emu.store.insert(entity.logical_name, row)
        for navigation, target, target_id in changes.associations:
            from crm2cr.emulators.dataverse import lists

            lists.associate(emu, entity, new_id, navigation, target, target_id, caller)
        return new_id


def update_record(
    emu: DataverseEmulator, entity: EntityDef, record_id: str, body: dict[str, Any], caller: Caller
) -> None:
    """Update an existing row (404 when it does not exist)."""
    if not entity.supports_update:
        raise ODataError(
            400,
            "0x80040800",
            f"The 'Update' method does not support entities of type '{entity.logical_name}'.",
        )
    require_access(emu, caller, "Write", entity)
    with emu.store.transaction():
        existing = emu.store.get(entity.logical_name, record_id)
        if existing is None:
            raise record_not_found(entity.logical_name, record_id)
        changes = decode(emu, entity, body, caller, creating=False)
        _apply_binds(emu, entity, changes, caller, creating=False)
        values = changes.values
        values.pop(entity.primary_id, None)
        _states(entity, values, existing)
        compute(entity, values, existing)
        values["modifiedby"] = caller.systemuserid
        values["modifiedby__type"] = "systemuser"
        values["modifiedon"] = None
        _check_unique_keys(emu, entity, {**existing, **values}, record_id)
        emu.store.update(entity.logical_name, record_id, values)
        for navigation, target, target_id in changes.associations:
            from crm2cr.emulators.dataverse import lists

            lists.associate(emu, entity, record_id, navigation, target, target_id, caller)


def upsert_record(
    emu: DataverseEmulator, entity: EntityDef, key: RecordKey, body: dict[str, Any], caller: Caller
) -> tuple[str, bool]:
    """PATCH without conditions: update when the key exists, else create. Returns (id, created)."""
    record_id = find_record_id(emu, entity, key)
    if record_id is not None:
        update_record(emu, entity, record_id, body, caller)
        return record_id, False
    if key.record_id is not None:
        return create_record(emu, entity, body, caller, record_id=key.record_id), True
    return create_record(emu, entity, body, caller, key_values=dict(key.values)), True


def delete_record(
    emu: DataverseEmulator, entity: EntityDef, record_id: str, caller: Caller
) -> None:
    require_access(emu, caller, "Delete", entity)
    with emu.store.transaction():
        if entity.logical_name == "listmember":
            from crm2cr.emulators.dataverse import lists

            lists.delete_listmember(emu, record_id)
            return
        if not emu.store.delete(entity.logical_name, record_id):
            raise record_not_found(entity.logical_name, record_id)
        _remove_references(emu, entity, record_id, caller)


def _remove_references(
    emu: DataverseEmulator, entity: EntityDef, record_id: str, caller: Caller
) -> None:
    """Intersect rows go; lookups pointing at the row are cleared (bumping those rows)."""
    from crm2cr.emulators.dataverse import lists

    for relationship in {r.schema_name: r for r in entity.many_to_many.values()}.values():
        column = (
            relationship.entity1_attribute
            if relationship.entity1 == entity.logical_name
            else relationship.entity2_attribute
        )
        lists.delete_intersect_rows(emu, relationship, column, record_id)
    for other, nav in emu.metadata.one_to_many(entity.logical_name):
        column = nav.attribute
        # Intersect rows went above; ownership and audit columns keep naming the
        # deleted principal, as the service keeps them (it refuses such deletes).
        if other.is_intersect or column in SYSTEM_LOOKUPS:
            continue
        emu.store.ensure_index(other.logical_name, (column,))
        ids = emu.store.query(
            f"SELECT {quote(other.primary_id)} AS id FROM {quote(other.logical_name)} "
            f"WHERE {quote(column)} = ? AND {quote(column + '__type')} = ?",
            (record_id, entity.logical_name),
        )
        for found in ids:
            emu.store.update(
                other.logical_name, found["id"], {column: None, f"{column}__type": None}
            )


def _check_unique_keys(
    emu: DataverseEmulator, entity: EntityDef, row: Row, record_id: str | None
) -> None:
    from crm2cr.emulators.dataverse.errors import duplicate_key_on_create

    for name, columns in entity.keys.items():
        if any(row.get(c) is None for c in columns):
            continue
        where = " AND ".join(f"{quote(c)} = ?" for c in columns)
        params: list[Any] = [row[c] for c in columns]
        if record_id is not None:
            where += f" AND {quote(entity.primary_id)} <> ?"
            params.append(record_id)
        if emu.store.scalar(
            f"SELECT 1 FROM {quote(entity.logical_name)} WHERE {where} LIMIT 1", params
        ):
            raise duplicate_key_on_create(name)


def set_column(
    emu: DataverseEmulator,
    entity: EntityDef,
    record_id: str,
    attr: AttributeDef,
    value: Any,
    caller: Caller,
) -> None:
    """`PUT /{set}({id})/{column}` and `DELETE` of a column (value None)."""
    if attr.is_lookup:
        raise ODataError(
            400,
            "0x80060888",
            "CRM do not support direct update of Entity Reference properties, "
            "Use Navigation properties instead.",
        )
    update_record(emu, entity, record_id, {attr.logical_name: value}, caller)
