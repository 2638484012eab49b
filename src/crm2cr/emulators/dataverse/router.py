"""Which handler serves a Web API request (reference §1, §10).

Resource paths, below `/api/data/v9.2/`:

    $batch                                   POST  batch.handle_batch
    WhoAmI, RetrieveVersion                  GET   functions
    AddListMembersList                       POST  lists
    ImportSolution, ExportSolution,          POST  solutions.<snake_case>(emu, body, caller)
    InsertOptionValue, PublishXml, PublishAllXml
    importjobs[...]                          any   solutions.importjobs(emu, request, caller)
    EntityDefinitions[...]                   GET/POST definitions
    {set}                                    GET (fetchXml= → fetchxml.run_fetchxml;
                                                  track changes → changes) / POST create
    {set}/$count                             GET
    {set}/Microsoft.Dynamics.CRM.{Create|Update|Upsert}Multiple   POST bulk
    {set}({key})                             GET / PATCH / DELETE
    {set}({key})/{column}                    GET / PUT / DELETE
    {set}({key})/{navigation}                GET (single-valued: the record; N:N: members)
    {set}({key})/{navigation}/$ref           POST (N:N associate) / PUT (single) / DELETE
    {set}({key})/{navigation}({id})/$ref     DELETE (N:N disassociate)
    {set}({key})/Microsoft.Dynamics.CRM.{Action}   bound actions (lists, RetrieveUserPrivileges)

Modules of other owners are imported inside the handlers, so this module
loads before they exist. `require_access` is the one place that asks
security.require before a data operation.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import no_http_resource, segment_not_found
from crm2cr.emulators.dataverse.metadata import Access, EntityDef
from crm2cr.emulators.dataverse.wire import Caller, InternalResponse, Request

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

NAMESPACE = "Microsoft.Dynamics.CRM."
BULK_ACTIONS = {
    "CreateMultiple": "create_multiple",
    "UpdateMultiple": "update_multiple",
    "UpsertMultiple": "upsert_multiple",
}
SOLUTION_ACTIONS = {
    "ImportSolution": "import_solution",
    "ExportSolution": "export_solution",
    "InsertOptionValue": "insert_option_value",
    "PublishXml": "publish_xml",
    "PublishAllXml": "publish_all_xml",
}


def peer(name: str) -> Any:
    """A module of this package owned by another engineer (batch, bulk, fetchxml, ...)."""
    return importlib.import_module(f"crm2cr.emulators.dataverse.{name}")


def require_access(
    emu: DataverseEmulator, caller: Caller, access: Access, entity: EntityDef
) -> None:
    """Raise 403 0x80040220 when the caller lacks the privilege (security.py decides)."""
    peer("security").require(emu, caller, access, entity)


def route(emu: DataverseEmulator, request: Request) -> InternalResponse:
    from crm2cr.emulators.dataverse import definitions, functions, lists, tables

    segments = request.segments
    if not segments:
        return functions.service_document(emu, request)
    first = segments[0]
    name = first.name.removeprefix(NAMESPACE)
    if name == "$batch" and len(segments) == 1:
        if request.method != "POST":
            raise no_http_resource(request.url)
        response: InternalResponse = peer("batch").handle_batch(
            emu,
            content_type=request.header("content-type"),
            body=request.body,
            headers=request.headers,
            caller=request.caller,
        )
        return response
    if name == "$metadata":
        return functions.csdl(emu, request)
    unbound: dict[str, tuple[str, Callable[[DataverseEmulator, Request], InternalResponse]]] = {
        "WhoAmI": ("GET", functions.who_am_i),
        "RetrieveVersion": ("GET", functions.retrieve_version),
        "AddListMembersList": ("POST", lists.add_list_members_list),
    }
    if name in unbound and len(segments) == 1:
        verb, handler = unbound[name]
        if request.method != verb:
            raise no_http_resource(request.url)
        return handler(emu, request)
    if name in SOLUTION_ACTIONS and len(segments) == 1:
        if request.method != "POST":
            raise no_http_resource(request.url)
        function = getattr(peer("solutions"), SOLUTION_ACTIONS[name])
        result: InternalResponse = function(emu, request.json_object(), request.caller)
        return result
    if first.name == "importjobs":
        jobs: InternalResponse = peer("solutions").importjobs(emu, request, request.caller)
        return jobs
    if first.name in definitions.ROOTS:
        return definitions.handle(emu, request)
    entity = emu.metadata.by_set(first.name)
    if entity is None:
        raise segment_not_found(first.name)
    return tables.handle(emu, request, entity)


def bulk(
    emu: DataverseEmulator, request: Request, entity: EntityDef, action: str
) -> InternalResponse:
    """`POST /{set}/Microsoft.Dynamics.CRM.CreateMultiple` and friends (bulk.py)."""
    if request.method != "POST":
        raise no_http_resource(request.url)
    function = getattr(peer("bulk"), BULK_ACTIONS[action])
    result: InternalResponse = function(emu, entity, request.json_object(), request.caller)
    return result


def run_fetchxml(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    result: InternalResponse = peer("fetchxml").run_fetchxml(
        emu, entity, request.query["fetchXml"], request.headers, request.caller
    )
    return result


def dynamic_list_member_ids(emu: DataverseEmulator, list_row: dict[str, Any]) -> list[str]:
    """The members of a dynamic list: its FetchXML query's results (fetchxml.py)."""
    ids: list[str] = peer("fetchxml").dynamic_list_member_ids(emu, list_row)
    return ids


def retrieve_user_privileges(
    emu: DataverseEmulator, request: Request, user_id: str
) -> InternalResponse:
    if request.method != "GET":
        raise no_http_resource(request.url)
    result: InternalResponse = peer("security").retrieve_user_privileges(
        emu, user_id, request.caller
    )
    return result
