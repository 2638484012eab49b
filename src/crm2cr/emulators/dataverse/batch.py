"""`POST /$batch` (reference §9, §17.4): parts run in order through `dispatch`.

A part is answered exactly as the same request alone would be, because it
goes through `DataverseEmulator.dispatch`; this module adds only what a batch
means: change sets run in one store transaction (SAVEPOINT) and roll back
together, `$n` Content-ID references resolve to the entity URLs of earlier
parts, the first failure stops the batch unless `Prefer:
odata.continue-on-error`, and the answer is multipart with `batchresponse_` /
`changesetresponse_` boundaries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import ODataError, bad_request
from crm2cr.emulators.dataverse.multipart import (
    BatchItem,
    BatchRequest,
    ChangeSet,
    ChangeSetResponse,
    ResponseItem,
    ResponsePart,
    encode_batch_response,
    parse_batch,
)
from crm2cr.emulators.dataverse.wire import (
    ODATA_VERSION,
    Caller,
    InternalResponse,
    Prefer,
    error_response,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

MAX_REQUESTS = 1000
STREAMING_JSON = "application/json; odata.metadata=minimal; odata.streaming=true"
# Batch-level headers every part inherits; the rest (Prefer, Content-Type) are per part.
INHERITED_HEADERS = frozenset(
    {
        "accept",
        "odata-maxversion",
        "odata-version",
        "callerobjectid",
        "consistency",
        "mscrm.suppressduplicatedetection",
        "mscrm.bypasscustompluginexecution",
        "mscrm.solutionuniquename",
    }
)
BIND_SUFFIX = "@odata.bind"


def handle_batch(
    emu: DataverseEmulator,
    *,
    content_type: str,
    body: bytes,
    headers: Mapping[str, str],
    caller: Caller,
) -> InternalResponse:
    """Run a `$batch` body; a malformed batch is one 400 with the service's error body."""
    items = parse_batch(content_type, body)
    _check_structure(items)
    prefer = Prefer.parse(headers.get("prefer", ""))
    run = _BatchRun(emu, caller, {k: v for k, v in headers.items() if k in INHERITED_HEADERS})
    answers: list[ResponseItem] = []
    stopped_with = 0
    for item in items:
        answer, failed = run.changeset(item) if isinstance(item, ChangeSet) else run.single(item)
        answers.append(answer)
        if failed and not prefer.continue_on_error:
            stopped_with = failed
            break
    out_type, out = encode_batch_response(answers)
    response_headers = {**ODATA_VERSION, "Content-Type": out_type}
    if prefer.continue_on_error:
        response_headers["Preference-Applied"] = "odata.continue-on-error"
    read_only = all(
        request.method == "GET"
        for item in items
        for request in (item.requests if isinstance(item, ChangeSet) else (item,))
    )
    return InternalResponse(stopped_with or 200, response_headers, out, read_only=read_only)


def _check_structure(items: list[BatchItem]) -> None:
    """What makes the whole batch a 400 before any part runs."""
    total = 0
    seen_ids: set[str] = set()
    for item in items:
        requests = item.requests if isinstance(item, ChangeSet) else (item,)
        total += len(requests)
        for request in requests:
            if isinstance(item, ChangeSet) and request.method == "GET":
                raise bad_request(
                    f"A change set cannot contain a GET request ('GET {request.target}')."
                )
            if _path_of(request.target).rstrip("/").endswith("$batch"):
                raise bad_request("A batch request cannot contain another batch request.")
            if request.content_id is not None:
                if request.content_id in seen_ids:
                    raise bad_request(
                        f"The Content-ID '{request.content_id}' is used more than once in the "
                        "batch; Content-IDs must be unique."
                    )
                seen_ids.add(request.content_id)
    if total > MAX_REQUESTS:
        raise bad_request(
            f"The batch contains {total} requests; the maximum is {MAX_REQUESTS} per batch."
        )


def _path_of(target: str) -> str:
    return target.split("?", 1)[0]


class _ChangeSetFailed(ODataError):
    """Raised inside a change set's transaction so that it rolls back; carries the answer."""

    def __init__(self, part: ResponsePart) -> None:
        super().__init__(part.status, "", "change set failed")
        self.part = part


