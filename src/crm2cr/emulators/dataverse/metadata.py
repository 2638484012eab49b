"""Table and column definitions of the emulated organisation (reference §6, §13).

The emulator keeps one `Metadata` registry: every table (`EntityDef`) with its
columns (`AttributeDef`), single-valued navigation properties
(`NavigationDef`, one per lookup target) and many-to-many relationships
(`ManyToManyDef`). The store persists the registry next to the data, so a
restart with `--data FILE` keeps tables a solution import created.

Building blocks for new tables (used by the standard tables and by solution
import alike):

    entity = new_entity("crm2cr_cleverreachlink", "crm2cr_cleverreachlinks",
                        primary_name="crm2cr_name", schema_name="crm2cr_CleverReachLink",
                        display_name="CleverReach Link", object_type_code=10001,
                        is_custom=True, change_tracking=True)
    entity.add(string("crm2cr_email", max_length=100))
    entity.add(lookup("crm2cr_listid", ("list",)))
    store.create_table(entity)            # registers it here and creates the SQL table

`new_entity` adds the system columns every table has (primary id, created/
modified on and by, versionnumber, state and status; owner columns for
user-owned tables). Names follow Dataverse: set names, navigation names and
privilege names are case-sensitive; logical names are lower case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

AttributeKind = Literal[
    "String",
    "Memo",
    "Integer",
    "BigInt",
    "Decimal",
    "Double",
    "Money",
    "Boolean",
    "DateTime",
    "Uniqueidentifier",
    "Lookup",
    "Owner",
    "Customer",
    "Picklist",
    "State",
    "Status",
    "EntityName",
]
RequiredLevel = Literal["None", "ApplicationRequired", "SystemRequired", "Recommended"]
Ownership = Literal["UserOwned", "OrganizationOwned", "None"]
Access = Literal["Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share"]

LOOKUP_KINDS: frozenset[str] = frozenset({"Lookup", "Owner", "Customer"})
CHOICE_KINDS: frozenset[str] = frozenset({"Picklist", "State", "Status"})
STRING_KINDS: frozenset[str] = frozenset({"String", "Memo", "EntityName"})
INTEGER_KINDS: frozenset[str] = frozenset({"Integer", "BigInt", "Picklist", "State", "Status"})
NUMBER_KINDS: frozenset[str] = frozenset({"Decimal", "Double", "Money"})
ACCESS_RIGHTS: tuple[Access, ...] = (
    "Create",
    "Read",
    "Write",
    "Delete",
    "Append",
    "AppendTo",
    "Assign",
    "Share",
)
LANGUAGE = 1033

# Metadata ids are derived from names, so they stay the same across restarts
# and seeds (the real service keeps them stable too).
_NAMESPACE = uuid.UUID("0d7a6e55-6c53-4b4a-9d1c-c2c2c2c2c2c2")


def stable_id(*parts: str) -> str:
    """A deterministic GUID for a metadata object (table, column, privilege...)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


@dataclass
class OptionDef:
    """One value of a choice; `state` is set on status options (the state it belongs to)."""

    value: int
    label: str
    state: int | None = None
    color: str | None = None


@dataclass
class AttributeDef:
    """A column. `kind` is Dataverse's AttributeType.

    Storage (see store.py): one SQL column named `logical_name`; lookups
    (`Lookup`, `Owner`, `Customer`) add `<logical_name>__type` holding the
    target's logical name. Booleans are 0/1, DateTime is UTC Unix seconds.
    Boolean labels live in `options` under 0 (false) and 1 (true).
    """

    logical_name: str
    kind: AttributeKind
    schema_name: str = ""
    display_name: str = ""
    description: str = ""
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    precision: int | None = None
    targets: tuple[str, ...] = ()
    options: dict[int, OptionDef] = field(default_factory=dict)
    default: Any = None
    valid_for_create: bool = True
    valid_for_update: bool = True
    valid_for_read: bool = True
    required_level: RequiredLevel = "None"
    is_custom: bool = False
    is_primary_id: bool = False
    is_primary_name: bool = False
    global_option_set: str | None = None
    # Only the tables' own logic (fullname, membercount...) writes these.
    computed: bool = False
    metadata_id: str = ""

    def __post_init__(self) -> None:
        if not self.schema_name:
            self.schema_name = _schema_name(self.logical_name)
        if not self.display_name:
            self.display_name = self.logical_name

    @property
    def is_lookup(self) -> bool:
        return self.kind in LOOKUP_KINDS

    @property
    def is_choice(self) -> bool:
        return self.kind in CHOICE_KINDS

    @property
    def read_name(self) -> str:
        """The property name on the wire: `_x_value` for lookups, else the logical name."""
        return f"_{self.logical_name}_value" if self.is_lookup else self.logical_name

    def label(self, value: int) -> str | None:
        option = self.options.get(int(value))
        return option.label if option else None

    def with_options(self, options: Iterable[OptionDef]) -> AttributeDef:
        return replace(self, options={o.value: o for o in options})


