"""CreateMultiple and UpsertMultiple: up to 1000 records per request (reference §8).

Each call is all-or-nothing on standard tables: one bad record rolls back
its whole chunk. So the result is per chunk, spread onto its records: every
record of a failed chunk carries that chunk's error. When a caller needs to
know exactly which record was bad, `$batch` with continue-on-error is the
tool (batch.py).

UpsertMultiple targets carry their own key, so a chunk may be resent after a
dropped connection; CreateMultiple would create twins and is never resent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from crm2cr.dataverse.classify import SERVICE
from crm2cr.dataverse.models import OperationResult, Outcome
from crm2cr.dataverse.query import guid, name
from crm2cr.errors import ApiError, InvalidInput, ProtocolError

if TYPE_CHECKING:
    from crm2cr.dataverse.client import DataverseClient

MAX_TARGETS = 1000
ODATA_TYPE = "@odata.type"


def targets(logical_name: str, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records with `@odata.type` set, as every bulk target needs (§8)."""
    odata_type = f"Microsoft.Dynamics.CRM.{name(logical_name)}"
    result = []
    for record in records:
        target = dict(record)
        given = target.setdefault(ODATA_TYPE, odata_type)
        if given != odata_type:
            raise InvalidInput(f"A bulk call writes one table: {given} is not {odata_type}.")
        result.append(target)
    return result


class BulkWriter:
    """Chunks records into CreateMultiple / UpsertMultiple calls, a few at a time."""

    def __init__(self, client: DataverseClient) -> None:
        self.client = client

    def create_multiple(
        self,
        entity_set: str,
        logical_name: str,
        records: Sequence[Mapping[str, Any]],
        *,
        chunk_size: int | None = None,
        parallel: int | None = None,
    ) -> Outcome:
        """Create every record; a result per record with its new id (in order)."""
        return self._run(
            "CreateMultiple", entity_set, logical_name, records, chunk_size, parallel, ""
        )

    def upsert_multiple(
        self,
        entity_set: str,
        logical_name: str,
        records: Sequence[Mapping[str, Any]],
        *,
        chunk_size: int | None = None,
        parallel: int | None = None,
        primary_id: str | None = None,
    ) -> Outcome:
        """Create or update every record under the key it carries (primary id or @odata.id).

        `primary_id` defaults to `{logical_name}id` (campaignactivity's is `activityid`).
        """
        primary = primary_id or f"{logical_name}id"
        for record in records:
            if primary not in record and "@odata.id" not in record:
                raise InvalidInput(
                    f"An upsert target needs its key: {primary} or @odata.id.",
                    hint="Choose the id on the client (e.g. a UUID5) so a repeat cannot duplicate.",
                )
        return self._run(
            "UpsertMultiple", entity_set, logical_name, records, chunk_size, parallel, primary
        )

    def _run(
        self,
        action: str,
        entity_set: str,
        logical_name: str,
        records: Sequence[Mapping[str, Any]],
        chunk_size: int | None,
        parallel: int | None,
        primary: str,
    ) -> Outcome:
        size = chunk_size or self.client.settings.bulk_size
        if not 1 <= size <= MAX_TARGETS:
            raise InvalidInput(f"A bulk call holds 1 to {MAX_TARGETS} records, not {size}.")
        starts = list(range(0, len(records), size))
        workers = max(1, min(parallel or self.client.settings.parallel, len(starts) or 1))
        path = f"{name(entity_set)}/Microsoft.Dynamics.CRM.{action}"

        def one(start: int) -> list[OperationResult]:
            chunk = records[start : start + size]
            body = {"Targets": targets(logical_name, chunk)}
            try:
                answer = self.client.call_action(path, body, idempotent=action == "UpsertMultiple")
            except ApiError as error:
                return [
                    OperationResult(start + i, error.status, error=error) for i in range(len(chunk))
                ]
            ids = _ids(action, answer, chunk, primary)
            status = 200 if answer is not None else 204
            return [OperationResult(start + i, status, entity_id=ids[i]) for i in range(len(chunk))]

        results: list[OperationResult] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dv-bulk") as pool:
            for chunk_results in pool.map(one, starts):
                results += chunk_results
        return Outcome(results)


def _ids(
    action: str,
    answer: Mapping[str, Any] | None,
    chunk: Sequence[Mapping[str, Any]],
    primary: str,
) -> list[str | None]:
    if action == "CreateMultiple":
        ids = (answer or {}).get("Ids")
        if not isinstance(ids, list) or len(ids) != len(chunk):
            raise ProtocolError(SERVICE, 200, "CreateMultiple answered without one id per record")
        return [str(i).lower() for i in ids]
    return [guid(r[primary]) if primary in r else None for r in chunk]
