"""Seeding the security model, and changing who holds which role (reference §13.3, §17.19).

`seed_security` (the seeds call it through security.py) creates the security
tables, every privilege, the roles of security_roles.py, the users tests sign
in as and the "Marketing" team; application users become System
Administrators, every other seeded user a Marketing Professional.
`set_roles` and `set_team_members` back the control endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.records import new_row
from crm2cr.emulators.dataverse.security_roles import (
    MARKETING_PROFESSIONAL,
    ROLES,
    SYSTEM_ADMINISTRATOR,
)
from crm2cr.emulators.dataverse.security_tables import (
    MARKETING_TEAM_ID,
    TEST_DOMAIN,
    TEST_USERS,
    grant_new_privileges,
    lookup_values,
    membership_row,
    role_row,
    security_relationships,
    security_tables,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator


def _insert(emu: DataverseEmulator, table: str, values: dict[str, Any]) -> None:
    from crm2cr.emulators.dataverse.seed import APP_USER_ID, ROOT_BUSINESS_UNIT_ID

    entity = emu.metadata.require(table)
    row = new_row(entity, values, user_id=APP_USER_ID, business_unit_id=ROOT_BUSINESS_UNIT_ID)
    emu.store.insert(table, row)


def seed_security(emu: DataverseEmulator) -> None:
    """Security tables, privileges, roles, test users and team (the seeds call this)."""
    from crm2cr.emulators.dataverse.seed import ROOT_BUSINESS_UNIT_ID

    store = emu.store
    with store.lock, store.transaction():
        for entity in security_tables():
            if entity.logical_name not in store.metadata:
                store.create_table(entity)
        for relationship in security_relationships():
            if relationship.schema_name not in {
                r.schema_name for r in store.metadata.relationships()
            }:
                store.add_many_to_many(relationship)
        for role in ROLES:
            if not store.exists("role", role.role_id):
                _insert(emu, "role", role_row(role, ROOT_BUSINESS_UNIT_ID))
        grant_new_privileges(emu)
        for user_id, first, last, _roles in TEST_USERS:
            if not store.exists("systemuser", user_id):
                email = f"{first}.{last}@{TEST_DOMAIN}"
                _insert(
                    emu,
                    "systemuser",
                    {
                        "systemuserid": user_id,
                        "firstname": first,
                        "lastname": last,
                        "internalemailaddress": email,
                        "domainname": email,
                        "accessmode": 0,
                        "isdisabled": 0,
                        **lookup_values("businessunitid", "businessunit", ROOT_BUSINESS_UNIT_ID),
                    },
                )
        if not store.exists("team", MARKETING_TEAM_ID):
            _insert(
                emu,
                "team",
                {
                    "teamid": MARKETING_TEAM_ID,
                    "name": "Marketing",
                    "teamtype": 0,
                    "isdefault": 0,
                    **lookup_values("businessunitid", "businessunit", ROOT_BUSINESS_UNIT_ID),
                },
            )
            set_roles(emu, "team", MARKETING_TEAM_ID, [MARKETING_PROFESSIONAL.name])
        test_roles = {user_id: roles for user_id, _f, _l, roles in TEST_USERS}
        assigned = {
            str(r["systemuserid"])
            for r in store.query('SELECT systemuserid FROM "systemuserroles"')
        }
        for user in store.query('SELECT systemuserid, applicationid FROM "systemuser"'):
            user_id = str(user["systemuserid"])
            if user_id in assigned:
                continue
            if user_id in test_roles:
                roles = list(test_roles[user_id])
            elif user["applicationid"]:
                roles = [SYSTEM_ADMINISTRATOR.name]
            else:
                roles = [MARKETING_PROFESSIONAL.name]
            set_roles(emu, "systemuser", user_id, roles)


def set_roles(
    emu: DataverseEmulator, kind: str, principal_id: str, role_names: list[str]
) -> list[str]:
    """Replace the roles of a user (kind "systemuser") or team (kind "team").

    Raises LookupError naming an unknown principal or role. Returns the role names.
    """
    table, column = (
        ("systemuserroles", "systemuserid")
        if kind == "systemuser"
        else (
            "teamroles",
            "teamid",
        )
    )
    principal_id = principal_id.lower()
    store = emu.store
    with store.lock, store.transaction():
        if not store.exists(kind, principal_id):
            raise LookupError(f"no {kind} {principal_id}")
        roles: list[tuple[str, str]] = []
        for name in role_names:
            rows = store.query(
                'SELECT roleid, name FROM "role" WHERE name = ? COLLATE NOCASE', (name,)
            )
            if not rows:
                raise LookupError(f"no role named {name!r}")
            roles.append((str(rows[0]["roleid"]), str(rows[0]["name"])))
        key = table.removesuffix("s") + "id"
        for row in store.query(f'SELECT {key} FROM "{table}" WHERE {column} = ?', (principal_id,)):
            store.delete(table, str(row[key]))
        for role_id, _name in dict.fromkeys(roles):
            _insert(emu, table, membership_row(table, (column, principal_id), ("roleid", role_id)))
    return [name for _id, name in dict.fromkeys(roles)]


def set_team_members(emu: DataverseEmulator, team_id: str, user_ids: list[str]) -> list[str]:
    """Replace the members of a team; raises LookupError naming an unknown team or user."""
    team_id = team_id.lower()
    store = emu.store
    with store.lock, store.transaction():
        if not store.exists("team", team_id):
            raise LookupError(f"no team {team_id}")
        users = list(dict.fromkeys(u.lower() for u in user_ids))
        for user_id in users:
            if not store.exists("systemuser", user_id):
                raise LookupError(f"no systemuser {user_id}")
        rows = store.query(
            'SELECT teammembershipid FROM "teammembership" WHERE teamid = ?', (team_id,)
        )
        for row in rows:
            store.delete("teammembership", str(row["teammembershipid"]))
        for user_id in users:
            _insert(
                emu,
                "teammembership",
                membership_row("teammembership", ("teamid", team_id), ("systemuserid", user_id)),
            )
    return users
