"""The page/pagesize paginator (reference §2.5, §14 Streaming)."""

from __future__ import annotations

import pytest

from crm2cr.cleverreach.paging import PageNumber
from crm2cr.errors import InvalidInput, ProtocolError


class Pages:
    """A list served page by page, recording the pages asked for."""

    def __init__(self, rows: list[str], *, ignore_page: bool = False) -> None:
        self.rows = rows
        self.ignore_page = ignore_page
        self.asked: list[tuple[int, int]] = []

    def __call__(self, page: int, size: int) -> list[str]:
        self.asked.append((page, size))
        start = 0 if self.ignore_page else page * size
        return self.rows[start : start + size]


def ids(n: int) -> list[str]:
    return [str(i) for i in range(n)]


def test_pages_start_at_zero_and_stop_at_the_first_short_page() -> None:
    """Reference §2.5: zero-based `page`; the last page is the first short one."""
    fetch = Pages(ids(120))
    pages = list(PageNumber(size=50).pages(fetch, str))
    assert [len(p) for p in pages] == [50, 50, 20]
    assert fetch.asked == [(0, 50), (1, 50), (2, 50)]


def test_an_exact_multiple_costs_one_extra_empty_request() -> None:
    """Reference §2.5: past the end comes `[]`; no total to stop earlier."""
    fetch = Pages(ids(100))
    items = list(PageNumber(size=50).items(fetch, str))
    assert items == ids(100)
    assert fetch.asked == [(0, 50), (1, 50), (2, 50)]


def test_an_empty_list_is_one_request() -> None:
    """Reference §2.5: an empty list is `[]`."""
    fetch = Pages([])
    assert list(PageNumber(size=50).items(fetch, str)) == []
    assert fetch.asked == [(0, 50)]


def test_a_repeated_page_is_refused_instead_of_looping() -> None:
    """Reference §14 Streaming: a paginator that ignores `page` must not loop forever."""
    fetch = Pages(ids(100), ignore_page=True)
    with pytest.raises(ProtocolError, match="refusing to read in a loop"):
        list(PageNumber(size=50).items(fetch, str))
    assert len(fetch.asked) == 2


def test_rows_shifted_into_the_next_page_are_yielded_once() -> None:
    """Reference §14 Streaming: de-duplicate by id (a write while reading shifts rows)."""
    served = iter([ids(50), [*ids(50)[45:], *[f"x{i}" for i in range(45)]], ["last"]])
    items = list(PageNumber(size=50).items(lambda page, size: next(served), str))
    assert len(items) == len(set(items)) == 50 + 45 + 1


def test_page_size_is_bounded_by_the_service_maximum() -> None:
    """Reference §2.5: `pagesize` at most 5000."""
    with pytest.raises(InvalidInput):
        list(PageNumber().items(Pages([]), str, size=5001))
    with pytest.raises(InvalidInput):
        list(PageNumber().items(Pages([]), str, size=0))
    fetch = Pages(ids(3))
    assert list(PageNumber().items(fetch, str)) == ids(3)
    assert fetch.asked == [(0, 5000)]


def test_pages_are_bounded() -> None:
    """Reference §14 Streaming: every loop is bounded, even against endless fresh rows."""
    counter = iter(range(10**9))

    def endless(page: int, size: int) -> list[str]:
        return [str(next(counter)) for _ in range(size)]

    with pytest.raises(ProtocolError, match="refusing to read on"):
        list(PageNumber(size=2, max_pages=5).items(endless, str))
