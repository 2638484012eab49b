"""The CleverReach emulator's own control API under /_emulator/ (reference §13).

Beside the shared endpoints (health, faults, journal, tokens/expire,
clock/advance) it offers:

    POST /_emulator/unsubscribe {"email", "group_id"?}   the recipient opts out
    POST /_emulator/bounce {"email", "category"?}         the address bounces
    GET  /_emulator/outbox                                double opt-in mails sent
    POST /_emulator/outbox/{id}/confirm                   the recipient clicks the link
    GET  /_emulator/audit?since=N&reactivations=1         every write; re-activations flagged
    POST /_emulator/reset {"seed"?}                       back to a seed (ids keep counting)
    POST /_emulator/generate {"group_id", "count", "start"?, "email_format"?, "active"?}
    GET/POST /_emulator/settings                          sticky, rate limit, send_duration …
    GET  /_emulator/webhooks                              registrations and delivery attempts
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import forms, groups, members, webhooks
from crm2cr.emulators.cleverreach.context import Context
from crm2cr.emulators.cleverreach.rules import decide_deactivate
from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import (
    JSON,
    Refusal,
    body_object,
    normalize_email,
    numeric_id,
    path_id,
    query_int,
    text_field,
    valid_email,
)

GENERATE_MAX = 5_000_000
DEFAULT_FORMAT = "receiver{n}@bench.example"


def unsubscribe(tx: Tx, email: str, group_id: int | None) -> int:
    """The recipient clicks an unsubscribe link: deactivated in the group (or everywhere)."""
    where = "p.email = ?"
    params: tuple[Any, ...] = (email,)
    if group_id is not None:
        groups.require(tx.conn, group_id)
        where, params = "p.email = ? AND r.group_id = ?", (email, group_id)
    found = members.load(tx.conn, where, params)
    if not found:
        raise Refusal(404, "invalid receiver")
    for member in found:
        members.apply_outcome(
            tx,
            member,
            decide_deactivate(member.stamps, tx.now),
            event=("user_unsubscribe", "unsubscribe link", "", 0),
            action="recipient unsubscribed",
        )
    return len(found)


def generate(tx: Tx, group_id: int, count: int, start: int, fmt: str, active: bool) -> int:
    """Insert `count` synthetic receivers in SQL alone (benchmarks with a million)."""
    groups.require(tx.conn, group_id)
    if fmt.count("{n}") != 1 or not valid_email(fmt.replace("{n}", "0")):
        raise Refusal(400, "email_format must be an address with one {n}")
    pattern = fmt.replace("%", "%%").replace("{n}", "%d").lower()
    numbers = "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
    last = start + count - 1
    tx.conn.execute(
        f"{numbers} INSERT OR IGNORE INTO pool (email) SELECT printf(?, i) FROM n",
        (start, last, pattern),
    )
    before = tx.conn.total_changes
    activated = tx.now if active else 0
    tx.conn.execute(
        f"{numbers} INSERT OR IGNORE INTO receivers (group_id, pool_id, registered, activated,"
        " source, last_changed) SELECT ?, p.id, ?, ?, 'generated', ? FROM n"
        " JOIN pool p ON p.email = printf(?, n.i)",
        (start, last, group_id, tx.now, activated, tx.now, pattern),
    )
    inserted = tx.conn.total_changes - before
    # Generated addresses may be on the blacklist like any other.
    tx.conn.execute(
        "UPDATE receivers SET blocked = 1 WHERE group_id = ? AND source = 'generated' AND"
        " pool_id IN (SELECT p.id FROM pool p JOIN blacklist b ON b.email = p.email"
        " AND b.group_id IN (0, ?))",
        (group_id, group_id),
    )
    groups.touch(tx, group_id)
    tx.audit("receivers.generated", group_id=group_id, detail=f"{inserted} inserted")
    return inserted


def routes(ctx: Context, reset: Callable[[str], None], tick: Callable[[], None]) -> list[BaseRoute]:
    store = ctx.store

    def address(body: dict[str, Any]) -> str:
        email = normalize_email(text_field(body, "email"))
        if not valid_email(email):
            raise Refusal(400, f"invalid address '{email}'")
        return email

    async def do_unsubscribe(request: Request) -> JSON:
        body = await body_object(request)
        raw = str(body.get("group_id") or "").strip()
        gid = numeric_id(raw, "group") if raw else None
        with store.write("control unsubscribe", actor="recipient") as tx:
            count = unsubscribe(tx, address(body), gid)
        return JSON({"ok": True, "receivers": count})

    async def do_bounce(request: Request) -> JSON:
        body = await body_object(request)
        category = text_field(body, "category", "hardbounce") or "hardbounce"
        message = text_field(body, "message", "smtp; 550 5.1.1 No such user")
        with store.write("control bounce", actor="mail server") as tx:
            count = members.bounce(
                tx, address(body), category=category, message=message, kind="control", type_id="0"
            )
        return JSON({"ok": True, "receivers": count})

    async def outbox(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(forms.outbox(conn))

    async def confirm(request: Request) -> JSON:
        mail_id = numeric_id(path_id(request, "oid"), "outbox mail")
        with store.write("control confirm", actor="recipient") as tx:
            return JSON(forms.confirm(tx, mail_id))

    async def audit(request: Request) -> JSON:
        since = query_int(request, "since", 0, low=0, high=2**62)
        limit = query_int(request, "limit", 10_000, low=1, high=1_000_000)
        flagged = request.query_params.get("reactivations", "") in ("1", "true", "yes")
        sql = (
            "SELECT seq, stamp, actor, action, label, group_id, pool_id, email, detail,"
            " reactivation FROM audit WHERE seq > ?"
            + (" AND reactivation = 1" if flagged else "")
            + " ORDER BY seq LIMIT ?"
        )
        with store.read() as conn:
            rows = conn.execute(sql, (since, limit)).fetchall()
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()[0]
        keys = (
            "seq",
            "stamp",
            "actor",
            "action",
            "label",
            "group_id",
            "pool_id",
            "email",
            "detail",
            "reactivation",
        )
        entries = [dict(zip(keys, row, strict=True)) for row in rows]
        for entry in entries:
            entry["reactivation"] = bool(entry["reactivation"])
            entry["group_id"], entry["pool_id"] = str(entry["group_id"]), str(entry["pool_id"])
        return JSON({"last_seq": last, "entries": entries})

    async def do_reset(request: Request) -> JSON:
        body = await body_object(request)
        seed = text_field(body, "seed", ctx.options.seed) or ctx.options.seed
        if seed not in ("empty", "demo"):
            raise Refusal(400, "seed must be 'empty' or 'demo'")
        reset(seed)
        return JSON({"ok": True, "seed": seed})

    async def do_generate(request: Request) -> JSON:
        body = await body_object(request)
        gid = numeric_id(str(body.get("group_id", "")), "group")
        count, start = body.get("count"), body.get("start", 0)
        if not isinstance(count, int) or not 0 < count <= GENERATE_MAX:
            raise Refusal(400, f"count must be between 1 and {GENERATE_MAX}")
        if not isinstance(start, int) or start < 0:
            raise Refusal(400, "start must be a non-negative integer")
        fmt = text_field(body, "email_format", DEFAULT_FORMAT) or DEFAULT_FORMAT
        active = bool(body.get("active", True))
        with store.write("control generate", actor="control") as tx:
            inserted = generate(tx, gid, count, start, fmt, active)
        return JSON({"ok": True, "inserted": inserted})

    async def settings(request: Request) -> JSON:
        if request.method == "POST":
            try:
                ctx.holder.update(await body_object(request))
            except ValueError as exc:
                raise Refusal(400, str(exc)) from None
            tick()
        return JSON(ctx.settings.as_dict())

    async def hooks(request: Request) -> JSON:
        with store.read() as conn:
            registrations = webhooks.listing(conn)
        return JSON({"registrations": registrations, **ctx.dispatcher.snapshot()})

    return [
        Route("/unsubscribe", do_unsubscribe, methods=["POST"]),
        Route("/bounce", do_bounce, methods=["POST"]),
        Route("/outbox", outbox, methods=["GET"]),
        Route("/outbox/{oid}/confirm", confirm, methods=["POST"]),
        Route("/audit", audit, methods=["GET"]),
        Route("/reset", do_reset, methods=["POST"]),
        Route("/generate", do_generate, methods=["POST"]),
        Route("/settings", settings, methods=["GET", "POST"]),
        Route("/webhooks", hooks, methods=["GET"]),
    ]
