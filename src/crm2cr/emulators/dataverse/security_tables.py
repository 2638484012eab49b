"""The security tables and their seed rows (reference §13.3, §17.9, §17.19).

Tables, as the service names them: `role` (roles), `privilege` (privileges),
and the intersect tables `roleprivileges` (role, privilege, depth mask),
`systemuserroles` (user, role), `teamroles` (team, role) and
`teammembership` (team, user), each with its N:N relationship, so
`GET /systemusers({id})/systemuserroles_association` reads a user's roles.
The intersect tables track changes: a removed role bumps the organisation's
version, which tells security.py to recompute who may do what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.metadata import (
    EntityDef,
    ManyToManyDef,
    boolean,
    integer,
    lookup,
    new_entity,
    stable_id,
    string,
)
from crm2cr.emulators.dataverse.security_roles import (
    ACCESS_MASKS,
    DEPTH_MASKS,
    ROLES,
    PrivilegeSpec,
    RoleDef,
    all_privileges,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

ROOT_BUSINESS_UNIT_NAME = "crm2cr Emulator"
MARKETING_USER_ID = stable_id("systemuser", "marketing user")
READONLY_USER_ID = stable_id("systemuser", "readonly user")
SALES_USER_ID = stable_id("systemuser", "sales user")
MARKETING_TEAM_ID = stable_id("team", "Marketing")
TEST_DOMAIN = "crm2cr-demo.example"

# (id, first name, last name, roles) of the users tests sign in as.
TEST_USERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (MARKETING_USER_ID, "marketing", "user", ("Marketing Professional",)),
    (READONLY_USER_ID, "readonly", "user", ("Read Only",)),
    (SALES_USER_ID, "sales", "user", ("Salesperson",)),
)


def _intersect(name: str, otc: int, first: tuple[str, str], second: tuple[str, str]) -> EntityDef:
    entity = new_entity(
        name,
        name,
        primary_id=name.removesuffix("s") + "id",
        primary_name="",
        object_type_code=otc,
        ownership="None",
        with_state=False,
        change_tracking=True,
        is_intersect=True,
    )
    for column, target in (first, second):
        entity.add(lookup(column, (target,), required_level="SystemRequired"))
    return entity


def security_tables() -> list[EntityDef]:
    role = new_entity(
        "role",
        "roles",
        primary_name="name",
        object_type_code=1036,
        ownership="None",
        with_state=False,
        display_name="Security Role",
        display_collection_name="Security Roles",
    )
    role.add(lookup("businessunitid", ("businessunit",), required_level="SystemRequired"))
    role.add(string("description", 2000))
    role.add(boolean("ismanaged", valid_for_update=False))
    privilege = new_entity(
        "privilege",
        "privileges",
        primary_name="name",
        object_type_code=1023,
        ownership="None",
        with_state=False,
        display_name="Privilege",
        display_collection_name="Privileges",
    )
    privilege.add(integer("accessright"))
    for depth in ("basic", "local", "deep", "global"):
        privilege.add(boolean(f"canbe{depth}"))
    role_privileges = _intersect(
        "roleprivileges", 12, ("roleid", "role"), ("privilegeid", "privilege")
    )
    role_privileges.add(integer("privilegedepthmask"))
    return [
        role,
        privilege,
        role_privileges,
        _intersect("systemuserroles", 44, ("systemuserid", "systemuser"), ("roleid", "role")),
        _intersect("teamroles", 40, ("teamid", "team"), ("roleid", "role")),
        _intersect("teammembership", 23, ("teamid", "team"), ("systemuserid", "systemuser")),
    ]


def security_relationships() -> list[ManyToManyDef]:
    def n_to_n(name: str, first: str, second: str, intersect: str) -> ManyToManyDef:
        return ManyToManyDef(
            name, first, second, intersect, f"{first}id", f"{second}id", name, name
        )

    return [
        n_to_n("roleprivileges_association", "role", "privilege", "roleprivileges"),
        n_to_n("systemuserroles_association", "systemuser", "role", "systemuserroles"),
        n_to_n("teamroles_association", "team", "role", "teamroles"),
        n_to_n("teammembership_association", "team", "systemuser", "teammembership"),
    ]


# -- rows -------------------------------------------------------------------------------


def lookup_values(column: str, target: str, value: str | None) -> dict[str, Any]:
    return {column: value, f"{column}__type": target if value else None}


def role_row(role: RoleDef, business_unit: str) -> dict[str, Any]:
    return {
        "roleid": role.role_id,
        "name": role.name,
        "description": role.description,
        "ismanaged": 1,
        **lookup_values("businessunitid", "businessunit", business_unit),
    }


def privilege_row(spec: PrivilegeSpec) -> dict[str, Any]:
    local = int(spec.can_be_local)
    return {
        "privilegeid": spec.privilege_id,
        "name": spec.name,
        "accessright": ACCESS_MASKS[spec.access],
        "canbebasic": local,
        "canbelocal": local,
        "canbedeep": local,
        "canbeglobal": 1,
    }


def role_privilege_row(role_id: str, spec: PrivilegeSpec, mask: int) -> dict[str, Any]:
    return {
        "roleprivilegeid": stable_id("roleprivilege", role_id, spec.privilege_id),
        **lookup_values("roleid", "role", role_id),
        **lookup_values("privilegeid", "privilege", spec.privilege_id),
        "privilegedepthmask": mask,
    }


def membership_row(table: str, first: tuple[str, str], second: tuple[str, str]) -> dict[str, Any]:
    """A row of an intersect table joining first=(column, id) and second=(column, id)."""
    key = table.removesuffix("s") + "id"
    return {
        key: stable_id(table, first[1], second[1]),
        **lookup_values(first[0], first[0].removesuffix("id"), first[1]),
        **lookup_values(second[0], second[0].removesuffix("id"), second[1]),
    }


def grant_new_privileges(emu: DataverseEmulator) -> int:
    """Privilege rows for tables that have none yet, granted by the roles' rules.

    Run at seeding and whenever tables appear (a solution import): new tables
    get their privileges, and System Administrator holds them at Global.
    Returns how many privileges were added.
    """
    store = emu.store
    known = {str(r["name"]).lower() for r in store.query('SELECT name FROM "privilege"')}
    roles = {
        str(r["roleid"]): str(r["name"]) for r in store.query('SELECT roleid, name FROM "role"')
    }
    builtin = [role for role in ROLES if role.role_id in roles]
    added = 0
    with store.transaction():
        for spec in all_privileges(emu.metadata):
            if spec.name.lower() in known:
                continue
            known.add(spec.name.lower())
            store.insert("privilege", privilege_row(spec))
            added += 1
            for role in builtin:
                depth = role.depth(spec)
                if depth is not None:
                    store.insert(
                        "roleprivileges", role_privilege_row(role.role_id, spec, DEPTH_MASKS[depth])
                    )
    return added
