"""Roles, privileges and the 403 they cause (reference dataverse.md §13.3, §17.9, §18.24)."""

from __future__ import annotations

import re

import httpx
import pytest

from crm2cr.emulators.dataverse.security_tables import (
    MARKETING_TEAM_ID,
    MARKETING_USER_ID,
    READONLY_USER_ID,
    SALES_USER_ID,
)
from crm2cr.emulators.dataverse.seed import APP_USER_ID

from .support import ClientFactory, encoded, error_of, import_body, import_solution, odata

MESSAGE = re.compile(
    r"Principal user \(Id=(?P<user>[0-9a-f-]{36}), type=8, roleCount=(?P<roles>\d+), "
    r"privilegeCount=(?P<count>\d+), accessMode=0\), is missing (?P<privilege>prv\w+) privilege "
    r"\(Id=(?P<id>[0-9a-f-]{36})\) on OTC=(?P<otc>\d+) for entity '(?P<entity>\w+)'\. "
    r"context\.Caller=(?P<caller>[0-9a-f-]{36})"
)


def _privileges(api: httpx.Client, user_id: str) -> list[dict[str, str]]:
    response = api.get(f"systemusers({user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()")
    assert response.status_code == 200, response.text
    value: list[dict[str, str]] = response.json()["RolePrivileges"]
    return value


def _set_roles(control: httpx.Client, user_id: str, *roles: str) -> None:
    response = control.post(f"users/{user_id}/roles", json={"roles": list(roles)})
    assert response.status_code == 200, response.text


class SecurityContract:
    def test_privileges_carry_names_and_depth_names(self, api: httpx.Client) -> None:
        """§18.24: RetrieveUserPrivileges gives PrivilegeName and Depth names."""
        entries = _privileges(api, APP_USER_ID)
        by_name = {e["PrivilegeName"]: e for e in entries}
        assert by_name["prvReadContact"]["Depth"] == "Global"
        assert by_name["prvReadList"]["Depth"] == "Global"
        assert {e["Depth"] for e in entries} == {"Global"}
        assert all(
            set(e) == {"Depth", "PrivilegeId", "BusinessUnitId", "PrivilegeName"} for e in entries
        )

    def test_missing_read_list_privilege_is_named_in_a_403(
        self, api: httpx.Client, as_user: ClientFactory, control: httpx.Client
    ) -> None:
        """§18.24: without prvReadList, GET /lists → 403 0x80040220 naming it."""
        _set_roles(control, SALES_USER_ID, "Read Only")
        assert as_user(SALES_USER_ID).get("lists").status_code == 200
        _set_roles(control, SALES_USER_ID)

        response = as_user(SALES_USER_ID).get("lists")

        assert response.status_code == 403
        code, message = error_of(response)
        assert code == "0x80040220"
        match = MESSAGE.fullmatch(message)
        assert match is not None, message
        assert match["privilege"] == "prvReadList"
        assert match["entity"] == "list"
        assert match["otc"] == "4300"
        assert match["user"] == match["caller"] == SALES_USER_ID
        assert (match["roles"], match["count"]) == ("0", "0")


class TestInProcess(SecurityContract):
    pass


@pytest.mark.parametrize("base_url", ["http"], indirect=True)
class TestOverHttp(SecurityContract):
    pass


def test_sales_user_holds_basic_and_local_depths(api: httpx.Client) -> None:
    """§13.3: depth names Basic and Local come back as names."""
    entries = {e["PrivilegeName"]: e["Depth"] for e in _privileges(api, SALES_USER_ID)}
    assert entries["prvReadContact"] == "Local"
    assert entries["prvWriteContact"] == "Basic"
    assert entries["prvCreateLead"] == "Basic"
    assert "prvDeleteList" not in entries


def test_marketing_user_reads_lists_but_not_the_crm2cr_tables(
    api: httpx.Client, as_user: ClientFactory
) -> None:
    """SPEC §2 rights check: Marketing Professional has no privileges on crm2cr's tables."""
    assert import_solution(api).status_code == 204
    marketing = as_user(MARKETING_USER_ID)
    assert marketing.get("contacts").status_code == 200
    assert marketing.get("lists").status_code == 200

    response = marketing.get("crm2cr_cleverreachlinks")

    assert response.status_code == 403
    match = MESSAGE.fullmatch(error_of(response)[1])
    assert match is not None
    assert match["privilege"] == "prvReadcrm2cr_CleverReachLink"
    assert int(match["otc"]) >= 10_000
    assert match["roles"] == "1"
    names = {e["PrivilegeName"] for e in _privileges(api, MARKETING_USER_ID)}
    assert "prvReadList" in names
    assert not {n for n in names if "crm2cr" in n.lower()}


def test_readonly_user_reads_but_cannot_create(as_user: ClientFactory) -> None:
    reader = as_user(READONLY_USER_ID)
    assert reader.get("contacts").status_code == 200
    response = reader.post("contacts", json={"lastname": "Muster"})
    assert response.status_code == 403
    assert "is missing prvCreateContact privilege" in error_of(response)[1]


