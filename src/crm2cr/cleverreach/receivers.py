"""Receivers: stream, read, write in batches, deactivate, delete (§6).

Every body comes from `payloads.receiver_payload`, so no method here can
re-activate an unsubscribed receiver (§6.7). Upserts, updates and deletes
are safe to resend and marked so; single creates and batch inserts are not:
after a lost answer they look the receivers up by e-mail before sending again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from crm2cr.cleverreach.api import Api, anything, create_once, many, one, segment, true
from crm2cr.cleverreach.batches import (
    BatchOutcome,
    BatchSize,
    ItemResult,
    item_result,
    merge,
    send_in_batches,
)
from crm2cr.cleverreach.classify import SERVICE
from crm2cr.cleverreach.models import Receiver, ReceiverType
from crm2cr.cleverreach.paging import PageNumber
from crm2cr.cleverreach.payloads import Activation, ReceiverData, check_sticky, receiver_payload
from crm2cr.errors import ConnectionLost, NotFoundError, ProtocolError, ServerError

# detail bitmask of list requests (§6.2)
EVENTS, ORDERS, TAGS = 1, 2, 4
LOOKUP_CHUNK = 100  # e-mails per email_list query: keeps the URL well under server limits


class Receivers:
    """`/v3/groups/{gid}/receivers…` and `/v3/receivers…`."""

    def __init__(self, api: Api, *, pages: PageNumber, batch_size: BatchSize) -> None:
        self.api = api
        self.paging = pages
        self.batch_size = batch_size

    # reading

    def pages(
        self,
        group_id: str,
        *,
        type: ReceiverType = "all",
        detail: int = 0,
        page_size: int | None = None,
        emails: Sequence[str] = (),
    ) -> Iterator[list[Receiver]]:
        """A group's receivers, one page at a time, never the whole group in memory."""
        path = f"v3/groups/{segment(group_id)}/receivers"

        def fetch(page: int, pagesize: int) -> list[Receiver]:
            params: dict[str, str | int] = {"page": page, "pagesize": pagesize, "type": type}
            if detail:
                params["detail"] = detail
            if emails:
                params["email_list"] = ",".join(emails)
            return self.api.get(path, many(Receiver), params=params)

        return self.paging.pages(fetch, _receiver_id, size=page_size)

    def stream(
        self,
        group_id: str,
        *,
        type: ReceiverType = "all",
        detail: int = 0,
        page_size: int | None = None,
    ) -> Iterator[Receiver]:
        """A group's receivers one by one (pages of 5000 by default, §14 Streaming)."""
        for page in self.pages(group_id, type=type, detail=detail, page_size=page_size):
            yield from page

    def find_many(self, group_id: str, emails: Iterable[str]) -> Iterator[Receiver]:
        """The receivers of the group among these e-mails (`email_list`, §6.2)."""
        source = iter(emails)
        while chunk := list(islice(source, LOOKUP_CHUNK)):
            for page in self.pages(group_id, emails=chunk, page_size=LOOKUP_CHUNK):
                yield from page

    def get(self, group_id: str, receiver: str) -> Receiver:
        """One receiver of the group by id or e-mail; NotFoundError if it is not there."""
        return self.api.get(self._path(group_id, receiver), one(Receiver))

    def find(self, group_id: str, receiver: str) -> Receiver | None:
        """One receiver of the group by id or e-mail, or None."""
        return self.api.get_or_none(self._path(group_id, receiver), one(Receiver))

    def get_account(self, receiver: str, *, group_id: str | None = None) -> Receiver:
        """Account-wide (pool) view of a receiver by id or e-mail (§6.3)."""
        params = {"group_id": group_id} if group_id else None
        return self.api.get(f"v3/receivers/{segment(receiver)}", one(Receiver), params=params)

    def group_ids(self, receiver: str) -> list[str]:
        """The ids of the groups a receiver belongs to (`…/receivers/{id}/groups`)."""
        return self.api.get(f"v3/receivers/{segment(receiver)}/groups", _group_ids)

    # single writes

    def create(self, group_id: str, data: ReceiverData) -> Receiver:
        """Create one receiver; 409 if the address is in the group already (§6.4)."""
        body = receiver_payload(data, now=self.api.stamp())
        path = f"v3/groups/{segment(group_id)}/receivers"
        return create_once(
            lambda: self.api.call("POST", path, one(Receiver), body=body, idempotent=False),
            lambda: self.find(group_id, data.email),
        )

    def update(self, group_id: str, receiver: str, data: ReceiverData) -> Receiver:
        """Change a receiver's attributes or tags (`PUT`, any subset, §6.5).

        The address is the one in the path; `change_email` gives a new one.
        """
        body = receiver_payload(data, now=self.api.stamp())
        del body["email"]
        return self.api.call(
            "PUT", self._path(group_id, receiver), one(Receiver), body=body, idempotent=True
        )

    def change_email(self, receiver_id: str, email: str) -> None:
        """Give a receiver a new address (`PUT /v3/receivers/{id}/email`, §6.5)."""
        self.api.call(
            "PUT",
            f"v3/receivers/{segment(receiver_id)}/email",
            anything,
            body={"email": email},
            idempotent=True,
        )

    def set_attribute(self, receiver_id: str, attribute_id: str, value: str) -> None:
        """Set one attribute value of a receiver (§6.5)."""
        self.api.call(
            "PUT",
            f"v3/receivers/{segment(receiver_id)}/attributes/{segment(attribute_id)}",
            anything,
            body={"value": value},
            idempotent=True,
        )

    def deactivate(self, group_id: str, receiver: str) -> None:
        """Unsubscribe a receiver from the group (`PUT …/deactivate`, §6.8)."""
        self.api.call("PUT", f"{self._path(group_id, receiver)}/deactivate", true, idempotent=True)

    def delete(self, group_id: str, receiver: str) -> bool:
        """Remove a receiver from the group; False when it was not there."""
        try:
            self.api.call("DELETE", self._path(group_id, receiver), true, idempotent=True)
        except NotFoundError:
            return False
        return True

    def delete_account(self, receiver: str) -> bool:
        """Remove a receiver from every group of the account; False when unknown."""
        try:
            self.api.call("DELETE", f"v3/receivers/{segment(receiver)}", true, idempotent=True)
        except NotFoundError:
            return False
        return True

    # batch writes

    def upsert_batches(
        self, group_id: str, items: Iterable[ReceiverData]
    ) -> Iterator[BatchOutcome[ReceiverData]]:
        """Upsert in batches; one outcome per request sent (§6.6)."""
        return send_in_batches(
            items, self.batch_size, lambda part: self._write_batch(group_id, "upsert", part)
        )

    def upsert(self, group_id: str, items: Iterable[ReceiverData]) -> BatchOutcome[ReceiverData]:
        """Update each address in the group, insert the others; per-item results."""
        return merge(self.upsert_batches(group_id, items))

    def insert_batches(
        self, group_id: str, items: Iterable[ReceiverData]
    ) -> Iterator[BatchOutcome[ReceiverData]]:
        """Insert in batches; one outcome per request sent."""
        return send_in_batches(
            items, self.batch_size, lambda part: self._insert_once(group_id, part)
        )

    def insert(self, group_id: str, items: Iterable[ReceiverData]) -> BatchOutcome[ReceiverData]:
        """Insert new receivers only; per-item results."""
        return merge(self.insert_batches(group_id, items))

    def deactivate_many(self, group_id: str, emails: Iterable[str]) -> BatchOutcome[ReceiverData]:
        """Unsubscribe many receivers with one upsert per batch (`deactivated: now`)."""
        return self.upsert(
            group_id,
            (
                ReceiverData(email, activation=Activation.DEACTIVATE, in_group=True)
                for email in emails
            ),
        )

    def delete_many(self, group_id: str, receivers: Iterable[str]) -> BatchOutcome[str]:
        """Remove receivers (ids or e-mails) from the group; "not found" counts as done."""
        path = f"v3/groups/{segment(group_id)}/receivers/delete"

        def send(part: list[str]) -> list[ItemResult[str]]:
            answer = self.api.call("POST", path, anything, body=part, idempotent=True)
            return [_deleted(item, element) for item, element in _aligned(answer, part, path)]

        return merge(send_in_batches(receivers, self.batch_size, send))

    def _write_batch(
        self, group_id: str, action: str, part: list[ReceiverData]
    ) -> list[ItemResult[ReceiverData]]:
        now = self.api.stamp()
        body = [receiver_payload(item, now=now) for item in part]
        for element in body:
            check_sticky(element)
        path = f"v3/groups/{segment(group_id)}/receivers/{action}"
        answer = self.api.call("POST", path, anything, body=body, idempotent=action != "insert")
        return [item_result(item, element) for item, element in _aligned(answer, part, path)]

    def _insert_once(
        self, group_id: str, part: list[ReceiverData]
    ) -> list[ItemResult[ReceiverData]]:
        try:
            return self._write_batch(group_id, "insert", part)
        except (ConnectionLost, ServerError):
            # The answer is lost, not necessarily the insert: who is there now?
            present = {
                r.email.lower(): r for r in self.find_many(group_id, (d.email for d in part))
            }
            missing = [d for d in part if d.email.lower() not in present]
            again = iter(self._write_batch(group_id, "insert", missing) if missing else [])
            return [
                ItemResult(d, True, "present after a lost answer", present[d.email.lower()])
                if d.email.lower() in present
                else next(again)
                for d in part
            ]

    def _path(self, group_id: str, receiver: str) -> str:
        return f"v3/groups/{segment(group_id)}/receivers/{segment(receiver)}"


def _receiver_id(receiver: Receiver) -> str:
    return receiver.id


def _aligned(answer: Any, part: Sequence[Any], path: str) -> list[tuple[Any, Any]]:
    if not isinstance(answer, list) or len(answer) != len(part):
        got = len(answer) if isinstance(answer, list) else type(answer).__name__
        raise ProtocolError(
            SERVICE,
            200,
            f"a batch of {len(part)} was answered with {got} elements",
            method="POST",
            url=f"/{path}",
            hint="CleverReach answered a batch in a shape crm2cr does not know; please report it.",
        )
    return list(zip(part, answer, strict=True))


def _deleted(item: str, element: Any) -> ItemResult[str]:
    status = element.get("status") if isinstance(element, dict) else element
    text = status if isinstance(status, str) else ""
    done = text.lower().endswith("success") or text.lower() == "not found"
    return ItemResult(item, done, text or "no status")


def _group_ids(body: Any) -> list[str]:
    if not isinstance(body, list):
        raise ValueError("expected a list of groups")
    ids: list[str] = []
    for entry in body:
        value = entry.get("id", entry.get("group_id")) if isinstance(entry, dict) else entry
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("a group without an id")
        ids.append(str(value))
    return ids
