"""The HTTP seam shared by both API clients.

Clients get an `httpx.Client` whose transport is a stack of small wrappers
around the real one (or an in-process ASGI transport in tests):

    Retrying(Counting(Buffered(inner)))

`Buffered` reads each body inside the stack, so a connection dropped mid-body
is seen (and retried) like any other drop; `Counting` counts what really goes
on the wire (every attempt), so a rerun can prove it wrote nothing;
`Retrying` repeats what is safe to repeat, honouring `Retry-After`. Which
statuses are errors, and what they mean, is each API's own `classify`; this
module only knows HTTP.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

# Extensions a client sets on a request to tell the transports what it is.
IDEMPOTENT = "crm2cr.idempotent"  # bool: safe to send twice
READ_ONLY = "crm2cr.read_only"  # bool: changes nothing (e.g. a POST that only queries)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Sleep = Callable[[float], None]


def is_idempotent(request: httpx.Request) -> bool:
    marked = request.extensions.get(IDEMPOTENT)
    if marked is not None:
        return bool(marked)
    return request.method in IDEMPOTENT_METHODS


def is_write(request: httpx.Request) -> bool:
    if request.extensions.get(READ_ONLY):
        return False
    return request.method in WRITE_METHODS


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; every loop it drives is bounded."""

    attempts: int = 6  # first try included
    base_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    max_retry_after: float = 300.0  # a longer Retry-After is not waited for
    max_total_wait: float = 900.0
    jitter: float = 0.25

    def backoff(self, retry: int, rng: random.Random) -> float:
        delay = min(self.max_delay, self.base_delay * self.factor**retry)
        return delay * (1.0 + rng.uniform(-self.jitter, self.jitter))


@dataclass
class RequestStats:
    """What went over the wire: every attempt, and every retry."""

    requests: int = 0
    writes: int = 0
    retries: int = 0
    waited: float = 0.0
    by_method: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)

    @property
    def reads(self) -> int:
        return self.requests - self.writes


class RequestCounter:
    """Thread-safe counters, shared by the transports of one client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stats = RequestStats()

    def record(self, request: httpx.Request, status: int | None) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.writes += is_write(request)
            self.stats.by_method[request.method] += 1
            if status is not None:
                self.stats.by_status[status] += 1

    def record_retry(self, waited: float) -> None:
        with self._lock:
            self.stats.retries += 1
            self.stats.waited += waited

    def snapshot(self) -> RequestStats:
        with self._lock:
            s = self.stats
            return RequestStats(
                s.requests,
                s.writes,
                s.retries,
                s.waited,
                Counter(s.by_method),
                Counter(s.by_status),
            )

    @contextmanager
    def measuring(self) -> Iterator[RequestStats]:
        """Yield stats that hold, when the block ends, what it sent."""
        before = self.snapshot()
        result = RequestStats()
        yield result
        after = self.snapshot()
        result.requests = after.requests - before.requests
        result.writes = after.writes - before.writes
        result.retries = after.retries - before.retries
        result.waited = after.waited - before.waited
        result.by_method = after.by_method - before.by_method
        result.by_status = after.by_status - before.by_status


class BufferedTransport(httpx.BaseTransport):
    """Reads each answer's body inside the stack.

    A socket hands back the headers first; a connection that drops half way
    through the body would otherwise fail later, in the client, where neither
    counting nor retrying sees it. Answers are pages of at most 5000 rows, so
    reading them here costs nothing that streaming row by row would save.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return response

    def close(self) -> None:
        self.inner.close()


class CountingTransport(httpx.BaseTransport):
    """Counts every request that reaches the wire."""

    def __init__(self, inner: httpx.BaseTransport, counter: RequestCounter) -> None:
        self.inner = inner
        self.counter = counter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError:
            self.counter.record(request, None)
            raise
        self.counter.record(request, response.status_code)
        return response

    def close(self) -> None:
        self.inner.close()


class RetryingTransport(httpx.BaseTransport):
    """Retries 429 always, 502/503/504 and dropped connections when idempotent.

    A 429 means the service did not run the request, so any request may be
    resent. A 5xx or a dropped connection may come after the write was done,
    so only requests that are safe to send twice are resent; the client makes
    its writes idempotent (upserts under chosen ids) precisely so they are.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        policy: RetryPolicy | None = None,
        counter: RequestCounter | None = None,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.counter = counter
        self.sleep = sleep
        self.rng = rng or random.Random()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a body must be replayable
        waited = 0.0
        retry = 0
        while True:
            last_try = retry + 1 >= self.policy.attempts
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as exc:
                never_sent = isinstance(
                    exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                )
                if last_try or not (never_sent or is_idempotent(request)):
                    raise
                delay = self.policy.backoff(retry, self.rng)
            else:
                delay_or_none = self._delay_for(request, response, retry)
                if delay_or_none is None or last_try:
                    return response
                delay = delay_or_none
                response.read()
                response.close()
            if waited + delay > self.policy.max_total_wait:
                raise httpx.ReadTimeout("retry budget exhausted", request=request)
            self.sleep(delay)
            waited += delay
            retry += 1
            if self.counter is not None:
                self.counter.record_retry(delay)

    def _delay_for(
        self, request: httpx.Request, response: httpx.Response, retry: int
    ) -> float | None:
        status = response.status_code
        if status not in RETRY_STATUSES:
            return None
        if status != 429 and not is_idempotent(request):
            return None
        hinted = retry_after_seconds(response.headers.get("Retry-After"))
        if hinted is None:
            return self.policy.backoff(retry, self.rng)
        if hinted > self.policy.max_retry_after:
            return None
        return hinted

    def close(self) -> None:
        self.inner.close()


def transport_stack(
    inner: httpx.BaseTransport | None = None,
    *,
    counter: RequestCounter | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
) -> httpx.BaseTransport:
    """Retrying(Counting(Buffered(inner))): the transport every client is built on."""
    base = BufferedTransport(inner if inner is not None else httpx.HTTPTransport(retries=0))
    counted = CountingTransport(base, counter) if counter is not None else base
    return RetryingTransport(counted, policy=policy, counter=counter, sleep=sleep)


def build_http(
    base_url: str,
    *,
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> httpx.Client:
    """An httpx.Client over a transport stack, with the crm2cr user agent."""
    from crm2cr import __version__

    all_headers = {"User-Agent": f"crm2cr/{__version__}"}
    all_headers.update(headers or {})
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        transport=transport,
        headers=all_headers,
        timeout=httpx.Timeout(timeout, connect=10.0),
        follow_redirects=False,
    )
