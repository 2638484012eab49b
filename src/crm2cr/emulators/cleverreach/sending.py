"""Sending mailings on the emulator's clock, and the figures a finished one produces.

`release` with a time ≤ now starts at once, a later one waits; `running`
lasts `send_duration` emulator seconds. At the finish a seeded generator draws
what happened to each recipient (bounce, open, click, unsubscribe) and
APPLIES it: bounced receivers get `bounced` and a bounce entry, unsubscribers
are deactivated, and the webhooks fire (reference §8.3, §8.5).
"""

from __future__ import annotations

import random
from typing import Any

from crm2cr.emulators.cleverreach import mailings, members
from crm2cr.emulators.cleverreach.receivers_read import ACTIVE_SQL
from crm2cr.emulators.cleverreach.rules import decide_deactivate
from crm2cr.emulators.cleverreach.settings import Settings
from crm2cr.emulators.cleverreach.store import Store, Tx
from crm2cr.emulators.cleverreach.wire import Refusal

BOUNCE_MESSAGE = "smtp; 550 5.1.1 No such user"


def release(tx: Tx, mailing_id: int, when: int, settings: Settings) -> None:
    current = mailings.get(tx.conn, mailing_id)
    if current["state"] not in ("draft", "waiting"):
        raise Refusal(400, f"mailing {mailing_id} is {current['state']}, not a draft")
    if when <= tx.now:
        start(tx, mailing_id, tx.now)
        if settings.send_duration == 0:
            finish(tx, mailing_id, tx.now, settings)
        return
    tx.conn.execute(
        "UPDATE mailings SET state = 'waiting', send_on = ?, last_changed = ? WHERE id = ?",
        (when, tx.now, mailing_id),
    )
    tx.audit("mailing.scheduled", detail=f"{mailing_id} at {when}")


def start(tx: Tx, mailing_id: int, at: int) -> None:
    """The recipients are the active receivers of the mailing's groups at the start."""
    group_ids = [int(g) for g in mailings.get(tx.conn, mailing_id)["mailing_groups"]["group_ids"]]
    if group_ids:
        marks = ",".join("?" * len(group_ids))
        tx.conn.execute(
            "INSERT OR IGNORE INTO recipients (mailing_id, pool_id, group_id, email)"
            " SELECT ?, r.pool_id, r.group_id, p.email FROM receivers r"
            f" JOIN pool p ON p.id = r.pool_id WHERE r.group_id IN ({marks}) AND {ACTIVE_SQL}"
            " ORDER BY r.group_id, r.pool_id",
            (mailing_id, *group_ids),
        )
        tx.conn.execute(
            f"UPDATE groups SET last_mailing = ? WHERE id IN ({marks})", (at, *group_ids)
        )
    tx.conn.execute(
        "UPDATE mailings SET state = 'running', started = ?, ready = ?, send_on = ?,"
        " last_changed = ? WHERE id = ?",
        (at, at, at, tx.now, mailing_id),
    )
    tx.audit("mailing.started", detail=str(mailing_id))


def stop(tx: Tx, mailing_id: int, settings: Settings) -> None:
    """`waiting` → `draft`; `running` → `finished` at once (reference §8.3, emulator)."""
    current = mailings.get(tx.conn, mailing_id)
    if current["state"] == "waiting":
        tx.conn.execute(
            "UPDATE mailings SET state = 'draft', send_on = 0, last_changed = ? WHERE id = ?",
            (tx.now, mailing_id),
        )
        tx.audit("mailing.stopped", detail=f"{mailing_id} back to draft")
    elif current["state"] == "running":
        finish(tx, mailing_id, tx.now, settings)
    else:
        raise Refusal(400, f"mailing {mailing_id} is {current['state']}, not being sent")


def _draw(rng: random.Random, s: Settings) -> tuple[str, bool, bool, bool]:
    """(outcome, opened, clicked, unsubscribed) for one recipient."""
    if rng.random() < s.bounce_rate:
        return "bounced", False, False, False
    opened = rng.random() < s.open_rate
    clicked = opened and s.open_rate > 0 and rng.random() < s.click_rate / s.open_rate
    unsubscribed = rng.random() < s.unsubscribe_rate
    return "delivered", opened, clicked, unsubscribed


