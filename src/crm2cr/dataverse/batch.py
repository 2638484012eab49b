"""`$batch`: many operations in one request, with per-operation results (reference §9).

`encode_batch` writes the multipart body (CRLF line ends, change sets as
nested multiparts with Content-IDs); `decode_batch` reads the answer back into
one `PartAnswer` per operation, in order. `BatchWriter` sends a long list of
operations in chunks (≤ 1000, default 100), a few chunks at a time, with
`odata.continue-on-error` so that one bad record does not stop the others,
and returns an `Outcome` saying which operations succeeded and, for the
others, the service's own error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from crm2cr.dataverse import prefer as pref
from crm2cr.dataverse.classify import SERVICE, classify
from crm2cr.dataverse.models import OperationResult, Outcome, entity_id_from
from crm2cr.dataverse.query import Query, encode_params
from crm2cr.errors import ApiError, InvalidInput, ProtocolError

if TYPE_CHECKING:
    from crm2cr.dataverse.client import DataverseClient

CRLF = "\r\n"
MAX_OPERATIONS = 1000


@dataclass(frozen=True)
class Operation:
    """One request inside a batch; `url` is relative to the API root (`contacts(…)`)."""

    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    repeatable: bool = False  # a POST whose repeat changes nothing (e.g. AddMemberList)

    @property
    def idempotent(self) -> bool:
        return self.repeatable or self.method in ("GET", "PATCH", "PUT", "DELETE")

    @classmethod
    def read(cls, path: str, query: Query) -> Operation:
        """A GET of `path` with the query's options, percent-encoded for the request line."""
        params = query.params()
        return cls("GET", f"{path}?{encode_params(params)}" if params else path)


@dataclass(frozen=True)
class ChangeSet:
    """Operations that succeed or fail together; no GETs (§9).

    Their Content-IDs are 1, 2, … in the order of the whole batch, so a later
    operation refers to the first one of the batch's first change set as `$1`.
    """

    operations: Sequence[Operation]

    def __post_init__(self) -> None:
        if any(op.method == "GET" for op in self.operations):
            raise InvalidInput("A change set cannot contain a GET.")
        if not self.operations:
            raise InvalidInput("A change set needs at least one operation.")


Item = Operation | ChangeSet


@dataclass(frozen=True)
class PartAnswer:
    """One operation's answer inside a batch answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    content_id: str | None = None


def _operation_lines(op: Operation, api_path: str, content_id: int | None) -> list[str]:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    target = op.url if op.url.startswith(("$", "/", "http")) else f"{api_path}/{op.url}"
    lines += ["", f"{op.method} {target} HTTP/1.1"]
    headers = dict(op.headers)
    if op.body is not None:
        headers.setdefault("Content-Type", "application/json; type=entry")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("")
    lines.append("" if op.body is None else json.dumps(op.body, ensure_ascii=False))
    return lines


def encode_batch(items: Sequence[Item], *, api_path: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a $batch request; CRLF line ends throughout."""
    count = sum(len(i.operations) if isinstance(i, ChangeSet) else 1 for i in items)
    if not 1 <= count <= MAX_OPERATIONS:
        raise InvalidInput(f"A $batch holds 1 to {MAX_OPERATIONS} operations, not {count}.")
    boundary = f"batch_{uuid.uuid4()}"
    lines: list[str] = []
    content_id = 0
    for item in items:
        lines.append(f"--{boundary}")
        if isinstance(item, Operation):
            lines += _operation_lines(item, api_path, None)
            continue
        inner = f"changeset_{uuid.uuid4()}"
        lines += [f'Content-Type: multipart/mixed; boundary="{inner}"', ""]
        for op in item.operations:
            content_id += 1
            lines.append(f"--{inner}")
            lines += _operation_lines(op, api_path, content_id)
        lines.append(f"--{inner}--")
    lines.append(f"--{boundary}--")
    lines.append("")
    return f'multipart/mixed; boundary="{boundary}"', CRLF.join(lines).encode("utf-8")


def boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"')
    raise ProtocolError(SERVICE, 200, f"a multipart answer without a boundary ({content_type})")


