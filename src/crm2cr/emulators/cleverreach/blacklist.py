"""Blacklist and bounces (reference §9). Group 0 is the account-wide blacklist."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from crm2cr.emulators.cleverreach import groups, members
from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import Refusal, normalize_email, text_field, valid_email


def _render(row: tuple[Any, ...]) -> dict[str, Any]:
    email, comment, stamp = row
    return {"email": email, "comment": comment, "stamp": stamp, "isLocked": 0}


def _check_group(conn: sqlite3.Connection, group_id: int) -> None:
    if group_id:
        groups.require(conn, group_id)


def listing(conn: sqlite3.Connection, group_id: int) -> list[dict[str, Any]]:
    _check_group(conn, group_id)
    rows = conn.execute(
        "SELECT email, comment, stamp FROM blacklist WHERE group_id = ? ORDER BY email",
        (group_id,),
    )
    return [_render(tuple(r)) for r in rows]


def get(conn: sqlite3.Connection, group_id: int, email: str) -> dict[str, Any]:
    _check_group(conn, group_id)
    row = conn.execute(
        "SELECT email, comment, stamp FROM blacklist WHERE group_id = ? AND email = ?",
        (group_id, normalize_email(email)),
    ).fetchone()
    if row is None:
        raise Refusal(404, "invalid blacklist entry")
    return _render(tuple(row))


def put(tx: Tx, group_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Add an entry, or change the comment of an existing one (POST and PUT alike: a repeated
    POST is answered with the entry, so a retried request does no harm)."""
    _check_group(tx.conn, group_id)
    email = normalize_email(text_field(body, "email"))
    if not valid_email(email):
        raise Refusal(400, f"invalid address '{text_field(body, 'email')}'")
    comment = text_field(body, "comment")
    exists = tx.conn.execute(
        "SELECT 1 FROM blacklist WHERE group_id = ? AND email = ?", (group_id, email)
    ).fetchone()
    if exists:
        tx.conn.execute(
            "UPDATE blacklist SET comment = ? WHERE group_id = ? AND email = ?",
            (comment, group_id, email),
        )
        tx.audit("blacklist.updated", group_id=group_id, email=email)
    else:
        tx.conn.execute(
            "INSERT INTO blacklist (group_id, email, comment, stamp) VALUES (?, ?, ?, ?)",
            (group_id, email, comment, tx.now),
        )
        changed = members.refresh_blocked(tx, email)
        tx.audit(
            "blacklist.added", group_id=group_id, email=email, detail=f"{changed} receivers blocked"
        )
    return get(tx.conn, group_id, email)


def remove(tx: Tx, group_id: int, email: str) -> None:
    _check_group(tx.conn, group_id)
    address = normalize_email(email)
    cursor = tx.conn.execute(
        "DELETE FROM blacklist WHERE group_id = ? AND email = ?", (group_id, address)
    )
    if cursor.rowcount == 0:
        raise Refusal(404, "invalid blacklist entry")
    changed = members.refresh_blocked(tx, address)
    tx.audit(
        "blacklist.removed",
        group_id=group_id,
        email=address,
        detail=f"{changed} receivers unblocked",
    )


def _iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat()


def bounces(conn: sqlite3.Connection, page: int, size: int) -> list[dict[str, Any]]:
    """`GET /v3/bounces`: the APT shape, vendor spelling `occurences` included."""
    rows = conn.execute(
        "SELECT email, category, occurences, last_update, expires_by, bounce_message, type,"
        " type_id FROM bounces ORDER BY last_update, email LIMIT ? OFFSET ?",
        (size, page * size),
    )
    return [
        {
            "email": email,
            "category": category,
            "occurences": occurences,
            "last_update": last_update,
            "last_update_gmt": _iso(last_update),
            "expires_by": expires_by,
            "bounce_message": message,
            "type": kind,
            "type_id": type_id,
        }
        for email, category, occurences, last_update, expires_by, message, kind, type_id in rows
    ]