@dataclass
class NavigationDef:
    """A single-valued navigation property of a lookup, e.g. `parentcustomerid_account`.

    Polymorphic lookups have one navigation per target; `ownerid` is the
    exception, one navigation accepting both systemuser and team, as in Dataverse.
    """

    name: str
    attribute: str
    targets: tuple[str, ...]
    relationship: str


@dataclass
class ManyToManyDef:
    """An N:N relationship through an intersect table.

    `listcontact_association`: entity1 `list` (column `listid` of the intersect
    table `listmember`), entity2 `contact` (column `entityid`, with
    `entityid__type` naming the member's table). The navigation names are what
    URLs use from either side.
    """

    schema_name: str
    entity1: str
    entity2: str
    intersect: str
    entity1_attribute: str
    entity2_attribute: str
    entity1_navigation: str
    entity2_navigation: str
    metadata_id: str = ""

    def __post_init__(self) -> None:
        if not self.metadata_id:
            self.metadata_id = stable_id("relationship", self.schema_name)

    def navigation_for(self, entity: str) -> str:
        return self.entity1_navigation if entity == self.entity1 else self.entity2_navigation

    def other(self, entity: str) -> str:
        return self.entity2 if entity == self.entity1 else self.entity1


@dataclass
class EntityDef:
    """A table. SQL table name = `logical_name`; primary key column = `primary_id`."""

    logical_name: str
    entity_set: str
    primary_id: str
    primary_name: str
    object_type_code: int
    schema_name: str = ""
    display_name: str = ""
    display_collection_name: str = ""
    description: str = ""
    is_custom: bool = False
    change_tracking: bool = False
    ownership: Ownership = "UserOwned"
    is_intersect: bool = False
    is_activity: bool = False
    # listmember: no single GET and no update (reference §6)
    supports_retrieve: bool = True
    supports_update: bool = True
    attributes: dict[str, AttributeDef] = field(default_factory=dict)
    navigations: dict[str, NavigationDef] = field(default_factory=dict)
    many_to_many: dict[str, ManyToManyDef] = field(default_factory=dict)
    # alternate keys: schema name -> key columns (reference §7.4)
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    metadata_id: str = ""

    def __post_init__(self) -> None:
        if not self.schema_name:
            self.schema_name = _schema_name(self.logical_name)
        if not self.display_name:
            self.display_name = self.schema_name
        if not self.display_collection_name:
            self.display_collection_name = self.entity_set
        if not self.metadata_id:
            self.metadata_id = stable_id("entity", self.logical_name)

    @property
    def type_name(self) -> str:
        """The OData type, e.g. `Microsoft.Dynamics.CRM.contact`."""
        return f"Microsoft.Dynamics.CRM.{self.logical_name}"

    def add(self, attribute: AttributeDef) -> AttributeDef:
        """Add a column (and the navigation properties of a lookup); returns it."""
        if not attribute.metadata_id:
            attribute.metadata_id = stable_id(
                "attribute", self.logical_name, attribute.logical_name
            )
        self.attributes[attribute.logical_name] = attribute
        if attribute.is_lookup:
            for nav in default_navigations(self.logical_name, attribute):
                self.navigations.setdefault(nav.name, nav)
        return attribute

    def attribute(self, name: str) -> AttributeDef | None:
        return self.attributes.get(name)

    def by_read_name(self, name: str) -> AttributeDef | None:
        """Resolve a wire property name (`_ownerid_value` or `emailaddress1`)."""
        if name.startswith("_") and name.endswith("_value"):
            attr = self.attributes.get(name[1:-6])
            return attr if attr is not None and attr.is_lookup else None
        attr = self.attributes.get(name)
        return attr if attr is not None and not attr.is_lookup else None

    def navigation(self, name: str) -> NavigationDef | None:
        return self.navigations.get(name)

    def privilege_name(self, access: Access) -> str:
        """`prvReadContact`, `prvCreatecrm2cr_CleverReachLink` (reference §13.3)."""
        return f"prv{access}{self.schema_name}"

    def privilege_id(self, access: Access) -> str:
        return stable_id("privilege", self.privilege_name(access).lower())

    def privileges(self) -> list[PrivilegeDef]:
        """The table's privileges; tables without an owner have no Assign/Share."""
        rights = ACCESS_RIGHTS if self.ownership == "UserOwned" else ACCESS_RIGHTS[:6]
        return [
            PrivilegeDef(self.privilege_name(a), self.privilege_id(a), a, self.ownership)
            for a in rights
        ]

    def lookup_attributes(self) -> Iterator[AttributeDef]:
        return (a for a in self.attributes.values() if a.is_lookup)


