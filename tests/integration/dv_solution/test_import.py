"""ImportSolution, ExportSolution and the schema they make (dataverse.md §10, §13, §17.15).

The conformance items (§18.23, §18.25) run in process and over HTTP.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from crm2cr.solution.package import read_solution_zip
from crm2cr.solution.schema import OPTION_VALUE_PREFIX, SCHEMA

from .support import JOB_ID, encoded, error_of, import_body, import_solution, odata

LINK = "crm2cr_cleverreachlink"
CHANNEL = (
    "EntityDefinitions(LogicalName='campaignactivity')/Attributes(LogicalName='channeltypecode')"
    "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
)


def _definitions(api: httpx.Client, name: str) -> list[dict[str, object]]:
    response = api.get(
        odata(
            "EntityDefinitions",
            select="LogicalName,EntitySetName",
            filter=f"LogicalName eq '{name}'",
        )
    )
    assert response.status_code == 200, response.text
    value: list[dict[str, object]] = response.json()["value"]
    return value


def _solutions(api: httpx.Client) -> list[dict[str, object]]:
    response = api.get(
        odata("solutions", select="uniquename,version", filter="uniquename eq 'crm2cr'")
    )
    assert response.status_code == 200, response.text
    value: list[dict[str, object]] = response.json()["value"]
    return value


def _channel_options(api: httpx.Client) -> dict[int, str]:
    response = api.get(odata(CHANNEL, select="LogicalName", expand="OptionSet($select=Options)"))
    assert response.status_code == 200, response.text
    options = response.json()["OptionSet"]["Options"]
    return {o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"] for o in options}


class SolutionContract:
    def test_solution_and_tables_appear_only_after_import(self, api: httpx.Client) -> None:
        """§18.23: solutions and EntityDefinitions filters are empty before, present after."""
        assert _solutions(api) == []
        assert _definitions(api, LINK) == []
        response = api.post("ImportSolution", json=import_body(encoded(), JOB_ID))
        assert response.status_code == 204, response.text
        assert response.content == b""
        (solution,) = _solutions(api)
        assert solution["version"] == "1.0.0.0"
        for table in SCHEMA.tables:
            (definition,) = _definitions(api, table.logical_name)
            assert definition["EntitySetName"] == table.entity_set_name

    def test_import_job_records_the_result(self, api: httpx.Client) -> None:
        """§10 ImportSolution: importjobs({id}) has progress, completedon and the result XML."""
        assert api.post("ImportSolution", json=import_body(encoded(), JOB_ID)).status_code == 204
        job = api.get(f"importjobs({JOB_ID})", params={"$select": "progress,completedon"})
        assert job.status_code == 200, job.text
        assert job.json()["progress"] == 100
        assert job.json()["completedon"]
        data = api.get(f"importjobs({JOB_ID})/data")
        assert data.status_code == 200, data.text
        assert 'result="success"' in data.json()["value"]

    def test_channel_gets_the_cleverreach_option(self, api: httpx.Client) -> None:
        """§18.25: channeltypecode lists options 1-9, plus CleverReach after import."""
        before = _channel_options(api)
        assert sorted(before) == list(range(1, 10))
        assert import_solution(api).status_code == 204
        after = _channel_options(api)
        assert after == {**before, OPTION_VALUE_PREFIX * 10_000: "CleverReach"}

    def test_export_re_imports(self, api: httpx.Client) -> None:
        """§18.23: ExportSolution's file imports again, and describes the installed solution."""
        assert import_solution(api).status_code == 204
        response = api.post("ExportSolution", json={"SolutionName": "crm2cr", "Managed": False})
        assert response.status_code == 200, response.text
        exported = response.json()["ExportSolutionFile"]
        solution = read_solution_zip(base64.b64decode(exported))
        assert solution.version == "1.0.0.0"
        assert [t.logical_name for t in solution.tables] == [t.logical_name for t in SCHEMA.tables]
        assert solution.table(LINK).column("crm2cr_email").max_length == 320
        assert solution.extensions[0].options[0][1].value == OPTION_VALUE_PREFIX * 10_000
        again = api.post("ImportSolution", json=import_body(exported))
        assert again.status_code == 204, again.text


class TestInProcess(SolutionContract):
    pass


@pytest.mark.parametrize("base_url", ["http"], indirect=True)
class TestOverHttp(SolutionContract):
    pass


def test_export_imports_into_another_organisation(api: httpx.Client) -> None:
    """§18.23: the exported file is a solution file a fresh organisation takes."""
    from crm2cr.emulators.dataverse.app import DataverseEmulator
    from tests.support.inprocess import InProcessTransport

    assert import_solution(api).status_code == 204
    exported = api.post("ExportSolution", json={"SolutionName": "crm2cr", "Managed": False})
    other = DataverseEmulator()
    transport = InProcessTransport(other)
    try:
        with httpx.Client(
            base_url="http://127.0.0.1/api/data/v9.2/",
            headers={"Authorization": "Bearer app"},
            transport=transport,
        ) as fresh:
            body = import_body(exported.json()["ExportSolutionFile"])
            assert fresh.post("ImportSolution", json=body).status_code == 204
            assert _definitions(fresh, LINK) != []
            assert len(_channel_options(fresh)) == 10
    finally:
        transport.close()
        other.close()