def test_team_roles_count(api: httpx.Client, as_user: ClientFactory, control: httpx.Client) -> None:
    """§17.9: a user without own roles gets the roles of its teams; one entry per role."""
    _set_roles(control, SALES_USER_ID)
    assert as_user(SALES_USER_ID).get("lists").status_code == 403
    members = control.post(f"teams/{MARKETING_TEAM_ID}/members", json={"users": [SALES_USER_ID]})
    assert members.status_code == 200, members.text

    assert as_user(SALES_USER_ID).get("lists").status_code == 200
    entries = _privileges(api, SALES_USER_ID)
    assert {e["PrivilegeName"] for e in entries} >= {"prvReadList", "prvReadContact"}


def test_highest_depth_wins_and_each_role_is_listed(
    api: httpx.Client, as_user: ClientFactory, control: httpx.Client
) -> None:
    """§13.3, §17.9: one entry per (privilege, depth, role); the highest depth counts."""
    _set_roles(control, SALES_USER_ID, "Salesperson", "Read Only")
    entries = [e for e in _privileges(api, SALES_USER_ID) if e["PrivilegeName"] == "prvReadContact"]
    assert sorted(e["Depth"] for e in entries) == ["Global", "Local"]
    assert as_user(SALES_USER_ID).get("accounts").status_code == 200


def test_role_change_takes_effect_at_once(as_user: ClientFactory, control: httpx.Client) -> None:
    marketing = as_user(MARKETING_USER_ID)
    assert marketing.get("lists").status_code == 200
    _set_roles(control, MARKETING_USER_ID)
    assert marketing.get("lists").status_code == 403
    _set_roles(control, MARKETING_USER_ID, "marketing professional")
    assert marketing.get("lists").status_code == 200


def test_role_assigned_through_the_web_api_counts(
    api: httpx.Client, as_user: ClientFactory, control: httpx.Client
) -> None:
    """Roles are assigned in Dataverse by associating systemuserroles_association."""
    _set_roles(control, SALES_USER_ID)
    roles = api.get(odata("roles", select="roleid", filter="name eq 'Read Only'"))
    role_id = roles.json()["value"][0]["roleid"]
    base = str(api.base_url)
    response = api.post(
        f"systemusers({SALES_USER_ID})/systemuserroles_association/$ref",
        json={"@odata.id": f"{base}roles({role_id})"},
    )
    assert response.status_code == 204, response.text
    assert as_user(SALES_USER_ID).get("lists").status_code == 200


def test_import_needs_a_customizer_role(as_user: ClientFactory, control: httpx.Client) -> None:
    """§10: ImportSolution needs System Administrator or System Customizer."""
    marketing = as_user(MARKETING_USER_ID)
    refused = marketing.post("ImportSolution", json=import_body(encoded()))
    assert refused.status_code == 403
    code, message = error_of(refused)
    assert code == "0x80040220"
    assert "is missing prvImportCustomizations privilege" in message

    _set_roles(control, MARKETING_USER_ID, "System Customizer")
    assert marketing.post("ImportSolution", json=import_body(encoded())).status_code == 204


def test_own_privileges_need_no_read_privilege_on_users(
    as_user: ClientFactory, control: httpx.Client
) -> None:
    _set_roles(control, SALES_USER_ID)
    user = as_user(SALES_USER_ID)
    own = user.get(f"systemusers({SALES_USER_ID})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()")
    assert own.status_code == 200
    assert own.json()["RolePrivileges"] == []
    other = user.get(f"systemusers({APP_USER_ID})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()")
    assert other.status_code == 403
    match = MESSAGE.fullmatch(error_of(other)[1])
    assert match is not None
    assert match["entity"] == "systemuser"
    assert match["privilege"].startswith("prvRead")


def test_unknown_user_has_no_privileges_to_list(api: httpx.Client) -> None:
    missing = "00000000-0000-4000-8000-000000000404"
    response = api.get(f"systemusers({missing})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()")
    assert response.status_code == 404
    assert error_of(response)[0] == "0x80040217"


def test_control_endpoint_names_what_is_wrong(control: httpx.Client) -> None:
    unknown_role = control.post(f"users/{SALES_USER_ID}/roles", json={"roles": ["Overlord"]})
    assert unknown_role.status_code == 404
    assert "Overlord" in unknown_role.json()["error"]
    unknown_user = control.post(
        "users/00000000-0000-4000-8000-000000000404/roles", json={"roles": []}
    )
    assert unknown_user.status_code == 404
    assert control.post(f"users/{SALES_USER_ID}/roles", json={"roles": "x"}).status_code == 400
    users = control.get("security/users").json()
    by_id = {u["id"]: u for u in users}
    assert by_id[APP_USER_ID]["roles"] == ["System Administrator"]
    assert by_id[MARKETING_USER_ID]["roles"] == ["Marketing Professional"]


def test_reset_organisation_forgets_changed_roles(
    as_user: ClientFactory, control: httpx.Client
) -> None:
    _set_roles(control, MARKETING_USER_ID)
    assert as_user(MARKETING_USER_ID).get("lists").status_code == 403
    assert control.post("reset", json={"seed": "empty"}).status_code == 200
    assert as_user(MARKETING_USER_ID).get("lists").status_code == 200
