"""Privileges and security roles of the emulated organisation, as data (reference §13.3).

Table privileges are derived from the metadata: `prv{Access}{SchemaName}` for
every table that is not an intersect table, with stable ids (metadata.py's
`privilege_id`). A few organisation-wide privileges (importing and exporting
customizations...) have no table. Each role is a rule that gives a depth (or
nothing) for a privilege, so tables a solution import creates later are
granted by the same rules: System Administrator gets them at Global.

Depths (Dataverse's PrivilegeDepth): Basic (own records), Local (business
unit), Deep (unit and children), Global (organisation); masks 1, 2, 4, 8.
Tables without an owner (organisation-owned) only know Global.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from crm2cr.emulators.dataverse.metadata import EntityDef, Metadata, stable_id

Depth = Literal["Basic", "Local", "Deep", "Global"]
DEPTH_MASKS: dict[Depth, int] = {"Basic": 1, "Local": 2, "Deep": 4, "Global": 8}
DEPTH_BY_MASK: dict[int, Depth] = {mask: depth for depth, mask in DEPTH_MASKS.items()}

# Dataverse's AccessRights flags, the `accessright` column of privileges.
ACCESS_MASKS: dict[str, int] = {
    "Read": 1,
    "Write": 2,
    "Append": 4,
    "AppendTo": 16,
    "Create": 32,
    "Delete": 65536,
    "Share": 262144,
    "Assign": 524288,
    "Misc": 0,
}

IMPORT_CUSTOMIZATIONS = "prvImportCustomizations"
EXPORT_CUSTOMIZATIONS = "prvExportCustomizations"
PUBLISH_CUSTOMIZATIONS = "prvPublishCustomizations"
WRITE_ATTRIBUTE = "prvWriteAttribute"
ACT_ON_BEHALF = "prvActOnBehalfOfAnotherUser"
MISC_PRIVILEGES = (
    IMPORT_CUSTOMIZATIONS,
    EXPORT_CUSTOMIZATIONS,
    PUBLISH_CUSTOMIZATIONS,
    WRITE_ATTRIBUTE,
    ACT_ON_BEHALF,
)
CUSTOMIZATION_PRIVILEGES = frozenset(MISC_PRIVILEGES) - {ACT_ON_BEHALF}


@dataclass(frozen=True)
class PrivilegeSpec:
    """One privilege: a table's (`table` set) or an organisation-wide one."""

    name: str
    privilege_id: str
    access: str  # an Access, or "Misc"
    table: str | None = None
    is_custom_table: bool = False
    user_owned: bool = False

    @property
    def can_be_local(self) -> bool:
        return self.user_owned

    def allowed(self, depth: Depth) -> Depth:
        """The depth as the privilege admits it: tables without owners only know Global."""
        return depth if self.user_owned else "Global"


def misc_privilege_id(name: str) -> str:
    return stable_id("privilege", name.lower())


def table_privileges(entity: EntityDef) -> list[PrivilegeSpec]:
    if entity.is_intersect:
        return []  # membership rows are governed by the privileges of the tables they join
    return [
        PrivilegeSpec(
            p.name,
            p.privilege_id,
            p.access,
            entity.logical_name,
            entity.is_custom,
            entity.ownership == "UserOwned",
        )
        for p in entity.privileges()
    ]


def all_privileges(metadata: Metadata) -> Iterator[PrivilegeSpec]:
    for name in MISC_PRIVILEGES:
        yield PrivilegeSpec(name, misc_privilege_id(name), "Misc")
    for entity in metadata:
        yield from table_privileges(entity)


Rule = Callable[[PrivilegeSpec], Depth | None]


@dataclass(frozen=True)
class RoleDef:
    name: str
    description: str
    rule: Rule

    @property
    def role_id(self) -> str:
        return stable_id("role", self.name)

    def depth(self, privilege: PrivilegeSpec) -> Depth | None:
        depth = self.rule(privilege)
        return privilege.allowed(depth) if depth else None


# Tables a marketing team works with (reference §6), and those everyone reads.
MARKETING_TABLES = frozenset({"contact", "account", "lead", "list", "campaign", "campaignactivity"})
REFERENCE_TABLES = frozenset(
    {"systemuser", "team", "businessunit", "organization", "transactioncurrency", "role"}
)
SALES_TABLES = frozenset({"contact", "account", "lead"})
RECORD_RIGHTS = frozenset({"Create", "Read", "Write", "Delete", "Append", "AppendTo"})


def _administrator(p: PrivilegeSpec) -> Depth | None:
    return "Global"


def _customizer(p: PrivilegeSpec) -> Depth | None:
    # Customizes the system; sees every record, changes only its own.
    if p.access == "Misc":
        return "Global" if p.name in CUSTOMIZATION_PRIVILEGES else None
    return "Global" if p.access == "Read" else "Basic"


def _marketing(p: PrivilegeSpec) -> Depth | None:
    # Deliberately nothing on custom tables (the crm2cr ones included): an
    # administrator has to grant those, which is what the rights check is for.
    if p.table in MARKETING_TABLES and p.access in RECORD_RIGHTS:
        return "Global"
    if p.table in MARKETING_TABLES and p.access in ("Assign", "Share"):
        return "Local"
    if p.table in REFERENCE_TABLES and p.access == "Read":
        return "Global"
    return None


def _salesperson(p: PrivilegeSpec) -> Depth | None:
    if p.table in SALES_TABLES:
        return "Local" if p.access == "Read" else "Basic"
    if p.table in ("list", "campaign", "campaignactivity") and p.access in ("Read", "AppendTo"):
        return "Local"
    if p.table in REFERENCE_TABLES and p.access == "Read":
        return "Global"
    return None


def _reader(p: PrivilegeSpec) -> Depth | None:
    return "Global" if p.access == "Read" else None


SYSTEM_ADMINISTRATOR = RoleDef(
    "System Administrator", "Every privilege at organisation depth.", _administrator
)
SYSTEM_CUSTOMIZER = RoleDef(
    "System Customizer", "Customizes the organisation; reads all records.", _customizer
)
MARKETING_PROFESSIONAL = RoleDef(
    "Marketing Professional",
    "Contacts, accounts, leads, marketing lists and campaigns; no custom tables.",
    _marketing,
)
SALESPERSON = RoleDef(
    "Salesperson", "Own contacts, accounts and leads; reads its business unit's.", _salesperson
)
READ_ONLY = RoleDef("Read Only", "Reads every table, changes nothing.", _reader)

ROLES: tuple[RoleDef, ...] = (
    SYSTEM_ADMINISTRATOR,
    SYSTEM_CUSTOMIZER,
    MARKETING_PROFESSIONAL,
    SALESPERSON,
    READ_ONLY,
)
# Roles that may import, export and publish solutions (reference §10).
CUSTOMIZER_ROLES = frozenset({SYSTEM_ADMINISTRATOR.name, SYSTEM_CUSTOMIZER.name})


def role_by_name(name: str) -> RoleDef | None:
    """Role names compare case-insensitively, as the service's do."""
    for role in ROLES:
        if role.name.lower() == name.strip().lower():
            return role
    return None
