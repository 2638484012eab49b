"""CreateMultiple, UpdateMultiple and UpsertMultiple (reference §8).

`POST /{set}/Microsoft.Dynamics.CRM.{Create|Update|Upsert}Multiple {"Targets":[…]}`:
every target names its table in `@odata.type`, all targets are of the
table of the set, and the call is all-or-nothing: the targets run in one store
transaction and the first failure rolls every earlier one back and is the
answer. Each target is written by writes.py, the code behind single POST and
PATCH requests, so validation, `@odata.bind`, privileges, versions and change
tracking cannot differ from one-by-one writes; only the HTTP parsing per
target is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import (
    bad_request,
    record_not_found,
    record_not_found_by_key,
)
from crm2cr.emulators.dataverse.keys import RecordKey, find_record_id, parse_guid, parse_key
from crm2cr.emulators.dataverse.metadata import EntityDef
from crm2cr.emulators.dataverse.wire import Caller, InternalResponse, json_response, no_content
from crm2cr.emulators.dataverse.writes import create_record, update_record, upsert_record

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

TYPE_KEY = "@odata.type"
ID_KEY = "@odata.id"


def create_multiple(
    emu: DataverseEmulator, entity: EntityDef, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    """200 `{"@odata.context":…CreateMultipleResponse, "Ids":[…]}`, ids in target order."""
    targets = _targets(entity, body, "CreateMultiple")
    with emu.store.transaction():
        ids = [create_record(emu, entity, target, caller) for target in targets]
    context = f"{_api_root()}/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
    return json_response({"@odata.context": context, "Ids": ids})


def update_multiple(
    emu: DataverseEmulator, entity: EntityDef, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    """204; every target names an existing record (else 404 and nothing is written)."""
    targets = _targets(entity, body, "UpdateMultiple")
    keys = [_key(emu, entity, target, "UpdateMultiple") for target in targets]
    with emu.store.transaction():
        for target, key in zip(targets, keys, strict=True):
            if key is None:
                raise bad_request(
                    f"Every target of UpdateMultiple needs its primary key '{entity.primary_id}' "
                    "or an '@odata.id' alternate key."
                )
            record_id = find_record_id(emu, entity, key)
            if record_id is None:
                if key.record_id is not None:
                    raise record_not_found(entity.logical_name, key.record_id)
                raise record_not_found_by_key(entity.logical_name, key.text)
            update_record(emu, entity, record_id, target, caller)
    return no_content()


def upsert_multiple(
    emu: DataverseEmulator, entity: EntityDef, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    """204; targets keyed by primary key or `@odata.id` alternate key; a keyless one creates."""
    targets = _targets(entity, body, "UpsertMultiple")
    keys = [_key(emu, entity, target, "UpsertMultiple") for target in targets]
    with emu.store.transaction():
        for target, key in zip(targets, keys, strict=True):
            if key is None:
                create_record(emu, entity, target, caller)
            else:
                upsert_record(emu, entity, key, target, caller)
    return no_content()


def _targets(entity: EntityDef, body: Mapping[str, Any], action: str) -> list[dict[str, Any]]:
    targets = body.get("Targets")
    if not isinstance(targets, list) or not targets:
        raise bad_request(f"{action} needs a non-empty 'Targets' collection.")
    unknown = set(body) - {"Targets", TYPE_KEY}
    if unknown:
        raise bad_request(f"{action} does not have a parameter named '{sorted(unknown)[0]}'.")
    expected = entity.type_name
    for index, target in enumerate(targets):
        if not isinstance(target, dict):
            raise bad_request(f"Target {index} of {action} is not an entity object.")
        kind = target.get(TYPE_KEY)
        if not isinstance(kind, str) or not kind:
            raise bad_request(
                f"Target {index} of {action} has no '@odata.type'; every target must name its "
                f"table, e.g. '{expected}'."
            )
        if kind.lstrip("#") != expected:
            raise bad_request(
                f"Target {index} of {action} is of type '{kind.lstrip('#')}', but this call "
                f"writes '{expected}' records only: one table per call."
            )
    return targets


def _key(
    emu: DataverseEmulator, entity: EntityDef, target: Mapping[str, Any], action: str
) -> RecordKey | None:
    """The record a target addresses: its primary key, or the `@odata.id` alternate key."""
    record_id = target.get(entity.primary_id)
    if isinstance(record_id, str) and record_id:
        return RecordKey(record_id, record_id=parse_guid(record_id))
    address = target.get(ID_KEY)
    if not isinstance(address, str) or not address:
        return None
    # `contacts(emailaddress1='a@b.c')`, relative or absolute.
    tail = address.rsplit("/", 1)[-1] if "/" in address.split("(", 1)[0] else address
    prefix = f"{entity.entity_set}("
    if not tail.startswith(prefix) or not tail.endswith(")"):
        raise bad_request(
            f"The '@odata.id' '{address}' of a target of {action} does not address a "
            f"'{entity.logical_name}' record."
        )
    return parse_key(emu, entity, tail[len(prefix) : -1])


def _api_root() -> str:
    # The organisation URL of the request being served (set by the app per request).
    from crm2cr.emulators.dataverse.app import _BASE_URL

    return f"{_BASE_URL.get()}/api/data/v9.2"
