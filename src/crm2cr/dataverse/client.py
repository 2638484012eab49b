"""DataverseClient: the Dataverse Web API, typed (reference §3, §4, §7, §10).

The client knows the protocol and nothing of syncing. It sends every request
through one `httpx.Client` whose transport is `Retrying(Counting(Buffered(inner)))`
(crm2cr.http)
(crm2cr.http) and whose auth is a `BearerAuth`; every error answer becomes a
typed crm2cr error through `classify`. Reads stream: listing methods yield
pages or rows, never a whole table.

Larger areas live in their own modules and hang off the client:
`client.records` (writes), `client.metadata`, `client.lists`, `client.changes`,
`client.batches`, `client.bulk`, `client.solutions`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx

from crm2cr.dataverse import prefer as pref
from crm2cr.dataverse.auth import Challenge, parse_challenge
from crm2cr.dataverse.batch import BatchWriter
from crm2cr.dataverse.bulk import BulkWriter
from crm2cr.dataverse.changes import ChangeTracking
from crm2cr.dataverse.classify import SERVICE, looks_like_html, not_a_dataverse_answer
from crm2cr.dataverse.classify import raise_for_error as _raise_for_error
from crm2cr.dataverse.lists import MarketingLists
from crm2cr.dataverse.metadata import Metadata
from crm2cr.dataverse.models import Page, Record, WhoAmI
from crm2cr.dataverse.paging import FetchXmlPager, NextLinkPager, root_entity, rows_of
from crm2cr.dataverse.query import Expand, Query, encode_params, key_segment, name
from crm2cr.dataverse.records import Records
from crm2cr.dataverse.solutions import Solutions
from crm2cr.errors import ConnectionLost, InvalidInput, ProtocolError
from crm2cr.http import (
    IDEMPOTENT,
    READ_ONLY,
    RequestCounter,
    RetryPolicy,
    Sleep,
    build_http,
    transport_stack,
)

API_PATH = "/api/data/v9.2"


@dataclass(frozen=True)
class ClientSettings:
    """Sizes and limits; the defaults follow the service's advice (§16)."""

    page_size: int = 5000
    batch_size: int = 100  # operations per $batch (max 1000)
    bulk_size: int = 1000  # targets per CreateMultiple / UpsertMultiple
    parallel: int = 3  # concurrent write requests, far below the 52 the service allows
    timeout: float = 60.0
    import_timeout: float = 1200.0  # ImportSolution may take many minutes

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= 5000:
            raise InvalidInput("The page size is 1 to 5000 rows.")
        if not 1 <= self.batch_size <= 1000:
            raise InvalidInput("A $batch holds 1 to 1000 operations.")
        if not 1 <= self.bulk_size <= 1000:
            raise InvalidInput("A bulk call holds 1 to 1000 records.")
        if not 1 <= self.parallel <= 16:
            raise InvalidInput("Parallel requests are 1 to 16.")


