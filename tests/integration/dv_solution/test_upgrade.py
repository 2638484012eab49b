"""Upgrades, downgrades and concurrent imports (reference dataverse.md §10, §17.15)."""

from __future__ import annotations

import httpx

from crm2cr.solution.schema import SCHEMA, Column, Label, Relationship, Table

from .support import encoded, error_of, import_body, import_solution, odata

NOTE = Table(
    "crm2cr_SyncNote",
    Label("Sync Note"),
    Label("Sync Notes"),
    Column("crm2cr_Name", Label("Name"), "string", max_length=100, required="required"),
    (Column("crm2cr_ContactId", Label("Contact"), "lookup", targets=("contact",)),),
)
NEWER = SCHEMA.upgraded(
    "1.1.0.0",
    tables=[NOTE],
    columns={
        "crm2cr_cleverreachlink": [
            Column("crm2cr_Score", Label("Score"), "integer"),
        ]
    },
    relationships=[
        Relationship(
            "crm2cr_contact_crm2cr_syncnote_contactid",
            "contact",
            "crm2cr_syncnote",
            "crm2cr_contactid",
        )
    ],
)


def _version(api: httpx.Client) -> str:
    response = api.get(odata("solutions", select="version", filter="uniquename eq 'crm2cr'"))
    (row,) = response.json()["value"]
    return str(row["version"])


def _links(api: httpx.Client) -> list[dict[str, object]]:
    response = api.get(odata("crm2cr_cleverreachlinks", select="crm2cr_pairkey,crm2cr_email"))
    assert response.status_code == 200, response.text
    value: list[dict[str, object]] = response.json()["value"]
    return value


def test_upgrade_adds_tables_and_columns_and_keeps_all_data(api: httpx.Client) -> None:
    """§17.15: a higher version adds what is new; every existing row stays."""
    assert import_solution(api).status_code == 204
    for n in range(3):
        body = {"crm2cr_name": f"l{n}", "crm2cr_pairkey": f"p{n}", "crm2cr_email": f"{n}@x.example"}
        assert api.post("crm2cr_cleverreachlinks", json=body).status_code == 204
    assert api.post("crm2cr_configurations", json={"crm2cr_name": "settings"}).status_code == 204
    before = _links(api)

    response = import_solution(api, NEWER)

    assert response.status_code == 204, response.text
    assert _version(api) == "1.1.0.0"
    after = _links(api)
    assert [(r["crm2cr_pairkey"], r["crm2cr_email"]) for r in after] == [
        (r["crm2cr_pairkey"], r["crm2cr_email"]) for r in before
    ]
    configurations = api.get(odata("crm2cr_configurations", select="crm2cr_name"))
    assert [r["crm2cr_name"] for r in configurations.json()["value"]] == ["settings"]
    link_id = api.get(odata("crm2cr_cleverreachlinks", select="crm2cr_cleverreachlinkid"))
    first = link_id.json()["value"][0]["crm2cr_cleverreachlinkid"]
    assert (
        api.patch(f"crm2cr_cleverreachlinks({first})", json={"crm2cr_score": 7}).status_code == 204
    )
    note = api.post("crm2cr_syncnotes", json={"crm2cr_name": "new table works"})
    assert note.status_code == 204, note.text


def test_downgrade_is_refused_and_changes_nothing(api: httpx.Client) -> None:
    """§17.15: importing a lower version than the installed one → 400."""
    assert import_solution(api, NEWER).status_code == 204

    response = import_solution(api, SCHEMA)

    assert response.status_code == 400
    assert "downgraded" in error_of(response)[1]
    assert _version(api) == "1.1.0.0"


def test_failed_import_leaves_a_failed_job(api: httpx.Client) -> None:
    """§10: the import job of a refused import says why."""
    job = "5a1e0c2d-0000-4000-8000-00000000d0d0"
    assert import_solution(api, NEWER).status_code == 204
    assert api.post("ImportSolution", json=import_body(encoded(SCHEMA), job)).status_code == 400
    data = api.get(f"importjobs({job})/data")
    assert data.status_code == 200, data.text
    assert 'result="failure"' in data.json()["value"]


def test_concurrent_import_is_refused(api: httpx.Client, control: httpx.Client) -> None:
    """§17.15: while another import runs, ImportSolution → 400; afterwards it works."""
    running = control.post("imports/start", json={"solution": "other"})
    assert running.status_code == 200, running.text

    refused = import_solution(api)

    assert refused.status_code == 400
    assert "previous [Import] running" in error_of(refused)[1]
    definitions = api.get(
        odata(
            "EntityDefinitions",
            select="LogicalName",
            filter="LogicalName eq 'crm2cr_cleverreachlink'",
        )
    )
    assert definitions.json()["value"] == []
    assert control.post(f"imports/{running.json()['id']}/finish").status_code == 200
    assert import_solution(api).status_code == 204


def test_duplicate_import_job_id_is_refused(api: httpx.Client) -> None:
    job = "5a1e0c2d-0000-4000-8000-00000000beef"
    assert api.post("ImportSolution", json=import_body(encoded(), job)).status_code == 204
    again = api.post("ImportSolution", json=import_body(encoded(), job))
    assert again.status_code == 400
    assert job in error_of(again)[1]
