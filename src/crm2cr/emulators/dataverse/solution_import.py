"""What ImportSolution writes besides the schema (reference §10, §17.15).

`install` checks the version against the installed solution (a downgrade or a
switch between managed and unmanaged → 400), applies the schema
(solution_apply.py), saves the `publisher` and `solution` rows and the
solution's components (for ExportSolution), and grants the new tables'
privileges. `record_job` writes the `importjob` row of an import, succeeded or
failed; `start_running_import` simulates an import another client started.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse import security, solution_apply
from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.metadata import stable_id
from crm2cr.emulators.dataverse.records import new_row
from crm2cr.emulators.dataverse.solution_export import load_components, save_components
from crm2cr.emulators.dataverse.solution_result import result_xml
from crm2cr.emulators.dataverse.wire import Caller
from crm2cr.solution.schema import Label, Publisher, Solution, parse_version

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

DOWNGRADE = "0x8004F00A"  # emulator default [I]


def installed_row(emu: DataverseEmulator, unique_name: str) -> dict[str, Any] | None:
    rows = emu.store.query('SELECT * FROM "solution" WHERE uniquename = ?', (unique_name,))
    return rows[0] if rows else None


def install(emu: DataverseEmulator, solution: Solution, caller: Caller) -> list[str]:
    installed = installed_row(emu, solution.unique_name)
    if installed is not None:
        current = str(installed["version"])
        if parse_version(solution.version) < parse_version(current):
            raise ODataError(
                400,
                DOWNGRADE,
                f"The solution '{solution.unique_name}' version {solution.version} cannot be "
                f"imported: version {current} is already installed, and a solution cannot be "
                "downgraded.",
            )
        if bool(installed["ismanaged"]) != solution.managed:
            kind = "managed" if installed["ismanaged"] else "unmanaged"
            raise solution_apply.refused(
                f"The solution '{solution.unique_name}' is installed as {kind}; "
                "a solution cannot change between managed and unmanaged."
            )
    solution_apply.check(emu, solution)
    touched = solution_apply.apply(emu, solution)
    publisher_id = save_publisher(emu, solution.publisher, caller)
    save_solution(emu, solution, publisher_id, installed, caller)
    components = load_components(emu, solution.unique_name)
    components.add(solution)
    save_components(emu, solution.unique_name, components)
    security.grant_new_privileges(emu)
    return touched


def insert_row(emu: DataverseEmulator, table: str, values: dict[str, Any], caller: Caller) -> None:
    entity = emu.metadata.require(table)
    row = new_row(
        entity, values, user_id=caller.systemuserid, business_unit_id=caller.businessunitid
    )
    emu.store.insert(table, row)


def save_publisher(emu: DataverseEmulator, publisher: Publisher, caller: Caller) -> str:
    values = {
        "friendlyname": publisher.display.en,
        "uniquename": publisher.unique_name,
        "customizationprefix": publisher.prefix,
        "customizationoptionvalueprefix": publisher.option_value_prefix,
    }
    rows = emu.store.query(
        'SELECT publisherid FROM "publisher" WHERE uniquename = ?', (publisher.unique_name,)
    )
    if rows:
        publisher_id = str(rows[0]["publisherid"])
        emu.store.update("publisher", publisher_id, values)
        return publisher_id
    publisher_id = stable_id("publisher", publisher.unique_name.lower())
    insert_row(emu, "publisher", {"publisherid": publisher_id, **values}, caller)
    return publisher_id


def save_solution(
    emu: DataverseEmulator,
    solution: Solution,
    publisher_id: str,
    installed: dict[str, Any] | None,
    caller: Caller,
) -> None:
    values = {
        "friendlyname": solution.display.en,
        "version": solution.version,
        "description": solution.description,
        "installedon": emu.clock.stamp(),
        "publisherid": publisher_id,
        "publisherid__type": "publisher",
    }
    if installed is not None:
        emu.store.update("solution", str(installed["solutionid"]), values)
        return
    row = {
        "solutionid": stable_id("solution", solution.unique_name.lower()),
        "uniquename": solution.unique_name,
        "ismanaged": int(solution.managed),
        "isvisible": 1,
        **values,
    }
    insert_row(emu, "solution", row, caller)


def record_job(
    emu: DataverseEmulator,
    caller: Caller,
    job_id: str,
    solution: Solution | None,
    started: int,
    error: ODataError | None,
    touched: list[str] | None = None,
) -> None:
    now = emu.clock.stamp()
    name = solution.unique_name if solution else ""
    data = result_xml(emu, solution, touched or [], started, now, error)
    insert_row(
        emu,
        "importjob",
        {
            "importjobid": job_id,
            "name": name or "Customizations",
            "solutionname": name,
            "progress": 100.0,
            "startedon": started,
            "completedon": now,
            "data": data,
            "solutionid": stable_id("solution", name.lower()) if solution and not error else None,
        },
        caller,
    )


def start_running_import(emu: DataverseEmulator, solution_name: str) -> str:
    """An import another client started and that has not finished (control API)."""
    from crm2cr.emulators.dataverse.seed import APP_USER_ID, ROOT_BUSINESS_UNIT_ID

    job_id = str(uuid.uuid4())
    with emu.store.lock:
        entity = emu.metadata.require("importjob")
        values = {
            "importjobid": job_id,
            "name": solution_name,
            "solutionname": solution_name,
            "progress": 40.0,
            "startedon": emu.clock.stamp(),
        }
        row = new_row(entity, values, user_id=APP_USER_ID, business_unit_id=ROOT_BUSINESS_UNIT_ID)
        emu.store.insert("importjob", row)
    return job_id


def finish_running_import(emu: DataverseEmulator, job_id: str) -> str:
    job_id = job_id.lower()
    with emu.store.lock:
        if not emu.store.exists("importjob", job_id):
            raise LookupError(f"no import job {job_id}")
        emu.store.update("importjob", job_id, {"progress": 100.0, "completedon": emu.clock.stamp()})
    return job_id


def publisher_of(emu: DataverseEmulator, publisher_id: str) -> Publisher:
    row = emu.store.get("publisher", publisher_id) if publisher_id else None
    if row is None:
        return Publisher("DefaultPublisher", Label("Default Publisher"), "new", 10_000)
    return Publisher(
        str(row["uniquename"]),
        Label(str(row.get("friendlyname") or row["uniquename"])),
        str(row["customizationprefix"]),
        int(row["customizationoptionvalueprefix"]),
    )
