"""Receiver operations by pool id or address (reference §6.5, §6.8): the address, one
attribute value, consent switches, deletes in a group or account-wide."""

from __future__ import annotations

import json
from typing import Any, Literal

from crm2cr.emulators.cleverreach import groups, members
from crm2cr.emulators.cleverreach.attributes import Catalog
from crm2cr.emulators.cleverreach.payload import merge_values
from crm2cr.emulators.cleverreach.receivers_read import find_pool
from crm2cr.emulators.cleverreach.rules import Sticky, decide_activate, decide_deactivate
from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import Refusal, normalize_email, valid_email

Switch = Literal["activate", "deactivate"]


def require_pool(tx: Tx, key: str) -> int:
    pool_id = find_pool(tx.conn, key)
    if pool_id is None:
        raise Refusal(404, "invalid receiver")
    return pool_id


def switch(tx: Tx, group_id: int | None, key: str, which: Switch, sticky: Sticky) -> None:
    """`PUT …/activate|deactivate` in one group, or in every group of the address."""
    pool_id = require_pool(tx, key)
    if group_id is None:
        found = members.load(tx.conn, "r.pool_id = ?", (pool_id,))
    else:
        groups.require(tx.conn, group_id)
        found = list(members.load_in_group(tx.conn, group_id, [pool_id]).values())
    if not found:
        raise Refusal(404, "invalid receiver")
    for member in found:
        if which == "activate":
            outcome = decide_activate(member.stamps, tx.now, sticky)
        else:
            outcome = decide_deactivate(member.stamps, tx.now)
        members.apply_outcome(
            tx, member, outcome, event=("api", f"REST {which}", "", 0), action=which
        )
    tx.audit(f"receiver.{which}", group_id=group_id or 0, pool_id=pool_id)


def delete_in_group(tx: Tx, group_id: int, key: str) -> None:
    groups.require(tx.conn, group_id)
    pool_id = find_pool(tx.conn, key)
    if pool_id is None or not members.load_in_group(tx.conn, group_id, [pool_id]):
        raise Refusal(404, "invalid receiver")
    members.remove(tx, [(group_id, pool_id)])
    tx.audit("receiver.deleted", group_id=group_id, pool_id=pool_id)


def delete_everywhere(tx: Tx, key: str) -> None:
    pool_id = require_pool(tx, key)
    pairs = [(m.group_id, m.pool_id) for m in members.load(tx.conn, "r.pool_id = ?", (pool_id,))]
    if not pairs:
        raise Refusal(404, "invalid receiver")
    members.remove(tx, pairs)
    tx.audit("receiver.deleted", pool_id=pool_id, detail="account-wide")


def delete_batch(tx: Tx, group_id: int | None, keys: list[Any]) -> list[dict[str, Any]]:
    """Batch delete → `[{"email", "status": "success" | "not found"}]` (reference §6.6)."""
    if group_id is not None:
        groups.require(tx.conn, group_id)
    answers: list[dict[str, Any]] = []
    pairs: list[tuple[int, int]] = []
    done: set[tuple[int, int]] = set()
    for raw in keys:
        key = str(raw.get("email") or raw.get("id") or "") if isinstance(raw, dict) else str(raw)
        pool_id = find_pool(tx.conn, key.strip())
        where, params = "r.pool_id = ?", [pool_id]
        if group_id is not None:
            where, params = "r.pool_id = ? AND r.group_id = ?", [pool_id, group_id]
        found = members.load(tx.conn, where, tuple(params)) if pool_id is not None else []
        found = [m for m in found if (m.group_id, m.pool_id) not in done]
        if not found:
            answers.append({"email": key, "status": "not found"})
            continue
        pairs.extend((m.group_id, m.pool_id) for m in found)
        done.update((m.group_id, m.pool_id) for m in found)
        answers.append({"email": found[0].email, "id": str(pool_id), "status": "success"})
    members.remove(tx, pairs)
    tx.audit("receivers.delete", group_id=group_id or 0, detail=f"{len(pairs)} removed")
    return answers


def change_email(tx: Tx, key: str, new: str) -> int:
    """`PUT /v3/receivers/{id}/email`: a new address, the same id (the sync relies on it)."""
    pool_id = require_pool(tx, key)
    address = normalize_email(new)
    if not valid_email(address):
        raise Refusal(400, f"invalid address '{new}'")
    other = find_pool(tx.conn, address)
    if other == pool_id:
        return pool_id
    if other is not None:
        raise Refusal(409, f"duplicate address '{address}'")
    tx.conn.execute("UPDATE pool SET email = ? WHERE id = ?", (address, pool_id))
    found = members.load(tx.conn, "r.pool_id = ?", (pool_id,))
    for member in found:
        tx.conn.execute(
            "UPDATE receivers SET last_changed = ? WHERE group_id = ? AND pool_id = ?",
            (tx.now, member.group_id, pool_id),
        )
        groups.touch(tx, member.group_id)
        tx.fire("receiver.updated", member.group_id, pool_id=pool_id)
    members.refresh_blocked(tx, address)
    tx.audit("receiver.email_changed", pool_id=pool_id, email=address)
    return pool_id


def set_attribute(tx: Tx, key: str, attr_id: int, value: Any) -> None:
    """`PUT /v3/receivers/{id}/attributes/{attr_id}` `{"value"}`: one value, global or in the
    attribute's group."""
    pool_id = require_pool(tx, key)
    attr = Catalog.load(tx.conn).by_id(attr_id)
    if attr is None:
        raise Refusal(404, "invalid attribute")
    if isinstance(value, dict | list):
        raise Refusal(400, "value must be a string")
    if attr.group_id == 0:
        (gattrs,) = tx.conn.execute("SELECT gattrs FROM pool WHERE id = ?", (pool_id,)).fetchone()
        current = json.loads(gattrs)
        new = merge_values(current, [(attr, value)])
        if new == current:
            return
        tx.conn.execute("UPDATE pool SET gattrs = ? WHERE id = ?", (json.dumps(new), pool_id))
        changed = members.load(tx.conn, "r.pool_id = ?", (pool_id,))
    else:
        found = members.load_in_group(tx.conn, attr.group_id, [pool_id])
        if not found:
            raise Refusal(404, "invalid receiver")
        member = found[pool_id]
        new = merge_values(member.attrs, [(attr, value)])
        if new == member.attrs:
            return
        tx.conn.execute(
            "UPDATE receivers SET attrs = ? WHERE group_id = ? AND pool_id = ?",
            (json.dumps(new), attr.group_id, pool_id),
        )
        changed = [member]
    for member in changed:
        tx.conn.execute(
            "UPDATE receivers SET last_changed = ? WHERE group_id = ? AND pool_id = ?",
            (tx.now, member.group_id, pool_id),
        )
        groups.touch(tx, member.group_id)
        tx.fire("receiver.updated", member.group_id, pool_id=pool_id)
    tx.audit("receiver.attribute_set", pool_id=pool_id, detail=attr.name)
