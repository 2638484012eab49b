"""Webhooks (reference §11): registration with its synchronous handshake, and delivery.

Delivery never runs inside a request: committed changes hand their
deliveries to a worker thread per registration (a bounded queue), which
POSTs them in order with `X-CR-Calltoken`, at least once, each attempt with
a timeout, three attempts with pauses between (configurable, so tests are
fast). httpx is used as a plain HTTP library here; the emulator never
imports crm2cr's own CleverReach client.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from crm2cr.emulators.cleverreach.settings import Settings
from crm2cr.emulators.cleverreach.store import Delivery, Store
from crm2cr.emulators.cleverreach.wire import Refusal, text_field

CATEGORIES = ("receiver", "form", "filter", "group", "automation")
EVENTS = frozenset(
    {
        *CATEGORIES,
        *(f"receiver.{e}" for e in ("subscribed", "unsubscribed", "created", "updated", "deleted")),
        *(
            f"{c}.{e}"
            for c in ("form", "filter", "group")
            for e in ("created", "updated", "deleted")
        ),
        *(f"automation.{e}" for e in ("activated", "deactivated", "deleted")),
    }
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ATTEMPT_LOG = 500


def _check(body: dict[str, Any]) -> tuple[str, str, str, str]:
    url = text_field(body, "url").strip()
    event = text_field(body, "event").strip()
    condition = text_field(body, "condition").strip()
    verify = text_field(body, "verify")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refusal(400, f"invalid url '{url}'")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise Refusal(400, "the url must use https (http only on loopback)")
    if event not in EVENTS:
        raise Refusal(400, f"invalid event '{event}'")
    if not 10 <= len(verify) <= 50:
        raise Refusal(400, "verify must be 10 to 50 characters")
    return url, event, condition, verify


def _duplicate(conn: sqlite3.Connection, url: str, event: str, condition: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM hooks WHERE url = ? AND event = ? AND condition = ?",
            (url, event, condition),
        ).fetchone()
        is not None
    )


async def register(store: Store, settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """Handshake first (`GET url?secret=…` must answer exactly `<verify> <secret>`), then
    store the registration."""
    url, event, condition, verify = _check(body)
    with store.read() as conn:
        if _duplicate(conn, url, event, condition):
            raise Refusal(409, "webhook exists already")
    challenge = secrets.token_hex(16)
    try:
        async with httpx.AsyncClient(timeout=settings.handshake_timeout, trust_env=False) as client:
            answer = await client.get(url, params={"secret": challenge})
    except httpx.HTTPError as exc:
        raise Refusal(400, f"handshake failed: {type(exc).__name__}") from None
    if answer.status_code != 200 or answer.text != f"{verify} {challenge}":
        raise Refusal(
            400,
            f"handshake failed: the endpoint answered {answer.status_code}"
            " without '<verify> <secret>'",
        )
    call_token, secret = secrets.token_hex(32), secrets.token_hex(16)
    with store.write("POST /hooks/eventhook") as tx:
        if _duplicate(tx.conn, url, event, condition):
            raise Refusal(409, "webhook exists already")
        tx.conn.execute(
            "INSERT INTO hooks (url, event, condition, call_token, secret, stamp)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (url, event, condition, call_token, secret, tx.now),
        )
        tx.audit("webhook.registered", detail=f"{event} {condition} {url}")
    return {"success": True, "call_token": call_token, "secret": secret}


def listing(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, url, event, condition FROM hooks ORDER BY id")
    return [{"id": str(i), "url": u, "event": e, "condition": c} for i, u, e, c in rows]


def delete(store: Store, event: str, condition: str | None) -> int:
    with store.write(f"DELETE /hooks/eventhook/{event}") as tx:
        if condition is None:
            cursor = tx.conn.execute("DELETE FROM hooks WHERE event = ?", (event,))
        else:
            cursor = tx.conn.execute(
                "DELETE FROM hooks WHERE event = ? AND condition = ?", (event, condition)
            )
        tx.audit("webhook.deleted", detail=f"{event} {condition or ''}".strip())
        return cursor.rowcount


class _Worker:
    """Delivers one registration's events in order, one at a time."""

    def __init__(self, dispatcher: Dispatcher, hook_id: int) -> None:
        self.dispatcher = dispatcher
        self.queue: deque[Delivery] = deque()
        self.busy = False
        self.thread = threading.Thread(target=self._run, name=f"cr-webhook-{hook_id}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        d = self.dispatcher
        # trust_env=False: deliver straight to the URL, never through a proxy from the env.
        with httpx.Client(trust_env=False) as client:
            while True:
                with d.cond:
                    while not self.queue and not d.closing:
                        d.cond.wait()
                    if d.closing:
                        return
                    item = self.queue.popleft()
                    self.busy = True
                try:
                    self._deliver(client, item)
                finally:
                    with d.cond:
                        self.busy = False
                        d.cond.notify_all()

    def _deliver(self, client: httpx.Client, item: Delivery) -> None:
        d = self.dispatcher
        settings = d.settings()
        pauses = list(settings.webhook_retry_delays)
        for attempt in range(1, len(pauses) + 2):
            status, error = 0, ""
            try:
                response = client.post(
                    item.url,
                    json=item.body,
                    headers={"X-CR-Calltoken": item.call_token},
                    timeout=settings.webhook_timeout,
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            d.record(item, attempt, status, error)
            if 200 <= status < 300:
                d.count("delivered")
                return
            if attempt > len(pauses) or d.stop.wait(pauses[attempt - 1]):
                break
        d.count("failed")


class Dispatcher:
    """Worker threads per registration; `publish` only queues, it never waits."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self.settings = settings
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.closing = False
        self._workers: dict[int, _Worker] = {}
        self.totals = {"queued": 0, "delivered": 0, "failed": 0, "dropped": 0}
        self.attempts: deque[dict[str, Any]] = deque(maxlen=ATTEMPT_LOG)

    def publish(self, deliveries: list[Delivery]) -> None:
        limit = self.settings().webhook_queue
        with self.cond:
            if self.closing:
                return
            for item in deliveries:
                worker = self._workers.get(item.hook_id)
                if worker is None:
                    worker = self._workers[item.hook_id] = _Worker(self, item.hook_id)
                if len(worker.queue) >= limit:
                    self.totals["dropped"] += 1
                    continue
                worker.queue.append(item)
                self.totals["queued"] += 1
            self.cond.notify_all()

    def record(self, item: Delivery, attempt: int, status: int, error: str) -> None:
        with self.cond:
            self.attempts.append(
                {
                    "hook_id": str(item.hook_id),
                    "url": item.url,
                    "event": item.body["event"],
                    "payload": item.body["payload"],
                    "attempt": attempt,
                    "status": status,
                    "error": error,
                }
            )

    def count(self, key: str) -> None:
        with self.cond:
            self.totals[key] += 1

    def pending(self) -> int:
        with self.cond:
            return sum(len(w.queue) + int(w.busy) for w in self._workers.values())

    def snapshot(self) -> dict[str, Any]:
        with self.cond:
            return {
                **self.totals,
                "pending": sum(len(w.queue) + int(w.busy) for w in self._workers.values()),
                "attempts": list(self.attempts),
            }

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queue is empty (True) or `timeout` seconds pass (False)."""
        with self.cond:
            return self.cond.wait_for(
                lambda: all(not w.queue and not w.busy for w in self._workers.values()),
                timeout=timeout,
            )

    def discard(self) -> None:
        """Drop what waits (the store was reset); deliveries under way finish."""
        with self.cond:
            for worker in self._workers.values():
                worker.queue.clear()
            self.attempts.clear()
            for key in self.totals:
                self.totals[key] = 0

    def close(self) -> None:
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.stop.set()
        for worker in list(self._workers.values()):
            worker.thread.join(timeout=10)