def _split_parts(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode("ascii")
    chunks = body.split(delimiter)
    if len(chunks) < 2:
        raise ProtocolError(SERVICE, 200, "a batch answer without its boundary")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        parts.append(chunk.removeprefix(b"\r\n").removeprefix(b"\n"))
    return parts


def _split_head(data: bytes) -> tuple[dict[str, str], bytes]:
    """Headers (lower-case names) and the rest, after the first empty line (CRLF or LF)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = data.partition(separator)
        if found and (separator == b"\n\n" or b"\n\n" not in head):
            break
    else:
        head, rest = data, b""
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return headers, rest


def _strip_trailing_newline(data: bytes) -> bytes:
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data.removesuffix(b"\n")


def _http_answer(part: bytes, content_id: str | None) -> PartAnswer:
    _, rest = _split_head(part)  # the MIME headers of the part
    status_line, _, after = rest.lstrip(b"\r\n").partition(b"\n")
    words = status_line.decode("ascii", "replace").split()
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
        raise ProtocolError(SERVICE, 200, f"a batch part without a status line: {words[:3]}")
    headers, body = _split_head(after)
    return PartAnswer(int(words[1]), headers, _strip_trailing_newline(body), content_id)


def decode_batch(content_type: str, body: bytes) -> list[list[PartAnswer]]:
    """The answers of a batch, one group per top-level part, in order.

    A change set that ran answers as a nested multipart (one answer per
    operation); a failed one may answer with its failing part alone (§9).
    """
    groups: list[list[PartAnswer]] = []
    for part in _split_parts(body, boundary_of(content_type)):
        headers, rest = _split_head(part)
        kind = headers.get("content-type", "").lower()
        if kind.startswith("multipart/mixed"):
            group = []
            for inner in _split_parts(rest, boundary_of(headers["content-type"])):
                inner_headers, _ = _split_head(inner)
                group.append(_http_answer(inner, inner_headers.get("content-id")))
            groups.append(group)
        elif kind.startswith("application/http"):
            groups.append([_http_answer(part, headers.get("content-id"))])
    return groups


def part_response(answer: PartAnswer, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        answer.status, headers=dict(answer.headers), content=answer.body, request=request
    )


def _result(index: int, answer: PartAnswer | None, request: httpx.Request) -> OperationResult:
    if answer is None:
        return OperationResult(
            index,
            0,
            error=ApiError(SERVICE, 0, "not run: an earlier operation of the batch failed"),
        )
    response = part_response(answer, request)
    body: Any = None
    if answer.body.strip():
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = answer.body.decode("utf-8", "replace")
    return OperationResult(
        index,
        answer.status,
        entity_id=entity_id_from(response.headers),
        body=body,
        error=classify(response),
        headers=answer.headers,
    )


def _operations(item: Item) -> Sequence[Operation]:
    return item.operations if isinstance(item, ChangeSet) else [item]


def _align(item: Item, group: list[PartAnswer]) -> list[PartAnswer | None]:
    """One answer (or None: not run) per operation of the item."""
    size = len(_operations(item))
    if len(group) == size:
        return list(group)
    failed = [a for a in group if a.status >= 400]
    if isinstance(item, ChangeSet) and failed:
        return [failed[0]] * size  # the change set rolled back as a whole
    if not group:
        return [None] * size
    raise ProtocolError(
        SERVICE, 200, f"a batch answer with {len(group)} parts for {size} operations"
    )


def chunked(items: Sequence[Operation], size: int) -> Iterator[Sequence[Operation]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BatchWriter:
    """Sends operations in $batch chunks, a few in parallel, and reports each operation."""

    def __init__(self, client: DataverseClient) -> None:
        self.client = client
        self.api_path = httpx.URL(client.api_url).path.rstrip("/")

    def send(
        self, items: Sequence[Item], *, continue_on_error: bool = True
    ) -> list[OperationResult]:
        """One $batch request; one result per operation (change sets flattened), in order."""
        content_type, body = encode_batch(items, api_path=self.api_path)
        operations = [op for item in items for op in _operations(item)]
        response = self.client.send(
            "POST",
            "$batch",
            content=body,
            headers={"Content-Type": content_type},
            prefer=[pref.CONTINUE_ON_ERROR] if continue_on_error else [],
            idempotent=all(op.idempotent for op in operations),
            read_only=all(op.method == "GET" for op in operations),
            check=False,  # a batch stopped by an error still answers in multipart (§9)
        )
        content_type = response.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/"):
            error = classify(response)
            if error is not None:
                raise error
            raise ProtocolError(SERVICE, response.status_code, "a $batch answer not in multipart")
        groups = decode_batch(content_type, response.content)
        answers: list[PartAnswer | None] = []
        for position, item in enumerate(items):
            group = groups[position] if position < len(groups) else []
            answers += _align(item, group)
        return [_result(i, answer, response.request) for i, answer in enumerate(answers)]

    def run(
        self,
        operations: Iterable[Operation],
        *,
        chunk_size: int | None = None,
        parallel: int | None = None,
        continue_on_error: bool = True,
    ) -> Outcome:
        """Every operation, in chunks of `chunk_size`, `parallel` chunks at a time.

        A chunk the service refused as a whole (e.g. 429 after all retries, or
        a dropped connection) marks each of its operations with that error, so
        the caller still learns what the other chunks did.
        """
        ops = list(operations)
        size = chunk_size or self.client.settings.batch_size
        if not 1 <= size <= MAX_OPERATIONS:
            raise InvalidInput(f"A $batch holds 1 to {MAX_OPERATIONS} operations.")
        chunks = list(chunked(ops, size))
        workers = max(1, min(parallel or self.client.settings.parallel, len(chunks) or 1))

        def one(chunk: Sequence[Operation]) -> list[OperationResult]:
            try:
                return self.send(list(chunk), continue_on_error=continue_on_error)
            except ApiError as error:
                return [OperationResult(i, error.status, error=error) for i in range(len(chunk))]

        results: list[OperationResult] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dv-batch") as pool:
            for start, chunk_results in zip(
                range(0, len(ops), size), pool.map(one, chunks), strict=True
            ):
                results += [
                    OperationResult(
                        start + r.index, r.status, r.entity_id, r.body, r.error, r.headers
                    )
                    for r in chunk_results
                ]
        return Outcome(results)

    def read(self, urls: Sequence[str]) -> list[OperationResult]:
        """GETs too long for a URL (up to 64 KB inside a batch, §4.1), as one read-only batch.

        URLs are relative to the API root and already encoded (see `Operation.read`).
        """
        return self.send([Operation("GET", url) for url in urls])
