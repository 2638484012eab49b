"""Writing receivers (reference §6.4–6.6): single create and update, the four batch writes.

One engine serves them all, so single and batch writes follow the same
activation table (rules.py), attribute rules and webhook transitions. A bad
item fails alone in a batch and is a 4xx for a single write; either way
nothing is written before every item has been judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from crm2cr.emulators.cleverreach import groups, members
from crm2cr.emulators.cleverreach.attributes import Catalog
from crm2cr.emulators.cleverreach.members import Member
from crm2cr.emulators.cleverreach.payload import (
    Item,
    ItemFailure,
    merge_tags,
    merge_values,
    parse_item,
)
from crm2cr.emulators.cleverreach.receivers_read import COLUMNS, DETAIL_ALL, FROM, render_rows
from crm2cr.emulators.cleverreach.rules import Outcome, Sticky, decide, is_active
from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import Refusal

Mode = Literal["insert", "update", "upsert", "create", "put"]
SINGLE: tuple[Mode, ...] = ("create", "put")
DEFAULT_SOURCE = "RESTful API"


@dataclass
class Pool:
    id: int
    gattrs: dict[str, str]


@dataclass
class Batch:
    """What the engine collected before writing."""

    pool_updates: dict[int, str] = field(default_factory=dict)
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    updates: list[tuple[Any, ...]] = field(default_factory=list)
    history: list[tuple[int, int, str, str, str, int]] = field(default_factory=list)
    audit: list[tuple[str, int, int, str, str, bool]] = field(default_factory=list)
    shared_changes: set[int] = field(default_factory=set)  # pools whose global values changed
    counts: dict[str, int] = field(default_factory=lambda: {"insert": 0, "update": 0, "fail": 0})


def _resolve_id(tx: Tx, raw: Any) -> Any:
    """Update writes may name the receiver by `id` instead of `email`."""
    if isinstance(raw, dict) and not raw.get("email") and str(raw.get("id", "")).isdigit():
        row = tx.conn.execute("SELECT email FROM pool WHERE id = ?", (int(raw["id"]),)).fetchone()
        if row is None:
            raise ItemFailure(str(raw["id"]), "not found", 404)
        return {**raw, "email": row[0]}
    return raw


def _load_pools(tx: Tx, emails: list[str]) -> dict[str, Pool]:
    found: dict[str, Pool] = {}
    for start in range(0, len(emails), 900):
        chunk = emails[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for pid, email, gattrs in tx.conn.execute(
            f"SELECT id, email, gattrs FROM pool WHERE email IN ({marks})", chunk
        ):
            found[email] = Pool(pid, json.loads(gattrs))
    return found


def _flags(tx: Tx, group_id: int, emails: list[str]) -> tuple[set[str], dict[str, int]]:
    """Blacklisted addresses (account or this group) and bounce stamps among `emails`."""
    blocked: set[str] = set()
    bounced: dict[str, int] = {}
    for start in range(0, len(emails), 900):
        chunk = emails[start : start + 900]
        marks = ",".join("?" * len(chunk))
        blocked.update(
            e
            for (e,) in tx.conn.execute(
                f"SELECT email FROM blacklist WHERE group_id IN (0, ?) AND email IN ({marks})",
                (group_id, *chunk),
            )
        )
        bounced.update(
            tx.conn.execute(
                f"SELECT email, last_update FROM bounces WHERE email IN ({marks})", chunk
            ).fetchall()
        )
    return blocked, bounced


def write(
    tx: Tx, group_id: int, raws: list[Any], mode: Mode, sticky: Sticky
) -> list[dict[str, Any]]:
    """Write `raws` into the group; one answer per input, in input order."""
    groups.require(tx.conn, group_id)
    catalog = Catalog.load(tx.conn)
    answers: list[dict[str, Any] | Item] = []
    seen: set[str] = set()
    for raw in raws:
        try:
            item = parse_item(
                _resolve_id(tx, raw) if mode in ("update", "put") else raw, catalog, group_id
            )
            if item.email in seen:
                raise ItemFailure(item.email, f"duplicate address '{item.email}'")
        except ItemFailure as failure:
            if mode in SINGLE:
                raise _single_refusal(failure) from None
            answers.append({"email": failure.email, "status": failure.status})
            continue
        seen.add(item.email)
        answers.append(item)

    items = [a for a in answers if isinstance(a, Item)]
    emails = [i.email for i in items]
    pools = _load_pools(tx, emails)
    stored = members.load_in_group(tx.conn, group_id, (p.id for p in pools.values()))
    blocked, bounced = _flags(tx, group_id, emails)
    batch = Batch()
    statuses: dict[str, str] = {}
    for item in items:
        pool = pools.get(item.email)
        member = stored.get(pool.id) if pool else None
        try:
            statuses[item.email] = _judge(
                tx,
                batch,
                group_id,
                item,
                pool,
                member,
                mode,
                sticky,
                item.email in blocked,
                bounced.get(item.email, 0),
                pools,
            )
        except ItemFailure as failure:
            if mode in SINGLE:
                raise _single_refusal(failure) from None
            statuses[item.email] = failure.status
    _flush(tx, batch, group_id)
    written = {i.email: pools[i.email].id for i in items if statuses[i.email].endswith("success")}
    rows = _reread(tx, group_id, list(written.values()))
    batch.counts["fail"] = len(raws) - len(written)
    tx.audit(
        f"receivers.{mode}",
        group_id=group_id,
        detail=", ".join(f"{k} {v}" for k, v in batch.counts.items()),
    )
    return _answers(answers, statuses, written, rows, catalog, tx)


def _judge(
    tx: Tx,
    batch: Batch,
    group_id: int,
    item: Item,
    pool: Pool | None,
    member: Member | None,
    mode: Mode,
    sticky: Sticky,
    blocked: bool,
    bounced: int,
    pools: dict[str, Pool],
) -> str:
    """Decide one item and queue its writes; the answer's status."""
    if member is None and mode in ("update", "put"):
        raise ItemFailure(item.email, "invalid receiver" if mode == "put" else "not found", 404)
    if member is not None and mode in ("insert", "create"):
        raise ItemFailure(item.email, f"duplicate address '{item.email}'", 409)
    if pool is None:
        gattrs = merge_values({}, item.global_values)
        cursor = tx.conn.execute(
            "INSERT INTO pool (email, gattrs) VALUES (?, ?)", (item.email, json.dumps(gattrs))
        )
        pool = Pool(int(cursor.lastrowid or 0), gattrs)
        pools[item.email] = pool
        shared_changed = False
    else:
        gattrs = merge_values(pool.gattrs, item.global_values)
        shared_changed = gattrs != pool.gattrs
        if shared_changed:
            pool.gattrs = gattrs
            batch.pool_updates[pool.id] = json.dumps(gattrs)
            batch.shared_changes.add(pool.id)
    replace_tags = mode == "put"
    if member is None:
        outcome = decide(None, item.requested, tx.now, sticky)
        s = outcome.stamps
        batch.inserts.append(
            (
                group_id,
                pool.id,
                s.registered,
                s.activated,
                s.deactivated,
                item.imported or 0,
                bounced,
                int(blocked),
                item.source or DEFAULT_SOURCE,
                tx.now,
                json.dumps(merge_values({}, item.group_values)),
                json.dumps(merge_tags([], item.tags or [], replace_all=True)),
                json.dumps(item.orders or []),
            )
        )
        batch.history.append((pool.id, group_id, "api", "REST insert", "", 0))
        tx.fire("receiver.created", group_id, pool_id=pool.id)
        batch.counts["insert"] += 1
        return "insert success"
    outcome = decide(member.stamps, item.requested, tx.now, sticky)
    attrs = merge_values(member.attrs, item.group_values)
    tags = (
        member.tags
        if item.tags is None
        else merge_tags(member.tags, item.tags, replace_all=replace_tags)
    )
    after = replace(
        member,
        stamps=outcome.stamps,
        imported=member.imported if item.imported is None else item.imported,
        source=member.source if item.source is None else item.source,
        attrs=attrs,
        tags=tags,
        orders=member.orders + (item.orders or []),
    )
    fields_changed = shared_changed or (
        (
            after.imported,
            after.source,
            after.attrs,
            after.tags,
            after.orders,
            after.stamps.registered,
        )
        != (
            member.imported,
            member.source,
            member.attrs,
            member.tags,
            member.orders,
            member.stamps.registered,
        )
    )
    batch.audit.extend(members.consent_audit_rows(member, outcome, f"{mode} receiver"))
    if fields_changed or outcome.stamps != member.stamps:
        s = outcome.stamps
        batch.updates.append(
            (
                s.registered,
                s.activated,
                s.deactivated,
                after.imported,
                after.source,
                tx.now,
                json.dumps(attrs),
                json.dumps(tags),
                json.dumps(after.orders),
                group_id,
                pool.id,
            )
        )
        batch.history.append((pool.id, group_id, "api", "REST update", "", 0))
    if fields_changed:
        tx.fire("receiver.updated", group_id, pool_id=pool.id)
    members.fire_transition(tx, member, _active(outcome, member))
    batch.counts["update"] += 1
    return "update success"


