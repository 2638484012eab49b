"""Batch writes: chunking, 413 halving and per-item results (§6.6, §14 Batches).

A batch answers one element per input, in order. An element failed if it is
a string (v2 style `"invalid address 'x'"`), lacks an id, or carries a
`status` that does not end in "success"; a bad item never fails the batch.
A 413 halves the batch, down to one receiver, and the size that was accepted
is kept for the rest of the session (CORE1, CORE2).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Generic, TypeVar

import pydantic

from crm2cr.cleverreach.models import Receiver
from crm2cr.errors import BatchTooLarge, InvalidInput

T = TypeVar("T")

DEFAULT_BATCH_SIZE = 1000  # the largest any source reports; the emulator's limit


@dataclass(frozen=True, slots=True)
class ItemResult(Generic[T]):
    """What the service did with one input: `ok`, the receiver, its status text."""

    item: T
    ok: bool
    status: str
    receiver: Receiver | None = None


@dataclass(frozen=True)
class BatchOutcome(Generic[T]):
    """The per-item results of one request, in input order."""

    results: list[ItemResult[T]] = field(default_factory=list)

    @property
    def succeeded(self) -> list[tuple[T, Receiver | None]]:
        return [(r.item, r.receiver) for r in self.results if r.ok]

    @property
    def failed(self) -> list[tuple[T, str]]:
        return [(r.item, r.status) for r in self.results if not r.ok]

    def __len__(self) -> int:
        return len(self.results)


def merge(outcomes: Iterable[BatchOutcome[T]]) -> BatchOutcome[T]:
    results: list[ItemResult[T]] = []
    for outcome in outcomes:
        results.extend(outcome.results)
    return BatchOutcome(results)


class BatchSize:
    """The session's batch size: shrinks on 413 and stays shrunk; thread-safe."""

    def __init__(self, size: int = DEFAULT_BATCH_SIZE) -> None:
        if size < 1:
            raise InvalidInput(
                f"A batch holds at least one receiver, not {size}.",
                hint=f"Choose a batch size between 1 and {DEFAULT_BATCH_SIZE}.",
                field="batch_size",
            )
        self._lock = threading.Lock()
        self._size = size

    @property
    def current(self) -> int:
        with self._lock:
            return self._size

    def shrink(self, size: int) -> int:
        with self._lock:
            self._size = max(1, min(self._size, size))
            return self._size


def send_in_batches(
    items: Iterable[T],
    size: BatchSize,
    send: Callable[[list[T]], list[ItemResult[T]]],
) -> Iterator[BatchOutcome[T]]:
    """Send items in chunks of the session's size; yield one outcome per chunk."""
    source = iter(items)
    while chunk := list(islice(source, size.current)):
        yield BatchOutcome(_send_halving(chunk, size, send))


def _send_halving(
    chunk: list[T], size: BatchSize, send: Callable[[list[T]], list[ItemResult[T]]]
) -> list[ItemResult[T]]:
    results: list[ItemResult[T]] = []
    pending: deque[list[T]] = deque([chunk])
    while pending:
        part = pending.popleft()
        limit = size.current
        if len(part) > limit:  # the session's size shrank since this part was cut
            pending.extendleft(reversed([part[i : i + limit] for i in range(0, len(part), limit)]))
            continue
        try:
            results.extend(send(part))
        except BatchTooLarge as exc:
            if len(part) == 1:  # too large on its own: that item fails, the rest goes on
                results.append(ItemResult(part[0], False, exc.api_message))
                continue
            size.shrink(len(part) // 2)
            pending.appendleft(part)
    return results


def item_result(item: T, element: Any) -> ItemResult[T]:
    """Read one element of a batch answer (§6.6)."""
    if isinstance(element, str):
        return ItemResult(item, False, element)
    if not isinstance(element, dict):
        return ItemResult(item, False, f"unexpected answer element {type(element).__name__}")
    raw_status = element.get("status")
    status = raw_status if isinstance(raw_status, str) else ""
    if status and not status.strip().lower().endswith("success"):
        return ItemResult(item, False, status)
    if element.get("id") in (None, "", 0, "0"):
        return ItemResult(item, False, status or "the answer has no receiver id")
    try:
        receiver = Receiver.model_validate(element)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"])
        return ItemResult(item, False, f"unreadable receiver ({where}: {first['msg']})")
    return ItemResult(item, True, status or "success", receiver)
