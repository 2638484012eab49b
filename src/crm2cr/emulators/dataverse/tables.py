"""Requests below an entity set: `/{set}...` (see router.py for the whole URL table).

Checks the caller's privilege for the operation, then hands over to reads,
writes, lists or changes. Conditional requests (§7.3, §17.2):
`If-Match: *` or an etag, `If-None-Match: *`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse import changes, lists, reads, writes
from crm2cr.emulators.dataverse.errors import (
    ODataError,
    bad_request,
    duplicate_record,
    no_http_resource,
    record_not_found,
    segment_not_found,
    version_mismatch,
)
from crm2cr.emulators.dataverse.keys import find_record_id, parse_key
from crm2cr.emulators.dataverse.metadata import EntityDef
from crm2cr.emulators.dataverse.query import parse_select
from crm2cr.emulators.dataverse.router import (
    BULK_ACTIONS,
    NAMESPACE,
    bulk,
    require_access,
    retrieve_user_privileges,
    run_fetchxml,
)
from crm2cr.emulators.dataverse.serialize import Formatter, context_url, etag
from crm2cr.emulators.dataverse.wire import (
    ODATA_VERSION,
    InternalResponse,
    Request,
    json_response,
    no_content,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

LIST_ACTIONS = {
    "AddMemberList": lists.add_member_list,
    "RemoveMemberList": lists.remove_member_list,
    "QualifyMemberList": lists.qualify_member_list,
    "CopyDynamicListToStatic": lists.copy_dynamic_list_to_static,
}


def handle(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    segments = request.segments
    first = segments[0]
    if first.key is None:
        if len(segments) == 1:
            return collection(emu, request, entity)
        second = segments[1].name
        if len(segments) == 2 and second == "$count":
            if request.method != "GET":
                raise no_http_resource(request.url)
            require_access(emu, request.caller, "Read", entity)
            if "$deltatoken" in request.query:
                return changes.count_changes(emu, request, entity)
            return reads.count_collection(emu, request, entity)
        action = second.removeprefix(NAMESPACE)
        if len(segments) == 2 and action in BULK_ACTIONS:
            return bulk(emu, request, entity, action)
        raise segment_not_found(second)
    return record(emu, request, entity)


def collection(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    if request.method == "GET":
        require_access(emu, request.caller, "Read", entity)
        if "fetchXml" in request.query:
            return run_fetchxml(emu, request, entity)
        if request.prefer.track_changes or "$deltatoken" in request.query:
            return changes.read_changes(emu, request, entity)
        return reads.read_collection(emu, request, entity)
    if request.method == "POST":
        record_id = writes.create_record(emu, entity, request.json_object(), request.caller)
        return created(emu, request, entity, record_id, status=201)
    raise no_http_resource(request.url)


def created(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str, *, status: int
) -> InternalResponse:
    """204 + OData-EntityId, or with return=representation the record (§7.1, §17.5)."""
    location = f"{request.api_root}/{entity.entity_set}({record_id})"
    if not request.prefer.return_representation:
        return no_content({"OData-EntityId": location})
    row = emu.store.get(entity.logical_name, record_id)
    if row is None:
        raise record_not_found(entity.logical_name, record_id)
    select = parse_select(entity, request.query.get("$select"))
    formatter = Formatter(emu, request.prefer)
    formatter.prime([row], select)
    body = {
        "@odata.context": context_url(
            request.api_root, entity.entity_set, select if "$select" in request.query else None
        )
        + "/$entity",
        **formatter.entity(entity, row, select),
    }
    applied = ",".join(p for p in ("return=representation", request.prefer.applied()) if p)
    return json_response(
        body, status, {"Preference-Applied": applied, "ETag": etag(row["versionnumber"])}
    )


def record(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    segments = request.segments
    assert segments[0].key is not None
    key = parse_key(emu, entity, segments[0].key)
    if len(segments) == 1:
        if request.method == "GET":
            require_access(emu, request.caller, "Read", entity)
            if not entity.supports_retrieve:
                raise ODataError(
                    400,
                    "0x80040800",
                    f"The 'Retrieve' method does not support entities of type "
                    f"'{entity.logical_name}'.",
                )
            record_id = find_record_id(emu, entity, key)
            if record_id is None:
                raise _missing(entity, key.record_id or key.text)
            return reads.read_record(emu, request, entity, record_id)
        if request.method == "PATCH":
            return patch(emu, request, entity, key)
        if request.method == "DELETE":
            record_id = _existing(emu, request, entity, key)
            writes.delete_record(emu, entity, record_id, request.caller)
            return no_content()
        raise no_http_resource(request.url)
    record_id = find_record_id(emu, entity, key)
    if record_id is None:
        raise _missing(entity, key.record_id or key.text)
    second = segments[1].name
    action = second.removeprefix(NAMESPACE)
    if action != second or action in LIST_ACTIONS:
        return bound_action(emu, request, entity, record_id, action)
    if second in entity.many_to_many:
        return navigation_collection(emu, request, entity, record_id, second)
    nav = entity.navigation(second)
    if nav is not None:
        return single_navigation(emu, request, entity, record_id, second)
    attr = entity.by_read_name(second)
    if attr is None or len(segments) > 2:
        raise segment_not_found(second)
    if request.method == "GET":
        require_access(emu, request.caller, "Read", entity)
        return reads.read_column(emu, request, entity, record_id, attr)
    if request.method == "PUT":
        body = request.json_object()
        if "value" not in body:
            raise bad_request("The request body must contain 'value'.")
        writes.set_column(emu, entity, record_id, attr, body["value"], request.caller)
        return no_content()
    if request.method == "DELETE":
        writes.set_column(emu, entity, record_id, attr, None, request.caller)
        return no_content()
    raise no_http_resource(request.url)


def _missing(entity: EntityDef, text: str) -> ODataError:
    return record_not_found(entity.logical_name, text)


def _existing(emu: DataverseEmulator, request: Request, entity: EntityDef, key: Any) -> str:
    record_id = find_record_id(emu, entity, key)
    if record_id is None:
        raise _missing(entity, key.record_id or key.text)
    _check_if_match(emu, request, entity, record_id)
    return record_id


def _check_if_match(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str
) -> None:
    condition = request.header("if-match").strip()
    if not condition or condition == "*" or not entity.supports_update:
        return
    row = emu.store.get(entity.logical_name, record_id)
    if row is None:
        raise _missing(entity, record_id)
    if condition != etag(row["versionnumber"]):
        raise version_mismatch()


def patch(
    emu: DataverseEmulator, request: Request, entity: EntityDef, key: Any
) -> InternalResponse:
    """Update or upsert (§7.3) with If-Match / If-None-Match."""
    body = request.json_object()
    if_match = request.header("if-match").strip()
    if_none_match = request.header("if-none-match").strip()
    record_id = find_record_id(emu, entity, key)
    if if_none_match == "*" and record_id is not None:
        raise duplicate_record()
    if if_match and record_id is None:
        raise _missing(entity, key.record_id or key.text)
    if record_id is not None and if_none_match != "*":
        _check_if_match(emu, request, entity, record_id)
        writes.update_record(emu, entity, record_id, body, request.caller)
        return updated(emu, request, entity, record_id)
    new_id, _ = writes.upsert_record(emu, entity, key, body, request.caller)
    return created(emu, request, entity, new_id, status=201)


def updated(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str
) -> InternalResponse:
    if not request.prefer.return_representation:
        return no_content(
            {"OData-EntityId": f"{request.api_root}/{entity.entity_set}({record_id})"}
        )
    response = created(emu, request, entity, record_id, status=200)
    return response


def bound_action(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str, action: str
) -> InternalResponse:
    if entity.logical_name == "list" and action in LIST_ACTIONS:
        if request.method != "POST":
            raise no_http_resource(request.url)
        return LIST_ACTIONS[action](emu, request, record_id)
    if entity.logical_name == "systemuser" and action in (
        "RetrieveUserPrivileges",
        "RetrieveUserPrivileges()",
    ):
        return retrieve_user_privileges(emu, request, record_id)
    raise segment_not_found(f"{NAMESPACE}{action}")


def navigation_collection(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str, navigation: str
) -> InternalResponse:
    """GET the related rows; `$ref` POST/DELETE (associate/disassociate, §7.5)."""
    segments = request.segments
    relationship = entity.many_to_many[navigation]
    other = emu.metadata.require(relationship.other(entity.logical_name))
    row = emu.store.get(entity.logical_name, record_id)
    assert row is not None
    nav_segment = segments[1]
    if len(segments) == 2 and nav_segment.key is None:
        if request.method != "GET":
            raise no_http_resource(request.url)
        require_access(emu, request.caller, "Read", entity)
        require_access(emu, request.caller, "Read", other)
        scope = reads.membership_scope(emu, entity, row, navigation)
        return reads.read_collection(emu, request, other, scope, entity_set=other.entity_set)
    if len(segments) == 3 and segments[2].name == "$count" and nav_segment.key is None:
        scope = reads.membership_scope(emu, entity, row, navigation)
        return reads.count_collection(emu, request, other, scope)
    if segments[-1].name != "$ref" or len(segments) != 3:
        raise segment_not_found(segments[-1].name)
    if request.method == "POST" and nav_segment.key is None:
        target_url = request.json_object().get("@odata.id")
        if not isinstance(target_url, str):
            raise bad_request("The request body must contain '@odata.id'.")
        target, target_id = writes.entity_reference(emu, target_url)
        lists.associate(emu, entity, record_id, navigation, target, target_id, request.caller)
        return no_content()
    if request.method == "DELETE":
        related: str | None
        if nav_segment.key is not None:
            related = parse_key(emu, other, nav_segment.key).record_id
        else:
            reference = request.query.get("$id")
            if not reference:
                raise bad_request("Disassociating needs the related record in the URL or in $id.")
            _, related = writes.entity_reference(emu, reference)
        if related is None:
            raise bad_request("The related record must be given by its id.")
        lists.disassociate(emu, entity, record_id, navigation, related, request.caller)
        return no_content()
    raise no_http_resource(request.url)


def single_navigation(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str, navigation: str
) -> InternalResponse:
    """GET the related record; PUT/DELETE `$ref` sets or clears the lookup."""
    segments = request.segments
    nav = entity.navigations[navigation]
    if len(segments) == 3 and segments[2].name == "$ref":
        if request.method == "PUT":
            target_url = request.json_object().get("@odata.id")
            if not isinstance(target_url, str):
                raise bad_request("The request body must contain '@odata.id'.")
            writes.update_record(
                emu, entity, record_id, {f"{navigation}@odata.bind": target_url}, request.caller
            )
            return no_content()
        if request.method == "DELETE":
            writes.update_record(
                emu, entity, record_id, {f"{navigation}@odata.bind": None}, request.caller
            )
            return no_content()
        raise no_http_resource(request.url)
    if len(segments) != 2 or request.method != "GET":
        raise segment_not_found(segments[-1].name)
    require_access(emu, request.caller, "Read", entity)
    row = emu.store.get(entity.logical_name, record_id)
    assert row is not None
    target_id = row.get(nav.attribute)
    table = row.get(f"{nav.attribute}__type")
    if not target_id or table not in nav.targets:
        return InternalResponse(204, dict(ODATA_VERSION))
    target = emu.metadata.require(str(table))
    require_access(emu, request.caller, "Read", target)
    return reads.read_record(emu, request, target, str(target_id))
