"""A small typed builder for OData query options (reference §4.1).

Values are never pasted into a filter as raw text: every literal goes through
`literal()`, which doubles quotes in strings and writes GUIDs, dates and
numbers in the form Dataverse expects; names must be plain identifiers (or
one `nav/column` path). `encode_params` percent-encodes the values completely
(`+ & $ , / : ; = ? @` and spaces as %20, never `+`, §4.1).

    q = Query(select=("fullname", "emailaddress1"),
              filter=col("statecode").eq(0) & col("emailaddress1").startswith("o'b"),
              orderby=(("fullname", False),))
    q.params()  # {"$select": "fullname,emailaddress1", "$filter": "...", ...}
"""

from __future__ import annotations

import math
import re
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from crm2cr.errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Value = str | int | float | bool | None | uuid.UUID | datetime | date


def name(text: str) -> str:
    """A column, table or navigation name; anything else is refused."""
    if not isinstance(text, str) or not _NAME.match(text):
        raise InvalidInput(
            f"{text!r} is not a Dataverse name.",
            hint="Names are letters, digits and underscores, as in 'emailaddress1'.",
        )
    return text


def path(text: str) -> str:
    """A column or a `navigation/column` path of one level."""
    if not isinstance(text, str) or not _PATH.match(text):
        raise InvalidInput(
            f"{text!r} is not a Dataverse column or navigation path.",
            hint="Use a column such as 'fullname' or a path such as 'primarycontactid/fullname'.",
        )
    return text


def guid(value: str | uuid.UUID) -> str:
    """A GUID in the bare lower-case form Dataverse URLs and filters use."""
    text = str(value).strip().strip("{}")
    if not _GUID.match(text):
        raise InvalidInput(f"{value!r} is not a GUID.", hint="A GUID looks like 8-4-4-4-12 hex.")
    return text.lower()


def quote(text: str) -> str:
    """A string literal: single quotes, inner quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def utc_stamp(value: datetime) -> str:
    """A DateTime literal in UTC without fraction, as Dataverse writes them (§3)."""
    if value.tzinfo is None:
        raise InvalidInput(
            f"{value.isoformat()} has no time zone.",
            hint="Pass an aware datetime (e.g. datetime.now(UTC)).",
        )
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def literal(value: Value) -> str:
    """One OData literal. bool is checked before int, datetime before date."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{value!r} cannot be used in a filter.")
        return repr(value)
    if isinstance(value, uuid.UUID):
        return str(value).lower()
    if isinstance(value, datetime):
        return utc_stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return quote(value)
    raise InvalidInput(f"{type(value).__name__} values cannot be used in a filter.")


class Filter:
    """A rendered boolean expression; combine with &, | and ~."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __and__(self, other: Filter) -> Filter:
        return Filter(f"({self.text}) and ({other.text})")

    def __or__(self, other: Filter) -> Filter:
        return Filter(f"({self.text}) or ({other.text})")

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Filter({self.text!r})"


def all_of(filters: Iterable[Filter]) -> Filter | None:
    result: Filter | None = None
    for item in filters:
        result = item if result is None else result & item
    return result


def any_of(filters: Iterable[Filter]) -> Filter | None:
    result: Filter | None = None
    for item in filters:
        result = item if result is None else result | item
    return result


class Column:
    """A column (or `nav/column`) to compare; every value becomes a literal."""

    __slots__ = ("name",)

    def __init__(self, column: str) -> None:
        self.name = path(column)

    def _compare(self, op: str, value: Value) -> Filter:
        return Filter(f"{self.name} {op} {literal(value)}")

    def eq(self, value: Value) -> Filter:
        return self._compare("eq", value)

    def ne(self, value: Value) -> Filter:
        return self._compare("ne", value)

    def gt(self, value: Value) -> Filter:
        return self._compare("gt", value)

    def ge(self, value: Value) -> Filter:
        return self._compare("ge", value)

    def lt(self, value: Value) -> Filter:
        return self._compare("lt", value)

    def le(self, value: Value) -> Filter:
        return self._compare("le", value)

    def eq_guid(self, value: str | uuid.UUID) -> Filter:
        """`_x_value eq {guid}`: a lookup compared with a bare GUID."""
        return Filter(f"{self.name} eq {guid(value)}")

    def contains(self, text: str) -> Filter:
        return Filter(f"contains({self.name},{quote(text)})")

    def startswith(self, text: str) -> Filter:
        return Filter(f"startswith({self.name},{quote(text)})")

    def endswith(self, text: str) -> Filter:
        return Filter(f"endswith({self.name},{quote(text)})")

    def is_in(self, values: Iterable[Value]) -> Filter:
        """Membership as an or-chain (Dataverse has no OData `in` operator)."""
        parts = [self.eq(v) for v in values]
        if not parts:
            raise InvalidInput(f"An empty list of values for {self.name} matches nothing.")
        combined = any_of(parts)
        assert combined is not None
        return combined


def col(column: str) -> Column:
    return Column(column)


@dataclass(frozen=True)
class Expand:
    """`nav($select=…;$filter=…;$top=n)` for a navigation property."""

    navigation: str
    select: Sequence[str] = ()
    filter: Filter | None = None
    top: int | None = None

    def render(self) -> str:
        options = []
        if self.select:
            options.append("$select=" + ",".join(name(c) for c in self.select))
        if self.filter is not None:
            options.append(f"$filter={self.filter.text}")
        if self.top is not None:
            options.append(f"$top={int(self.top)}")
        nav = name(self.navigation)
        return f"{nav}({';'.join(options)})" if options else nav


@dataclass(frozen=True)
class Query:
    """The query options of one read. `$skip` does not exist in Dataverse (§4.1)."""

    select: Sequence[str] = ()
    filter: Filter | None = None
    orderby: Sequence[tuple[str, bool]] = ()  # (column, descending)
    expand: Sequence[Expand] = ()
    top: int | None = None
    count: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.select:
            params["$select"] = ",".join(name(c) for c in self.select)
        if self.filter is not None:
            params["$filter"] = self.filter.text
        if self.orderby:
            params["$orderby"] = ",".join(
                f"{path(c)} {'desc' if desc else 'asc'}" for c, desc in self.orderby
            )
        if self.expand:
            params["$expand"] = ",".join(e.render() for e in self.expand)
        if self.top is not None:
            if self.top < 1:
                raise InvalidInput("$top must be a positive number.")
            params["$top"] = str(int(self.top))
        if self.count:
            params["$count"] = "true"
        params.update(self.extra)
        return params


def encode_params(params: Mapping[str, str]) -> str:
    """A query string with every reserved character of a value percent-encoded.

    Not form encoding: a space is %20, since a `+` is a literal plus to an
    OData server that does not decode forms.
    """
    return "&".join(
        f"{urllib.parse.quote(k, safe='$')}={urllib.parse.quote(v, safe='')}"
        for k, v in params.items()
    )


def key_segment(entity_set: str, record_id: str | uuid.UUID) -> str:
    """`contacts(0f…)`: the URL segment of one record."""
    return f"{name(entity_set)}({guid(record_id)})"


def alternate_key_segment(entity_set: str, keys: Mapping[str, Value]) -> str:
    """`contacts(emailaddress1='a@b.c')`: a record by alternate key (§7.4)."""
    if not keys:
        raise InvalidInput("An alternate key needs at least one column.")
    inner = ",".join(f"{name(k)}={literal(v)}" for k, v in keys.items())
    return f"{name(entity_set)}({inner})"
