"""The multipart/mixed codec of `$batch` (reference §9): requests in, responses out.

Parsing is lenient where real clients differ (CRLF or bare LF line ends, quoted
or bare boundaries, Content-ID on the MIME part or on the inner request) and
strict where the service is (a missing boundary, a missing close delimiter, a
part that is not `application/http`, a change set inside a change set).
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus

from crm2cr.emulators.dataverse.errors import bad_request

CRLF = b"\r\n"
MAX_BOUNDARY = 70  # RFC 2046 §5.1.1


@dataclass(frozen=True)
class BatchRequest:
    """One HTTP request inside a batch (top level or in a change set)."""

    method: str
    target: str  # as written: absolute, /api/data/v9.2/…, relative, or $n…
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """An atomic group of requests (a nested multipart/mixed part)."""

    requests: tuple[BatchRequest, ...]


BatchItem = BatchRequest | ChangeSet


@dataclass(frozen=True)
class ResponsePart:
    """One HTTP response to put into the batch answer."""

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSetResponse:
    parts: tuple[ResponsePart, ...]


ResponseItem = ResponsePart | ChangeSetResponse


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def content_type_boundary(content_type: str) -> str:
    """The boundary of a multipart/mixed Content-Type, quoted or bare."""
    message = Message()
    message["content-type"] = content_type
    if message.get_content_type() != "multipart/mixed":
        raise bad_request(f"Content-Type '{content_type}' is not multipart/mixed.")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise bad_request("The multipart Content-Type has no boundary.")
    if len(boundary) > MAX_BOUNDARY:
        raise bad_request("The multipart boundary is longer than 70 characters.")
    return boundary


def parse_batch(content_type: str, body: bytes) -> list[BatchItem]:
    """The requests and change sets of a `$batch` body, in order."""
    items: list[BatchItem] = []
    for part in _split(body, content_type_boundary(content_type)):
        part_type = part.headers.get("content-type", "")
        if part_type.lower().startswith("multipart/"):
            items.append(_parse_changeset(part, part_type))
        else:
            items.append(_parse_request_part(part))
    return items


def _parse_changeset(part: _Part, part_type: str) -> ChangeSet:
    requests: list[BatchRequest] = []
    for inner in _split(part.body, content_type_boundary(part_type)):
        if inner.headers.get("content-type", "").lower().startswith("multipart/"):
            raise bad_request("Change sets cannot be nested.")
        requests.append(_parse_request_part(inner))
    return ChangeSet(tuple(requests))


def _split(body: bytes, boundary: str) -> list[_Part]:
    """The parts between the delimiters of one multipart level (RFC 2046 §5.1.1)."""
    # The line end before a delimiter belongs to the delimiter, so a part's
    # content ends exactly where its payload does.
    delimiter = re.compile(
        rb"(?:\A|\r?\n)--" + re.escape(boundary.encode("latin-1")) + rb"(--)?[ \t]*(?=\r?\n|\Z)"
    )
    matches = list(delimiter.finditer(body))
    if not matches:
        raise bad_request(f"The boundary '{boundary}' was not found in the body.")
    closing = next((i for i, m in enumerate(matches) if m.group(1)), None)
    if closing is None:
        raise bad_request(f"The close delimiter '--{boundary}--' is missing.")
    parts: list[_Part] = []
    for start, end in itertools.pairwise(matches[: closing + 1]):
        parts.append(_parse_mime_part(body[_skip_line_end(body, start.end()) : end.start()]))
    return parts


def _skip_line_end(body: bytes, at: int) -> int:
    if body.startswith(CRLF, at):
        return at + 2
    if body.startswith(b"\n", at):
        return at + 1
    return at


def _split_head(data: bytes) -> tuple[list[str], bytes]:
    """Header lines and the rest, split at the first empty line (CRLF or LF)."""
    lines: list[str] = []
    at = 0
    while at < len(data):
        end = data.find(b"\n", at)
        if end < 0:
            line, at = data[at:], len(data)
        else:
            line, at = data[at:end], end + 1
        line = line.rstrip(b"\r")
        if not line:
            return lines, data[at:]
        lines.append(line.decode("utf-8", errors="replace"))
    return lines, b""


def _parse_headers(lines: Iterable[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for line in lines:
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise bad_request(f"Invalid header line '{line}'.")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers


def _parse_mime_part(data: bytes) -> _Part:
    lines, rest = _split_head(data)
    return _Part(_parse_headers(lines), rest)


def _parse_request_part(part: _Part) -> BatchRequest:
    part_type = part.headers.get("content-type", "").split(";")[0].strip().lower()
    if part_type != "application/http":
        raise bad_request(
            f"A batch part must have Content-Type application/http, not '{part_type}'."
        )
    encoding = part.headers.get("content-transfer-encoding", "binary").lower()
    if encoding not in ("binary", "8bit", "7bit"):
        raise bad_request(f"Content-Transfer-Encoding '{encoding}' is not supported.")
    lines, body = _split_head(part.body.lstrip(b"\r\n"))
    if not lines:
        raise bad_request("A batch part has no request line.")
    method, target, version = _request_line(lines[0])
    if not version.startswith("HTTP/"):
        raise bad_request(f"Invalid request line '{lines[0]}'.")
    headers = _parse_headers(lines[1:])
    content_id = part.headers.get("content-id") or headers.get("content-id")
    return BatchRequest(method, target, headers, _trim_body(body), content_id)


def _request_line(line: str) -> tuple[str, str, str]:
    pieces = line.split()
    if len(pieces) == 2:
        return pieces[0].upper(), pieces[1], "HTTP/1.1"
    if len(pieces) != 3:
        raise bad_request(f"Invalid request line '{line}'.")
    return pieces[0].upper(), pieces[1], pieces[2]


def _trim_body(body: bytes) -> bytes:
    # Clients end a part's body with a line break of their own before the
    # delimiter's; it is framing, not content (JSON bodies never need it).
    return body.rstrip(b"\r\n")


def parse_batch_response(content_type: str, body: bytes) -> list[ResponseItem]:
    """The parts of a `$batch` answer, in order (for tests and tools)."""
    items: list[ResponseItem] = []
    for part in _split(body, content_type_boundary(content_type)):
        part_type = part.headers.get("content-type", "")
        if part_type.lower().startswith("multipart/"):
            inner = _split(part.body, content_type_boundary(part_type))
            items.append(ChangeSetResponse(tuple(_parse_response_part(p) for p in inner)))
        else:
            items.append(_parse_response_part(part))
    return items


def _parse_response_part(part: _Part) -> ResponsePart:
    lines, body = _split_head(part.body.lstrip(b"\r\n"))
    if not lines:
        raise bad_request("A response part has no status line.")
    pieces = lines[0].split(maxsplit=2)
    if len(pieces) < 2 or not pieces[0].startswith("HTTP/") or not pieces[1].isdigit():
        raise bad_request(f"Invalid status line '{lines[0]}'.")
    headers = _parse_headers(lines[1:])
    content_id = part.headers.get("content-id") or headers.get("content-id")
    return ResponsePart(int(pieces[1]), tuple(headers.items()), _trim_body(body), content_id)


def new_boundary(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def encode_batch_response(items: Iterable[ResponseItem]) -> tuple[str, bytes]:
    """(Content-Type, body) of a `$batch` answer: batchresponse_/changesetresponse_ parts."""
    boundary = new_boundary("batchresponse")
    out = bytearray()
    for item in items:
        out += b"--" + boundary.encode() + CRLF
        if isinstance(item, ChangeSetResponse):
            inner = new_boundary("changesetresponse")
            out += f"Content-Type: multipart/mixed; boundary={inner}".encode() + CRLF + CRLF
            for part in item.parts:
                out += b"--" + inner.encode() + CRLF
                out += _encode_part(part)
            out += b"--" + inner.encode() + b"--" + CRLF
        else:
            out += _encode_part(item)
    out += b"--" + boundary.encode() + b"--" + CRLF
    return f"multipart/mixed; boundary={boundary}", bytes(out)


def _encode_part(part: ResponsePart) -> bytes:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if part.content_id is not None:
        head.append(f"Content-ID: {part.content_id}")
    lines = [*head, "", f"HTTP/1.1 {part.status} {_reason(part.status)}"]
    lines.extend(f"{name}: {value}" for name, value in part.headers)
    text = "\r\n".join(lines).encode() + CRLF + CRLF
    return text + part.body + CRLF


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def encode_batch_request(
    items: Iterable[BatchItem], boundary: str | None = None
) -> tuple[str, bytes]:
    """(Content-Type, body) of a `$batch` request; the tests' and tools' writer."""
    outer = boundary or new_boundary("batch")
    out = bytearray()
    for item in items:
        out += b"--" + outer.encode() + CRLF
        if isinstance(item, ChangeSet):
            inner = new_boundary("changeset")
            out += f"Content-Type: multipart/mixed; boundary={inner}".encode() + CRLF + CRLF
            for request in item.requests:
                out += b"--" + inner.encode() + CRLF + _encode_request(request)
            out += b"--" + inner.encode() + b"--" + CRLF
        else:
            out += _encode_request(item)
    out += b"--" + outer.encode() + b"--" + CRLF
    return f'multipart/mixed; boundary="{outer}"', bytes(out)


def _encode_request(request: BatchRequest) -> bytes:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if request.content_id is not None:
        head.append(f"Content-ID: {request.content_id}")
    lines = [*head, "", f"{request.method} {request.target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in request.headers.items())
    return "\r\n".join(lines).encode() + CRLF + CRLF + request.body + CRLF
