"""Single-record writes: create, update, upsert, delete, associate (reference §7).

Creates are POSTs and never resent blindly; upserts (PATCH under an id the
client chose) and deletes are safe to repeat, so the transport may retry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crm2cr.dataverse import prefer as pref
from crm2cr.dataverse.classify import SERVICE
from crm2cr.dataverse.models import Record, entity_id_from
from crm2cr.dataverse.query import guid, key_segment, name
from crm2cr.errors import ProtocolError

if TYPE_CHECKING:
    from crm2cr.dataverse.client import DataverseClient


class Records:
    def __init__(self, client: DataverseClient) -> None:
        self.client = client

    def create(self, entity_set: str, values: Mapping[str, Any]) -> str:
        """POST a new record; its id comes from OData-EntityId (§7.1). Never retried blindly."""
        response = self.client.send("POST", name(entity_set), body=dict(values), idempotent=False)
        created = entity_id_from(response.headers)
        if created is None:
            raise ProtocolError(SERVICE, response.status_code, "a create answer without an id")
        return created

    def create_and_read(self, entity_set: str, values: Mapping[str, Any]) -> Record:
        """POST with `return=representation`: 201 and the new record (with its etag)."""
        response = self.client.send(
            "POST",
            name(entity_set),
            body=dict(values),
            prefer=[pref.RETURN_REPRESENTATION],
            idempotent=False,
        )
        return self.client.json_object(response)

    def upsert(
        self,
        entity_set: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> str:
        """PATCH under a client-chosen id: creates or updates (§7.3); safe to repeat.

        `if_match="*"` only updates (404 when missing), `if_none_match="*"` only
        creates (412 when present), `if_match=etag` updates only that version.
        """
        headers = {}
        if if_match:
            headers["If-Match"] = if_match
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        response = self.client.send(
            "PATCH",
            key_segment(entity_set, record_id),
            body=dict(values),
            headers=headers,
            idempotent=True,
        )
        return entity_id_from(response.headers) or guid(record_id)

    def update(
        self, entity_set: str, record_id: str, changes: Mapping[str, Any], *, etag: str = "*"
    ) -> None:
        """PATCH an existing record only (`If-Match`: never creates; 412 on a stale etag)."""
        self.upsert(entity_set, record_id, changes, if_match=etag)

    def delete(self, entity_set: str, record_id: str, *, etag: str | None = None) -> None:
        headers = {"If-Match": etag} if etag else {}
        self.client.send("DELETE", key_segment(entity_set, record_id), headers=headers)

    def associate(
        self, entity_set: str, record_id: str, navigation: str, target_set: str, target_id: str
    ) -> None:
        """POST `{set}({id})/{nav}/$ref` (§7.5): adds a related record to an N:N."""
        self.client.send(
            "POST",
            f"{key_segment(entity_set, record_id)}/{name(navigation)}/$ref",
            body={"@odata.id": f"{self.client.api_url}/{key_segment(target_set, target_id)}"},
        )

    def disassociate(
        self, entity_set: str, record_id: str, navigation: str, target_id: str
    ) -> None:
        """DELETE `{set}({id})/{nav}({target})/$ref` (§7.5)."""
        self.client.send(
            "DELETE",
            f"{key_segment(entity_set, record_id)}/{name(navigation)}({guid(target_id)})/$ref",
        )
