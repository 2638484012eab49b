"""Who may do what in the emulated organisation (reference §13.3, §17.9; issue #6).

A user's privileges are the union over the roles assigned to the user and to
the teams the user belongs to; for each privilege the highest depth wins.
`require` answers 403 `0x80040220` with the service's message when a caller
lacks a table privilege; `RetrieveUserPrivileges` lists one entry per
(privilege, depth, role).

The roles and privileges live in the store (security_tables.py), so they are
readable through the Web API and survive `--data` restarts. Resolving them
costs a join, so each user's result is cached; the cache is dropped when the
organisation's version moves and the security tables' fingerprint changed
(a role assigned through the API or the control endpoint, a table imported).

Seeded (seed_security): the roles of security_roles.py; the application
user(s) as System Administrator; users for tests, signed in with the dev
token `user:<id>` or, under strict auth, their e-mail and the demo password:
"marketing user" (Marketing Professional: contacts, lists, no crm2cr
tables), "readonly user" (Read Only), "sales user" (Salesperson: Basic and
Local depths); a team "Marketing" (Marketing Professional, no members); and
Marketing Professional for every other seeded user.

Control endpoints (control_routes, under /_emulator):

    GET  /security/users                 users with their roles and teams
    POST /users/{id}/roles               {"roles": [names]} replaces the user's roles
    POST /teams/{id}/roles               {"roles": [names]} replaces the team's roles
    POST /teams/{id}/members             {"users": [ids]} replaces the team's members
    POST /imports/start, /imports/{id}/finish   an import running elsewhere (solutions.py)
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import ODataError, privilege_denied, record_not_found
from crm2cr.emulators.dataverse.metadata import Access, EntityDef, Metadata
from crm2cr.emulators.dataverse.security_roles import (
    DEPTH_BY_MASK,
    DEPTH_MASKS,
    Depth,
    misc_privilege_id,
)
from crm2cr.emulators.dataverse.security_tables import (
    grant_new_privileges,
)
from crm2cr.emulators.dataverse.wire import Caller, InternalResponse, json_response

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from crm2cr.emulators.dataverse.app import DataverseEmulator

__all__ = [
    "control_routes",
    "grant_new_privileges",
    "has_any_role",
    "require",
    "require_privilege",
    "retrieve_user_privileges",
    "seed_security",
]

_FINGERPRINT = """
SELECT (SELECT count(*) || ':' || ifnull(max(versionnumber), 0) FROM "systemuserroles"),
       (SELECT count(*) || ':' || ifnull(max(versionnumber), 0) FROM "teamroles"),
       (SELECT count(*) || ':' || ifnull(max(versionnumber), 0) FROM "teammembership"),
       (SELECT count(*) || ':' || ifnull(max(versionnumber), 0) FROM "roleprivileges"),
       (SELECT count(*) FROM "privilege")
"""
_USER_ROLES = """
SELECT roleid FROM "systemuserroles" WHERE systemuserid = :user
UNION
SELECT tr.roleid FROM "teamroles" tr
JOIN "teammembership" tm ON tm.teamid = tr.teamid
WHERE tm.systemuserid = :user
"""
_ROLE_PRIVILEGES = f"""
SELECT p.name AS name, p.privilegeid AS privilegeid, rp.privilegedepthmask AS mask,
       r.roleid AS roleid, r.businessunitid AS businessunitid, r.name AS rolename
