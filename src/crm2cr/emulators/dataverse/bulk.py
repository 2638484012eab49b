"""CreateMultiple, UpdateMultiple and UpsertMultiple (reference §8).

`POST /{set}/Microsoft.Dynamics.CRM.{Create|Update|Upsert}Multiple {"Targets":[…]}`:
every target names its table in `@odata.type`, all targets are of the
table of the set, and the call is all-or-nothing: the targets run in one store
transaction and the first failure rolls every earlier one back and is the
answer. Each target is written by the same code as a single request
(`DataverseEmulator.dispatch` of a POST or PATCH), so validation,
`@odata.bind`, versions and change tracking cannot differ from one-by-one
writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import ODataError, bad_request
from crm2cr.emulators.dataverse.metadata import EntityDef
from crm2cr.emulators.dataverse.wire import (
    Caller,
    InternalResponse,
    json_response,
    no_content,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

TYPE_KEY = "@odata.type"
ID_KEY = "@odata.id"
JSON_HEADERS = {"content-type": "application/json"}
# An update must not create: If-Match: * turns a missing record into 404 (§7.3).
UPDATE_HEADERS = {**JSON_HEADERS, "if-match": "*"}
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")


class _TargetFailed(ODataError):
    """A target's error answer, raised to roll the whole call back."""

    def __init__(self, response: InternalResponse) -> None:
        super().__init__(response.status, "", "target failed")
        self.response = response


def create_multiple(
    emu: DataverseEmulator, entity: EntityDef, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    """200 `{"@odata.context":…CreateMultipleResponse, "Ids":[…]}`, ids in target order."""
    targets = _targets(entity, body, "CreateMultiple")
    ids: list[str] = []

    def run() -> None:
        for target in targets:
            response = _write(
                emu, "POST", entity.entity_set, _payload(target), JSON_HEADERS, caller
            )
            ids.append(_created_id(response, entity, target))

    failure = _all_or_nothing(emu, run)
    if failure is not None:
        return failure
    context = f"{_api_root(emu)}/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
    return json_response({"@odata.context": context, "Ids": ids})


def update_multiple(
    emu: DataverseEmulator, entity: EntityDef, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    """204; every target carries its primary key and must exist."""
    targets = _targets(entity, body, "UpdateMultiple")
    urls = [_record_url(entity, target, "UpdateMultiple", required=True) for target in targets]

    def run() -> None:
        for target, url in zip(targets, urls, strict=True):
            _write(emu, "PATCH", url or "", _payload(target), UPDATE_HEADERS, caller)

    return _all_or_nothing(emu, run) or no_content()


def upsert_multiple(
    emu: DataverseEmulator, entity: EntityDef, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    """204; targets keyed by primary key or `@odata.id` alternate key; a keyless one creates."""
    targets = _targets(entity, body, "UpsertMultiple")
    urls = [_record_url(entity, target, "UpsertMultiple", required=False) for target in targets]

    def run() -> None:
        for target, url in zip(targets, urls, strict=True):
            if url is None:
                _write(emu, "POST", entity.entity_set, _payload(target), JSON_HEADERS, caller)
            else:
                _write(emu, "PATCH", url, _payload(target), JSON_HEADERS, caller)

    return _all_or_nothing(emu, run) or no_content()


def _targets(entity: EntityDef, body: Mapping[str, Any], action: str) -> list[dict[str, Any]]:
    targets = body.get("Targets")
    if not isinstance(targets, list) or not targets:
        raise bad_request(f"{action} needs a non-empty 'Targets' collection.")
    unknown = set(body) - {"Targets", "@odata.type"}
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


def _payload(target: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in target.items() if k not in (TYPE_KEY, ID_KEY)}
    return json.dumps(body, ensure_ascii=False).encode()


def _record_url(
    entity: EntityDef, target: Mapping[str, Any], action: str, *, required: bool
) -> str | None:
    """`contacts(<id>)` from the primary key, or the `@odata.id` alternate-key address."""
    key = target.get(entity.primary_id)
    if isinstance(key, str) and key:
        return f"{entity.entity_set}({key})"
    address = target.get(ID_KEY)
    if isinstance(address, str) and address:
        relative = address.rsplit("/", 1)[-1] if "/" in address.split("(", 1)[0] else address
        if not relative.startswith(f"{entity.entity_set}("):
            raise bad_request(
                f"The '@odata.id' '{address}' of a target of {action} does not address a "
                f"'{entity.logical_name}' record."
            )
        return relative
    if required:
        raise bad_request(
            f"Every target of {action} needs its primary key '{entity.primary_id}' or an "
            "'@odata.id'."
        )
    return None


def _write(
    emu: DataverseEmulator,
    method: str,
    url: str,
    payload: bytes,
    headers: Mapping[str, str],
    caller: Caller,
) -> InternalResponse:
    response = emu.dispatch(method, url, headers, payload, caller)
    if response.status >= 400:
        raise _TargetFailed(response)
    return response


def _all_or_nothing(emu: DataverseEmulator, run: Callable[[], None]) -> InternalResponse | None:
    """Run every target in one transaction; the first failure rolls back and is returned."""
    try:
        with emu.store.transaction():
            run()
    except _TargetFailed as failure:
        return failure.response
    return None


def _created_id(response: InternalResponse, entity: EntityDef, target: Mapping[str, Any]) -> str:
    address = response.headers.get("OData-EntityId") or response.headers.get("Location") or ""
    match = _ENTITY_ID.search(address)
    if match is not None:
        return match.group(1).lower()
    data = response.json() if response.body else None
    if isinstance(data, dict) and isinstance(data.get(entity.primary_id), str):
        return str(data[entity.primary_id])
    key = target.get(entity.primary_id)
    if isinstance(key, str):
        return key.lower()
    raise bad_request(f"The created '{entity.logical_name}' record did not report its id.")


def _api_root(emu: DataverseEmulator) -> str:
    # The organisation URL of the request being served (set by the app per request).
    from crm2cr.emulators.dataverse.app import _BASE_URL

    return f"{_BASE_URL.get()}/api/data/v9.2"
