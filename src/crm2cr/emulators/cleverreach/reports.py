"""Reports (reference §8.5): report id = mailing id; figures drawn at the finish."""

from __future__ import annotations

import sqlite3
from typing import Any

from crm2cr.emulators.cleverreach import mailings
from crm2cr.emulators.cleverreach.wire import Refusal

# Which recipients each `/v3/reports/{id}/receivers/{state}` lists.
RECEIVER_STATES = {
    "sent": "1",
    "opened": "opened = 1",
    "clicked": "clicked = 1",
    "notopened": "outcome = 'delivered' AND opened = 0",
    "notclicked": "outcome = 'delivered' AND clicked = 0",
    "bounced": "outcome = 'bounced'",
    "unsubscribed": "unsubscribed = 1",
}


def _stats(conn: sqlite3.Connection, mailing_id: int) -> dict[str, int]:
    delivered, bounced, opened, clicked, unsubscribed = conn.execute(
        "SELECT coalesce(sum(outcome = 'delivered'), 0), coalesce(sum(outcome = 'bounced'), 0),"
        " coalesce(sum(opened), 0), coalesce(sum(clicked), 0), coalesce(sum(unsubscribed), 0)"
        " FROM recipients WHERE mailing_id = ?",
        (mailing_id,),
    ).fetchone()
    return {
        "delivered": delivered,
        "bounced": bounced,
        "unique_opened": opened,
        "unique_clicks": clicked,
        "unsubscribed": unsubscribed,
        "spam": 0,
    }


def _report(conn: sqlite3.Connection, mailing: dict[str, Any]) -> dict[str, Any]:
    mid = int(mailing["id"])
    recipients = conn.execute(
        "SELECT count(*) FROM recipients WHERE mailing_id = ?", (mid,)
    ).fetchone()[0]
    return {
        "id": mailing["id"],
        "name": mailing["name"],
        "subject": mailing["subject"],
        "sender_name": mailing["sender_name"],
        "sender_email": mailing["sender_email"],
        "state": mailing["state"],
        "started": mailing["started"],
        "finished": mailing["finished"],
        "recipients": recipients,
        "stats": {"total": _stats(conn, mid)},
    }


def get(conn: sqlite3.Connection, report_id: int) -> dict[str, Any]:
    try:
        mailing = mailings.get(conn, report_id)
    except Refusal:
        raise Refusal(404, "invalid report") from None
    if mailing["state"] not in ("running", "finished"):
        raise Refusal(404, "invalid report")
    return _report(conn, mailing)


def listing(
    conn: sqlite3.Connection, start: int, end: int, page: int, size: int
) -> list[dict[str, Any]]:
    """Sent mailings, newest first; `start`/`end` bound the send time (0 = open)."""
    rows = conn.execute(
        "SELECT id FROM mailings WHERE state IN ('running', 'finished')"
        " AND started >= ? AND (? = 0 OR started <= ?) ORDER BY started DESC, id DESC"
        " LIMIT ? OFFSET ?",
        (start, end, end, size, page * size),
    ).fetchall()
    return [_report(conn, mailings.get(conn, int(mid))) for (mid,) in rows]


def receivers(
    conn: sqlite3.Connection, report_id: int, state: str, page: int, size: int
) -> list[dict[str, Any]]:
    get(conn, report_id)
    if state not in RECEIVER_STATES:
        raise Refusal(400, f"invalid state '{state}'")
    rows = conn.execute(
        "SELECT pool_id, email, group_id FROM recipients WHERE mailing_id = ? AND "
        f"{RECEIVER_STATES[state]} ORDER BY pool_id LIMIT ? OFFSET ?",
        (report_id, size, page * size),
    )
    return [{"id": str(p), "email": e, "group_id": str(g)} for p, e, g in rows]
