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

Modules of other owners (batch, bulk, fetchxml, security, solutions) are
imported inside the handlers: they import the core themselves, so importing
them here at load time would be circular. `require_access` is the one place
that asks security.require before a data operation.
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
BULK_ACTIONS = frozenset({"CreateMultiple", "UpdateMultiple", "UpsertMultiple"})
SOLUTION_ACTIONS = frozenset(
    {"ImportSolution", "ExportSolution", "InsertOptionValue", "PublishXml", "PublishAllXml"}
)
Action = Callable[["DataverseEmulator", dict[str, Any], Caller], InternalResponse]


def require_access(
    emu: DataverseEmulator, caller: Caller, access: Access, entity: EntityDef
) -> None:
    """Raise 403 0x80040220 when the caller lacks the privilege (security.py decides)."""
    from crm2cr.emulators.dataverse import security

    security.require(emu, caller, access, entity)


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
        from crm2cr.emulators.dataverse import batch

        return batch.handle_batch(
            emu,
            content_type=request.header("content-type"),
            body=request.body,
            headers=request.headers,
            caller=request.caller,
        )
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
        return solution_action(name)(emu, request.json_object(), request.caller)
    if first.name == "importjobs":
        from crm2cr.emulators.dataverse import solutions

        return solutions.importjobs(emu, request, request.caller)
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
    from crm2cr.emulators.dataverse import bulk as bulk_operations

    functions = {
        "CreateMultiple": bulk_operations.create_multiple,
        "UpdateMultiple": bulk_operations.update_multiple,
        "UpsertMultiple": bulk_operations.upsert_multiple,
    }
    return functions[action](emu, entity, request.json_object(), request.caller)


def solution_action(name: str) -> Action:
    from crm2cr.emulators.dataverse import solutions

    actions: dict[str, Action] = {
        "ImportSolution": solutions.import_solution,
        "ExportSolution": solutions.export_solution,
        "InsertOptionValue": solutions.insert_option_value,
        "PublishXml": solutions.publish_xml,
        "PublishAllXml": solutions.publish_all_xml,
    }
    return actions[name]


def run_fetchxml(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    from crm2cr.emulators.dataverse import fetchxml

    return fetchxml.run_fetchxml(
        emu, entity, request.query["fetchXml"], request.headers, request.caller
    )


def dynamic_list_member_ids(emu: DataverseEmulator, list_row: dict[str, Any]) -> list[str]:
    """The members of a dynamic list: its FetchXML query's results (fetchxml.py)."""
    from crm2cr.emulators.dataverse import fetchxml

    return fetchxml.dynamic_list_member_ids(emu, list_row)


def retrieve_user_privileges(
    emu: DataverseEmulator, request: Request, user_id: str
) -> InternalResponse:
    if request.method != "GET":
        raise no_http_resource(request.url)
    from crm2cr.emulators.dataverse import security

    return security.retrieve_user_privileges(emu, user_id, request.caller)


def peer(name: str) -> Any:
    """A module of this package by name, loaded when first asked for (kept for callers)."""
    return importlib.import_module(f"crm2cr.emulators.dataverse.{name}")