class _BatchRun:
    def __init__(
        self, emu: DataverseEmulator, caller: Caller, inherited: Mapping[str, str]
    ) -> None:
        self.emu = emu
        self.caller = caller
        self.inherited = dict(inherited)
        self.entity_urls: dict[str, str] = {}  # Content-ID -> the entity its part addressed

    def single(self, request: BatchRequest) -> tuple[ResponseItem, int]:
        part = self._run(request)
        return part, part.status if part.status >= 400 else 0

    def changeset(self, changeset: ChangeSet) -> tuple[ResponseItem, int]:
        """All parts or none; a failure answers with the failing part alone (§17.4)."""
        known = dict(self.entity_urls)
        parts: list[ResponsePart] = []
        try:
            with self.emu.store.transaction():
                for request in changeset.requests:
                    part = self._run(request)
                    if part.status >= 400:
                        raise _ChangeSetFailed(part)
                    parts.append(part)
        except _ChangeSetFailed as failure:
            # The rolled-back parts' entities no longer exist; neither do their $n.
            self.entity_urls = known
            return failure.part, failure.part.status
        return ChangeSetResponse(tuple(parts)), 0

    def _run(self, request: BatchRequest) -> ResponsePart:
        try:
            target = self._resolve_target(request.target)
            body = self._resolve_body(request.body)
        except ODataError as error:
            return _part(error_response(error), request.content_id)
        headers = {**self.inherited, **request.headers}
        response = self.emu.dispatch(request.method, target, headers, body, self.caller)
        entity_url = response.headers.get("OData-EntityId") or response.headers.get("Location")
        if response.status == 201 and entity_url is None:
            entity_url = self._created_url(target, response)
        if response.status < 400:
            if entity_url is None and request.method in ("PATCH", "PUT"):
                entity_url = target.split("?", 1)[0]
            if request.method == "POST" and entity_url is not None:
                # Creates inside a batch carry both headers (§9).
                response.headers.setdefault("Location", entity_url)
                if response.status == 204:
                    response.headers.setdefault("OData-EntityId", entity_url)
            if request.method == "GET" and response.status == 200:
                content_type = response.headers.get("Content-Type", "")
                if content_type.startswith("application/json") and "streaming" not in content_type:
                    response.headers["Content-Type"] = STREAMING_JSON
            if request.content_id is not None and entity_url is not None:
                self.entity_urls[request.content_id] = entity_url
        return _part(response, request.content_id)

    def _created_url(self, target: str, response: InternalResponse) -> str | None:
        """The address of a record created with `return=representation` (201, no header)."""
        path = _path_of(target).rstrip("/")
        entity = self.emu.metadata.by_set(path.rsplit("/", 1)[-1])
        data = response.json()
        if entity is None or not isinstance(data, dict):
            return None
        key = data.get(entity.primary_id)
        if not isinstance(key, str):
            return None
        if path.startswith(("http://", "https://")):
            return f"{path}({key})"
        from crm2cr.emulators.dataverse.app import _BASE_URL  # the request's organisation URL

        if path.startswith("/"):
            return f"{_BASE_URL.get()}{path}({key})"
        return f"{_BASE_URL.get()}/api/data/v9.2/{path}({key})"

    def _lookup(self, reference: str) -> str:
        url = self.entity_urls.get(reference[1:])
        if url is None:
            raise bad_request(
                f"Content-ID Reference: '{reference}' does not exist in the batch context."
            )
        return url

    def _is_reference(self, text: str) -> bool:
        token = _reference_token(text)
        return token is not None and (token[1:] in self.entity_urls or token[1:].isdigit())

    def _resolve_target(self, target: str) -> str:
        token = _reference_token(target)
        if token is None or not self._is_reference(target):
            return target  # $metadata and the like are not references
        return self._lookup(token) + target[len(token) :]

    def _resolve_body(self, body: bytes) -> bytes:
        if b'"$' not in body:
            return body
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return body  # the part's own handler reports the unreadable body
        if not isinstance(data, dict):
            return body
        changed = self._replace_references(data)
        return json.dumps(data, ensure_ascii=False).encode() if changed else body

    def _replace_references(self, data: dict[str, Any]) -> bool:
        changed = False
        for key, value in data.items():
            if not (key.endswith(BIND_SUFFIX) or key == "@odata.id"):
                if isinstance(value, dict):
                    changed = self._replace_references(value) or changed
                elif isinstance(value, list):
                    for entry in value:
                        if isinstance(entry, dict):
                            changed = self._replace_references(entry) or changed
                continue
            if isinstance(value, str) and self._is_reference(value):
                data[key] = self._resolve_target(value)
                changed = True
            elif isinstance(value, list):
                resolved = [
                    self._resolve_target(v) if isinstance(v, str) and self._is_reference(v) else v
                    for v in value
                ]
                changed = changed or resolved != value
                data[key] = resolved
        return changed


def _reference_token(text: str) -> str | None:
    """`$1` of `$1`, `$1/x` or `$1?y`; None when the text does not start with `$`."""
    if not text.startswith("$"):
        return None
    end = len(text)
    for stop in ("/", "?"):
        at = text.find(stop)
        if at > 0:
            end = min(end, at)
    return text[:end] if end > 1 else None


def _part(response: InternalResponse, content_id: str | None) -> ResponsePart:
    headers = [("REQ_ID", str(uuid.uuid4())), *response.headers.items()]
    return ResponsePart(response.status, tuple(headers), response.body, content_id)
