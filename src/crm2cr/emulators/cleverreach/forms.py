"""Forms and double opt-in (reference §10): one form per group; sends go to an outbox."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from crm2cr.emulators.cleverreach import groups, members
from crm2cr.emulators.cleverreach.receivers_read import find_pool
from crm2cr.emulators.cleverreach.rules import decide_deactivate, decide_opt_in
from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import Refusal, normalize_email, text_field, valid_email

KINDS = ("activate", "deactivate")


def _render(row: tuple[Any, ...]) -> dict[str, Any]:
    form_id, group_id, name = row
    return {"id": str(form_id), "name": name, "customer_tables_id": str(group_id)}


def listing(conn: sqlite3.Connection, group_id: int | None = None) -> list[dict[str, Any]]:
    if group_id is None:
        rows = conn.execute("SELECT id, group_id, name FROM forms ORDER BY id")
    else:
        groups.require(conn, group_id)
        rows = conn.execute(
            "SELECT id, group_id, name FROM forms WHERE group_id = ? ORDER BY id", (group_id,)
        )
    return [_render(tuple(r)) for r in rows]


def get(conn: sqlite3.Connection, form_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT id, group_id, name FROM forms WHERE id = ?", (form_id,)).fetchone()
    if row is None:
        raise Refusal(404, "invalid form")
    return _render(tuple(row))


def send(tx: Tx, form_id: int, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /v3/forms/{id}/send/activate|deactivate`: the mail goes to the outbox."""
    form = get(tx.conn, form_id)
    group_id = int(form["customer_tables_id"])
    given = text_field(body, "email")
    email = normalize_email(given)
    if not valid_email(email):
        raise Refusal(400, f"invalid address '{given}'")
    pool_id = find_pool(tx.conn, email)
    if pool_id is None or not members.load_in_group(tx.conn, group_id, [pool_id]):
        raise Refusal(404, "invalid receiver")
    doidata = body.get("doidata")
    tx.conn.execute(
        "INSERT INTO outbox (form_id, group_id, email, kind, doidata, stamp)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            form_id,
            group_id,
            email,
            kind,
            json.dumps(doidata if isinstance(doidata, dict) else {}),
            tx.now,
        ),
    )
    tx.audit(f"form.send_{kind}", group_id=group_id, pool_id=pool_id, email=email)
    return {"success": True}


def _render_mail(row: tuple[Any, ...]) -> dict[str, Any]:
    mail_id, form_id, group_id, email, kind, doidata, stamp, confirmed = row
    return {
        "id": str(mail_id),
        "form_id": str(form_id),
        "group_id": str(group_id),
        "email": email,
        "kind": kind,
        "doidata": json.loads(doidata),
        "stamp": stamp,
        "confirmed": confirmed,
    }


_MAIL_COLUMNS = "id, form_id, group_id, email, kind, doidata, stamp, confirmed"


def outbox(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {_MAIL_COLUMNS} FROM outbox ORDER BY id")
    return [_render_mail(tuple(r)) for r in rows]


def confirm(tx: Tx, mail_id: int) -> dict[str, Any]:
    """The recipient clicks the link: an opt-in sets activated = now, deactivated = 0 (the
    only way back for a deactivated receiver) and fires receiver.subscribed; an opt-out
    deactivates."""
    row = tx.conn.execute(f"SELECT {_MAIL_COLUMNS} FROM outbox WHERE id = ?", (mail_id,)).fetchone()
    if row is None:
        raise Refusal(404, "invalid outbox mail")
    mail = _render_mail(tuple(row))
    group_id = int(mail["group_id"])
    pool_id = find_pool(tx.conn, mail["email"])
    found = members.load_in_group(tx.conn, group_id, [pool_id] if pool_id else [])
    if pool_id is None or pool_id not in found:
        raise Refusal(404, "invalid receiver")
    member = found[pool_id]
    if mail["kind"] == "activate":
        outcome = decide_opt_in(member.stamps, tx.now)
        event = ("api", "double opt-in", f"form {mail['form_id']}", 0)
    else:
        outcome = decide_deactivate(member.stamps, tx.now)
        event = ("user_unsubscribe", "double opt-out", f"form {mail['form_id']}", 0)
    members.apply_outcome(tx, member, outcome, event=event, action=f"double opt-{mail['kind']}")
    tx.conn.execute("UPDATE outbox SET confirmed = ? WHERE id = ?", (tx.now, mail_id))
    tx.audit(
        f"outbox.confirmed_{mail['kind']}", group_id=group_id, pool_id=pool_id, email=mail["email"]
    )
    mail["confirmed"] = tx.now
    return mail
