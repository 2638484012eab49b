"""Groups (reference §5): list, read, create, update, delete, clear, stats; one form each."""

from __future__ import annotations

import sqlite3
from typing import Any

from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import Refusal, flag, text_field

_COLUMNS = "id, name, locked, backup, receiver_info, stamp, last_mailing, last_changed"
_ORDERS = {
    "changed": "last_changed, id",
    "changed desc": "last_changed DESC, id DESC",
    "created": "stamp, id",
    "created desc": "stamp DESC, id DESC",
}


def render(row: tuple[Any, ...]) -> dict[str, Any]:
    gid, name, locked, backup, info, stamp, last_mailing, last_changed = row
    return {
        "id": str(gid),
        "name": name,
        "locked": bool(locked),
        "backup": bool(backup),
        "receiver_info": info,
        "stamp": stamp,
        "last_mailing": last_mailing,
        "last_changed": last_changed,
    }


def require(conn: sqlite3.Connection, group_id: int) -> dict[str, Any]:
    row = conn.execute(f"SELECT {_COLUMNS} FROM groups WHERE id = ?", (group_id,)).fetchone()
    if row is None:
        raise Refusal(404, "invalid group")
    return render(row)


def listing(conn: sqlite3.Connection, order: str) -> list[dict[str, Any]]:
    key = " ".join(order.lower().split())
    if key and key not in _ORDERS:
        raise Refusal(400, f"invalid order '{order}'")
    sql = f"SELECT {_COLUMNS} FROM groups ORDER BY {_ORDERS.get(key, 'id')}"
    return [render(row) for row in conn.execute(sql)]


def create(tx: Tx, body: dict[str, Any]) -> dict[str, Any]:
    name = text_field(body, "name").strip()
    if not name:
        raise Refusal(400, "name is required")
    cursor = tx.conn.execute(
        "INSERT INTO groups (name, receiver_info, locked, backup, stamp, last_changed)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            name,
            text_field(body, "receiver_info"),
            int(flag(body.get("locked", False))),
            int(flag(body.get("backup", True))),
            tx.now,
            tx.now,
        ),
    )
    gid = int(cursor.lastrowid or 0)
    # Emulator: one double opt-in form per group (reference §10).
    tx.conn.execute(
        "INSERT INTO forms (group_id, name) VALUES (?, ?)", (gid, f"{name} – Anmeldeformular")
    )
    tx.audit("group.created", group_id=gid, detail=name)
    tx.fire("group.created", gid)
    return require(tx.conn, gid)


def update(tx: Tx, group_id: int, body: dict[str, Any]) -> dict[str, Any]:
    current = require(tx.conn, group_id)
    name = text_field(body, "name", current["name"]).strip() or current["name"]
    tx.conn.execute(
        "UPDATE groups SET name = ?, receiver_info = ?, locked = ?, backup = ?, last_changed = ?"
        " WHERE id = ?",
        (
            name,
            text_field(body, "receiver_info", current["receiver_info"]),
            int(flag(body.get("locked", current["locked"]))),
            int(flag(body.get("backup", current["backup"]))),
            tx.now,
            group_id,
        ),
    )
    tx.audit("group.updated", group_id=group_id, detail=name)
    tx.fire("group.updated", group_id)
    return require(tx.conn, group_id)


def touch(tx: Tx, group_id: int) -> None:
    """A receiver write bumps its group's `last_changed` (reference §5, emulator)."""
    tx.conn.execute("UPDATE groups SET last_changed = ? WHERE id = ?", (tx.now, group_id))


def _drop_members(tx: Tx, group_id: int) -> int:
    """Remove every membership of the group; pool rows left without a group go too."""
    if tx.watched("receiver", group_id):
        for (pool_id,) in tx.conn.execute(
            "SELECT pool_id FROM receivers WHERE group_id = ? ORDER BY pool_id", (group_id,)
        ).fetchall():
            tx.fire("receiver.deleted", group_id, pool_id=pool_id)
    count = tx.conn.execute(
        "SELECT count(*) FROM receivers WHERE group_id = ?", (group_id,)
    ).fetchone()[0]
    tx.conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS orphan_candidates (pool_id INTEGER PRIMARY KEY)"
    )
    tx.conn.execute("DELETE FROM orphan_candidates")
    tx.conn.execute(
        "INSERT INTO orphan_candidates SELECT pool_id FROM receivers WHERE group_id = ?",
        (group_id,),
    )
    tx.conn.execute("DELETE FROM receivers WHERE group_id = ?", (group_id,))
    drop_orphans(tx, "SELECT pool_id FROM orphan_candidates")
    tx.conn.execute("DELETE FROM orphan_candidates")
    return int(count)


def drop_orphans(tx: Tx, candidates_sql: str, params: tuple[Any, ...] = ()) -> None:
    """Delete pool rows (and their history) among the candidates that have no group left."""
    where = (
        f"id IN ({candidates_sql}) AND NOT EXISTS"
        " (SELECT 1 FROM receivers r WHERE r.pool_id = pool.id)"
    )
    tx.conn.execute(
        f"DELETE FROM events WHERE pool_id IN (SELECT id FROM pool WHERE {where})", params
    )
    tx.conn.execute(f"DELETE FROM pool WHERE {where}", params)


def clear(tx: Tx, group_id: int) -> int:
    require(tx.conn, group_id)
    count = _drop_members(tx, group_id)
    touch(tx, group_id)
    tx.audit("group.cleared", group_id=group_id, detail=f"{count} receivers removed")
    return count


def delete(tx: Tx, group_id: int) -> None:
    """Delete the group, its memberships, group attributes, blacklist and form."""
    require(tx.conn, group_id)
    _drop_members(tx, group_id)
    tx.conn.execute("DELETE FROM attributes WHERE group_id = ?", (group_id,))
    tx.conn.execute("DELETE FROM blacklist WHERE group_id = ?", (group_id,))
    tx.conn.execute("DELETE FROM forms WHERE group_id = ?", (group_id,))
    tx.conn.execute("DELETE FROM groups WHERE id = ?", (group_id,))
    tx.audit("group.deleted", group_id=group_id)
    tx.fire("group.deleted", group_id)


def stats(conn: sqlite3.Connection, group_id: int, now: int) -> dict[str, Any]:
    """Live counts (the real service caches them; reference §5 says they lag)."""
    require(conn, group_id)
    total, active, bounced, points, orders = conn.execute(
        "SELECT count(*),"
        " coalesce(sum(activated > 0 AND deactivated = 0 AND bounced = 0 AND blocked = 0), 0),"
        " coalesce(sum(bounced > 0), 0), coalesce(avg(points), 0),"
        " coalesce(sum(json_array_length(orders)), 0)"
        " FROM receivers WHERE group_id = ?",
        (group_id,),
    ).fetchone()
    return {
        "total_count": total,
        "active_count": active,
        "inactive_count": total - active - bounced,
        "bounce_count": bounced,
        "avg_points": round(float(points), 1),
        "quality": 0 if total == 0 else 3,
        "time": now,
        "order_count": orders,
    }