FROM "roleprivileges" rp
JOIN "privilege" p ON p.privilegeid = rp.privilegeid
JOIN "role" r ON r.roleid = rp.roleid
WHERE rp.roleid IN ({_USER_ROLES})
ORDER BY r.name, p.name
"""


@dataclass(frozen=True)
class Grant:
    """One (privilege, depth, role) a user holds."""

    privilege: str
    privilege_id: str
    depth: Depth
    role_id: str
    role_name: str
    business_unit_id: str


@dataclass
class UserPrivileges:
    grants: list[Grant]
    role_ids: frozenset[str]
    role_names: frozenset[str]
    depths: dict[str, Depth]  # lower-case privilege name -> highest depth

    @property
    def role_count(self) -> int:
        return len(self.role_ids)


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    metadata: Metadata | None = None  # the registry it was built for (a reset makes a new one)
    version: int = -1  # the organisation version it was checked at
    fingerprint: tuple[Any, ...] = ()
    metadata_version: int = -1
    users: dict[str, UserPrivileges] = field(default_factory=dict)
    known: frozenset[str] = frozenset()  # lower-case names of existing privileges


_CACHES: weakref.WeakKeyDictionary[Any, _Cache] = weakref.WeakKeyDictionary()


def _cache(emu: DataverseEmulator) -> _Cache:
    """The cache, valid for the store as it is now (call with the store lock held)."""
    cache = _CACHES.get(emu)
    if cache is None:
        cache = _CACHES.setdefault(emu, _Cache())
    store = emu.store
    fresh_tables = store.metadata.version != cache.metadata_version
    if (
        store.metadata is not cache.metadata or fresh_tables
    ) and "roleprivileges" in store.metadata:
        cache.metadata_version = store.metadata.version
        grant_new_privileges(emu)  # tables created since (an import, the API) get theirs
    same_store = cache.metadata is store.metadata
    if same_store and cache.version == store.version:
        return cache
    row = store.conn.execute(_FINGERPRINT).fetchone()
    fingerprint = tuple(row) if row else ()
    with cache.lock:
        if fingerprint != cache.fingerprint or not same_store:
            cache.users.clear()
            names = store.query('SELECT name FROM "privilege"')
            cache.known = frozenset(str(r["name"]).lower() for r in names)
            cache.fingerprint = fingerprint
        cache.metadata = store.metadata
        cache.version = store.version
    return cache


def user_privileges(emu: DataverseEmulator, user_id: str) -> UserPrivileges:
    """Every (privilege, depth, role) of a user, through own and team roles (§17.9)."""
    user_id = user_id.lower()
    if "roleprivileges" not in emu.metadata:
        return UserPrivileges([], frozenset(), frozenset(), {})  # still being seeded
    with emu.store.lock:
        cache = _cache(emu)
        found = cache.users.get(user_id)
        if found is not None:
            return found
        rows = emu.store.query(_ROLE_PRIVILEGES, {"user": user_id})
        role_rows = emu.store.query(
            f'SELECT roleid, name FROM "role" WHERE roleid IN ({_USER_ROLES})', {"user": user_id}
        )
    grants = [
        Grant(
            str(r["name"]),
            str(r["privilegeid"]),
            DEPTH_BY_MASK.get(int(r["mask"] or 1), "Basic"),
            str(r["roleid"]),
            str(r["rolename"]),
            str(r["businessunitid"] or ""),
        )
        for r in rows
    ]
    depths: dict[str, Depth] = {}
    for grant in grants:
        name = grant.privilege.lower()
        current = depths.get(name)
        if current is None or DEPTH_MASKS[grant.depth] > DEPTH_MASKS[current]:
            depths[name] = grant.depth
    result = UserPrivileges(
        grants,
        frozenset(str(r["roleid"]) for r in role_rows),
        frozenset(str(r["name"]) for r in role_rows),
        depths,
    )
    with cache.lock:
        cache.users[user_id] = result
    return result


def require(emu: DataverseEmulator, caller: Caller, access: str, entity: EntityDef) -> None:
    """403 `0x80040220` naming the privilege when the caller lacks it at every depth (§13.3).

    Depth limits which records a privilege reaches, not whether the operation
    may start; tables without privileges (intersect tables) are not checked here.
    """
    if entity.is_intersect or "roleprivileges" not in emu.metadata:
        return  # membership rows, or an organisation still being seeded
    name = entity.privilege_name(_access(access))
    held = user_privileges(emu, caller.systemuserid)
    if name.lower() in held.depths:
        return
    with emu.store.lock:
        known = _cache(emu).known
    if name.lower() not in known:
        return  # no such privilege (Assign on an organisation-owned table...)
    raise privilege_denied(
        user_id=caller.systemuserid,
        privilege=name,
        privilege_id=entity.privilege_id(_access(access)),
        object_type_code=entity.object_type_code,
        entity=entity.logical_name,
        role_count=held.role_count,
        privilege_count=len(held.depths),
    )


def require_privilege(emu: DataverseEmulator, caller: Caller, name: str) -> None:
    """403 `0x80040220` when the caller lacks an organisation-wide privilege
    (prvImportCustomizations...); the message has no table part."""
    held = user_privileges(emu, caller.systemuserid)
    if name.lower() in held.depths:
        return
    raise ODataError(
        403,
        "0x80040220",
        f"Principal user (Id={caller.systemuserid}, type=8, roleCount={held.role_count}, "
        f"privilegeCount={len(held.depths)}, accessMode=0), is missing {name} privilege "
        f"(Id={misc_privilege_id(name)}). context.Caller={caller.systemuserid}",
    )


def has_any_role(emu: DataverseEmulator, caller: Caller, names: frozenset[str]) -> bool:
    held = user_privileges(emu, caller.systemuserid)
    return bool({n.lower() for n in held.role_names} & {n.lower() for n in names})


def _access(access: str) -> Access:
    for candidate in ("Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share"):
        if candidate.lower() == access.lower():
            return candidate
    raise ValueError(f"unknown access right {access!r}")


def retrieve_user_privileges(
    emu: DataverseEmulator, user_id: str, caller: Caller
) -> InternalResponse:
    """`GET /systemusers({id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()` (§10, §17.9)."""
    user_id = user_id.strip().lower()
    with emu.store.lock:
        exists = emu.store.exists("systemuser", user_id)
    if not exists:
        raise record_not_found("systemuser", user_id)
    if user_id != caller.systemuserid.lower():
        require(emu, caller, "Read", emu.metadata.require("systemuser"))
    held = user_privileges(emu, user_id)
    from crm2cr.emulators.dataverse.app import _BASE_URL

    body = {
        "@odata.context": (
            f"{_BASE_URL.get()}/api/data/v9.2/$metadata"
            "#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse"
        ),
        "RolePrivileges": [
            {
                "Depth": g.depth,
                "PrivilegeId": g.privilege_id,
                "BusinessUnitId": g.business_unit_id,
                "PrivilegeName": g.privilege,
            }
            for g in held.grants
        ],
    }
    return json_response(body)


def seed_security(emu: DataverseEmulator) -> None:
    """Security tables, privileges, roles, test users and team (the seeds call this)."""
    from crm2cr.emulators.dataverse.security_seed import seed_security as seed

    seed(emu)


def control_routes(emu: DataverseEmulator) -> list[BaseRoute]:
    """Routes to mount under /_emulator (security_control.py, solutions' import hooks)."""
    from crm2cr.emulators.dataverse.security_control import routes

    return routes(emu)
