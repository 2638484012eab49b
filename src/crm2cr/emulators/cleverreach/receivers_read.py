"""Reading receivers (reference §6.1–6.3): the object, the group listing, single reads."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crm2cr.emulators.cleverreach.attributes import Catalog
from crm2cr.emulators.cleverreach.wire import Refusal, normalize_email

EVENTS_KEPT = 250  # reference §4.3: the last 250 events
DETAIL_EVENTS, DETAIL_ORDERS, DETAIL_TAGS = 1, 2, 4
DETAIL_ALL = DETAIL_EVENTS | DETAIL_ORDERS | DETAIL_TAGS

COLUMNS = (
    "r.group_id, r.pool_id, p.email, r.registered, r.activated, r.deactivated, r.imported,"
    " r.bounced, r.blocked, r.source, r.last_changed, r.points, r.attrs, p.gattrs, r.tags,"
    " r.orders"
)
FROM = "receivers r JOIN pool p ON p.id = r.pool_id"
ACTIVE_SQL = "(r.activated > 0 AND r.deactivated = 0 AND r.bounced = 0 AND r.blocked = 0)"
TYPE_FILTERS = {
    "all": "",
    "active": ACTIVE_SQL,
    "inactive": f"(NOT {ACTIVE_SQL} AND r.bounced = 0)",
    "bounce": "r.bounced > 0",
}
ORDER_FIELDS = {
    "id": "r.pool_id",
    "email": "p.email",
    "registered": "r.registered",
    "activated": "r.activated",
    "deactivated": "r.deactivated",
    "imported": "r.imported",
    "bounced": "r.bounced",
    "last_changed": "r.last_changed",
    "points": "r.points",
}


def render(
    row: Sequence[Any],
    catalog: Catalog,
    *,
    detail: int = DETAIL_ALL,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Reference §6.1: every defined attribute appears, "" when unset; values are strings."""
    (
        gid,
        pool_id,
        email,
        registered,
        activated,
        deactivated,
        imported,
        bounced,
        blocked,
        source,
        last_changed,
        points,
        attrs,
        gattrs,
        tags,
        orders,
    ) = row
    group_values = json.loads(attrs) if attrs != "{}" else {}
    global_values = json.loads(gattrs) if gattrs != "{}" else {}
    result: dict[str, Any] = {
        "id": str(pool_id),
        "email": email,
        "group_id": str(gid),
        "registered": registered,
        "activated": activated,
        "deactivated": deactivated,
        "imported": imported,
        "bounced": bounced,
        "active": activated > 0 and deactivated == 0 and bounced == 0 and not blocked,
        "source": source,
        "last_changed": last_changed,
        "points": points,
        "attributes": {name: group_values.get(key, "") for name, key in catalog.group_keys(gid)},
        "global_attributes": {
            name: global_values.get(key, "") for name, key in catalog.global_keys
        },
    }
    if detail & DETAIL_TAGS:
        result["tags"] = json.loads(tags)
    if detail & DETAIL_EVENTS:
        result["events"] = events if events is not None else []
    if detail & DETAIL_ORDERS:
        result["orders"] = json.loads(orders)
    return result