class _Borrowed(httpx.BaseTransport):
    """A transport the caller owns (e.g. a test's in-process one): closing leaves it open."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        return None


class DataverseClient:
    """One organisation's Web API.

    Build it with `connect`, or over your own httpx.Client whose base URL is the
    API root (`{org}/api/data/v9.2/`).
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        settings: ClientSettings | None = None,
        counter: RequestCounter | None = None,
    ) -> None:
        self.http = http
        self.settings = settings or ClientSettings()
        self.counter = counter or RequestCounter()
        self.api_url = str(http.base_url).rstrip("/")
        self.org_url = self.api_url.removesuffix(API_PATH)

    @classmethod
    def connect(
        cls,
        org_url: str,
        auth: httpx.Auth | None,
        *,
        transport: httpx.BaseTransport | None = None,
        counter: RequestCounter | None = None,
        settings: ClientSettings | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> DataverseClient:
        """A client for `org_url` (https://contoso.crm4.dynamics.com) over the transport stack.

        A given `transport` stays the caller's: closing the client leaves it open.
        """
        url = httpx.URL(org_url.strip())
        if url.scheme not in ("http", "https") or not url.host:
            raise InvalidInput(
                f"{org_url!r} is not an organisation URL.",
                hint="It looks like https://contoso.crm4.dynamics.com.",
                field="url",
            )
        counter = counter or RequestCounter()
        settings = settings or ClientSettings()
        inner = _Borrowed(transport) if transport is not None else httpx.HTTPTransport(retries=0)
        stack = transport_stack(inner, counter=counter, policy=policy, sleep=sleep)
        http = build_http(
            str(url).rstrip("/") + API_PATH + "/",
            auth=auth,
            transport=stack,
            headers=pref.STANDARD_HEADERS,
            timeout=settings.timeout,
        )
        return cls(http, settings=settings, counter=counter)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> DataverseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DataverseClient({self.org_url!r})"

    # -- the one place requests are sent -------------------------------------------------

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        prefer: Sequence[str] = (),
        idempotent: bool | None = None,
        read_only: bool = False,
        timeout: float | None = None,
        check: bool = True,
    ) -> httpx.Response:
        """Send one request; a success comes back, an error answer is raised typed.

        `check=False` returns error answers too (a stopped $batch still has parts).
        """
        all_headers = dict(headers or {})
        if prefer:
            all_headers["Prefer"] = pref.prefer(prefer)
        if body is not None:
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            all_headers.setdefault("Content-Type", pref.JSON_CONTENT)
        extensions: dict[str, Any] = {}
        if idempotent is not None:
            extensions[IDEMPOTENT] = idempotent
        if read_only:
            extensions[READ_ONLY] = True
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{encode_params(params)}"
        request = self.http.build_request(
            method,
            url,
            content=content,
            headers=all_headers,
            extensions=extensions,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        try:
            response = self.http.send(request)
        except httpx.TransportError as exc:
            raise self._connection_lost(exc, request) from None
        return _raise_for_error(response) if check else response

    def _connection_lost(self, exc: httpx.TransportError, request: httpx.Request) -> ConnectionLost:
        if isinstance(exc, httpx.ConnectError):
            detail = f"cannot connect to {self.org_url}: {exc or type(exc).__name__}"
        elif isinstance(exc, httpx.TimeoutException):
            detail = f"{self.org_url} did not answer in time"
        else:
            detail = f"the connection to {self.org_url} dropped ({type(exc).__name__})"
        error = ConnectionLost(SERVICE, detail, method=request.method, url=str(request.url))
        if isinstance(exc, httpx.ConnectError):
            error.hint = (
                "Check the organisation URL (it looks like https://contoso.crm4.dynamics.com) "
                "and the network connection."
            )
        return error

    def json(self, response: httpx.Response) -> Any:
        """The JSON body of a success; an answer that is not JSON is a ProtocolError."""
        if response.is_redirect:
            error = not_a_dataverse_answer(response)
            error.hint = (
                f"The address redirects to {response.headers.get('Location', 'another page')}; "
                "use the organisation URL itself (https://contoso.crm4.dynamics.com)."
            )
            raise error
        if looks_like_html(response):
            raise not_a_dataverse_answer(response)
        try:
            return json.loads(response.content)
        except ValueError:
            raise ProtocolError(
                SERVICE,
                response.status_code,
                "an answer that is not JSON",
                method=response.request.method,
                url=str(response.request.url),
            ) from None

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        data = self.json(response)
        if not isinstance(data, dict):
            raise ProtocolError(SERVICE, response.status_code, "a JSON answer that is no object")
        return data

    # -- reading --------------------------------------------------------------------------

    def _read_prefer(self, annotations: str | None, page_size: int | None) -> list[str]:
        values = [pref.max_page_size(page_size or self.settings.page_size)]
        if annotations:
            values.append(pref.include_annotations(annotations))
        return values

    def pages(
        self,
        entity_set: str,
        query: Query | None = None,
        *,
        annotations: str | None = None,
        page_size: int | None = None,
        path: str | None = None,
    ) -> Iterator[Page]:
        """Yield the pages of a collection read, following nextLink (§4.4).

        `path` reads a navigation collection instead (`lists({id})/listcontact_association`).
        """
        prefer = self._read_prefer(annotations, page_size)

        def fetch(url: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
            return self.json_object(self.send("GET", url, params=params, prefer=prefer))

        pager = NextLinkPager(fetch, api_url=self.api_url)
        params = (query or Query()).params()
        for body in pager.pages(path or name(entity_set), params):
            yield Page(
                rows=rows_of(body),
                next_link=body.get("@odata.nextLink"),
                count=body.get("@odata.count"),
                count_limit_exceeded=bool(
                    body.get("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded")
                ),
            )

    def rows(
        self,
        entity_set: str,
        query: Query | None = None,
        *,
        annotations: str | None = None,
        page_size: int | None = None,
        path: str | None = None,
    ) -> Iterator[Record]:
        """Yield the rows of a collection read, one page in memory at a time."""
        for page in self.pages(
            entity_set, query, annotations=annotations, page_size=page_size, path=path
        ):
            yield from page.rows

    def fetch_rows(
        self,
        fetch_xml: str,
        *,
        entity_set: str | None = None,
        annotations: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Record]:
        """Yield the rows of a FetchXML query, paging with page numbers and cookies (§5)."""
        target = entity_set or self.metadata.entity_set(root_entity(fetch_xml))
        wanted = pref.merge_annotations(pref.FETCH_PAGING, annotations)
        prefer = [pref.include_annotations(wanted or pref.FETCH_PAGING)]

        def fetch(url: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
            return self.json_object(self.send("GET", url, params=params, prefer=prefer))

        pager = FetchXmlPager(fetch, count=page_size or self.settings.page_size)
        for body in pager.pages(name(target), fetch_xml):
            yield from rows_of(body)

    def get(
        self,
        entity_set: str,
        record_id: str,
        *,
        select: Sequence[str] = (),
        expand: Sequence[Expand] = (),
        annotations: str | None = None,
    ) -> Record:
        """One record; a missing one raises NotFoundError (404 0x80040217)."""
        params = Query(select=select, expand=expand).params()
        prefer = [pref.include_annotations(annotations)] if annotations else []
        response = self.send(
            "GET", key_segment(entity_set, record_id), params=params, prefer=prefer
        )
        return self.json_object(response)

    def get_if_changed(
        self, entity_set: str, record_id: str, etag: str, *, select: Sequence[str] = ()
    ) -> Record | None:
        """The record when its etag differs from `etag`; None when unchanged (304, §4.4)."""
        response = self.send(
            "GET",
            key_segment(entity_set, record_id),
            params=Query(select=select).params(),
            headers={"If-None-Match": etag},
        )
        if response.status_code == 304:
            return None
        return self.json_object(response)

    def count(self, entity_set: str) -> int:
        """`GET /{set}/$count`: a plain-text number, capped at 5000 like `@odata.count` (§4.4).

        Navigation counts may start with a BOM.
        """
        response = self.send("GET", f"{name(entity_set)}/$count")
        text = response.content.decode("utf-8-sig").strip()
        if not text.isdigit():
            raise ProtocolError(SERVICE, response.status_code, f"$count answered {text[:40]!r}")
        return int(text)

    # -- functions and actions (§10) ------------------------------------------------------

    def call_function(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self.json_object(self.send("GET", path, params=params))

    def call_action(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        idempotent: bool | None = None,
        read_only: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any] | None:
        """POST an action; its JSON answer, or None for 204."""
        response = self.send(
            "POST",
            path,
            body=dict(body),
            idempotent=idempotent,
            read_only=read_only,
            timeout=timeout,
        )
        if response.status_code == 204 or not response.content:
            return None
        return self.json_object(response)

    def who_am_i(self) -> WhoAmI:
        data = self.call_function("WhoAmI")
        try:
            return WhoAmI(
                user_id=str(data["UserId"]).lower(),
                business_unit_id=str(data["BusinessUnitId"]).lower(),
                organization_id=str(data["OrganizationId"]).lower(),
            )
        except KeyError as missing:
            raise ProtocolError(SERVICE, 200, f"WhoAmI answered without {missing}") from None

    def sign_in_challenge(self) -> Challenge:
        """Where this organisation signs in: an unauthenticated GET of the API root (§2.2, §16)."""
        request = self.http.build_request("GET", self.api_url + "/")
        try:
            response = self.http.send(request, auth=None)
        except httpx.TransportError as exc:
            raise self._connection_lost(exc, request) from None
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if response.status_code != 401 or challenge is None:
            if looks_like_html(response):
                raise not_a_dataverse_answer(response)
            raise ProtocolError(
                SERVICE,
                response.status_code,
                "no sign-in challenge (WWW-Authenticate) from the organisation",
                method="GET",
                url=str(request.url),
            )
        return challenge

    def retrieve_version(self) -> str:
        version = self.call_function("RetrieveVersion").get("Version")
        if not isinstance(version, str):
            raise ProtocolError(SERVICE, 200, "RetrieveVersion answered without a Version")
        return version

    # -- the larger areas -----------------------------------------------------------------

    @cached_property
    def records(self) -> Records:
        return Records(self)

    @cached_property
    def metadata(self) -> Metadata:
        return Metadata(self)

    @cached_property
    def lists(self) -> MarketingLists:
        return MarketingLists(self)

    @cached_property
    def changes(self) -> ChangeTracking:
        return ChangeTracking(self)

    @cached_property
    def batches(self) -> BatchWriter:
        return BatchWriter(self)

    @cached_property
    def bulk(self) -> BulkWriter:
        return BulkWriter(self)

    @cached_property
    def solutions(self) -> Solutions:
        return Solutions(self)
