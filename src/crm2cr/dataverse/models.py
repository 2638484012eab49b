"""Wire models of the Dataverse Web API: the API's names, typed.

Records themselves stay dicts (their columns depend on the table and on the
query); these are the fixed shapes around them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from crm2cr.errors import ApiError, InvalidInput, ProtocolError

Record = dict[str, Any]

_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")


def entity_id_from(headers: Mapping[str, str]) -> str | None:
    """The id in `OData-EntityId` (or `Location`) of a create or upsert answer (§7.1)."""
    for header in ("OData-EntityId", "Location"):
        match = _ENTITY_ID.search(headers.get(header, "") or headers.get(header.lower(), ""))
        if match:
            return match.group(1).lower()
    return None


class MemberType(Enum):
    """A marketing list's member type: `createdfromcode` 1 Account, 2 Contact, 4 Lead (§6)."""

    ACCOUNT = 1
    CONTACT = 2
    LEAD = 4

    @classmethod
    def from_code(cls, code: object) -> MemberType:
        for member in cls:
            if member.value == code:
                return member
        raise ProtocolError("dataverse", 200, f"unknown marketing list member type {code!r}")

    @classmethod
    def from_name(cls, logical_name: str) -> MemberType:
        for member in cls:
            if member.logical_name == logical_name:
                return member
        raise InvalidInput(
            f"{logical_name!r} cannot be a marketing list member.",
            hint="Use contact, account or lead.",
        )

    @property
    def logical_name(self) -> str:
        return self.name.lower()

    @property
    def entity_set(self) -> str:
        return f"{self.logical_name}s"

    @property
    def primary_id(self) -> str:
        return f"{self.logical_name}id"

    @property
    def association(self) -> str:
        """The list's N:N navigation to members of this type (`listcontact_association`)."""
        return f"list{self.logical_name}_association"


@dataclass(frozen=True)
class WhoAmI:
    user_id: str
    business_unit_id: str
    organization_id: str


@dataclass(frozen=True)
class Page:
    """One page of a collection read."""

    rows: list[Record]
    next_link: str | None = None
    count: int | None = None  # @odata.count, capped at 5000 by the service (§4.4)
    count_limit_exceeded: bool = False


@dataclass(frozen=True)
class MarketingList:
    listid: str
    listname: str
    dynamic: bool  # `type`: false static, true dynamic
    member_type: MemberType
    query: str | None = None  # FetchXML of a dynamic list
    membercount: int | None = None
    locked: bool = False
    active: bool = True

    @classmethod
    def from_record(cls, row: Mapping[str, Any]) -> MarketingList:
        return cls(
            listid=str(row["listid"]),
            listname=str(row.get("listname") or ""),
            dynamic=bool(row.get("type")),
            member_type=MemberType.from_code(row.get("createdfromcode")),
            query=row.get("query") or None,
            membercount=row.get("membercount"),
            locked=bool(row.get("lockstatus")),
            active=row.get("statecode", 0) == 0,
        )


@dataclass(frozen=True)
class TableInfo:
    """A table's names from EntityDefinitions."""

    logical_name: str
    entity_set: str
    primary_id: str
    primary_name: str
    schema_name: str
    object_type_code: int | None = None
    change_tracking: bool = False


@dataclass(frozen=True)
class ColumnInfo:
    logical_name: str
    kind: str  # AttributeType: String, Lookup, Picklist, …
    schema_name: str = ""
    display_name: str = ""
    max_length: int | None = None
    targets: tuple[str, ...] = ()  # lookup target tables
    valid_for_create: bool = True
    valid_for_update: bool = True


@dataclass(frozen=True)
class TablePrivilege:
    """One of a table's privileges (`prvReadContact`), as EntityDefinitions lists them."""

    name: str
    privilege_id: str
    privilege_type: str  # Create, Read, Write, Delete, Append, AppendTo, Assign, Share


@dataclass(frozen=True)
class RolePrivilege:
    """One entry of RetrieveUserPrivileges: a privilege a role gives at a depth."""

    name: str
    privilege_id: str
    depth: str  # Basic, Local, Deep, Global
    business_unit_id: str = ""


@dataclass(frozen=True)
class OperationResult:
    """The outcome of one operation of a $batch or bulk call, in request order."""

    index: int
    status: int
    entity_id: str | None = None  # from OData-EntityId or the bulk answer's Ids
    body: Any = None
    error: ApiError | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Outcome:
    """Per-operation results of a batch or bulk write, in the order the operations were given."""

    results: list[OperationResult]

    @property
    def succeeded(self) -> list[OperationResult]:
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[OperationResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


@dataclass(frozen=True)
class ChangedRow:
    """A row created or updated since the delta token (all selected columns)."""

    id: str
    row: Record


@dataclass(frozen=True)
class DeletedRow:
    """`$deletedEntity`: a row deleted since the delta token."""

    id: str
    reason: str = "deleted"


Change = ChangedRow | DeletedRow


@dataclass(frozen=True)
class ImportJob:
    import_job_id: str
    progress: float
    completed: bool
    data: str | None = None  # the result XML, when asked for