def events_of(
    conn: sqlite3.Connection, group_id: int, pool_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """The last 250 events of each receiver in the group (account-wide ones included)."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ids = list(pool_ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT pool_id, stamp, type, type_id, value, mailing_id, group_id FROM events"
            f" WHERE pool_id IN ({marks}) AND group_id IN (?, 0) ORDER BY id",
            (*chunk, group_id),
        )
        for pool_id, stamp, kind, type_id, value, mailing_id, gid in rows:
            found[pool_id].append(
                {
                    "stamp": stamp,
                    "type": kind,
                    "type_id": type_id,
                    "value": value,
                    "mailing_id": str(mailing_id),
                    "groups_id": str(gid),
                }
            )
    return {pid: evs[-EVENTS_KEPT:] for pid, evs in found.items()}


def render_rows(
    conn: sqlite3.Connection, rows: list[Any], catalog: Catalog, detail: int
) -> list[dict[str, Any]]:
    """Render rows of one group, fetching events in one query when asked for."""
    events: dict[int, list[dict[str, Any]]] = {}
    if detail & DETAIL_EVENTS and rows:
        events = events_of(conn, rows[0][0], (row[1] for row in rows))
    return [render(row, catalog, detail=detail, events=events.get(row[1], [])) for row in rows]


def find_pool(conn: sqlite3.Connection, key: str) -> int | None:
    """A pool id from an id or an e-mail (reference §2.3: contains `@` → e-mail)."""
    if "@" in key:
        row = conn.execute("SELECT id FROM pool WHERE email = ?", (normalize_email(key),))
    elif key.isdigit():
        row = conn.execute("SELECT id FROM pool WHERE id = ?", (int(key),))
    else:
        return None
    found = row.fetchone()
    return None if found is None else int(found[0])


def member_row(conn: sqlite3.Connection, group_id: int, key: str) -> tuple[Any, ...]:
    """The membership row for an id or e-mail in the group; 404 if it is not there."""
    pool_id = find_pool(conn, key)
    row = None
    if pool_id is not None:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM {FROM} WHERE r.group_id = ? AND r.pool_id = ?",
            (group_id, pool_id),
        ).fetchone()
    if row is None:
        raise Refusal(404, "invalid receiver")
    return tuple(row)


def get_one(conn: sqlite3.Connection, catalog: Catalog, group_id: int, key: str) -> dict[str, Any]:
    row = member_row(conn, group_id, key)
    return render_rows(conn, [row], catalog, DETAIL_ALL)[0]


def get_account_wide(
    conn: sqlite3.Connection, catalog: Catalog, key: str, group_id: int | None
) -> dict[str, Any]:
    """Reference §6.3, emulator: the membership in `group_id`, else the lowest group id."""
    pool_id = find_pool(conn, key)
    if pool_id is None:
        raise Refusal(404, "invalid receiver")
    if group_id is not None:
        return get_one(conn, catalog, group_id, str(pool_id))
    row = conn.execute(
        f"SELECT {COLUMNS} FROM {FROM} WHERE r.pool_id = ? ORDER BY r.group_id LIMIT 1",
        (pool_id,),
    ).fetchone()
    if row is None:
        raise Refusal(404, "invalid receiver")
    return render_rows(conn, [row], catalog, DETAIL_ALL)[0]


@dataclass(frozen=True)
class ListQuery:
    group_id: int
    page: int
    pagesize: int
    type: str = "all"
    detail: int = 0
    emails: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()
    order_by: str = ""


def parse_order(text: str) -> str:
    words = text.strip().lower().split()
    if not words:
        return ""
    if len(words) > 2 or words[0] not in ORDER_FIELDS or words[1:] not in ([], ["asc"], ["desc"]):
        raise Refusal(400, f"invalid order_by '{text}'")
    direction = "DESC" if words[1:] == ["desc"] else "ASC"
    return f"{ORDER_FIELDS[words[0]]} {direction}, r.pool_id {direction}"


def listing(
    conn: sqlite3.Connection, catalog: Catalog, q: ListQuery, marks: dict[tuple[Any, ...], int]
) -> list[dict[str, Any]]:
    """One page of the group. Pages in id order continue from where the previous page ended
    (`marks`, cleared by every write), so walking a million receivers is not quadratic."""
    if q.type not in TYPE_FILTERS:
        raise Refusal(400, f"invalid type '{q.type}'")
    order = parse_order(q.order_by)
    where = ["r.group_id = ?"]
    params: list[Any] = [q.group_id]
    if TYPE_FILTERS[q.type]:
        where.append(TYPE_FILTERS[q.type])
    if q.emails:
        where.append(f"p.email IN ({','.join('?' * len(q.emails))})")
        params.extend(q.emails)
    if q.ids:
        where.append(f"r.pool_id IN ({','.join('?' * len(q.ids))})")
        params.extend(q.ids)
    shape = (q.group_id, q.type, q.emails, q.ids, q.pagesize)
    offset = q.page * q.pagesize
    previous = marks.get((*shape, q.page - 1)) if not order else None
    if previous is not None:
        where.append("r.pool_id > ?")
        params.append(previous)
        offset = 0
    sql = (
        f"SELECT {COLUMNS} FROM {FROM} WHERE {' AND '.join(where)}"
        f" ORDER BY {order or 'r.pool_id'} LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, (*params, q.pagesize, offset)).fetchall()
    if rows and not order:
        marks[(*shape, q.page)] = rows[-1][1]
    return render_rows(conn, rows, catalog, q.detail)


def groups_of(conn: sqlite3.Connection, key: str) -> list[int]:
    pool_id = find_pool(conn, key)
    if pool_id is None:
        raise Refusal(404, "invalid receiver")
    ids = [
        int(gid)
        for (gid,) in conn.execute(
            "SELECT group_id FROM receivers WHERE pool_id = ? ORDER BY group_id", (pool_id,)
        )
    ]
    if not ids:
        raise Refusal(404, "invalid receiver")
    return ids


def bounced(
    conn: sqlite3.Connection, catalog: Catalog, page: int, size: int
) -> list[dict[str, Any]]:
    """`GET /v3/receivers/bounced`: each bounced address once, in its lowest group."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM {FROM} WHERE r.bounced > 0 AND r.group_id ="
        " (SELECT min(group_id) FROM receivers x WHERE x.pool_id = r.pool_id)"
        " ORDER BY r.pool_id LIMIT ? OFFSET ?",
        (size, page * size),
    ).fetchall()
    return [render(row, catalog, detail=0) for row in rows]
