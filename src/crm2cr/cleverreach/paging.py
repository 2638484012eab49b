"""The page/pagesize paginator of CleverReach lists (§2.5, §14 Streaming).

Lists are bare arrays with no envelope and no total; `page` is zero-based and
`pagesize` at most 5000. No paging envelope: a page shorter than `pagesize`
is the last. An exact multiple costs one extra empty request, cheaper than a
count call (and counts come from cached stats that lag, §5).

Rows are de-duplicated by id: a receiver written while we read can shift into
the next page. A full page of rows seen before means the service ignores
`page`; we refuse to loop rather than read forever.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from crm2cr.cleverreach.classify import SERVICE
from crm2cr.errors import InvalidInput, ProtocolError

T = TypeVar("T")

MAX_PAGE_SIZE = 5000
MAX_PAGES = 100_000  # 500 million rows at the largest size: a bound, never a real limit

Fetch = Callable[[int, int], Sequence[T]]  # (page, pagesize) → rows


@dataclass(frozen=True)
class PageNumber:
    """Zero-based page numbers; the first short page is the last."""

    size: int = MAX_PAGE_SIZE
    first: int = 0
    max_size: int = MAX_PAGE_SIZE
    max_pages: int = MAX_PAGES

    def checked_size(self, size: int | None) -> int:
        wanted = self.size if size is None else size
        if not 1 <= wanted <= self.max_size:
            raise InvalidInput(
                f"A CleverReach page holds 1 to {self.max_size} rows, not {wanted}.",
                hint=f"Choose a page size between 1 and {self.max_size}.",
                field="pagesize",
            )
        return wanted

    def pages(
        self, fetch: Fetch[T], key: Callable[[T], Hashable], *, size: int | None = None
    ) -> Iterator[list[T]]:
        """Yield each page's rows not seen before, until the first short page."""
        pagesize = self.checked_size(size)
        seen: set[Hashable] = set()
        for page in range(self.first, self.first + self.max_pages):
            rows = fetch(page, pagesize)
            fresh: list[T] = []
            for row in rows:
                ident = key(row)
                if ident not in seen:
                    seen.add(ident)
                    fresh.append(row)
            if len(rows) >= pagesize and not fresh:
                raise ProtocolError(
                    SERVICE,
                    200,
                    f"page {page} repeats rows of earlier pages; refusing to read in a loop",
                    hint="CleverReach seems to ignore the page parameter; please report it.",
                )
            if fresh:
                yield fresh
            if len(rows) < pagesize:
                return
        raise ProtocolError(
            SERVICE,
            200,
            f"more than {self.max_pages} pages of {pagesize}; refusing to read on",
            hint="CleverReach keeps returning full pages; please report it.",
        )

    def items(
        self, fetch: Fetch[T], key: Callable[[T], Hashable], *, size: int | None = None
    ) -> Iterator[T]:
        """The rows of every page, one by one."""
        for rows in self.pages(fetch, key, size=size):
            yield from rows
