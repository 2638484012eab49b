"""`GET /{set}?fetchXml=…` and the members of dynamic marketing lists (reference §5, §11).

FetchXML pages with `page`/`count` (or a paging cookie), never with a
nextLink. Non-last pages carry `@Microsoft.Dynamics.CRM.morerecords: true`
and the paging cookie (its inner `pagingcookie` URL-encoded twice) when the
caller asks for those annotations. When the cookie of the previous page comes
back and the query is ordered by the primary key alone, the next page
continues after the cookie's last key, as the service does; otherwise pages
are counted by offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from crm2cr.emulators.dataverse.errors import bad_request
from crm2cr.emulators.dataverse.fetchxml_format import RecordWriter
from crm2cr.emulators.dataverse.fetchxml_parse import MAX_COUNT, FetchQuery, parse_fetchxml
from crm2cr.emulators.dataverse.fetchxml_sql import CompiledFetch, Principal, compile_fetch
from crm2cr.emulators.dataverse.metadata import EntityDef
from crm2cr.emulators.dataverse.wire import Caller, InternalResponse, Prefer, json_response

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

COOKIE = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE = "Microsoft.Dynamics.CRM.morerecords"
TOTAL = "Microsoft.Dynamics.CRM.totalrecordcount"
TOTAL_EXCEEDED = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"
MEMBER_TABLES = {1: "account", 2: "contact", 4: "lead"}


def run_fetchxml(
    emu: DataverseEmulator,
    entity: EntityDef,
    fetch_xml: str,
    headers: Mapping[str, str],
    caller: Caller,
) -> InternalResponse:
    """Answer a FetchXML query against `entity`'s set (its root <entity> must match)."""
    from crm2cr.emulators.dataverse.router import require_access

    query = parse_fetchxml(fetch_xml)
    prefer = Prefer.parse(_header(headers, "prefer"))
    compiled = compile_fetch(
        query,
        emu.metadata,
        now=emu.clock.now(),
        principal=Principal(caller.systemuserid, caller.businessunitid),
        root=entity,
    )
    for source in compiled.sources:
        require_access(emu, caller, "Read", source.entity)
    size = query.top or query.count or MAX_COUNT
    page = query.page or 1
    after = _cookie_key(query, compiled, page)
    offset = 0 if after is not None or query.top else (page - 1) * size
    sql, params = compiled.page_sql(limit=size + 1, offset=offset, after=after)
    rows = emu.store.query(sql, params)
    more = len(rows) > size and query.top is None
    rows = rows[:size]
    body: dict[str, Any] = {"@odata.context": _context(emu, entity, query)}
    if query.return_total_count and prefer.wants(TOTAL):
        sql, params = compiled.count_sql(MAX_COUNT + 1)
        total = int(emu.store.scalar(sql, params) or 0)
        body[f"@{TOTAL}"] = min(total, MAX_COUNT)
        body[f"@{TOTAL_EXCEEDED}"] = total > MAX_COUNT
    if more and rows and prefer.wants(COOKIE):
        body[f"@{COOKIE}"] = _paging_cookie(entity, rows, compiled, page)
    if more and prefer.wants(MORE):
        body[f"@{MORE}"] = True
    body["value"] = RecordWriter(compiled, emu, prefer).records(rows)
    extra = {}
    applied = prefer.applied()
    if applied:
        extra["Preference-Applied"] = applied
    return json_response(body, headers=extra)


def dynamic_list_member_ids(emu: DataverseEmulator, list_row: Mapping[str, Any]) -> list[str]:
    """The ids a dynamic list's `query` selects, in key order (paging in the query is ignored).

    `eq-userid` and `eq-businessid` mean the list's owner and its business
    unit: the list has no caller of its own [I].
    """
    text = list_row.get("query")
    if not text:
        return []
    query = parse_fetchxml(str(text))
    member_type = list_row.get("createdfromcode")
    expected = MEMBER_TABLES.get(int(member_type)) if member_type is not None else None
    if expected is not None and query.entity != expected:
        raise bad_request(
            f"The query of the dynamic list selects '{query.entity}' records, but its members "
            f"are '{expected}' records."
        )
    owner = str(list_row.get("ownerid") or "")
    unit = str(list_row.get("owningbusinessunit") or "")
    compiled = compile_fetch(
        replace(query, distinct=True),  # a record joined twice is still one member
        emu.metadata,
        now=emu.clock.now(),
        principal=Principal(owner, unit),
        ids_only=True,
    )
    label = compiled.columns[0].labels[0]
    sql = compiled.select_sql
    if compiled.where_sql:
        sql += f" WHERE {compiled.where_sql}"
    sql += f" ORDER BY {label}"
    return [str(row[label]) for row in emu.store.iterate(sql, compiled.params)]


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _context(emu: DataverseEmulator, entity: EntityDef, query: FetchQuery) -> str:
    # The organisation URL of the request being served (set by the app per request).
    from crm2cr.emulators.dataverse.app import _BASE_URL

    root = f"{_BASE_URL.get()}/api/data/v9.2/$metadata#{entity.entity_set}"
    if query.all_attributes or not query.attributes:
        return root
    names: list[str] = []
    for attribute in query.attributes:
        attr = entity.attribute(attribute.name)
        names.append(attr.read_name if attr is not None else attribute.name)
    return f"{root}({','.join(names)})"


def _cookie_key(query: FetchQuery, compiled: CompiledFetch, page: int) -> str | None:
    """The last key of the previous page from a usable paging cookie, else None (offset)."""
    if not query.paging_cookie or page < 2:
        return None
    try:
        cookie: Element = fromstring(query.paging_cookie)
    except (ParseError, DefusedXmlException):
        raise bad_request("The paging-cookie is not valid XML.") from None
    if cookie.tag != "cookie":
        raise bad_request("The paging-cookie must be a 'cookie' element.")
    # The service ignores a cookie of another page (non-consecutive requests).
    if cookie.get("page") != str(page - 1) or compiled.keyset_pk is None:
        return None
    key = cookie.find(compiled.root.entity.primary_id)
    last = key.get("last") if key is not None else None
    if not last:
        return None
    return last.strip().strip("{}").lower()


def _paging_cookie(
    entity: EntityDef, rows: list[dict[str, Any]], compiled: CompiledFetch, page: int
) -> str:
    label = next(c.labels[0] for c in compiled.columns if c.attribute.is_primary_id)
    first, last = (str(rows[i][label]).upper() for i in (0, -1))
    inner = (
        f'<cookie page="{page}"><{entity.primary_id} last="{{{last}}}" first="{{{first}}}" />'
        "</cookie>"
    )
    twice = url_quote(url_quote(inner, safe=""), safe="")
    number = quoteattr(str(page + 1))
    return f'<cookie pagenumber={number} pagingcookie="{twice}" istracking="False" />'
