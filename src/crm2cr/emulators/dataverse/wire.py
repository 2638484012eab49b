"""What a request and an answer of the emulated Web API look like inside the emulator.

`DataverseEmulator.dispatch` parses a request into `Request` (the resource
path as `Segment`s, query options, `Prefer`) and handlers answer with an
`InternalResponse`. Both are plain data, so `$batch` can run parts through
the same code as single requests.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from crm2cr.emulators.dataverse.errors import JSON_TYPE, ODataError, bad_request, unreadable_body

ODATA_VERSION = {"OData-Version": "4.0"}
MAX_PAGE_SIZE = 5000
API_VERSIONS = ("v9.0", "v9.1", "v9.2")


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: a system user (application users are system users too)."""

    systemuserid: str
    businessunitid: str


@dataclass
class InternalResponse:
    """One answer: status, headers (proper-case names) and body bytes.

    `read_only` marks a POST that changed nothing (a query action, a batch of
    GETs) so the request journal does not count it as a write.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    read_only: bool = False

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> InternalResponse:
    return InternalResponse(
        status,
        {**ODATA_VERSION, "Content-Type": JSON_TYPE, **(headers or {})},
        json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
    )


def no_content(headers: dict[str, str] | None = None) -> InternalResponse:
    return InternalResponse(204, {**ODATA_VERSION, **(headers or {})})


def error_response(error: ODataError) -> InternalResponse:
    return InternalResponse(
        error.status,
        {**ODATA_VERSION, "Content-Type": "application/json; charset=utf-8", **error.headers},
        error.body(),
    )


@dataclass(frozen=True)
class Segment:
    """One path segment: `contacts`, `contacts(<guid>)`, `Attributes(LogicalName='x')`."""

    name: str
    key: str | None = None

    def __str__(self) -> str:
        return self.name if self.key is None else f"{self.name}({self.key})"


_SEGMENT = re.compile(r"^(?P<name>[^()]*)(?:\((?P<key>.*)\))?$", re.S)


def parse_segments(raw_path: str) -> list[Segment]:
    """Split a raw (still %-encoded) resource path; quotes in keys may hold '/' only encoded."""
    segments: list[Segment] = []
    for part in raw_path.split("/"):
        if not part:
            continue
        match = _SEGMENT.match(part)
        if match is None:
            raise bad_request(f"Bad Request - Error in query syntax: '{unquote(part)}'.")
        key = match.group("key")
        segments.append(
            Segment(unquote(match.group("name")), unquote(key) if key is not None else None)
        )
    return segments


def parse_query(query: str) -> dict[str, str]:
    """Query options; the first occurrence wins.

    `+` is a space, as the service's query-string decoding reads it: clients that
    form-encode `$filter=statecode eq 0` send `statecode+eq+0`, and a literal
    plus must be sent as %2B (reference §4.1).
    """
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        options.setdefault(name, value)
    return options


def split_outside_quotes(text: str, sep: str = ",") -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return [p for p in parts if p]


@dataclass
class Prefer:
    """The `Prefer` header (reference §3); several values, comma-separated or repeated."""

    return_representation: bool = False
    maxpagesize: int | None = None
    annotations: tuple[str, ...] = ()
    track_changes: bool = False
    continue_on_error: bool = False
    raw: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, header: str) -> Prefer:
        prefer = cls()
        for item in split_outside_quotes(header):
            name, _, value = item.partition("=")
            name, value = name.strip().lower(), value.strip()
            prefer.raw[name] = value
            if name == "return" and value == "representation":
                prefer.return_representation = True
            elif name == "odata.maxpagesize":
                try:
                    prefer.maxpagesize = int(value.strip('"'))
                except ValueError:
                    prefer.maxpagesize = None
            elif name == "odata.include-annotations":
                prefer.annotations = tuple(
                    p.strip() for p in value.strip('"').split(",") if p.strip()
                )
            elif name == "odata.track-changes":
                prefer.track_changes = True
            elif name == "odata.continue-on-error":
                prefer.continue_on_error = True
        return prefer

    def page_size(self) -> int:
        """maxpagesize, capped at 5000; absent or bad → 5000 (§17.12)."""
        if self.maxpagesize is None or self.maxpagesize <= 0:
            return MAX_PAGE_SIZE
        return min(self.maxpagesize, MAX_PAGE_SIZE)

    def wants(self, annotation: str) -> bool:
        """Whether `annotation` (e.g. OData.Community.Display.V1.FormattedValue) was asked for."""
        wanted = False
        for pattern in self.annotations:
            if pattern.startswith("-"):
                if fnmatch.fnmatchcase(annotation, pattern[1:]):
                    return False
            elif fnmatch.fnmatchcase(annotation, pattern):
                wanted = True
        return wanted

    def applied(self, *, page_size: bool = False, annotations: bool = True) -> str:
        """The Preference-Applied value for what this request honoured."""
        parts: list[str] = []
        if annotations and self.annotations:
            parts.append(f'odata.include-annotations="{",".join(self.annotations)}"')
        if page_size and self.maxpagesize is not None:
            parts.append(f"odata.maxpagesize={self.page_size()}")
        return ",".join(parts)


@dataclass
class Request:
    """A parsed request below the API root (`/api/data/v9.2/`)."""

    method: str
    segments: list[Segment]
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    caller: Caller
    api_root: str  # absolute, e.g. http://127.0.0.1:8701/api/data/v9.2
    path: str  # the resource path as sent, below the API root
    prefer: Prefer

    @property
    def url(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.api_root}/{self.path}" + (f"?{query}" if query else "")

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def json_body(self) -> Any:
        """The body as JSON; empty body → {}; not JSON → 400 0x80048d19."""
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise unreadable_body(str(exc)) from exc

    def json_object(self) -> dict[str, Any]:
        data = self.json_body()
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        return data
