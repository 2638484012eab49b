"""The request journal: every request an emulator served, for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SCOPE_KEY = "crm2cr.journal_entry"


@dataclass
class JournalEntry:
    seq: int
    method: str
    path: str
    query: str
    status: int = 0
    write: bool = False
    fault: str = ""  # the injected fault, if any
    caller: str = ""  # who the token speaks for, when the app knows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """A bounded, thread-safe log of requests."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._seq = 0

    def open(self, method: str, path: str, query: str) -> JournalEntry:
        with self._lock:
            self._seq += 1
            entry = JournalEntry(self._seq, method, path, query, write=method in WRITE_METHODS)
            self._entries.append(entry)
            return entry

    def since(self, seq: int = 0) -> list[JournalEntry]:
        with self._lock:
            return [e for e in self._entries if e.seq > seq]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def writes_since(self, seq: int = 0) -> list[JournalEntry]:
        """Write requests the service accepted (status < 400) after `seq`."""
        return [e for e in self.since(seq) if e.write and not e.fault and e.status < 400]


def mark_read_only(scope: dict[str, Any]) -> None:
    """Called by an app for a POST that changes nothing (a query, a batch of GETs)."""
    entry = scope.get(SCOPE_KEY)
    if isinstance(entry, JournalEntry):
        entry.write = False


def set_caller(scope: dict[str, Any], caller: str) -> None:
    entry = scope.get(SCOPE_KEY)
    if isinstance(entry, JournalEntry):
        entry.caller = caller
