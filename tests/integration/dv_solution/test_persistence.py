"""An imported solution survives a restart with `--data FILE` (SPEC §9 `crm2cr emulate`)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.emulators.dataverse.security_tables import MARKETING_USER_ID
from crm2cr.solution.package import read_solution_zip
from tests.support.inprocess import InProcessTransport

from .support import encoded, error_of, import_body, odata


def _run(
    data: Path, token: str, work: list[tuple[str, str, dict[str, object] | None]]
) -> list[httpx.Response]:
    emulator = DataverseEmulator(EmulatorOptions(seed="empty", data=data))
    transport = InProcessTransport(emulator)
    try:
        with httpx.Client(
            base_url="http://127.0.0.1/api/data/v9.2/",
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
        ) as api:
            return [api.request(method, url, json=body) for method, url, body in work]
    finally:
        transport.close()
        emulator.close()


def test_imported_tables_rows_and_privileges_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "org.sqlite"
    (imported,) = _run(data, "app", [("POST", "ImportSolution", import_body(encoded()))])
    assert imported.status_code == 204, imported.text
    (created,) = _run(
        data,
        "app",
        [("POST", "crm2cr_cleverreachlinks", {"crm2cr_name": "a", "crm2cr_pairkey": "p"})],
    )
    assert created.status_code == 204, created.text

    rows, exported = _run(
        data,
        "app",
        [
            ("GET", odata("crm2cr_cleverreachlinks", select="crm2cr_pairkey"), None),
            ("POST", "ExportSolution", {"SolutionName": "crm2cr", "Managed": False}),
        ],
    )
    (denied,) = _run(data, f"user:{MARKETING_USER_ID}", [("GET", "crm2cr_cleverreachlinks", None)])

    assert [r["crm2cr_pairkey"] for r in rows.json()["value"]] == ["p"]
    solution = read_solution_zip(base64.b64decode(exported.json()["ExportSolutionFile"]))
    assert solution.table("crm2cr_cleverreachlink").column("crm2cr_pairkey")
    assert denied.status_code == 403
    assert "prvReadcrm2cr_CleverReachLink" in error_of(denied)[1]
