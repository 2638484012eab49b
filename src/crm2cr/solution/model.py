"""The building blocks of a Dataverse solution as frozen data.

A `Solution` has a publisher, the tables it creates (`Table`: columns,
alternate keys), the columns and choice options it adds to tables the CRM
already has (`TableExtension`) and its one-to-many `Relationship`s. schema.py
declares crm2cr's solution with them; package.py and reader.py turn them into
a solution file and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from crm2cr.errors import InvalidInput

LANG_EN = 1033
LANG_DE = 1031

ColumnType = Literal[
    "string", "memo", "integer", "bigint", "datetime", "boolean", "picklist", "lookup"
]
RequiredLevel = Literal["none", "recommended", "required"]
Ownership = Literal["UserOwned", "OrganizationOwned"]
CascadeDelete = Literal["Cascade", "RemoveLink", "Restrict"]

MEMO_MAX_LENGTH = 1_048_576


@dataclass(frozen=True, slots=True)
class Label:
    """A display text in English and, where it differs, German."""

    en: str
    de: str = ""

    def __post_init__(self) -> None:
        # One spelling for "same in both languages", so labels compare equal
        # after a trip through a solution file.
        if self.de == self.en:
            object.__setattr__(self, "de", "")

    def localized(self) -> tuple[tuple[int, str], ...]:
        """(language code, text) pairs, English first."""
        if self.de:
            return ((LANG_EN, self.en), (LANG_DE, self.de))
        return ((LANG_EN, self.en),)


@dataclass(frozen=True, slots=True)
class Option:
    value: int
    label: Label


@dataclass(frozen=True, slots=True)
class Column:
    """One column; `schema_name` keeps Dataverse's casing, the logical name is its lower case."""

    schema_name: str
    display: Label
    type: ColumnType
    max_length: int | None = None  # string and memo columns
    required: RequiredLevel = "none"
    targets: tuple[str, ...] = ()  # lookup: the table it points at
    options: tuple[Option, ...] = ()  # picklist
    description: str = ""

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()


@dataclass(frozen=True, slots=True)
class AlternateKey:
    schema_name: str
    display: Label
    columns: tuple[str, ...]  # logical names

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()


@dataclass(frozen=True, slots=True)
class Table:
    """A table the solution creates. Its primary key `{logical}id` is implied."""

    schema_name: str
    display: Label
    display_plural: Label
    primary_name: Column
    columns: tuple[Column, ...] = ()
    keys: tuple[AlternateKey, ...] = ()
    ownership: Ownership = "UserOwned"
    change_tracking: bool = True
    description: str = ""

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    @property
    def entity_set_name(self) -> str:
        return self.logical_name + "s"

    @property
    def primary_id(self) -> str:
        return self.logical_name + "id"

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return (self.primary_name, *self.columns)

    def column(self, logical_name: str) -> Column:
        for col in self.all_columns:
            if col.logical_name == logical_name:
                return col
        raise KeyError(logical_name)


@dataclass(frozen=True, slots=True)
class TableExtension:
    """Columns and choice options the solution adds to a table the CRM already has."""

    table: str  # logical name, e.g. campaignactivity
    schema_name: str  # e.g. CampaignActivity
    columns: tuple[Column, ...] = ()
    options: tuple[tuple[str, Option], ...] = ()  # (choice column, option) pairs


@dataclass(frozen=True, slots=True)
class Relationship:
    """A one-to-many relationship: `referenced` (one) to `referencing` (many) via `lookup`."""

    schema_name: str
    referenced: str  # logical name, e.g. contact
    referencing: str  # logical name, e.g. crm2cr_cleverreachlink
    lookup: str  # logical name of the lookup column on `referencing`
    cascade_delete: CascadeDelete = "RemoveLink"


@dataclass(frozen=True, slots=True)
class Publisher:
    unique_name: str
    display: Label
    prefix: str
    option_value_prefix: int

    def first_option_value(self) -> int:
        return self.option_value_prefix * 10_000


@dataclass(frozen=True, slots=True)
class Solution:
    unique_name: str
    display: Label
    version: str
    publisher: Publisher
    tables: tuple[Table, ...] = ()
    extensions: tuple[TableExtension, ...] = ()
    relationships: tuple[Relationship, ...] = ()
    managed: bool = False
    description: str = ""

    def table(self, logical_name: str) -> Table:
        for table in self.tables:
            if table.logical_name == logical_name:
                return table
        raise KeyError(logical_name)

    def upgraded(
        self,
        version: str,
        *,
        tables: Iterable[Table] = (),
        columns: Mapping[str, Iterable[Column]] | None = None,
        relationships: Iterable[Relationship] = (),
    ) -> Solution:
        """This solution at a higher version with more tables, columns and relationships."""
        if parse_version(version) <= parse_version(self.version):
            raise InvalidInput(
                f"An upgrade needs a version above {self.version}, not {version}.",
                hint="Raise the solution version when the schema grows.",
            )
        additions = dict(columns or {})
        new_tables = []
        for table in self.tables:
            extra = tuple(additions.pop(table.logical_name, ()))
            new_tables.append(replace(table, columns=table.columns + extra) if extra else table)
        new_extensions = []
        for ext in self.extensions:
            extra = tuple(additions.pop(ext.table, ()))
            new_extensions.append(replace(ext, columns=ext.columns + extra) if extra else ext)
        if additions:
            raise InvalidInput(f"The solution has no table {sorted(additions)[0]!r} to extend.")
        return replace(
            self,
            version=version,
            tables=(*new_tables, *tables),
            extensions=tuple(new_extensions),
            relationships=(*self.relationships, *relationships),
        )


def parse_version(text: str) -> tuple[int, int, int, int]:
    """`a.b.c.d` (Dataverse solution versions have two to four parts) as a comparable tuple."""
    parts = text.strip().split(".")
    if not 2 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        raise InvalidInput(
            f"{text!r} is not a solution version.", hint="Use the form major.minor.build.revision."
        )
    numbers = [int(p) for p in parts] + [0] * (4 - len(parts))
    return (numbers[0], numbers[1], numbers[2], numbers[3])
