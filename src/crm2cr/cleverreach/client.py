"""CleverReachClient: the REST API v3 as typed calls, one attribute per resource.

The client knows the protocol (auth, paging, batching, retries, errors) and
nothing of syncing. It runs over an injected transport stack,
Retrying(Counting(inner)), so tests and the demo swap the inner transport
and keep everything else:

    with open_client(base_url, credentials=ClientCredentials(id, secret)) as cr:
        group = cr.groups.create("Newsletter")
        outcome = cr.receivers.upsert(group.id, [ReceiverData("anna@example.org")])
        for receiver in cr.receivers.stream(group.id, type="active"):
            ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

import httpx

from crm2cr.cleverreach.api import Api, one
from crm2cr.cleverreach.attributes import Attributes
from crm2cr.cleverreach.auth import (
    DEFAULT_URL,
    Bearer,
    ClientCredentials,
    OAuthTokens,
    StaticToken,
    TokenEndpoint,
    TokenSource,
    TokenStore,
)
from crm2cr.cleverreach.batches import DEFAULT_BATCH_SIZE, BatchSize
from crm2cr.cleverreach.blacklist import Blacklist
from crm2cr.cleverreach.forms import Forms
from crm2cr.cleverreach.groups import Groups
from crm2cr.cleverreach.mailings import Mailings
from crm2cr.cleverreach.models import Account, TokenTtl
from crm2cr.cleverreach.paging import MAX_PAGE_SIZE, PageNumber
from crm2cr.cleverreach.receivers import Receivers
from crm2cr.cleverreach.webhooks import Webhooks
from crm2cr.http import RequestCounter, RetryPolicy, Sleep, build_http, transport_stack

# §14 Retries: 0.5 s, doubling, at most 30 s apart, 5 tries in all.
RETRY_POLICY = RetryPolicy(attempts=5, base_delay=0.5, factor=2.0, max_delay=30.0)


class CleverReachClient:
    """Typed calls on one CleverReach account."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        page_size: int = MAX_PAGE_SIZE,
        editor_template: str | None = None,
        now: Callable[[], float] = time.time,
        counter: RequestCounter | None = None,
        also_close: tuple[httpx.Client, ...] = (),
    ) -> None:
        self.http = http
        self.api = Api(http, now=now)
        self.counter = counter or RequestCounter()
        self.batch_size = BatchSize(batch_size)
        self.pages = PageNumber(size=page_size)
        self.pages.checked_size(page_size)
        self._also_close = also_close
        self._account: Account | None = None
        self._lock = threading.Lock()
        self.groups = Groups(self.api)
        self.receivers = Receivers(self.api, pages=self.pages, batch_size=self.batch_size)
        self.attributes = Attributes(self.api)
        self.blacklist = Blacklist(self.api)
        self.mailings = Mailings(self.api, account=self.account, editor_template=editor_template)
        self.forms = Forms(self.api)
        self.webhooks = Webhooks(self.api)

    def __repr__(self) -> str:
        return f"CleverReachClient({self.api.base_url!r})"

    @property
    def base_url(self) -> str:
        return self.api.base_url

    def whoami(self) -> Account:
        """The signed-in account (`GET /v3/debug/whoami`, §12); `id` is the customer number."""
        account = self.api.get("v3/debug/whoami", one(Account))
        with self._lock:
            self._account = account
        return account

    def account(self) -> Account:
        """whoami, asked once per client."""
        with self._lock:
            cached = self._account
        return cached if cached is not None else self.whoami()

    def ttl(self) -> TokenTtl:
        """Seconds the token has left (`GET /v3/debug/ttl`, §3.5)."""
        return self.api.get("v3/debug/ttl", one(TokenTtl))

    def close(self) -> None:
        self.http.close()
        for other in self._also_close:
            other.close()

    def __enter__(self) -> CleverReachClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Borrowed(httpx.BaseTransport):
    """A transport the caller owns: closing the client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)


def open_client(
    base_url: str = DEFAULT_URL,
    *,
    token: str | None = None,
    credentials: ClientCredentials | None = None,
    tokens: TokenSource | None = None,
    store: TokenStore | None = None,
    transport: httpx.BaseTransport | None = None,
    counter: RequestCounter | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    now: Callable[[], float] = time.time,
    batch_size: int = DEFAULT_BATCH_SIZE,
    page_size: int = MAX_PAGE_SIZE,
    editor_template: str | None = None,
    timeout: float = 60.0,
) -> CleverReachClient:
    """A client over the standard transport stack.

    Sign-in, first match wins: `tokens` (any TokenSource), a static `token`,
    `credentials` (client credentials grant), else what the token store holds
    (a saved token, renewed with its refresh token or saved credentials).
    A given `transport` stays the caller's: closing the client leaves it open.
    """
    counter = counter or RequestCounter()
    inner = _Borrowed(transport) if transport is not None else httpx.HTTPTransport(retries=0)
    stack = transport_stack(inner, counter=counter, policy=policy or RETRY_POLICY, sleep=sleep)
    extra: tuple[httpx.Client, ...] = ()
    if tokens is None:
        if token is not None:
            tokens = StaticToken(token)
        else:
            store = store or TokenStore(base_url)
            token_http = build_http(base_url, transport=stack, timeout=timeout)
            extra = (token_http,)
            tokens = OAuthTokens(
                TokenEndpoint(token_http, now=now),
                credentials=credentials or store.load_credentials(),
                store=store,
                now=now,
            )
    http = build_http(base_url, auth=Bearer(tokens), transport=stack, timeout=timeout)
    return CleverReachClient(
        http,
        batch_size=batch_size,
        page_size=page_size,
        editor_template=editor_template,
        now=now,
        counter=counter,
        also_close=extra,
    )
