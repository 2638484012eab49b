"""Keyset paging (reference §4.4): every order, nulls and ties, O(page) query plans."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse import paging
from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.query import OrderBy
from crm2cr.emulators.dataverse.reads import cursor_of, fetch_page, sort_keys
from crm2cr.emulators.dataverse.records import new_row
from crm2cr.emulators.dataverse.seed import APP_USER_ID, ROOT_BUSINESS_UNIT_ID

NAMES = st.one_of(st.none(), st.sampled_from(["a", "A", "b", "B", "ä", "c", ""]))
COLUMNS = ("firstname", "lastname", "numberofchildren")


@pytest.fixture(scope="module")
def emulator() -> Iterator[DataverseEmulator]:
    emu = DataverseEmulator(EmulatorOptions(seed="empty", limits=False))
    yield emu
    emu.close()


def _fill(emu: DataverseEmulator, rows: list[tuple[str | None, str | None, int | None]]) -> None:
    entity = emu.metadata.require("contact")
    emu.store.execute('DELETE FROM "contact"')
    complete = [
        new_row(
            entity,
            {
                "contactid": f"00000000-0000-0000-0000-{index:012d}",
                "firstname": first,
                "lastname": last,
                "numberofchildren": children,
            },
            user_id=APP_USER_ID,
            business_unit_id=ROOT_BUSINESS_UNIT_ID,
        )
        for index, (first, last, children) in enumerate(rows)
    ]
    emu.store.insert_many("contact", complete)


def _all_pages(emu: DataverseEmulator, order: list[OrderBy], size: int) -> list[dict[str, Any]]:
    entity = emu.metadata.require("contact")
    found: list[dict[str, Any]] = []
    cursor: list[Any] | None = None
    for _ in range(500):
        rows, more = fetch_page(emu, entity, [], [], order, size, cursor)
        found.extend(rows)
        if not more:
            return found
        cursor = cursor_of(entity, order, rows[-1])
        token = paging.decode_token(paging.encode_token(paging.PageToken(2, cursor)))
        cursor = token.values
    raise AssertionError("paging did not end")


@given(
    rows=st.lists(st.tuples(NAMES, NAMES, st.one_of(st.none(), st.integers(0, 3))), max_size=25),
    order=st.lists(
        st.tuples(st.sampled_from(COLUMNS), st.booleans()), max_size=3, unique_by=lambda o: o[0]
    ),
    size=st.integers(1, 6),
)
def test_pages_concatenate_to_the_ordered_result(
    emulator: DataverseEmulator,
    rows: list[tuple[str | None, str | None, int | None]],
    order: list[tuple[str, bool]],
    size: int,
) -> None:
    """Reference §4.4, §18.10: no repeats, no gaps, the order of one unpaged query."""
    _fill(emulator, rows)
    entity = emulator.metadata.require("contact")
    spec = [OrderBy(entity.attributes[name], desc) for name, desc in order]
    whole, _ = fetch_page(emulator, entity, [], [], spec, 10_000, None)
    paged = _all_pages(emulator, spec, size)
    assert [r["contactid"] for r in paged] == [r["contactid"] for r in whole]
    assert len(paged) == len(rows)


def test_one_column_pages_are_index_range_scans(emulator: DataverseEmulator) -> None:
    """A page must not cost O(table): the plan seeks an index and never sorts the table."""
    entity = emulator.metadata.require("contact")
    emulator.store.ensure_index("contact", ("lastname",))
    for descending in (False, True):
        keys, pk = sort_keys(entity, [OrderBy(entity.attributes["lastname"], descending)])
        clause = paging.order_clause(keys, pk)
        for condition, params in paging.seek_segments(keys, pk, ["m", "0"]):
            plan = emulator.store.query(
                f'EXPLAIN QUERY PLAN SELECT t0.* FROM "contact" t0 WHERE {condition} '
                f"ORDER BY {clause} LIMIT 10",
                params,
            )
            details = " ".join(str(p["detail"]) for p in plan)
            assert "USING INDEX" in details, details
            assert "TEMP B-TREE" not in details, details
    keys, pk = sort_keys(entity, [])
    ((condition, params),) = paging.seek_segments(keys, pk, ["x"])
    plan = emulator.store.query(
        f'EXPLAIN QUERY PLAN SELECT t0.* FROM "contact" t0 WHERE {condition} '
        f"ORDER BY {paging.order_clause(keys, pk)} LIMIT 10",
        params,
    )
    details = " ".join(str(p["detail"]) for p in plan)
    assert "TEMP B-TREE" not in details and "INDEX" in details


def test_tokens_are_checked() -> None:
    """Reference §4.4: the skiptoken is opaque to clients, but a garbled one is a 400."""
    token = paging.encode_token(paging.PageToken(3, ["x", None, 2], tracking=False))
    assert token.startswith('<cookie pagenumber="3" pagingcookie="')
    assert paging.decode_token(token).values == ["x", None, 2]
    for bad in ("", "<cookie/>", token.replace('pagingcookie="', 'pagingcookie="!!')):
        with pytest.raises(ODataError):
            paging.decode_token(bad)
