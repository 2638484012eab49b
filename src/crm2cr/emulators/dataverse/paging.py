"""Keyset paging behind `@odata.nextLink` (reference §4.4).

A page is the next `page_size` rows after the last row of the previous page
in (order columns..., primary id) order, so each page costs O(page) with an
index on (order column, primary id) — never an OFFSET over the whole table.
The `$skiptoken` looks like the service's cookie
(`<cookie pagenumber="2" pagingcookie="…" istracking="False" />`); its
`pagingcookie` is the last row's key values, base64-encoded JSON. Clients
must treat it as opaque.

SQLite sorts NULL first ascending and last descending; the seek conditions
below follow that order exactly, so rows with null order values are neither
skipped nor repeated.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as url_quote

from crm2cr.emulators.dataverse.errors import bad_request

_COOKIE = re.compile(
    r'^<cookie pagenumber="(?P<page>\d+)" pagingcookie="(?P<cookie>[A-Za-z0-9_=-]*)" '
    r'istracking="(?P<tracking>True|False)" />$'
)


@dataclass(frozen=True)
class PageToken:
    page: int
    values: list[Any]  # the last row's order values, then its primary id
    tracking: bool = False
    extra: dict[str, Any] | None = None  # change tracking's delta window


def encode_token(token: PageToken) -> str:
    payload: dict[str, Any] = {"k": token.values}
    if token.extra:
        payload["x"] = token.extra
    cookie = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    tracking = "True" if token.tracking else "False"
    return f'<cookie pagenumber="{token.page}" pagingcookie="{cookie}" istracking="{tracking}" />'


def decode_token(text: str) -> PageToken:
    match = _COOKIE.match(text.strip())
    if match is None:
        raise bad_request("The $skiptoken is not valid.")
    try:
        payload = json.loads(base64.urlsafe_b64decode(match.group("cookie").encode()))
    except (ValueError, binascii.Error):
        raise bad_request("The $skiptoken is not valid.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), list):
        raise bad_request("The $skiptoken is not valid.")
    extra = payload.get("x")
    return PageToken(
        int(match.group("page")),
        payload["k"],
        match.group("tracking") == "True",
        extra if isinstance(extra, dict) else None,
    )


@dataclass(frozen=True)
class SortKey:
    sql: str  # a column expression, e.g. t0."fullname"
    name: str  # the row key holding its value
    descending: bool = False


def order_clause(keys: list[SortKey], pk: SortKey) -> str:
    if len(keys) == 1:
        direction = "DESC" if keys[0].descending else "ASC"
        return f"{keys[0].sql} {direction}, {pk.sql} {direction}"
    parts = [f"{k.sql} {'DESC' if k.descending else 'ASC'}" for k in keys]
    return ", ".join([*parts, f"{pk.sql} ASC"])


def effective_pk(keys: list[SortKey], pk: SortKey) -> SortKey:
    """The primary key follows a single order column's direction (one index serves both)."""
    if len(keys) == 1 and keys[0].descending:
        return SortKey(pk.sql, pk.name, descending=True)
    return pk


def seek_segments(
    keys: list[SortKey], pk: SortKey, cursor: list[Any] | None
) -> list[tuple[str, list[Any]]]:
    """Conditions selecting the rows after `cursor`, in order: run them one after another.

    One order column gives range conditions an index on (column, pk) answers
    directly, split where the nulls sit; several give one OR-expanded condition.
    """
    if cursor is None:
        return [("1", [])]
    if len(cursor) != len(keys) + 1:
        raise bad_request("The $skiptoken does not match this query.")
    last_pk = cursor[-1]
    if not keys:
        op = "<" if pk.descending else ">"
        return [(f"{pk.sql} {op} ?", [last_pk])]
    if len(keys) == 1:
        key, value = keys[0], cursor[0]
        if not key.descending:
            if value is None:
                return [
                    (f"{key.sql} IS NULL AND {pk.sql} > ?", [last_pk]),
                    (f"{key.sql} IS NOT NULL", []),
                ]
            return [(f"({key.sql}, {pk.sql}) > (?, ?)", [value, last_pk])]
        if value is None:
            return [(f"{key.sql} IS NULL AND {pk.sql} < ?", [last_pk])]
        return [
            (f"({key.sql}, {pk.sql}) < (?, ?)", [value, last_pk]),
            (f"{key.sql} IS NULL", []),
        ]
    alternatives: list[str] = []
    params: list[Any] = []
    for i, key in enumerate(keys):
        terms: list[str] = []
        for j in range(i):
            term, values = _equal(keys[j], cursor[j])
            terms.append(term)
            params.extend(values)
        term, values = _after(key, cursor[i])
        terms.append(term)
        params.extend(values)
        alternatives.append("(" + " AND ".join(terms) + ")")
    ties: list[str] = []
    for j, key in enumerate(keys):
        term, values = _equal(key, cursor[j])
        ties.append(term)
        params.extend(values)
    ties.append(f"{pk.sql} > ?")
    params.append(last_pk)
    alternatives.append("(" + " AND ".join(ties) + ")")
    return [("(" + " OR ".join(alternatives) + ")", params)]


def _equal(key: SortKey, value: Any) -> tuple[str, list[Any]]:
    if value is None:
        return f"{key.sql} IS NULL", []
    return f"{key.sql} = ?", [value]


def _after(key: SortKey, value: Any) -> tuple[str, list[Any]]:
    if not key.descending:
        if value is None:
            return f"{key.sql} IS NOT NULL", []
        return f"{key.sql} > ?", [value]
    if value is None:
        return "0", []
    return f"({key.sql} < ? OR {key.sql} IS NULL)", [value]


def next_link(api_root: str, path: str, query: dict[str, str], token: str) -> str:
    """The absolute nextLink: the same request with `$skiptoken` replaced (§4.4)."""
    options = {k: v for k, v in query.items() if k != "$skiptoken"}
    options["$skiptoken"] = token
    encoded = "&".join(f"{k}={url_quote(v, safe=SAFE)}" for k, v in options.items())
    return f"{api_root}/{path}?{encoded}"


SAFE = "$,()'=/:@*;"
