"""The emulator's state: one SQLite database (in memory, or the `--data` file) behind a lock.

Every change runs in `Store.write()`: one transaction that commits whole or
not at all (an error or a refusal half way rolls everything back, so a fault
never leaves a write half-applied). Webhook deliveries a change causes are
collected in the transaction and handed on only after the commit (reference
§11: delivery after commit, never inside the request's critical path).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm2cr.emulators.cleverreach import schema
from crm2cr.emulators.common.clock import Clock


@dataclass(frozen=True, slots=True)
class Hook:
    """A webhook registration, as deliveries need it."""

    id: int
    url: str
    event: str
    condition: str
    call_token: str

    def wants(self, event: str, group_id: str) -> bool:
        """`event` is a category (`receiver`) or one event (`receiver.updated`)."""
        if self.event not in (event, event.split(".", 1)[0]):
            return False
        return self.condition in ("", group_id)


@dataclass(frozen=True, slots=True)
class Delivery:
    hook_id: int
    url: str
    call_token: str
    body: dict[str, Any]
    order_key: str  # deliveries with the same key keep their order (one receiver)


@dataclass
class Tx:
    """One write transaction: the connection, its time, and what it fires and audits."""

    conn: sqlite3.Connection
    now: int
    actor: str
    label: str
    deliveries: list[Delivery] = field(default_factory=list)
    _hooks: list[Hook] | None = None

    @property
    def hooks(self) -> list[Hook]:
        if self._hooks is None:
            rows = self.conn.execute(
                "SELECT id, url, event, condition, call_token FROM hooks ORDER BY id"
            ).fetchall()
            self._hooks = [Hook(*row) for row in rows]
        return self._hooks

    def watched(self, category: str, group_id: int) -> bool:
        """Whether any registration could want an event of `category` in `group_id`;
        lets bulk work skip building events nobody receives."""
        gid = str(group_id)
        return any(
            h.event.split(".", 1)[0] == category and h.condition in ("", gid) for h in self.hooks
        )

    def fire(
        self, event: str, group_id: int, *, pool_id: int | None = None, form_id: int | None = None
    ) -> None:
        """Queue `event` for every registration that wants it (sent after the commit)."""
        gid = str(group_id)
        payload: dict[str, str] = {"group_id": gid}
        if pool_id is not None:
            payload["pool_id"] = str(pool_id)
        if form_id is not None:
            payload["form_id"] = str(form_id)
        key = f"{gid}:{pool_id}" if pool_id is not None else gid
        for hook in self.hooks:
            if hook.wants(event, gid):
                body = {"event": event, "condition": hook.condition or gid, "payload": payload}
                self.deliveries.append(Delivery(hook.id, hook.url, hook.call_token, body, key))

    def audit(
        self,
        action: str,
        *,
        group_id: int = 0,
        pool_id: int = 0,
        email: str = "",
        detail: str = "",
        reactivation: bool = False,
    ) -> None:
        self.conn.execute(
            "INSERT INTO audit (stamp, actor, action, label, group_id, pool_id, email, detail,"
            " reactivation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.now,
                self.actor,
                action,
                self.label,
                group_id,
                pool_id,
                email,
                detail,
                int(reactivation),
            ),
        )

    def audit_many(self, rows: list[tuple[str, int, int, str, str, bool]]) -> None:
        """(action, group_id, pool_id, email, detail, reactivation) rows in one statement."""
        self.conn.executemany(
            "INSERT INTO audit (stamp, actor, action, label, group_id, pool_id, email, detail,"
            " reactivation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (self.now, self.actor, a, self.label, g, p, e, d, int(r))
                for a, g, p, e, d, r in rows
            ],
        )


class Store:
    """The database, its lock and the transaction helpers."""

    def __init__(
        self,
        path: Path | None,
        clock: Clock,
        on_commit: Callable[[list[Delivery]], None],
    ) -> None:
        self.clock = clock
        self.on_commit = on_commit
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            ":memory:" if path is None else str(path),
            check_same_thread=False,
            isolation_level=None,
        )
        if path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.fresh = schema.create(self.conn)
        self.version = 0  # bumped by every commit; keyed page caches die with it
        self.page_marks: dict[tuple[Any, ...], int] = {}
        self._tx: Tx | None = None

    @contextmanager
    def write(self, label: str, *, actor: str = "api") -> Iterator[Tx]:
        """One transaction; nested calls join the outer one."""
        with self.lock:
            if self._tx is not None:
                yield self._tx
                return
            self.conn.execute("BEGIN IMMEDIATE")
            tx = Tx(self.conn, self.clock.stamp(), actor, label)
            self._tx = tx
            try:
                yield tx
            except BaseException:
                self._tx = None
                self.conn.execute("ROLLBACK")
                raise
            self._tx = None
            self.conn.execute("COMMIT")
            self.version += 1
            self.page_marks.clear()
            if tx.deliveries:
                # Still under the lock: the queue sees commits in commit order.
                self.on_commit(tx.deliveries)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    def wipe(self) -> None:
        """Delete every row; id counters keep counting, so no id is ever used twice."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            for table in schema.DATA_TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            self.conn.execute("COMMIT")
            self.version += 1
            self.page_marks.clear()

    def close(self) -> None:
        with self.lock:
            self.conn.close()