def finish(tx: Tx, mailing_id: int, at: int, settings: Settings) -> None:
    rng = random.Random(f"{settings.random_seed}:{mailing_id}")
    recipients = tx.conn.execute(
        "SELECT pool_id, group_id, email FROM recipients WHERE mailing_id = ? ORDER BY pool_id",
        (mailing_id,),
    ).fetchall()
    drawn: list[tuple[Any, ...]] = []
    history: list[tuple[int, int, str, str, str, int]] = []
    for pool_id, group_id, _email in recipients:
        outcome, opened, clicked, unsubscribed = _draw(rng, settings)
        drawn.append((outcome, int(opened), int(clicked), int(unsubscribed), mailing_id, pool_id))
        history.append((pool_id, group_id, "mail_send", "mailing", "", mailing_id))
        if opened:
            history.append((pool_id, group_id, "mail_open", "mailing", "", mailing_id))
        if clicked:
            history.append((pool_id, group_id, "mail_click", "mailing", "", mailing_id))
    tx.conn.executemany(
        "UPDATE recipients SET outcome = ?, opened = ?, clicked = ?, unsubscribed = ?"
        " WHERE mailing_id = ? AND pool_id = ?",
        drawn,
    )
    members.history(tx, history)
    group_ids = [int(g) for g in mailings.get(tx.conn, mailing_id)["mailing_groups"]["group_ids"]]
    for (outcome, _o, _c, unsubscribed, _m, pool_id), (_, _, email) in zip(
        drawn, recipients, strict=True
    ):
        if outcome == "bounced":
            members.bounce(
                tx,
                email,
                category="hardbounce",
                message=BOUNCE_MESSAGE,
                kind="mailing",
                type_id=str(mailing_id),
                mailing_id=mailing_id,
            )
        elif unsubscribed:
            _unsubscribe(tx, pool_id, group_ids, mailing_id)
    tx.conn.execute(
        "UPDATE mailings SET state = 'finished', finished = ?, last_changed = ? WHERE id = ?",
        (at, tx.now, mailing_id),
    )
    tx.audit("mailing.finished", detail=f"{mailing_id}: {len(recipients)} recipients")


def _unsubscribe(tx: Tx, pool_id: int, group_ids: list[int], mailing_id: int) -> None:
    """The recipient clicked the mailing's unsubscribe link: out of the mailing's groups."""
    for group_id in group_ids:
        for member in members.load_in_group(tx.conn, group_id, [pool_id]).values():
            members.apply_outcome(
                tx,
                member,
                decide_deactivate(member.stamps, tx.now),
                event=("user_unsubscribe", "mailing", "", mailing_id),
                action=f"unsubscribed from mailing {mailing_id}",
            )


def due(store: Store, now: int, send_duration: int) -> bool:
    with store.read() as conn:
        row = conn.execute(
            "SELECT 1 FROM mailings WHERE (state = 'waiting' AND send_on <= ?)"
            " OR (state = 'running' AND started + ? <= ?) LIMIT 1",
            (now, send_duration, now),
        ).fetchone()
    return row is not None


def tick(store: Store, settings: Settings) -> None:
    """Move every mailing the clock has passed on: waiting → running → finished.

    Called before each request and after the clock moves, so nothing observes a stale
    state. Each step is its own transaction."""
    now = store.clock.stamp()
    if not due(store, now, settings.send_duration):
        return
    with store.write("clock", actor="clock") as tx:
        rows = tx.conn.execute(
            "SELECT id, state, send_on, started FROM mailings"
            " WHERE state IN ('waiting', 'running') ORDER BY id"
        ).fetchall()
        for mailing_id, state, send_on, started in rows:
            if state == "waiting" and send_on <= now:
                start(tx, mailing_id, send_on)
                started = send_on
                state = "running"
            if state == "running" and started + settings.send_duration <= now:
                finish(tx, mailing_id, started + settings.send_duration, settings)
