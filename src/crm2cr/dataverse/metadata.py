"""Table definitions, columns, choice labels and privileges (reference §13).

Definitions change only when a solution is imported, so they are cached per
client; `forget()` clears the cache (after an import).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crm2cr.dataverse.classify import SERVICE
from crm2cr.dataverse.models import ColumnInfo, RolePrivilege, TableInfo, TablePrivilege
from crm2cr.dataverse.query import Query, col, guid, key_segment, name, quote
from crm2cr.errors import ProtocolError

if TYPE_CHECKING:
    from crm2cr.dataverse.client import DataverseClient

TABLE_COLUMNS = (
    "LogicalName",
    "EntitySetName",
    "PrimaryIdAttribute",
    "PrimaryNameAttribute",
    "SchemaName",
    "ObjectTypeCode",
    "ChangeTrackingEnabled",
)
ATTRIBUTE_COLUMNS = (
    "LogicalName",
    "AttributeType",
    "SchemaName",
    "DisplayName",
    "IsValidForCreate",
    "IsValidForUpdate",
)
# The typed cast that carries a kind of column's options (§13.1).
OPTION_CASTS = {
    "Picklist": "PicklistAttributeMetadata",
    "State": "StateAttributeMetadata",
    "Status": "StatusAttributeMetadata",
    "Boolean": "BooleanAttributeMetadata",
    "MultiSelectPicklist": "MultiSelectPicklistAttributeMetadata",
}
LOOKUP_KINDS = frozenset({"Lookup", "Customer", "Owner"})


def label_text(label: Any, language: int | None = None) -> str:
    """The text of a Label: the wanted language, else the user's, else the first."""
    if not isinstance(label, Mapping):
        return ""
    localized = label.get("LocalizedLabels") or []
    if language is not None:
        for item in localized:
            if isinstance(item, Mapping) and item.get("LanguageCode") == language:
                return str(item.get("Label") or "")
    user = label.get("UserLocalizedLabel")
    if isinstance(user, Mapping) and user.get("Label"):
        return str(user["Label"])
    for item in localized:
        if isinstance(item, Mapping) and item.get("Label"):
            return str(item["Label"])
    return ""


def _definition(logical_name: str) -> str:
    return f"EntityDefinitions(LogicalName={quote(name(logical_name))})"


def _attribute(logical_name: str, column: str) -> str:
    return f"{_definition(logical_name)}/Attributes(LogicalName={quote(name(column))})"