def _single_refusal(failure: ItemFailure) -> Refusal:
    detail = "invalid receiver" if failure.http_status == 404 else failure.status
    return Refusal(failure.http_status, detail)


def _active(outcome: Outcome, member: Member) -> bool:
    return is_active(outcome.stamps, bounced=member.bounced, blocked=member.blocked)


def _flush(tx: Tx, batch: Batch, group_id: int) -> None:
    conn = tx.conn
    if batch.pool_updates:
        conn.executemany(
            "UPDATE pool SET gattrs = ? WHERE id = ?",
            [(g, pid) for pid, g in batch.pool_updates.items()],
        )
    if batch.inserts:
        conn.executemany(
            "INSERT INTO receivers (group_id, pool_id, registered, activated, deactivated,"
            " imported, bounced, blocked, source, last_changed, attrs, tags, orders)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch.inserts,
        )
    if batch.updates:
        conn.executemany(
            "UPDATE receivers SET registered = ?, activated = ?, deactivated = ?, imported = ?,"
            " source = ?, last_changed = ?, attrs = ?, tags = ?, orders = ?"
            " WHERE group_id = ? AND pool_id = ?",
            batch.updates,
        )
    if batch.history:
        members.history(tx, batch.history)
    if batch.audit:
        tx.audit_many(batch.audit)
    if batch.inserts or batch.updates or batch.pool_updates:
        groups.touch(tx, group_id)
    # Global attributes belong to the address: its other groups changed too.
    for pool_id in sorted(batch.shared_changes):
        others = [
            g
            for (g,) in conn.execute(
                "SELECT group_id FROM receivers WHERE pool_id = ? AND group_id <> ?",
                (pool_id, group_id),
            )
        ]
        for other in others:
            conn.execute(
                "UPDATE receivers SET last_changed = ? WHERE group_id = ? AND pool_id = ?",
                (tx.now, other, pool_id),
            )
            groups.touch(tx, other)
            tx.fire("receiver.updated", other, pool_id=pool_id)


def _reread(tx: Tx, group_id: int, pool_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    rows: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(pool_ids), 900):
        chunk = pool_ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for row in tx.conn.execute(
            f"SELECT {COLUMNS} FROM {FROM} WHERE r.group_id = ? AND r.pool_id IN ({marks})",
            (group_id, *chunk),
        ):
            rows[row[1]] = tuple(row)
    return rows


def _answers(
    answers: list[dict[str, Any] | Item],
    statuses: dict[str, str],
    written: dict[str, int],
    rows: dict[int, tuple[Any, ...]],
    catalog: Catalog,
    tx: Tx,
) -> list[dict[str, Any]]:
    ordered = [rows[pid] for pid in written.values()]
    rendered = (
        {int(r["id"]): r for r in render_rows(tx.conn, ordered, catalog, DETAIL_ALL)}
        if ordered
        else {}
    )
    result: list[dict[str, Any]] = []
    for answer in answers:
        if isinstance(answer, Item):
            status = statuses[answer.email]
            if answer.email in written:
                result.append({**rendered[written[answer.email]], "status": status})
            else:
                result.append({"email": answer.email, "status": status})
        else:
            result.append(answer)
    return result
