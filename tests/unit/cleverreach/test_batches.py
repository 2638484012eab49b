"""Batch results and 413 halving (reference §6.6, §14 Batches)."""

from __future__ import annotations

from typing import Any

import pytest

from crm2cr.cleverreach.batches import BatchSize, ItemResult, item_result, send_in_batches
from crm2cr.errors import BatchTooLarge, InvalidInput

RECEIVER = {"id": "3387", "email": "anna@example.org", "active": True}


@pytest.mark.parametrize(
    ("element", "ok", "status"),
    [
        ({**RECEIVER, "status": "insert success"}, True, "insert success"),
        ({**RECEIVER, "status": "update success"}, True, "update success"),
        (RECEIVER, True, "success"),  # upsertplus answers bare receivers
        ("invalid address 'x'", False, "invalid address 'x'"),
        ({"email": "x", "status": "invalid address 'x'"}, False, "invalid address 'x'"),
        ({"email": "x", "status": "insert success"}, False, "insert success"),  # no id
        ({**RECEIVER, "status": "duplicate address 'a'"}, False, "duplicate address 'a'"),
        ({**RECEIVER, "id": ""}, False, "the answer has no receiver id"),
        (None, False, "unexpected answer element NoneType"),
    ],
)
def test_an_element_fails_if_string_without_id_or_status_not_success(
    element: Any, ok: bool, status: str
) -> None:
    """Reference §6.6: failed if a string, lacking `id`, or `status` not ending in success."""
    result = item_result("item", element)
    assert (result.ok, result.status) == (ok, status)
    assert (result.receiver is not None) == ok
    if ok:
        assert result.receiver is not None and result.receiver.id == "3387"


class Service:
    """Accepts batches up to `limit` items, answering one status per item."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sizes: list[int] = []

    def __call__(self, part: list[int]) -> list[ItemResult[int]]:
        self.sizes.append(len(part))
        if len(part) > self.limit:
            raise BatchTooLarge("cleverreach", 413, "Request Entity Too Large")
        return [ItemResult(i, i % 7 != 3, "success" if i % 7 != 3 else "invalid") for i in part]


def test_413_halves_down_and_keeps_the_accepted_size_and_every_result() -> None:
    """Reference §14 Batches: on 413 halve, keep the accepted size for the session."""
    size = BatchSize(1000)
    service = Service(limit=300)
    outcomes = list(send_in_batches(range(2000), size, service))
    results = [r for o in outcomes for r in o.results]
    assert [r.item for r in results] == list(range(2000))  # input order, none lost
    assert [r.ok for r in results] == [i % 7 != 3 for i in range(2000)]
    assert size.current == 250
    assert service.sizes[:4] == [1000, 500, 250, 250]
    assert max(service.sizes[4:]) == 250
    # the session keeps the size: a later call starts at 250
    later = Service(limit=300)
    list(send_in_batches(range(10), size, later))
    assert later.sizes == [10]
    list(send_in_batches(range(600), size, later))
    assert later.sizes[1:] == [250, 250, 100]


def test_an_item_too_large_on_its_own_fails_alone() -> None:
    """Reference §6.6: a bad item never fails the batch; halving stops at one."""
    size = BatchSize(4)

    def send(part: list[int]) -> list[ItemResult[int]]:
        if 2 in part:
            raise BatchTooLarge("cleverreach", 413, "Request Entity Too Large")
        return [ItemResult(i, True, "success") for i in part]

    results = [r for o in send_in_batches(range(6), size, send) for r in o.results]
    assert [(r.item, r.ok) for r in results] == [
        (0, True),
        (1, True),
        (2, False),
        (3, True),
        (4, True),
        (5, True),
    ]
    assert results[2].status == "Request Entity Too Large"
    assert size.current == 1


def test_outcome_lists_succeeded_and_failed() -> None:
    """Reference §6.6: per-item results for the executor."""
    outcome = next(send_in_batches(range(14), BatchSize(1000), Service(limit=1000)))
    assert len(outcome) == 14
    assert [i for i, _ in outcome.failed] == [3, 10]
    assert len(outcome.succeeded) == 12


def test_a_batch_size_below_one_is_refused() -> None:
    """Reference §14 Batches: sizes from 1 up."""
    with pytest.raises(InvalidInput):
        BatchSize(0)
