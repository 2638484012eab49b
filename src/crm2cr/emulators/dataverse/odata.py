"""`$filter` → parameterised SQLite SQL (reference §4.1).

The text is parsed by the odata-query library (`ODataLexer`/`ODataParser`)
into its AST; `FilterCompiler` walks that AST. Every literal becomes a `?`
parameter and every identifier is checked against the table's metadata
before it is quoted, so nothing from the URL reaches the SQL text.

Supported: `eq ne gt ge lt le`, `and or not`, parentheses, `in (...)`,
`contains/startswith/endswith` (case-insensitive; `%` and `_` stay
wildcards as in the service), `null`, GUID, date and date-time literals,
column-to-column comparisons, `_x_value` lookups, one level of navigation
(`primarycontactid/fullname`), and the query functions
`Microsoft.Dynamics.CRM.In/NotIn/Between/NotBetween/EqualUserId/...` plus the
relative-date ones (`LastXDays`, `Today`, `OnOrAfter`...). Anything else is a
400 naming it. String comparisons are case-insensitive because string
columns are `COLLATE NOCASE` (ASCII letters fold; the service folds all).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from odata_query import ast

from crm2cr.emulators.dataverse.errors import bad_request, property_not_found
from crm2cr.emulators.dataverse.fetchxml_dates import DATE_OPERATORS, date_range
from crm2cr.emulators.dataverse.metadata import (
    INTEGER_KINDS,
    NUMBER_KINDS,
    STRING_KINDS,
    AttributeDef,
    EntityDef,
    Metadata,
)
from crm2cr.emulators.dataverse.odata_syntax import EDM_TYPES, LITERAL_EDM, parse_filter
from crm2cr.emulators.dataverse.store import quote

__all__ = ["EDM_TYPES", "FilterCompiler", "compile_filter", "parse_filter"]

NAMESPACE = ("Microsoft", "Dynamics", "CRM")

_COMPARATORS: dict[type[ast._Comparator], tuple[str, str]] = {
    ast.Eq: ("=", "Equal"),
    ast.NotEq: ("<>", "NotEqual"),
    ast.Gt: (">", "GreaterThan"),
    ast.GtE: (">=", "GreaterThanOrEqual"),
    ast.Lt: ("<", "LessThan"),
    ast.LtE: ("<=", "LessThanOrEqual"),
}
_MIRROR = {"=": "=", "<>": "<>", ">": "<", ">=": "<=", "<": ">", "<=": ">="}

# Query functions taking a date range: Dataverse name -> FetchXML operator.
_DATE_FUNCTIONS = {
    "Today": "today",
    "Yesterday": "yesterday",
    "Tomorrow": "tomorrow",
    "Last7Days": "last-seven-days",
    "Next7Days": "next-seven-days",
    "ThisMonth": "this-month",
    "LastMonth": "last-month",
    "NextMonth": "next-month",
    "ThisYear": "this-year",
    "LastYear": "last-year",
    "NextYear": "next-year",
    "On": "on",
    "NotOn": "not-on",
    "OnOrBefore": "on-or-before",
    "OnOrAfter": "on-or-after",
    "LastXHours": "last-x-hours",
    "NextXHours": "next-x-hours",
    "LastXDays": "last-x-days",
    "NextXDays": "next-x-days",
    "LastXWeeks": "last-x-weeks",
    "NextXWeeks": "next-x-weeks",
    "LastXMonths": "last-x-months",
    "NextXMonths": "next-x-months",
    "LastXYears": "last-x-years",
    "NextXYears": "next-x-years",
    "OlderThanXDays": "older-than-x-days",
    "OlderThanXMonths": "older-than-x-months",
    "OlderThanXYears": "older-than-x-years",
}
assert set(_DATE_FUNCTIONS.values()) <= DATE_OPERATORS

_PROPERTY_FUNCTIONS = frozenset(
    {
        "In",
        "NotIn",
        "Between",
        "NotBetween",
        "EqualUserId",
        "NotEqualUserId",
        "EqualBusinessId",
        "NotEqualBusinessId",
        "Null",
        "NotNull",
    }
)

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class Operand:
    sql: str
    attr: AttributeDef | None = None  # set when the operand is a column
    node: ast._Node | None = None  # set when it is a literal


class FilterCompiler:
    """Compiles `$filter` for one table (SQL alias `alias`) into (sql, params).

    `now` is the emulator clock (relative dates); `user_id`/`business_unit_id`
    serve EqualUserId and EqualBusinessId.
    """

    def __init__(
        self,
        metadata: Metadata,
        entity: EntityDef,
        *,
        alias: str = "t0",
        now: datetime | None = None,
        user_id: str = "",
        business_unit_id: str = "",
    ) -> None:
        self.metadata = metadata
        self.entity = entity
        self.alias = alias
        self.now = now or datetime.now(UTC)
        self.user_id = user_id
        self.business_unit_id = business_unit_id
        self.params: list[Any] = []
        self._subqueries = 0
        self.columns_used: list[AttributeDef] = []

    def compile(self, text: str) -> tuple[str, list[Any]]:
        self.params = []
        sql = self.boolean(parse_filter(text))
        return sql, self.params

    # -- boolean expressions ----------------------------------------------------------

    def boolean(self, node: ast._Node) -> str:
        if isinstance(node, ast.BoolOp):
            joiner = "AND" if isinstance(node.op, ast.And) else "OR"
            return f"({self.boolean(node.left)} {joiner} {self.boolean(node.right)})"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"(NOT {self.boolean(node.operand)})"
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Boolean):
            return "1" if node.py_val else "0"
        if isinstance(node, ast.Identifier | ast.Attribute):
            operand = self.operand(node)
            if operand.attr is not None and operand.attr.kind == "Boolean":
                return f"({operand.sql} = 1)"
        if isinstance(node, ast.CollectionLambda):
            raise bad_request("Lambda operators (any, all) are not supported by the emulator.")
        if isinstance(node, ast.BinOp):
            raise bad_request("Arithmetic operators (add, sub, mul, div, mod) are not supported.")
        raise bad_request("The $filter expression must evaluate to a single boolean value.")

    def compare(self, node: ast.Compare) -> str:
        if isinstance(node.comparator, ast.In):
            left = self.operand(node.left)
            if left.attr is None or not isinstance(node.right, ast.List):
                raise bad_request("The 'in' operator needs a property on the left and a list.")
            return self._in(left, list(node.right.val), negate=False)
        sql_op, kind = _COMPARATORS[type(node.comparator)]
        left, right = self.operand(node.left), self.operand(node.right)
        if left.attr is None and right.attr is not None:
            left, right, sql_op = right, left, _MIRROR[sql_op]
        if left.attr is None:
            raise bad_request("A comparison needs at least one property.")
        if right.attr is not None:
            return f"({left.sql} {sql_op} {right.sql})"
        assert right.node is not None
        if isinstance(right.node, ast.Null):
            if sql_op == "=":
                return f"({left.sql} IS NULL)"
            if sql_op == "<>":
                return f"({left.sql} IS NOT NULL)"
            return "0"
        value = self.value(left.attr, right.node, kind)
        self.params.append(value)
        # Like the service (SQL underneath), `ne` does not match rows where the column is null.
        return f"({left.sql} {sql_op} ?)"

    def _in(self, left: Operand, items: list[ast._Node], *, negate: bool) -> str:
        assert left.attr is not None
        values = [self.value(left.attr, item, "In") for item in items]
        self.params.extend(values)
        marks = ", ".join("?" for _ in values)
        return f"({left.sql} {'NOT IN' if negate else 'IN'} ({marks}))"

    # -- operands -----------------------------------------------------------------------

    def operand(self, node: ast._Node) -> Operand:
        if isinstance(node, ast.Identifier):
            if node.namespace:
                raise property_not_found(_full_name(node), self.entity.logical_name)
            attr = self.column(node.name)
            return Operand(f"{self.alias}.{quote(attr.logical_name)}", attr=attr)
        if isinstance(node, ast.Attribute):
            return self.navigation_operand(node)
        if isinstance(node, ast._Literal):
            return Operand("?", node=node)
        if isinstance(node, ast.Call):
            raise bad_request(
                f"The function '{_full_name(node.func)}' cannot be used as a value in $filter."
            )
        raise bad_request("Unsupported expression in $filter.")

    def column(self, name: str, entity: EntityDef | None = None) -> AttributeDef:
        table = entity or self.entity
        attr = table.by_read_name(name)
        if attr is None or not attr.valid_for_read:
            raise property_not_found(name, table.logical_name)
        if table is self.entity:
            self.columns_used.append(attr)
        return attr

    def navigation_operand(self, node: ast.Attribute) -> Operand:
        if not isinstance(node.owner, ast.Identifier) or not isinstance(node.attr, str):
            raise bad_request("Only one level of navigation is supported in $filter.")
        nav = self.entity.navigation(node.owner.name)
        if nav is None:
            raise property_not_found(node.owner.name, self.entity.logical_name)
        lookup = quote(nav.attribute)
        parts: list[str] = []
        found: AttributeDef | None = None
        for target_name in nav.targets:
            target = self.metadata.entity(target_name)
            if target is None:
                continue
            attr = target.by_read_name(node.attr)
            if attr is None:
                continue
            found = found or attr
            self._subqueries += 1
            s = f"n{self._subqueries}"
            parts.append(
                f"(SELECT {s}.{quote(attr.logical_name)} FROM {quote(target.logical_name)} {s} "
                f"WHERE {s}.{quote(target.primary_id)} = {self.alias}.{lookup} "
                f"AND {self.alias}.{quote(nav.attribute + '__type')} = '{target.logical_name}')"
            )
        if found is None:
            raise property_not_found(node.attr, nav.targets[0])
        sql = parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"
        if found.kind in STRING_KINDS:
            sql = f"({sql} COLLATE NOCASE)"
        return Operand(sql, attr=found)

    # -- literal values -----------------------------------------------------------------

    def value(self, attr: AttributeDef, node: ast._Node, op_kind: str) -> Any:
        """The storage value of a literal compared with `attr` (type-checked like the service)."""
        kind = attr.kind
        if isinstance(node, ast.Null):
            return None
        if kind in STRING_KINDS and isinstance(node, ast.String):
            return node.val
        if kind in INTEGER_KINDS and isinstance(node, ast.Integer):
            return int(node.val)
        if kind == "Boolean" and isinstance(node, ast.Boolean):
            return 1 if node.py_val else 0
        if kind in NUMBER_KINDS and isinstance(node, ast.Integer | ast.Float):
            return float(node.val)
        if kind == "DateTime" and isinstance(node, ast.DateTime):
            moment = node.py_val
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return int(moment.timestamp())
        if kind == "DateTime" and isinstance(node, ast.Date):
            return int(datetime.combine(node.py_val, time(), UTC).timestamp())
        if (attr.is_lookup or kind == "Uniqueidentifier") and isinstance(node, ast.GUID):
            return node.val.lower()
        if isinstance(node, ast.String) and op_kind == "In":
            return self.value_from_text(attr, node.val)
        raise bad_request(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{EDM_TYPES.get(kind, 'Edm.String')}' and "
            f"'{LITERAL_EDM.get(type(node), 'Edm.Untyped')}' "
            f"for operator kind '{op_kind}'."
        )

    def value_from_text(self, attr: AttributeDef, text: str) -> Any:
        """A value given as text (the JSON arrays of In/Between): converted to the column type."""
        kind = attr.kind
        try:
            if kind in STRING_KINDS:
                return text
            if kind in INTEGER_KINDS:
                return int(text)
            if kind in NUMBER_KINDS:
                return float(text)
            if kind == "Boolean":
                lowered = text.strip().lower()
                if lowered not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                return 1 if lowered in ("true", "1") else 0
            if kind == "DateTime":
                return _timestamp(text)
            if attr.is_lookup or kind == "Uniqueidentifier":
                if not _GUID.match(text.strip()):
                    raise ValueError(text)
                return text.strip().lower()
        except ValueError:
            pass
        raise bad_request(
            f"The value '{text}' cannot be converted to the type of the property "
            f"'{attr.read_name}' ({EDM_TYPES.get(kind, 'Edm.String')})."
        )

    # -- functions ---------------------------------------------------------------------

    def call(self, node: ast.Call) -> str:
        name = node.func.name
        if node.func.namespace == NAMESPACE:
            return self.query_function(name, node.args)
        if node.func.namespace:
            raise bad_request(f"The function '{_full_name(node.func)}' is not supported.")
        if name in ("contains", "startswith", "endswith"):
            return self.string_function(name, node.args)
        raise bad_request(f"The function '{name}' is not supported in $filter.")

    def string_function(self, name: str, args: list[ast._Node]) -> str:
        column = self.operand(args[0])
        if column.attr is None or column.attr.kind not in STRING_KINDS:
            raise bad_request(
                f"The function '{name}' needs a string property as its first argument."
            )
        if not isinstance(args[1], ast.String):
            raise bad_request(
                f"The function '{name}' needs a string literal as its second argument."
            )
        text = args[1].val
        pattern = {"contains": f"%{text}%", "startswith": f"{text}%", "endswith": f"%{text}"}[name]
        self.params.append(pattern)
        return f"({column.sql} LIKE ?)"

    def query_function(self, name: str, args: list[ast._Node]) -> str:
        params: dict[str, ast._Node] = {}
        for arg in args:
            if not isinstance(arg, ast.NamedParam):
                raise bad_request(f"Microsoft.Dynamics.CRM.{name} takes named parameters only.")
            params[arg.name.name] = arg.param
        if name not in _PROPERTY_FUNCTIONS and name not in _DATE_FUNCTIONS:
            raise bad_request(
                f"The query function 'Microsoft.Dynamics.CRM.{name}' is not supported "
                "by the emulator."
            )
        column = self._property(name, params)
        handlers: dict[str, Callable[[], str]] = {
            "In": lambda: self._in(column, self._values(name, params), negate=False),
            "NotIn": lambda: self._in(column, self._values(name, params), negate=True),
            "Between": lambda: self._between(column, self._values(name, params), negate=False),
            "NotBetween": lambda: self._between(column, self._values(name, params), negate=True),
            "EqualUserId": lambda: self._equal_to(column, self.user_id, negate=False),
            "NotEqualUserId": lambda: self._equal_to(column, self.user_id, negate=True),
            "EqualBusinessId": lambda: self._equal_to(column, self.business_unit_id, negate=False),
            "NotEqualBusinessId": lambda: self._equal_to(
                column, self.business_unit_id, negate=True
            ),
            "Null": lambda: f"({column.sql} IS NULL)",
            "NotNull": lambda: f"({column.sql} IS NOT NULL)",
        }
        if name in handlers:
            return handlers[name]()
        return self._date_function(name, column, params)

    def _property(self, function: str, params: dict[str, ast._Node]) -> Operand:
        node = params.get("PropertyName")
        if not isinstance(node, ast.String):
            raise bad_request(
                f"Microsoft.Dynamics.CRM.{function} needs PropertyName as a string literal."
            )
        # Query functions name columns by logical name, lookups included (`ownerid`).
        attr = self.entity.attributes.get(node.val)
        if attr is None or not attr.valid_for_read:
            attr = self.column(node.val)
        return Operand(f"{self.alias}.{quote(attr.logical_name)}", attr=attr)

    @staticmethod
    def _values(function: str, params: dict[str, ast._Node]) -> list[ast._Node]:
        node = params.get("PropertyValues")
        if isinstance(node, ast.List):
            return list(node.val)
        raise bad_request(f"Microsoft.Dynamics.CRM.{function} needs PropertyValues as a list.")

    def _between(self, column: Operand, items: list[ast._Node], *, negate: bool) -> str:
        assert column.attr is not None
        if len(items) != 2:
            raise bad_request("Between needs exactly two PropertyValues.")
        values = [self.value(column.attr, item, "In") for item in items]
        self.params.extend(values)
        return f"({column.sql} {'NOT BETWEEN' if negate else 'BETWEEN'} ? AND ?)"

    def _equal_to(self, column: Operand, value: str, *, negate: bool) -> str:
        self.params.append(value)
        return f"({column.sql} {'IS NOT' if negate else '='} ?)"

    def _date_function(self, name: str, column: Operand, params: dict[str, ast._Node]) -> str:
        assert column.attr is not None
        if column.attr.kind != "DateTime":
            raise bad_request(f"Microsoft.Dynamics.CRM.{name} needs a date and time property.")
        values: tuple[str, ...] = ()
        if "PropertyValue" in params:
            node = params["PropertyValue"]
            if isinstance(node, ast.Integer | ast.String | ast.Date | ast.DateTime):
                values = (str(node.val),)
            else:
                raise bad_request(f"Microsoft.Dynamics.CRM.{name}: PropertyValue is not valid.")
        operator = _DATE_FUNCTIONS[name]
        if operator not in ("today", "yesterday", "tomorrow") and "-x-" in operator and not values:
            raise bad_request(f"Microsoft.Dynamics.CRM.{name} needs PropertyValue.")
        if operator in ("on", "not-on", "on-or-before", "on-or-after") and not values:
            raise bad_request(f"Microsoft.Dynamics.CRM.{name} needs PropertyValue.")
        span = date_range(operator, values, self.now)
        parts: list[str] = []
        if span.lower is not None:
            parts.append(f"{column.sql} >= ?")
            self.params.append(int(span.lower.timestamp()))
        if span.upper is not None:
            parts.append(f"{column.sql} {'<=' if span.upper_inclusive else '<'} ?")
            self.params.append(int(span.upper.timestamp()))
        condition = " AND ".join(parts) or "1"
        if span.negated:
            return f"({column.sql} IS NOT NULL AND NOT ({condition}))"
        return f"({condition})"


def _full_name(identifier: ast.Identifier) -> str:
    return ".".join((*identifier.namespace, identifier.name))


def _timestamp(text: str) -> int:
    value = text.strip()
    if len(value) == 10:
        return int(datetime.combine(date.fromisoformat(value), time(), UTC).timestamp())
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def compile_filter(
    metadata: Metadata,
    entity: EntityDef,
    text: str,
    *,
    alias: str = "t0",
    now: datetime | None = None,
    user_id: str = "",
    business_unit_id: str = "",
) -> tuple[str, list[Any]]:
    """Shorthand: the SQL condition and parameters for `text` on `entity`."""
    compiler = FilterCompiler(
        metadata, entity, alias=alias, now=now, user_id=user_id, business_unit_id=business_unit_id
    )
    return compiler.compile(text)
