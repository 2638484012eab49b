"""GET of collections, records, single columns and counts (reference §4).

`read_collection` is the one query path: `$select`, `$filter`, `$orderby`,
`$top`, `$count`, `$expand`, keyset paging with `@odata.nextLink`, and the
collection annotations. Navigation collections (`lists({id})/listcontact_association`)
and `listmembers` use it too, with an extra SQL condition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse import paging
from crm2cr.emulators.dataverse.errors import JSON_TYPE, bad_request, record_not_found
from crm2cr.emulators.dataverse.metadata import AttributeDef, EntityDef
from crm2cr.emulators.dataverse.odata import FilterCompiler
from crm2cr.emulators.dataverse.query import (
    Expand,
    OrderBy,
    check_options,
    parse_count,
    parse_expand,
    parse_orderby,
    parse_select,
    parse_top,
)
from crm2cr.emulators.dataverse.serialize import Formatter, context_url, etag
from crm2cr.emulators.dataverse.store import Row, quote, sql_columns
from crm2cr.emulators.dataverse.wire import (
    MAX_PAGE_SIZE,
    ODATA_VERSION,
    InternalResponse,
    Request,
    json_response,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

COUNT_LIMIT = 5000
STREAMING_TYPE = f"{JSON_TYPE}; odata.streaming=true"


@dataclass
class Scope:
    """Extra SQL restricting a collection (navigation collections, dynamic lists)."""

    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)


def filter_sql(
    emu: DataverseEmulator, request: Request, entity: EntityDef, text: str, alias: str = "t0"
) -> tuple[str, list[Any]]:
    compiler = FilterCompiler(
        emu.metadata,
        entity,
        alias=alias,
        now=emu.clock.now(),
        user_id=request.caller.systemuserid,
        business_unit_id=request.caller.businessunitid,
    )
    sql, params = compiler.compile(text)
    for attr in compiler.columns_used:
        if attr.is_lookup:
            emu.store.ensure_index(entity.logical_name, (attr.logical_name,))
    return sql, params


def sort_keys(
    entity: EntityDef, order: list[OrderBy]
) -> tuple[list[paging.SortKey], paging.SortKey]:
    keys = [
        paging.SortKey(f"t0.{quote(o.attr.logical_name)}", o.attr.logical_name, o.descending)
        for o in order
        if o.attr.logical_name != entity.primary_id
    ]
    pk = paging.SortKey(f"t0.{quote(entity.primary_id)}", entity.primary_id)
    return keys, paging.effective_pk(keys, pk)


def fetch_page(
    emu: DataverseEmulator,
    entity: EntityDef,
    where: list[str],
    params: list[Any],
    order: list[OrderBy],
    limit: int,
    cursor: list[Any] | None,
    columns: list[str] | None = None,
) -> tuple[list[Row], bool]:
    """Up to `limit` rows after `cursor`, and whether more follow.

    `columns` limits what is read (every column when None); the order and key
    columns are always included, the cursor needs them.
    """
    keys, pk = sort_keys(entity, order)
    if columns is None:
        selection = "t0.*"
    else:
        names = dict.fromkeys([*columns, *(k.name for k in keys), pk.name])
        selection = ", ".join(f"t0.{quote(c)}" for c in names)
    if len(keys) == 1:
        emu.store.ensure_index(entity.logical_name, (keys[0].name,))
    clause = paging.order_clause(keys, pk)
    rows: list[Row] = []
    base = " AND ".join(f"({w})" for w in where) or "1"
    for condition, seek_params in paging.seek_segments(keys, pk, cursor):
        wanted = limit + 1 - len(rows)
        if wanted <= 0:
            break
        rows.extend(
            emu.store.query(
                f"SELECT {selection} FROM {quote(entity.logical_name)} t0 "
                f"WHERE {base} AND {condition} ORDER BY {clause} LIMIT ?",
                [*params, *seek_params, wanted],
            )
        )
    more = len(rows) > limit
    return rows[:limit], more


def needed_columns(
    entity: EntityDef, attrs: list[AttributeDef], expands: list[Expand] | None = None
) -> list[str]:
    """The SQL columns serialising `attrs` (and expanding `expands`) reads."""
    columns = [entity.primary_id, "versionnumber"]
    for attr in attrs:
        columns.extend(sql_columns(attr))
        if attr.kind == "Money" and "transactioncurrencyid" in entity.attributes:
            columns.append("transactioncurrencyid")
    for item in expands or []:
        if item.lookup is not None:
            columns.extend((item.lookup, f"{item.lookup}__type"))
    return [c for c in dict.fromkeys(columns) if c in entity.attributes or c.endswith("__type")]


def cursor_of(entity: EntityDef, order: list[OrderBy], row: Row) -> list[Any]:
    keys, pk = sort_keys(entity, order)
    return [row.get(k.name) for k in keys] + [row.get(pk.name)]


def count_rows(
    emu: DataverseEmulator, entity: EntityDef, where: list[str], params: list[Any], cap: int
) -> int:
    """COUNT(*) of the matching rows, stopping at `cap + 1` (so it stays O(cap))."""
    base = " AND ".join(f"({w})" for w in where) or "1"
    return int(
        emu.store.scalar(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {quote(entity.logical_name)} t0 "
            f"WHERE {base} LIMIT ?)",
            [*params, cap + 1],
        )
    )


def read_collection(
    emu: DataverseEmulator,
    request: Request,
    entity: EntityDef,
    scope: Scope | None = None,
    *,
    entity_set: str | None = None,
) -> InternalResponse:
    query = request.query
    check_options(query)
    select = parse_select(entity, query.get("$select"))
    order = parse_orderby(entity, query.get("$orderby"))
    expands = parse_expand(emu.metadata, entity, query.get("$expand"))
    top = parse_top(query.get("$top"))
    want_count = parse_count(query.get("$count"))
    where = list(scope.where) if scope else []
    params = list(scope.params) if scope else []
    if query.get("$filter"):
        sql, filter_params = filter_sql(emu, request, entity, query["$filter"])
        where.append(sql)
        params.extend(filter_params)
    prefer = request.prefer
    page_size = prefer.page_size()
    use_top = top is not None and prefer.maxpagesize is None
    limit = min(top, MAX_PAGE_SIZE) if use_top and top is not None else page_size
    token = paging.decode_token(query["$skiptoken"]) if "$skiptoken" in query else None
    rows, more = fetch_page(
        emu,
        entity,
        where,
        params,
        order,
        limit,
        token.values if token else None,
        needed_columns(entity, select, expands),
    )
    if use_top:
        more = False
    formatter = Formatter(emu, prefer)
    formatter.prime(rows, select)
    values = [formatter.entity(entity, row, select) for row in rows]
    if expands:
        expand_rows(emu, request, entity, rows, values, expands, formatter)
    body: dict[str, Any] = {
        "@odata.context": context_url(
            request.api_root,
            entity_set or entity.entity_set,
            select if "$select" in query else None,
        )
    }
    total = -1
    if want_count:
        total = count_rows(emu, entity, where, params, COUNT_LIMIT)
        body["@odata.count"] = min(total, COUNT_LIMIT)
    if formatter.annotates:
        body["@Microsoft.Dynamics.CRM.totalrecordcount"] = min(total, COUNT_LIMIT)
        body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = total > COUNT_LIMIT
        body["@Microsoft.Dynamics.CRM.globalmetadataversion"] = str(emu.metadata.version)
    body["value"] = values
    if more and rows:
        page = (token.page if token else 1) + 1
        cookie = paging.encode_token(paging.PageToken(page, cursor_of(entity, order, rows[-1])))
        body["@odata.nextLink"] = paging.next_link(request.api_root, request.path, query, cookie)
    headers = {"Content-Type": STREAMING_TYPE}
    applied = prefer.applied(page_size=True)
    if applied:
        headers["Preference-Applied"] = applied
    return json_response(body, headers=headers)


def expand_rows(
    emu: DataverseEmulator,
    request: Request,
    entity: EntityDef,
    rows: list[Row],
    values: list[dict[str, Any]],
    expands: list[Expand],
    formatter: Formatter,
) -> None:
    for item in expands:
        if item.collection:
            for row, value in zip(rows, values, strict=True):
                value[item.name] = expand_collection(emu, request, entity, row, item, formatter)
            continue
        assert item.lookup is not None
        wanted: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            if row.get(item.lookup):
                wanted[str(row.get(f"{item.lookup}__type") or item.target.logical_name)].add(
                    row[item.lookup]
                )
        found: dict[tuple[str, str], Row] = {}
        for table, ids in wanted.items():
            target = emu.metadata.entity(table)
            if target is None:
                continue
            id_list = sorted(ids)
            marks = ", ".join("?" for _ in id_list)
            for target_row in emu.store.query(
                f"SELECT * FROM {quote(table)} WHERE {quote(target.primary_id)} IN ({marks})",
                id_list,
            ):
                found[(table, target_row[target.primary_id])] = target_row
        for row, value in zip(rows, values, strict=True):
            table = str(row.get(f"{item.lookup}__type") or item.target.logical_name)
            related = found.get((table, str(row.get(item.lookup))))
            target = emu.metadata.entity(table)
            if related is None or target is None:
                value[item.name] = None
                continue
            attrs = [a for a in item.select if a.logical_name in target.attributes]
            formatter.prime([related], attrs)
            value[item.name] = formatter.entity(target, related, attrs)


def expand_collection(
    emu: DataverseEmulator,
    request: Request,
    entity: EntityDef,
    row: Row,
    item: Expand,
    formatter: Formatter,
) -> list[dict[str, Any]]:
    scope = membership_scope(emu, entity, row, item.name)
    where, params = list(scope.where), list(scope.params)
    if item.filter:
        sql, filter_params = filter_sql(emu, request, item.target, item.filter)
        where.append(sql)
        params.extend(filter_params)
    limit = min(item.top, MAX_PAGE_SIZE) if item.top is not None else MAX_PAGE_SIZE
    members, _ = fetch_page(
        emu,
        item.target,
        where,
        params,
        item.orderby,
        limit,
        None,
        needed_columns(item.target, item.select),
    )
    formatter.prime(members, item.select)
    return [formatter.entity(item.target, m, item.select) for m in members]


def membership_scope(emu: DataverseEmulator, entity: EntityDef, row: Row, navigation: str) -> Scope:
    """SQL selecting the rows related to `row` through an N:N navigation (t0 = the other side)."""
    relationship = entity.many_to_many[navigation]
    other = emu.metadata.require(relationship.other(entity.logical_name))
    record_id = row[entity.primary_id]
    if entity.logical_name == "list" and row.get("type") and relationship.intersect == "listmember":
        from crm2cr.emulators.dataverse.router import dynamic_list_member_ids

        ids = dynamic_list_member_ids(emu, row)
        return Scope(
            [f"t0.{quote(other.primary_id)} IN (SELECT value FROM json_each(?))"], [_json(ids)]
        )
    if entity.logical_name == relationship.entity1:
        mine, theirs = relationship.entity1_attribute, relationship.entity2_attribute
    else:
        mine, theirs = relationship.entity2_attribute, relationship.entity1_attribute
    emu.store.ensure_index(relationship.intersect, (mine, theirs))
    return Scope(
        [
            f"EXISTS (SELECT 1 FROM {quote(relationship.intersect)} m "
            f"WHERE m.{quote(mine)} = ? AND m.{quote(theirs)} = t0.{quote(other.primary_id)})"
        ],
        [record_id],
    )


def _json(ids: list[str]) -> str:
    import json

    return json.dumps([i.lower() for i in ids])


def read_record(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str
) -> InternalResponse:
    query = request.query
    check_options(query)
    for option in ("$filter", "$orderby", "$top", "$skiptoken", "$count"):
        if option in query:
            raise bad_request(f"The query parameter {option} is not supported for a single record.")
    select = parse_select(entity, query.get("$select"))
    expands = parse_expand(emu.metadata, entity, query.get("$expand"))
    row = emu.store.get(entity.logical_name, record_id)
    if row is None:
        raise record_not_found(entity.logical_name, record_id)
    formatter = Formatter(emu, request.prefer)
    current = etag(row["versionnumber"])
    condition = request.header("if-none-match")
    # A matching If-None-Match is a 304, never with $expand or annotations (§4.4).
    unconditional = not condition or condition == "null" or expands or formatter.annotates
    if not unconditional and condition.strip() in ("*", current):
        return InternalResponse(304, {**ODATA_VERSION, "ETag": current})
    formatter.prime([row], select)
    value = formatter.entity(entity, row, select)
    if expands:
        expand_rows(emu, request, entity, [row], [value], expands, formatter)
    body = {
        "@odata.context": context_url(
            request.api_root, entity.entity_set, select if "$select" in query else None
        )
        + "/$entity",
        **value,
    }
    headers = {"ETag": current}
    applied = request.prefer.applied()
    if applied:
        headers["Preference-Applied"] = applied
    return json_response(body, headers=headers)


def read_column(
    emu: DataverseEmulator, request: Request, entity: EntityDef, record_id: str, attr: AttributeDef
) -> InternalResponse:
    row = emu.store.get(entity.logical_name, record_id)
    if row is None:
        raise record_not_found(entity.logical_name, record_id)
    from crm2cr.emulators.dataverse.serialize import wire_value

    value = wire_value(attr, row.get(attr.logical_name))
    if value is None:
        return InternalResponse(204, dict(ODATA_VERSION))
    return json_response(
        {
            "@odata.context": (
                f"{request.api_root}/$metadata#{entity.entity_set}({record_id})/{attr.read_name}"
            ),
            "value": value,
        }
    )


def count_collection(
    emu: DataverseEmulator, request: Request, entity: EntityDef, scope: Scope | None = None
) -> InternalResponse:
    check_options(request.query)
    where = list(scope.where) if scope else []
    params = list(scope.params) if scope else []
    if request.query.get("$filter"):
        sql, filter_params = filter_sql(emu, request, entity, request.query["$filter"])
        where.append(sql)
        params.extend(filter_params)
    total = min(count_rows(emu, entity, where, params, COUNT_LIMIT), COUNT_LIMIT)
    return text_response(str(total))


def text_response(text: str) -> InternalResponse:
    return InternalResponse(
        200, {**ODATA_VERSION, "Content-Type": "text/plain; charset=utf-8"}, text.encode()
    )