class Metadata:
    """EntityDefinitions reads, cached for the client's lifetime."""

    def __init__(self, client: DataverseClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._tables: dict[str, TableInfo] = {}

    def forget(self) -> None:
        with self._lock:
            self._tables.clear()

    def table_exists(self, logical_name: str) -> bool:
        """`EntityDefinitions?$filter=LogicalName eq 'x'` → empty when absent (§13.1)."""
        query = Query(
            select=("LogicalName", "EntitySetName"), filter=col("LogicalName").eq(logical_name)
        )
        response = self.client.send("GET", "EntityDefinitions", params=query.params())
        return bool(self.client.json_object(response).get("value"))

    def table(self, logical_name: str) -> TableInfo:
        """The table's names; a missing table raises NotFoundError."""
        with self._lock:
            cached = self._tables.get(logical_name)
        if cached is not None:
            return cached
        data = self.client.call_function(
            _definition(logical_name), {"$select": ",".join(TABLE_COLUMNS)}
        )
        try:
            info = TableInfo(
                logical_name=str(data["LogicalName"]),
                entity_set=str(data["EntitySetName"]),
                primary_id=str(data["PrimaryIdAttribute"]),
                primary_name=str(data.get("PrimaryNameAttribute") or ""),
                schema_name=str(data.get("SchemaName") or ""),
                object_type_code=data.get("ObjectTypeCode"),
                change_tracking=bool(data.get("ChangeTrackingEnabled")),
            )
        except KeyError as missing:
            raise ProtocolError(SERVICE, 200, f"a table definition without {missing}") from None
        with self._lock:
            self._tables[logical_name] = info
        return info

    def entity_set(self, logical_name: str) -> str:
        return self.table(logical_name).entity_set

    def columns(self, logical_name: str) -> list[ColumnInfo]:
        data = self.client.call_function(
            f"{_definition(logical_name)}/Attributes", {"$select": ",".join(ATTRIBUTE_COLUMNS)}
        )
        return [_column(item) for item in data.get("value") or [] if isinstance(item, Mapping)]

    def column(self, logical_name: str, column: str) -> ColumnInfo:
        data = self.client.call_function(
            _attribute(logical_name, column), {"$select": ",".join(ATTRIBUTE_COLUMNS)}
        )
        info = _column(data)
        if info.kind in LOOKUP_KINDS:
            targets = self.lookup_targets(logical_name, column)
            info = ColumnInfo(
                info.logical_name,
                info.kind,
                info.schema_name,
                info.display_name,
                info.max_length,
                targets,
                info.valid_for_create,
                info.valid_for_update,
            )
        return info

    def lookup_targets(self, logical_name: str, column: str) -> tuple[str, ...]:
        """The tables a lookup may point at (`ownerid` → systemuser, team)."""
        data = self.client.call_function(
            f"{_attribute(logical_name, column)}/Microsoft.Dynamics.CRM.LookupAttributeMetadata",
            {"$select": "LogicalName,Targets"},
        )
        return tuple(str(t) for t in data.get("Targets") or [])

    def option_labels(
        self, logical_name: str, column: str, *, language: int | None = None
    ) -> dict[int, str]:
        """Value → label of a choice, state, status or two-option column (§13.1)."""
        kind = _column(
            self.client.call_function(
                _attribute(logical_name, column), {"$select": "LogicalName,AttributeType"}
            )
        ).kind
        cast = OPTION_CASTS.get(kind)
        if cast is None:
            raise ProtocolError(SERVICE, 200, f"{logical_name}.{column} is a {kind}, not a choice")
        expand = "OptionSet"
        if kind in ("Picklist", "MultiSelectPicklist"):
            expand = "OptionSet($select=Options),GlobalOptionSet($select=Options)"
        data = self.client.call_function(
            f"{_attribute(logical_name, column)}/Microsoft.Dynamics.CRM.{cast}",
            {"$select": "LogicalName", "$expand": expand},
        )
        option_set = data.get("GlobalOptionSet") or data.get("OptionSet") or {}
        if kind == "Boolean":
            labels = {}
            for key, value in (("FalseOption", 0), ("TrueOption", 1)):
                option = option_set.get(key) or {}
                labels[int(option.get("Value", value))] = label_text(option.get("Label"), language)
            return labels
        return {
            int(option["Value"]): label_text(option.get("Label"), language)
            for option in option_set.get("Options") or []
            if isinstance(option, Mapping) and isinstance(option.get("Value"), int)
        }

    def privileges(self, logical_name: str) -> list[TablePrivilege]:
        """The table's privileges (`prvCreatecrm2cr_CleverReachLink`, …) (§13.3)."""
        data = self.client.call_function(_definition(logical_name), {"$select": "Privileges"})
        return [
            TablePrivilege(
                name=str(item.get("Name")),
                privilege_id=str(item.get("PrivilegeId") or "").lower(),
                privilege_type=str(item.get("PrivilegeType") or ""),
            )
            for item in data.get("Privileges") or []
            if isinstance(item, Mapping) and item.get("Name")
        ]

    def user_privileges(self, user_id: str) -> list[RolePrivilege]:
        """RetrieveUserPrivileges: every (privilege, depth) the user's and teams' roles give."""
        data = self.client.call_function(
            f"{key_segment('systemusers', guid(user_id))}"
            "/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
        )
        return [
            RolePrivilege(
                name=str(item.get("PrivilegeName")),
                privilege_id=str(item.get("PrivilegeId") or "").lower(),
                depth=str(item.get("Depth") or ""),
                business_unit_id=str(item.get("BusinessUnitId") or "").lower(),
            )
            for item in data.get("RolePrivileges") or []
            if isinstance(item, Mapping) and item.get("PrivilegeName")
        ]


def _column(data: Mapping[str, Any]) -> ColumnInfo:
    kind = data.get("AttributeType")
    logical = data.get("LogicalName")
    if not isinstance(kind, str) or not isinstance(logical, str):
        raise ProtocolError(SERVICE, 200, "a column definition without LogicalName/AttributeType")
    max_length = data.get("MaxLength")
    return ColumnInfo(
        logical_name=logical,
        kind=kind,
        schema_name=str(data.get("SchemaName") or ""),
        display_name=label_text(data.get("DisplayName")),
        max_length=max_length if isinstance(max_length, int) else None,
        valid_for_create=data.get("IsValidForCreate") is not False,
        valid_for_update=data.get("IsValidForUpdate") is not False,
    )