def test_imported_tables_take_records(api: httpx.Client) -> None:
    """§10: everything afterwards works on what the import made: create, read, lookups."""
    assert import_solution(api).status_code == 204
    contact = api.post(
        "contacts", json={"lastname": "Muster"}, headers={"Prefer": "return=representation"}
    )
    assert contact.status_code == 201, contact.text
    contact_id = contact.json()["contactid"]
    link = api.post(
        "crm2cr_cleverreachlinks",
        json={
            "crm2cr_name": "Muster / 42",
            "crm2cr_pairkey": f"{contact_id}|42",
            "crm2cr_groupid": "42",
            "crm2cr_email": "muster@example.com",
            "crm2cr_status": OPTION_VALUE_PREFIX * 10_000,
            "crm2cr_crstamp": 1_700_000_000_123,
            "crm2cr_ContactId@odata.bind": f"/contacts({contact_id})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert link.status_code == 201, link.text
    row = link.json()
    assert row["_crm2cr_contactid_value"] == contact_id
    assert row["crm2cr_crstamp"] == 1_700_000_000_123
    assert row["@odata.etag"].startswith('W/"')


def test_alternate_key_allows_one_link_per_pair(api: httpx.Client) -> None:
    """SPEC §2 / invariant 3: the pair key is an alternate key; a second row is refused."""
    assert import_solution(api).status_code == 204
    body = {"crm2cr_name": "a", "crm2cr_pairkey": "record|group"}
    assert api.post("crm2cr_cleverreachlinks", json=body).status_code == 204
    second = api.post("crm2cr_cleverreachlinks", json=body)
    assert second.status_code in (400, 409, 412), second.text
    rows = api.get(odata("crm2cr_cleverreachlinks", select="crm2cr_pairkey")).json()["value"]
    assert len(rows) == 1


def test_application_user_gets_the_new_tables_privileges_at_global(api: httpx.Client) -> None:
    """§13.3: privileges of imported tables exist; System Administrator holds them at Global."""
    from crm2cr.emulators.dataverse.seed import APP_USER_ID

    assert import_solution(api).status_code == 204
    privileges = api.get(
        odata("privileges", select="name", filter="name eq 'prvCreatecrm2cr_CleverReachLink'")
    )
    assert privileges.status_code == 200, privileges.text
    assert len(privileges.json()["value"]) == 1
    held = api.get(f"systemusers({APP_USER_ID})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()")
    names = {p["PrivilegeName"]: p["Depth"] for p in held.json()["RolePrivileges"]}
    for access in ("Create", "Read", "Write", "Delete"):
        for table in ("crm2cr_CleverReachLink", "crm2cr_CleverReachUnsubscribe"):
            assert names[f"prv{access}{table}"] == "Global"


def test_reimport_of_the_same_version_changes_nothing(api: httpx.Client) -> None:
    assert import_solution(api).status_code == 204
    assert api.post("crm2cr_configurations", json={"crm2cr_name": "mapping"}).status_code == 204
    assert import_solution(api).status_code == 204
    (solution,) = _solutions(api)
    assert solution["version"] == "1.0.0.0"
    rows = api.get(odata("crm2cr_configurations", select="crm2cr_name")).json()["value"]
    assert [r["crm2cr_name"] for r in rows] == ["mapping"]


def test_unknown_parameter_is_refused(api: httpx.Client) -> None:
    """§10: action parameters are checked against the operation's signature."""
    body = {**import_body(encoded()), "Bogus": 1}
    response = api.post("ImportSolution", json=body)
    assert response.status_code == 400
    assert "'Bogus'" in error_of(response)[1]
    assert _definitions(api, LINK) == []


def test_form_data_body_is_refused(api: httpx.Client) -> None:
    """§10: solution bodies must be JSON; form data → 400 0x80048d19."""
    response = api.post("ImportSolution", data={"CustomizationFile": encoded()})
    assert response.status_code == 400
    assert error_of(response)[0] == "0x80048d19"


def test_customization_file_must_be_base64(api: httpx.Client) -> None:
    response = api.post("ImportSolution", json=import_body("not base64 at all!"))
    assert response.status_code == 400
    assert "base64" in error_of(response)[1]


def test_export_of_an_unknown_solution_is_404(api: httpx.Client) -> None:
    response = api.post("ExportSolution", json={"SolutionName": "nothere", "Managed": False})
    assert response.status_code == 404
    assert error_of(response)[0] == "0x80040217"


def test_publish_actions_answer_204(api: httpx.Client) -> None:
    """§10, §13.2: PublishXml and PublishAllXml answer 204."""
    xml = (
        "<importexportxml><entities><entity>campaignactivity</entity></entities></importexportxml>"
    )
    assert api.post("PublishXml", json={"ParameterXml": xml}).status_code == 204
    assert api.post("PublishAllXml", json={}).status_code == 204
    assert api.post("PublishXml", json={}).status_code == 400
