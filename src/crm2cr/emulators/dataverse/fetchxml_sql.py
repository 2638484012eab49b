"""A parsed FetchXML query → one SQLite SELECT over the store's tables (reference §5).

The store's layout (store.py) is one table per entity, one column per
attribute, lookups as `<attr>` + `<attr>__type`, strings `COLLATE NOCASE`,
DateTime as UTC Unix seconds. So a condition becomes one SQL predicate and a
dynamic list over 100,000 contacts is one indexed or scanned query, never a
Python loop over rows.

SQL semantics match the service's: `ne`, `not-like`, `not-in` and the other
negations do not select rows whose column is null (SQL Server evaluates them
the same way), and a link-entity's filter sits in its join's ON clause, so an
outer link's filter restricts the joined rows, not the parent rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm2cr.emulators.dataverse.errors import ODataError, bad_request
from crm2cr.emulators.dataverse.fetchxml_dates import DATE_OPERATORS, date_range
from crm2cr.emulators.dataverse.fetchxml_parse import (
    Attribute,
    Condition,
    FetchQuery,
    Filter,
    LinkEntity,
    Order,
)
from crm2cr.emulators.dataverse.fetchxml_values import value_converter
from crm2cr.emulators.dataverse.metadata import (
    STRING_KINDS,
    AttributeDef,
    EntityDef,
    Metadata,
)
from crm2cr.emulators.dataverse.store import quote, sql_columns

STRING_OPERATORS = frozenset(
    {"like", "not-like", "begins-with", "not-begin-with", "ends-with", "not-end-with"}
)
USER_OPERATORS = frozenset({"eq-userid", "ne-userid"})
BUSINESS_OPERATORS = frozenset({"eq-businessid", "ne-businessid"})


@dataclass(frozen=True)
class Principal:
    """Who `eq-userid` and `eq-businessid` mean."""

    systemuserid: str
    businessunitid: str


@dataclass
class Source:
    """One table in the FROM clause: the root entity (t0) or a link-entity (t1, t2 …)."""

    sql_alias: str
    entity: EntityDef
    link: LinkEntity | None = None

    def column(self, attribute: AttributeDef) -> str:
        return f"{self.sql_alias}.{quote(attribute.logical_name)}"


@dataclass(frozen=True)
class OutputColumn:
    """A selected attribute: where it comes from and the name it gets in the answer."""

    source: Source
    attribute: AttributeDef
    name: str  # the logical name, an alias, or `{link alias}.{logical name}`
    labels: tuple[str, ...]  # SQL result labels: value (and the lookup's __type)
    hidden: bool = False  # selected for the etag only, not returned as a property


@dataclass
class CompiledFetch:
    root: Source
    columns: list[OutputColumn]
    select_sql: str  # SELECT … FROM … JOIN … (no WHERE, ORDER BY or LIMIT)
    where_sql: str  # the predicate, or "" for every row
    params: list[Any]
    order_sql: str
    keyset_pk: str | None  # the root key column when paging may continue after a key
    sources: list[Source] = field(default_factory=list)

    def page_sql(
        self, *, limit: int, offset: int = 0, after: str | None = None
    ) -> tuple[str, list[Any]]:
        """One page in order; `after` continues after a root key (keyset paging)."""
        predicates, params = ([self.where_sql] if self.where_sql else []), list(self.params)
        if after is not None and self.keyset_pk is not None:
            predicates.append(f"{self.keyset_pk} > ?")
            params.append(after)
        sql = self.select_sql
        if predicates:
            sql += " WHERE " + " AND ".join(predicates)
        sql += f" ORDER BY {self.order_sql} LIMIT ? OFFSET ?"
        return sql, [*params, limit, offset]

    def count_sql(self, cap: int) -> tuple[str, list[Any]]:
        """How many rows match, counting no further than `cap`."""
        sql = self.select_sql + (f" WHERE {self.where_sql}" if self.where_sql else "")
        return f"SELECT COUNT(*) FROM ({sql} LIMIT ?)", [*self.params, cap]


def compile_fetch(
    query: FetchQuery,
    metadata: Metadata,
    *,
    now: datetime,
    principal: Principal,
    root: EntityDef | None = None,
    ids_only: bool = False,
) -> CompiledFetch:
    """The SELECT for `query`; raises 400 naming an unknown table, column or misuse."""
    compiler = _Compiler(metadata, now, principal)
    return compiler.compile(query, root, ids_only=ids_only)


class _Compiler:
    def __init__(self, metadata: Metadata, now: datetime, principal: Principal) -> None:
        self.metadata = metadata
        self.now = now
        self.principal = principal
        self.params: list[Any] = []
        self.sources: list[Source] = []
        self.by_alias: dict[str, Source] = {}
        self.labels = _labels()

    def compile(
        self, query: FetchQuery, root: EntityDef | None, *, ids_only: bool
    ) -> CompiledFetch:
        entity = root or self._entity(query.entity)
        if entity.logical_name != query.entity:
            raise bad_request(
                f"The FetchXML entity '{query.entity}' does not belong to the entity set "
                f"'{entity.entity_set}'."
            )
        base = Source("t0", entity)
        self.sources.append(base)
        joins = self._joins(base, query.links)
        where = self._filter(query.filter, base) if query.filter else ""
        columns = self._root_columns(query, base, ids_only=ids_only)
        if not ids_only:
            for source in self.sources[1:]:
                columns.extend(self._link_columns(source))
        select = ", ".join(
            f"{col} AS {label}"
            for column in columns
            for col, label in zip(self._sql_of(column), column.labels, strict=True)
        )
        distinct = "DISTINCT " if query.distinct else ""
        sql = f"SELECT {distinct}{select} FROM {quote(entity.logical_name)} AS t0{joins}"
        orders = [self._order(order, base) for order in query.orders] + [
            self._order(order, source)
            for source in self.sources[1:]
            for order in (source.link.orders if source.link else ())
        ]
        pk = base.column(_primary(entity))
        order_sql = ", ".join([*orders, f"{pk} ASC"])
        keyset = pk if not orders else None
        return CompiledFetch(
            base, columns, sql, where, self.params, order_sql, keyset, self.sources
        )

    # -- FROM ------------------------------------------------------------------------------

    def _joins(self, parent: Source, links: Sequence[LinkEntity]) -> str:
        sql = ""
        for link in links:
            entity = self._entity(link.name)
            source = Source(f"t{len(self.sources)}", entity, link)
            self.sources.append(source)
            self.by_alias[link.alias] = source
            to_attr = self._attribute(parent.entity, link.to_attribute)
            from_attr = self._attribute(entity, link.from_attribute)
            on = f"{source.column(from_attr)} = {parent.column(to_attr)}"
            if link.filter is not None:
                on += f" AND {self._filter(link.filter, source)}"
            kind = "LEFT JOIN" if link.outer else "JOIN"
            sql += f" {kind} {quote(entity.logical_name)} AS {source.sql_alias} ON {on}"
            sql += self._joins(source, link.links)
        return sql

    # -- WHERE -----------------------------------------------------------------------------

    def _filter(self, node: Filter, source: Source) -> str:
        parts = [
            self._filter(item, source)
            if isinstance(item, Filter)
            else self._condition(item, source)
            for item in node.items
        ]
        if not parts:
            return "1 = 1"
        glue = " AND " if node.kind == "and" else " OR "
        return "(" + glue.join(parts) + ")"

    def _condition(self, condition: Condition, source: Source) -> str:
        if condition.entityname is not None:
            target = self.by_alias.get(condition.entityname)
            if target is None:
                raise bad_request(
                    f"The condition's entityname '{condition.entityname}' is not the alias of a "
                    "link-entity of this query."
                )
            source = target
        attr = self._attribute(source.entity, condition.attribute)
        column = source.column(attr)
        op = condition.operator
        if op == "null":
            return f"{column} IS NULL"
        if op == "not-null":
            return f"{column} IS NOT NULL"
        if op in USER_OPERATORS or op in BUSINESS_OPERATORS:
            return self._principal_condition(op, attr, column, source.entity)
        if op in DATE_OPERATORS or (attr.kind == "DateTime" and op in ("between", "not-between")):
            return self._date_condition(op, condition.values, attr, column, source.entity)
        if op in STRING_OPERATORS:
            return self._string_condition(op, condition.values[0], attr, column, source.entity)
        convert = value_converter(attr, source.entity)
        values = [convert(v) for v in condition.values]
        if op in ("in", "not-in"):
            marks = ", ".join(self._param(v) for v in values)
            return f"{column} {'NOT IN' if op == 'not-in' else 'IN'} ({marks})"
        if op in ("between", "not-between"):
            low, high = self._param(values[0]), self._param(values[1])
            negation = "NOT " if op == "not-between" else ""
            return f"{column} {negation}BETWEEN {low} AND {high}"
        symbol = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
        return f"{column} {symbol} {self._param(values[0])}"

    def _principal_condition(
        self, op: str, attr: AttributeDef, column: str, entity: EntityDef
    ) -> str:
        if op in USER_OPERATORS:
            expected, value = "systemuser", self.principal.systemuserid
        else:
            expected, value = "businessunit", self.principal.businessunitid
        if not attr.is_lookup or expected not in attr.targets:
            raise _operator_misuse(op, attr, entity)
        return f"{column} {'=' if op.startswith('eq-') else '<>'} {self._param(value)}"

    def _date_condition(
        self, op: str, values: tuple[str, ...], attr: AttributeDef, column: str, entity: EntityDef
    ) -> str:
        if attr.kind != "DateTime":
            raise _operator_misuse(op, attr, entity)
        span = date_range(op, values, self.now)
        parts: list[str] = []
        if span.lower is not None:
            parts.append(f"{column} >= {self._param(span.lower.timestamp())}")
        if span.upper is not None:
            symbol = "<=" if span.upper_inclusive else "<"
            parts.append(f"{column} {symbol} {self._param(span.upper.timestamp())}")
        inside = " AND ".join(parts)
        return f"NOT ({inside})" if span.negated else f"({inside})"

    def _string_condition(
        self, op: str, value: str, attr: AttributeDef, column: str, entity: EntityDef
    ) -> str:
        if attr.kind not in STRING_KINDS:
            raise _operator_misuse(op, attr, entity)
        pattern = {
            "like": value,
            "not-like": value,
            "begins-with": f"{value}%",
            "not-begin-with": f"{value}%",
            "ends-with": f"%{value}",
            "not-end-with": f"%{value}",
        }[op]
        negation = "NOT " if op.startswith("not-") else ""
        # SQLite's LIKE, as the service's, ignores case (ASCII letters) and
        # honours % and _; the store's NOCASE columns compare the same way.
        return f"{column} {negation}LIKE {self._param(pattern)}"

    # -- SELECT / ORDER BY -----------------------------------------------------------------

    def _root_columns(
        self, query: FetchQuery, base: Source, *, ids_only: bool
    ) -> list[OutputColumn]:
        entity = base.entity
        primary = _primary(entity)
        if ids_only:
            return [self._output(base, primary, primary.logical_name)]
        wanted: list[Attribute]
        if query.all_attributes or not query.attributes:
            # No <attribute> at all returns every column, as <all-attributes/> does.
            wanted = [Attribute(a.logical_name) for a in _readable(entity)]
        else:
            wanted = list(query.attributes)
        names = {a.name for a in wanted}
        if primary.logical_name not in names:
            wanted.append(Attribute(primary.logical_name))  # the key always comes back
        columns = [
            self._output(base, self._attribute(entity, a.name), a.alias or a.name) for a in wanted
        ]
        version = entity.attribute("versionnumber")
        if version is not None and "versionnumber" not in names:
            columns.append(self._output(base, version, "versionnumber", hidden=True))
        return columns

    def _link_columns(self, source: Source) -> list[OutputColumn]:
        link = source.link
        if link is None:
            return []
        attributes = (
            [Attribute(a.logical_name) for a in _readable(source.entity)]
            if link.all_attributes
            else list(link.attributes)
        )
        return [
            self._output(
                source,
                self._attribute(source.entity, a.name),
                a.alias or f"{link.alias}.{a.name}",
            )
            for a in attributes
        ]

    def _output(
        self, source: Source, attr: AttributeDef, name: str, *, hidden: bool = False
    ) -> OutputColumn:
        labels = tuple(next(self.labels) for _ in sql_columns(attr))
        return OutputColumn(source, attr, name, labels, hidden)

    @staticmethod
    def _sql_of(column: OutputColumn) -> list[str]:
        alias = column.source.sql_alias
        return [f"{alias}.{quote(c)}" for c in sql_columns(column.attribute)]

    def _order(self, order: Order, source: Source) -> str:
        attr = self._attribute(source.entity, order.attribute)
        return f"{source.column(attr)} {'DESC' if order.descending else 'ASC'}"

    # -- names ------------------------------------------------------------------------------

    def _entity(self, name: str) -> EntityDef:
        entity = self.metadata.entity(name)
        if entity is None:
            raise bad_request(
                f"The entity with a name = '{name}' with namemapping = 'Logical' was not found "
                "in the MetadataCache."
            )
        return entity

    @staticmethod
    def _attribute(entity: EntityDef, name: str) -> AttributeDef:
        attr = entity.attribute(name)
        if attr is None or not attr.valid_for_read:
            raise bad_request(
                f"'{entity.logical_name}' entity doesn't contain attribute with Name = '{name}' "
                "and NameMapping = 'Logical'."
            )
        return attr

    def _param(self, value: Any) -> str:
        self.params.append(value)
        return "?"


def _labels() -> Iterator[str]:
    index = 0
    while True:
        yield f"c{index}"
        index += 1


def _primary(entity: EntityDef) -> AttributeDef:
    attr = entity.attribute(entity.primary_id)
    if attr is None:
        raise bad_request(f"The entity '{entity.logical_name}' has no primary id column.")
    return attr


def _readable(entity: EntityDef) -> list[AttributeDef]:
    return [a for a in entity.attributes.values() if a.valid_for_read]


def _operator_misuse(op: str, attr: AttributeDef, entity: EntityDef) -> ODataError:
    return bad_request(
        f"The condition operator '{op}' is not valid for the attribute "
        f"'{entity.logical_name}.{attr.logical_name}' of type '{attr.kind}'."
    )
