"""One receiver in one group as stored, and the state changes every write path shares:
consent stamps, bounces, the blacklist flag, removal. Each change fires the webhook
events of the transition it makes (reference §11: every transition, whatever the cause).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crm2cr.emulators.cleverreach import groups
from crm2cr.emulators.cleverreach.rules import Outcome, Stamps, is_active
from crm2cr.emulators.cleverreach.store import Tx

MEMBER_COLUMNS = (
    "r.group_id, r.pool_id, p.email, r.registered, r.activated, r.deactivated, r.imported,"
    " r.bounced, r.blocked, r.source, r.attrs, r.tags, r.orders"
)
MEMBER_FROM = "receivers r JOIN pool p ON p.id = r.pool_id"
BOUNCE_LIFETIME = 180 * 86_400  # how long a bounce entry keeps an address out


@dataclass(frozen=True, slots=True)
class Member:
    group_id: int
    pool_id: int
    email: str
    stamps: Stamps
    imported: int
    bounced: int
    blocked: bool
    source: str
    attrs: dict[str, str]
    tags: list[str]
    orders: list[Any]

    @property
    def active(self) -> bool:
        return is_active(self.stamps, bounced=self.bounced, blocked=self.blocked)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Member:
        (
            gid,
            pid,
            email,
            registered,
            activated,
            deactivated,
            imported,
            bounced,
            blocked,
            source,
            attrs,
            tags,
            orders,
        ) = row
        return cls(
            gid,
            pid,
            email,
            Stamps(registered, activated, deactivated),
            imported,
            bounced,
            bool(blocked),
            source,
            json.loads(attrs),
            json.loads(tags),
            json.loads(orders),
        )


def load(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[Member]:
    rows = conn.execute(
        f"SELECT {MEMBER_COLUMNS} FROM {MEMBER_FROM} WHERE {where} ORDER BY r.group_id, r.pool_id",
        params,
    ).fetchall()
    return [Member.from_row(tuple(row)) for row in rows]


def load_in_group(
    conn: sqlite3.Connection, group_id: int, pool_ids: Iterable[int]
) -> dict[int, Member]:
    found: dict[int, Member] = {}
    ids = list(pool_ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for m in load(conn, f"r.group_id = ? AND r.pool_id IN ({marks})", (group_id, *chunk)):
            found[m.pool_id] = m
    return found


def fire_transition(tx: Tx, member: Member, now_active: bool) -> None:
    if member.active != now_active:
        event = "receiver.subscribed" if now_active else "receiver.unsubscribed"
        tx.fire(event, member.group_id, pool_id=member.pool_id)


def history(tx: Tx, rows: list[tuple[int, int, str, str, str, int]]) -> None:
    """Receiver events (pool_id, group_id, type, type_id, value, mailing_id), reference §6.1."""
    tx.conn.executemany(
        "INSERT INTO events (pool_id, group_id, stamp, type, type_id, value, mailing_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(p, g, tx.now, t, ti, v, m) for p, g, t, ti, v, m in rows],
    )


def apply_outcome(
    tx: Tx,
    member: Member,
    outcome: Outcome,
    *,
    event: tuple[str, str, str, int],
    action: str,
) -> bool:
    """Store new consent stamps; audit, record the event and fire the transition.
    Returns whether anything changed. `event` is (type, type_id, value, mailing_id)."""
    audit_consent(tx, member, outcome, action)
    if outcome.stamps == member.stamps:
        return False
    s = outcome.stamps
    tx.conn.execute(
        "UPDATE receivers SET registered = ?, activated = ?, deactivated = ?, last_changed = ?"
        " WHERE group_id = ? AND pool_id = ?",
        (s.registered, s.activated, s.deactivated, tx.now, member.group_id, member.pool_id),
    )
    history(tx, [(member.pool_id, member.group_id, *event)])
    groups.touch(tx, member.group_id)
    fire_transition(tx, member, is_active(s, bounced=member.bounced, blocked=member.blocked))
    return True


def consent_audit_rows(
    member: Member, outcome: Outcome, action: str
) -> list[tuple[str, int, int, str, str, bool]]:
    """Audit rows for a consent change; re-activations (and refused attempts) are flagged."""
    before, after = member.stamps, outcome.stamps
    base = (member.group_id, member.pool_id, member.email)
    if outcome.reactivated:
        return [("receiver.reactivated", *base, action, True)]
    if outcome.refused_reactivation:
        return [("receiver.reactivation_refused", *base, action, True)]
    rows: list[tuple[str, int, int, str, str, bool]] = []
    if before.deactivated == 0 and after.deactivated > 0:
        rows.append(("receiver.deactivated", *base, action, False))
    if before.activated == 0 and after.activated > 0:
        rows.append(("receiver.activated", *base, action, False))
    return rows


def audit_consent(tx: Tx, member: Member, outcome: Outcome, action: str) -> None:
    rows = consent_audit_rows(member, outcome, action)
    if rows:
        tx.audit_many(rows)


def refresh_blocked(tx: Tx, email: str) -> int:
    """Recompute the blacklist flag of every membership of `email` (reference §9: inactive
    without touching `deactivated`, its old state back once the entry goes)."""
    changed = 0
    for member in load(tx.conn, "p.email = ?", (email,)):
        blocked = (
            tx.conn.execute(
                "SELECT 1 FROM blacklist WHERE email = ? AND group_id IN (0, ?)",
                (email, member.group_id),
            ).fetchone()
            is not None
        )
        if blocked == member.blocked:
            continue
        changed += 1
        tx.conn.execute(
            "UPDATE receivers SET blocked = ?, last_changed = ? WHERE group_id = ? AND pool_id = ?",
            (int(blocked), tx.now, member.group_id, member.pool_id),
        )
        groups.touch(tx, member.group_id)
        fire_transition(
            tx, member, is_active(member.stamps, bounced=member.bounced, blocked=blocked)
        )
    return changed


def bounce(
    tx: Tx,
    email: str,
    *,
    category: str,
    message: str,
    kind: str,
    type_id: str,
    mailing_id: int = 0,
) -> int:
    """Record a bounce for the address and mark every membership bounced."""
    row = tx.conn.execute("SELECT occurences FROM bounces WHERE email = ?", (email,)).fetchone()
    tx.conn.execute(
        "INSERT OR REPLACE INTO bounces (email, category, occurences, last_update, expires_by,"
        " bounce_message, type, type_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            email,
            category,
            (row[0] if row else 0) + 1,
            tx.now,
            tx.now + BOUNCE_LIFETIME,
            message,
            kind,
            type_id,
        ),
    )
    members = load(tx.conn, "p.email = ?", (email,))
    for member in members:
        tx.conn.execute(
            "UPDATE receivers SET bounced = ?, last_changed = ? WHERE group_id = ? AND pool_id = ?",
            (tx.now, tx.now, member.group_id, member.pool_id),
        )
        history(
            tx, [(member.pool_id, member.group_id, "mail_bounce", category, message, mailing_id)]
        )
        groups.touch(tx, member.group_id)
        fire_transition(tx, member, False)
        tx.audit(
            "receiver.bounced",
            group_id=member.group_id,
            pool_id=member.pool_id,
            email=email,
            detail=category,
        )
    return len(members)


def remove(tx: Tx, pairs: list[tuple[int, int]]) -> None:
    """Delete memberships (group_id, pool_id); a pool row without a group goes too."""
    if not pairs:
        return
    tx.conn.executemany("DELETE FROM receivers WHERE group_id = ? AND pool_id = ?", pairs)
    for gid, pid in pairs:
        tx.fire("receiver.deleted", gid, pool_id=pid)
    for gid in sorted({g for g, _ in pairs}):
        groups.touch(tx, gid)
    orphans = [(pid, pid) for pid in sorted({p for _, p in pairs})]
    alone = "NOT EXISTS (SELECT 1 FROM receivers r WHERE r.pool_id = ?)"
    tx.conn.executemany(f"DELETE FROM events WHERE pool_id = ? AND {alone}", orphans)
    tx.conn.executemany(f"DELETE FROM pool WHERE id = ? AND {alone}", orphans)
