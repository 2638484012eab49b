"""Solution actions of the emulated Web API (reference §10, §13, §17.15; issue #6).

    POST ImportSolution      {"CustomizationFile": base64 zip, "ImportJobId": guid, ...} → 204
    POST ExportSolution      {"SolutionName": "crm2cr", "Managed": false}
                             → {"ExportSolutionFile": base64 zip}
    POST InsertOptionValue   {"EntityLogicalName", "AttributeLogicalName", "Label", "Value"?,
                              "SolutionUniqueName"?} → {"NewOptionValue": n}
    POST PublishXml / PublishAllXml → 204
    GET  importjobs[({id})[/data]]  (the store's importjob rows)

ImportSolution runs synchronously: it reads the file as the reader in
crm2cr.solution does (hostile input refused with 400), checks the version
against what is installed (a downgrade → 400) and that no other import is
running (→ 400), then creates or extends tables, columns, options, keys and
privileges in one transaction and records `solution`, `publisher` and
`importjob` rows (progress 100, the result XML in `data`). A failed import
leaves the schema as it was and an importjob row whose result says why.
Importing needs prvImportCustomizations (System Administrator, System
Customizer); exporting prvExportCustomizations.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse import security
from crm2cr.emulators.dataverse.errors import (
    ODataError,
    attribute_definition_not_found,
    bad_guid,
    bad_request,
    entity_definition_not_found,
    method_not_allowed,
)
from crm2cr.emulators.dataverse.metadata import OptionDef
from crm2cr.emulators.dataverse.security_roles import (
    EXPORT_CUSTOMIZATIONS,
    IMPORT_CUSTOMIZATIONS,
    PUBLISH_CUSTOMIZATIONS,
    WRITE_ATTRIBUTE,
)
from crm2cr.emulators.dataverse.solution_export import (
    installed_solution,
    load_components,
    save_components,
)
from crm2cr.emulators.dataverse.solution_import import (
    install,
    installed_row,
    publisher_of,
    record_job,
)
from crm2cr.emulators.dataverse.wire import (
    Caller,
    InternalResponse,
    Request,
    json_response,
    no_content,
)
from crm2cr.errors import InvalidInput
from crm2cr.solution.package import build_solution_zip, read_solution_zip

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

# Emulator defaults where the service's codes are undocumented [I].
INVALID_ARGUMENT = "0x80040203"
INVALID_FILE = "0x80048060"
IMPORT_RUNNING = "0x80071151"
DEFAULT_OPTION_VALUE_PREFIX = 10_000  # the organisation's default publisher

IMPORT_PARAMETERS = frozenset(
    {
        "CustomizationFile",
        "OverwriteUnmanagedCustomizations",
        "PublishWorkflows",
        "ImportJobId",
        "ConvertToManaged",
        "SkipProductUpdateDependencies",
        "HoldingSolution",
        "SkipQueueRibbonJob",
        "LayerDesiredOrder",
        "AsyncRibbonProcessing",
        "ComponentParameters",
        "SolutionParameters",
    }
)
EXPORT_PARAMETERS = frozenset(
    {
        "SolutionName",
        "Managed",
        "TargetVersion",
        "ExportAutoNumberingSettings",
        "ExportCalendarSettings",
        "ExportCustomizationSettings",
        "ExportEmailTrackingSettings",
        "ExportGeneralSettings",
        "ExportMarketingSettings",
        "ExportOutlookSynchronizationSettings",
        "ExportRelationshipRoles",
        "ExportIsvConfig",
        "ExportSales",
        "ExportExternalApplications",
        "ExportComponentsParams",
    }
)
OPTION_PARAMETERS = frozenset(
    {
        "OptionSetName",
        "EntityLogicalName",
        "AttributeLogicalName",
        "Value",
        "Label",
        "Description",
        "ParentValues",
        "ExternalValue",
        "SolutionUniqueName",
    }
)


def _context(name: str) -> str:
    from crm2cr.emulators.dataverse.app import _BASE_URL

    return f"{_BASE_URL.get()}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.{name}"


def _check_parameters(operation: str, body: dict[str, Any], allowed: frozenset[str]) -> None:
    for name in body:
        if name not in allowed and not name.startswith("@"):
            raise bad_request(
                f"The parameter '{name}' in the request payload is not a valid parameter "
                f"for the operation '{operation}'."
            )


def _invalid(message: str) -> ODataError:
    return ODataError(400, INVALID_ARGUMENT, message)


def _required_string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"Required parameter '{name}' is missing or not a string.")
    return value


# -- ImportSolution ------------------------------------------------------------------------


def import_solution(
    emu: DataverseEmulator, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    _check_parameters("ImportSolution", body, IMPORT_PARAMETERS)
    encoded = _required_string(body, "CustomizationFile")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid("CustomizationFile is not valid base64.") from exc
    job_id = _guid(body.get("ImportJobId")) or str(uuid.uuid4())
    security.require_privilege(emu, caller, IMPORT_CUSTOMIZATIONS)
    store = emu.store
    with store.lock:
        if store.exists("importjob", job_id):
            raise _invalid(f"An import job with the id {job_id} already exists.")
        running = store.query(
            'SELECT solutionname FROM "importjob" WHERE completedon IS NULL LIMIT 1'
        )
        if running:
            raise ODataError(
                400,
                IMPORT_RUNNING,
                "Cannot start another [Import] because there is a previous [Import] running "
                "at this moment. Please wait for the previous operation to complete and try "
                "again later.",
            )
        started = emu.clock.stamp()
        try:
            solution = read_solution_zip(data)
        except InvalidInput as exc:
            error = ODataError(400, INVALID_FILE, f"The import file is invalid. {exc.message}")
            record_job(emu, caller, job_id, None, started, error)
            raise error from exc
        try:
            with store.transaction():
                touched = install(emu, solution, caller)
                record_job(emu, caller, job_id, solution, started, None, touched)
        except ODataError as error:
            record_job(emu, caller, job_id, solution, started, error)
            raise
    return no_content()


def _guid(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise bad_guid(str(value)) from None


# -- ExportSolution --------------------------------------------------------------------------


def export_solution(
    emu: DataverseEmulator, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    _check_parameters("ExportSolution", body, EXPORT_PARAMETERS)
    name = _required_string(body, "SolutionName")
    managed = body.get("Managed", False)
    if not isinstance(managed, bool):
        raise _invalid("Managed must be true or false.")
    security.require_privilege(emu, caller, EXPORT_CUSTOMIZATIONS)
    with emu.store.lock:
        row = installed_row(emu, name)
        if row is None:
            raise ODataError(404, "0x80040217", f"solution With Name = {name} Does Not Exist")
        publisher = publisher_of(emu, str(row.get("publisherid") or ""))
        solution = installed_solution(emu, row, publisher, managed=managed)
    data = build_solution_zip(solution)
    response = json_response(
        {
            "@odata.context": _context("ExportSolutionResponse"),
            "ExportSolutionFile": base64.b64encode(data).decode("ascii"),
        }
    )
    response.read_only = True
    return response


# -- InsertOptionValue, PublishXml, PublishAllXml ---------------------------------------------


def insert_option_value(
    emu: DataverseEmulator, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    _check_parameters("InsertOptionValue", body, OPTION_PARAMETERS)
    if body.get("OptionSetName"):
        name = str(body["OptionSetName"])
        raise ODataError(404, "0x80040217", f"Could not find optionset with name '{name}'.")
    table = _required_string(body, "EntityLogicalName")
    column = _required_string(body, "AttributeLogicalName")
    label = _label(body.get("Label"))
    value = body.get("Value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise _invalid("Value must be a whole number.")
    security.require_privilege(emu, caller, WRITE_ATTRIBUTE)
    store = emu.store
    with store.lock:
        entity = emu.metadata.entity(table)
        if entity is None:
            raise entity_definition_not_found(table)
        attr = entity.attribute(column)
        if attr is None:
            raise attribute_definition_not_found(table, column)
        if attr.kind != "Picklist":
            raise _invalid(f"The attribute '{table}.{column}' is not a choice column.")
        solution_name = body.get("SolutionUniqueName")
        prefix = DEFAULT_OPTION_VALUE_PREFIX
        if solution_name:
            row = installed_row(emu, str(solution_name))
            if row is None:
                raise ODataError(
                    404, "0x80040217", f"solution With Name = {solution_name} Does Not Exist"
                )
            prefix = publisher_of(emu, str(row.get("publisherid") or "")).option_value_prefix
        if value is None:
            first = prefix * 10_000
            taken = [v for v in attr.options if first <= v < first + 10_000]
            value = max(taken, default=first - 1) + 1
        elif value in attr.options:
            raise _invalid(f"The value {value} is already used by an option of '{table}.{column}'.")
        attr.options[value] = OptionDef(value, label)
        store.save_metadata()
        if solution_name:
            components = load_components(emu, str(solution_name))
            components.add_option(table, column, value)
            save_components(emu, str(solution_name), components)
    return json_response(
        {"@odata.context": _context("InsertOptionValueResponse"), "NewOptionValue": value}
    )


def _label(value: Any) -> str:
    labels = value.get("LocalizedLabels") if isinstance(value, dict) else None
    texts: list[tuple[Any, str]] = [
        (item.get("LanguageCode"), str(item["Label"]))
        for item in labels or []
        if isinstance(item, dict) and isinstance(item.get("Label"), str)
    ]
    if not texts:
        raise _invalid("Label must carry LocalizedLabels with at least one Label.")
    return next((text for code, text in texts if code == 1033), texts[0][1])


def publish_xml(emu: DataverseEmulator, body: dict[str, Any], caller: Caller) -> InternalResponse:
    _check_parameters("PublishXml", body, frozenset({"ParameterXml"}))
    _required_string(body, "ParameterXml")
    security.require_privilege(emu, caller, PUBLISH_CUSTOMIZATIONS)
    return no_content()


def publish_all_xml(
    emu: DataverseEmulator, body: dict[str, Any], caller: Caller
) -> InternalResponse:
    _check_parameters("PublishAllXml", body, frozenset())
    security.require_privilege(emu, caller, PUBLISH_CUSTOMIZATIONS)
    return no_content()


# -- importjobs ------------------------------------------------------------------------------


def importjobs(emu: DataverseEmulator, request: Request, caller: Caller) -> InternalResponse:
    """`importjobs`, `importjobs({id})`, `importjobs({id})/data`: the generic table reads.

    Import jobs are written by imports only; the API may read and delete them.
    """
    if request.method not in ("GET", "DELETE"):
        verb = "Create" if request.method == "POST" else "Update"
        raise method_not_allowed(
            f"The '{verb}' method does not support entities of type 'importjob'."
        )
    from crm2cr.emulators.dataverse.router import peer

    response: InternalResponse = peer("tables").handle(
        emu, request, emu.metadata.require("importjob")
    )
    return response
