"""Mailings (reference §8.1–8.3): drafts and their state-keyed list. Sending: sending.py."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import Refusal, text_field

STATES = ("draft", "waiting", "running", "finished", "automation")
CONTENT_TYPES = ("html", "text", "html/text")
EDITORS = ("wizard", "freeform", "advanced", "plaintext")
_COLUMNS = (
    "id, name, subject, sender_name, sender_email, content_type, body_html, body_text, editor,"
    " open_tracking, click_tracking, group_ids, filter, state, stamp, last_changed, started,"
    " finished, ready, send_on"
)


def details(row: tuple[Any, ...], *, bodies: bool = True) -> dict[str, Any]:
    (
        mid,
        name,
        subject,
        sender_name,
        sender_email,
        content_type,
        html,
        text,
        editor,
        opens,
        clicks,
        group_ids,
        segment,
        state,
        stamp,
        last_changed,
        started,
        finished,
        ready,
        send_on,
    ) = row
    result: dict[str, Any] = {
        "id": str(mid),
        "name": name,
        "subject": subject,
        "sender_name": sender_name,
        "sender_email": sender_email,
    }
    if bodies:
        result["body_html"] = html
        result["body_text"] = text
    result.update(
        {
            "state": state,
            "stamp": stamp,
            "last_changed": last_changed,
            "started": started,
            "finished": finished,
            "ready": ready,
            "send_on": send_on,
            "m_type": 3,
            "content_type": content_type,
            "mailing_groups": {"group_ids": json.loads(group_ids), "filter": segment},
            "settings": {
                "editor": editor,
                "open_tracking": bool(opens),
                "click_tracking": bool(clicks),
            },
            "tags": [],
        }
    )
    return result


def row_of(conn: sqlite3.Connection, mailing_id: int) -> tuple[Any, ...]:
    row = conn.execute(f"SELECT {_COLUMNS} FROM mailings WHERE id = ?", (mailing_id,)).fetchone()
    if row is None:
        raise Refusal(404, "invalid mailing")
    return tuple(row)


def get(conn: sqlite3.Connection, mailing_id: int) -> dict[str, Any]:
    return details(row_of(conn, mailing_id))


def _fields(tx: Tx, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """The stored columns from a create or update body; unknown groups are a 400."""
    old = current or {}
    content = body.get("content", {})
    receivers = body.get("receivers", {})
    settings = body.get("settings", {})
    if not all(isinstance(x, dict) for x in (content, receivers, settings)):
        raise Refusal(400, "content, receivers and settings must be objects")
    kind = str(content.get("type", old.get("content_type", "html/text")))
    if kind not in CONTENT_TYPES:
        raise Refusal(400, f"invalid content type '{kind}'")
    old_settings = old.get("settings", {})
    editor = str(settings.get("editor", old_settings.get("editor", "wizard")))
    if editor not in EDITORS:
        raise Refusal(400, f"invalid editor '{editor}'")
    old_groups = old.get("mailing_groups", {})
    group_ids = receivers.get("groups", old_groups.get("group_ids", []))
    if not isinstance(group_ids, list):
        raise Refusal(400, "receivers.groups must be a list of group ids")
    for gid in group_ids:
        text = str(gid)
        known = (
            text.isdigit()
            and tx.conn.execute("SELECT 1 FROM groups WHERE id = ?", (int(text),)).fetchone()
        )
        if not known:
            raise Refusal(400, f"invalid group '{text}'")

    def keep(name: str, source: dict[str, Any], key: str | None = None) -> str:
        return text_field(source, key or name, str(old.get(name, "")))

    return {
        "name": keep("name", body),
        "subject": keep("subject", body),
        "sender_name": keep("sender_name", body),
        "sender_email": keep("sender_email", body),
        "content_type": kind,
        "body_html": keep("body_html", content, "html"),
        "body_text": keep("body_text", content, "text"),
        "editor": editor,
        "open_tracking": int(
            bool(settings.get("open_tracking", old_settings.get("open_tracking", True)))
        ),
        "click_tracking": int(
            bool(settings.get("click_tracking", old_settings.get("click_tracking", True)))
        ),
        "group_ids": json.dumps([str(g) for g in group_ids]),
        "filter": text_field(receivers, "filter", str(old_groups.get("filter", ""))),
    }


def create(tx: Tx, body: dict[str, Any]) -> dict[str, Any]:
    values = _fields(tx, body, None)
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    cursor = tx.conn.execute(
        f"INSERT INTO mailings ({names}, state, stamp, last_changed)"
        f" VALUES ({marks}, 'draft', ?, ?)",
        (*values.values(), tx.now, tx.now),
    )
    mid = int(cursor.lastrowid or 0)
    tx.audit("mailing.created", detail=f"{mid} {values['name']}")
    return {"success": True, "id": str(mid)}


def update(tx: Tx, mailing_id: int, body: dict[str, Any]) -> dict[str, Any]:
    current = get(tx.conn, mailing_id)
    if current["state"] != "draft":
        raise Refusal(400, f"mailing {mailing_id} is not a draft")
    values = _fields(tx, body, current)
    assignments = ", ".join(f"{name} = ?" for name in values)
    tx.conn.execute(
        f"UPDATE mailings SET {assignments}, last_changed = ? WHERE id = ?",
        (*values.values(), tx.now, mailing_id),
    )
    tx.audit("mailing.updated", detail=str(mailing_id))
    return {"success": True, "id": str(mailing_id)}


def listing(
    conn: sqlite3.Connection, state: str, limit: int, page: int
) -> dict[str, list[dict[str, Any]]]:
    """Reference §8.2: an object keyed by state; `state=X` → only key X; newest first."""
    if state and state not in STATES:
        raise Refusal(400, f"invalid state '{state}'")
    result: dict[str, list[dict[str, Any]]] = {}
    for name in [state] if state else list(STATES):
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM mailings WHERE state = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (name, limit, page * limit),
        )
        result[name] = [details(tuple(r), bodies=False) for r in rows]
    return result