@dataclass(frozen=True)
class PrivilegeDef:
    name: str
    privilege_id: str
    access: Access
    ownership: Ownership

    @property
    def can_be_basic(self) -> bool:
        return self.ownership == "UserOwned"

    @property
    def can_be_global(self) -> bool:
        return True


class Metadata:
    """Every table of the organisation, by logical name and by entity set name."""

    def __init__(self) -> None:
        self._by_name: dict[str, EntityDef] = {}
        self._by_set: dict[str, EntityDef] = {}
        self._relationships: dict[str, ManyToManyDef] = {}
        self.version = 1  # globalmetadataversion; bumped on every schema change

    def __contains__(self, logical_name: object) -> bool:
        return logical_name in self._by_name

    def __iter__(self) -> Iterator[EntityDef]:
        return iter(list(self._by_name.values()))

    def entity(self, logical_name: str) -> EntityDef | None:
        return self._by_name.get(logical_name)

    def require(self, logical_name: str) -> EntityDef:
        entity = self._by_name.get(logical_name)
        if entity is None:
            raise KeyError(logical_name)
        return entity

    def by_set(self, entity_set: str) -> EntityDef | None:
        """Case-sensitive, as the service is: `Contacts` is not `contacts`."""
        return self._by_set.get(entity_set)

    def add_entity(self, entity: EntityDef) -> EntityDef:
        """Register a table in memory. Use Store.create_table to also create and persist it."""
        self._by_name[entity.logical_name] = entity
        self._by_set[entity.entity_set] = entity
        self.version += 1
        return entity

    def add_attribute(self, logical_name: str, attribute: AttributeDef) -> AttributeDef:
        """Register a column in memory. Use Store.add_column to also create and persist it."""
        self.require(logical_name).add(attribute)
        self.version += 1
        return attribute

    def add_many_to_many(self, relationship: ManyToManyDef) -> ManyToManyDef:
        """Register an N:N relationship on both of its tables."""
        self._relationships[relationship.schema_name] = relationship
        first = self.require(relationship.entity1)
        second = self.require(relationship.entity2)
        first.many_to_many[relationship.entity1_navigation] = relationship
        second.many_to_many[relationship.entity2_navigation] = relationship
        self.version += 1
        return relationship

    def relationships(self) -> list[ManyToManyDef]:
        return list(self._relationships.values())

    def one_to_many(self, target: str) -> list[tuple[EntityDef, NavigationDef]]:
        """Navigations of other tables that point at `target` (its 1:N relationships)."""
        found: list[tuple[EntityDef, NavigationDef]] = []
        for entity in self._by_name.values():
            for nav in entity.navigations.values():
                if target in nav.targets:
                    found.append((entity, nav))
        return found

    # -- persistence (the store saves these as JSON) -------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "entities": [entity_to_json(e) for e in self._by_name.values()],
            "relationships": [relationship_to_json(r) for r in self._relationships.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metadata:
        metadata = cls()
        for item in data.get("entities", []):
            metadata.add_entity(entity_from_json(item))
        for item in data.get("relationships", []):
            metadata.add_many_to_many(ManyToManyDef(**item))
        metadata.version = int(data.get("version", metadata.version))
        return metadata


# -- serialisation helpers --------------------------------------------------------


def attribute_to_json(attr: AttributeDef) -> dict[str, Any]:
    data = {k: v for k, v in vars(attr).items() if k != "options"}
    data["targets"] = list(attr.targets)
    data["options"] = [vars(o) for o in attr.options.values()]
    return data


def attribute_from_json(data: dict[str, Any]) -> AttributeDef:
    values = dict(data)
    options = [OptionDef(**o) for o in values.pop("options", [])]
    values["targets"] = tuple(values.get("targets", ()))
    attr = AttributeDef(**values)
    attr.options = {o.value: o for o in options}
    return attr


def entity_to_json(entity: EntityDef) -> dict[str, Any]:
    data = {
        k: v
        for k, v in vars(entity).items()
        if k not in ("attributes", "navigations", "many_to_many", "keys")
    }
    data["attributes"] = [attribute_to_json(a) for a in entity.attributes.values()]
    data["navigations"] = [
        {**vars(n), "targets": list(n.targets)} for n in entity.navigations.values()
    ]
    data["keys"] = {k: list(v) for k, v in entity.keys.items()}
    return data


def entity_from_json(data: dict[str, Any]) -> EntityDef:
    values = dict(data)
    attributes = [attribute_from_json(a) for a in values.pop("attributes", [])]
    navigations = [
        NavigationDef(**{**n, "targets": tuple(n["targets"])})
        for n in values.pop("navigations", [])
    ]
    keys = {k: tuple(v) for k, v in values.pop("keys", {}).items()}
    entity = EntityDef(**values)
    entity.attributes = {a.logical_name: a for a in attributes}
    entity.navigations = {n.name: n for n in navigations}
    entity.keys = keys
    return entity


def relationship_to_json(rel: ManyToManyDef) -> dict[str, Any]:
    return dict(vars(rel))


# -- constructors -------------------------------------------------------------------


def _schema_name(logical_name: str) -> str:
    """System tables and columns: the logical name capitalised (`Contact`, `Firstname`).

    Custom ones carry the publisher prefix and pass their schema name explicitly
    (`crm2cr_CleverReachLink`), as a solution does.
    """
    return logical_name[:1].upper() + logical_name[1:]


def default_navigations(entity: str, attr: AttributeDef) -> list[NavigationDef]:
    """The navigation names Dataverse gives a lookup's targets."""
    name = attr.logical_name
    if name == "regardingobjectid":
        return [
            NavigationDef(f"{name}_{t}_{entity}", name, (t,), f"{t}_{entity}") for t in attr.targets
        ]
    if attr.kind == "Owner" or len(attr.targets) == 1:
        return [NavigationDef(name, name, attr.targets, f"{entity}_{name}")]
    return [NavigationDef(f"{name}_{t}", name, (t,), f"{entity}_{name}_{t}") for t in attr.targets]


def string(name: str, max_length: int = 100, **kw: Any) -> AttributeDef:
    return AttributeDef(name, "String", max_length=max_length, **kw)


def memo(name: str, max_length: int = 2000, **kw: Any) -> AttributeDef:
    return AttributeDef(name, "Memo", max_length=max_length, **kw)


def integer(name: str, **kw: Any) -> AttributeDef:
    kw.setdefault("min_value", -2147483648)
    kw.setdefault("max_value", 2147483647)
    return AttributeDef(name, "Integer", **kw)


def bigint(name: str, **kw: Any) -> AttributeDef:
    return AttributeDef(name, "BigInt", **kw)


def decimal(name: str, precision: int = 2, **kw: Any) -> AttributeDef:
    return AttributeDef(name, "Decimal", precision=precision, **kw)


def money(name: str, **kw: Any) -> AttributeDef:
    return AttributeDef(name, "Money", precision=2, **kw)


def boolean(name: str, true: str = "Yes", false: str = "No", **kw: Any) -> AttributeDef:
    kw.setdefault("default", False)
    options = {0: OptionDef(0, false), 1: OptionDef(1, true)}
    return AttributeDef(name, "Boolean", options=options, **kw)


def datetime_(name: str, **kw: Any) -> AttributeDef:
    return AttributeDef(name, "DateTime", **kw)


def lookup(
    name: str, targets: tuple[str, ...], kind: AttributeKind = "Lookup", **kw: Any
) -> AttributeDef:
    if kind not in LOOKUP_KINDS:
        raise ValueError(f"{kind} is not a lookup kind")
    return AttributeDef(name, kind, targets=targets, **kw)


def picklist(name: str, options: dict[int, str], **kw: Any) -> AttributeDef:
    return AttributeDef(
        name, "Picklist", options={v: OptionDef(v, label) for v, label in options.items()}, **kw
    )


def state(options: dict[int, str]) -> AttributeDef:
    return AttributeDef(
        "statecode",
        "State",
        options={v: OptionDef(v, label) for v, label in options.items()},
        default=0,
        display_name="Status",
        required_level="SystemRequired",
    )


def status(options: dict[int, tuple[str, int]]) -> AttributeDef:
    """Status reasons: value -> (label, state it belongs to); the first is each state's default."""
    return AttributeDef(
        "statuscode",
        "Status",
        options={v: OptionDef(v, label, state=s) for v, (label, s) in options.items()},
        display_name="Status Reason",
    )


def default_status(attr: AttributeDef, state_value: int) -> int | None:
    """The first status reason of a state, as the service picks when only statecode is set."""
    for option in attr.options.values():
        if option.state == state_value:
            return option.value
    return None


def new_entity(
    logical_name: str,
    entity_set: str,
    *,
    primary_name: str,
    object_type_code: int,
    primary_name_length: int = 100,
    ownership: Ownership = "UserOwned",
    states: dict[int, str] | None = None,
    statuses: dict[int, tuple[str, int]] | None = None,
    primary_id: str | None = None,
    with_state: bool = True,
    **kw: Any,
) -> EntityDef:
    """A table with the system columns Dataverse gives every table."""
    entity = EntityDef(
        logical_name,
        entity_set,
        primary_id or f"{logical_name}id",
        primary_name,
        object_type_code,
        ownership=ownership,
        **kw,
    )
    entity.add(
        AttributeDef(
            entity.primary_id,
            "Uniqueidentifier",
            is_primary_id=True,
            valid_for_update=False,
            required_level="SystemRequired",
        )
    )
    if primary_name:
        entity.add(string(primary_name, primary_name_length, is_primary_name=True))
    entity.add(
        datetime_("createdon", valid_for_create=False, valid_for_update=False, computed=True)
    )
    entity.add(
        datetime_("modifiedon", valid_for_create=False, valid_for_update=False, computed=True)
    )
    entity.add(
        bigint("versionnumber", valid_for_create=False, valid_for_update=False, computed=True)
    )
    for name in ("createdby", "modifiedby"):
        entity.add(
            lookup(
                name, ("systemuser",), valid_for_create=False, valid_for_update=False, computed=True
            )
        )
    if ownership == "UserOwned":
        entity.add(
            lookup("ownerid", ("systemuser", "team"), "Owner", required_level="SystemRequired")
        )
        entity.add(
            lookup(
                "owninguser",
                ("systemuser",),
                valid_for_create=False,
                valid_for_update=False,
                computed=True,
            )
        )
        entity.add(
            lookup(
                "owningteam",
                ("team",),
                valid_for_create=False,
                valid_for_update=False,
                computed=True,
            )
        )
    if ownership != "None":
        entity.add(
            lookup(
                "owningbusinessunit",
                ("businessunit",),
                valid_for_create=False,
                valid_for_update=False,
                computed=True,
            )
        )
    if with_state:
        entity.add(state(states or {0: "Active", 1: "Inactive"}))
        entity.add(status(statuses or {1: ("Active", 0), 2: ("Inactive", 1)}))
    return entity
