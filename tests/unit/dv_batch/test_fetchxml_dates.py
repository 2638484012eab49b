"""FetchXML date operators as UTC ranges, at fixed instants on calendar edges (reference §5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.fetchxml_dates import (
    DateRange,
    add_months,
    date_range,
    parse_datetime,
)

NOW = datetime(2026, 3, 31, 14, 30, 5, tzinfo=UTC)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def contains(r: DateRange, moment: datetime) -> bool:
    inside = (r.lower is None or moment >= r.lower) and (
        r.upper is None or (moment <= r.upper if r.upper_inclusive else moment < r.upper)
    )
    return inside != r.negated


@pytest.mark.parametrize(
    ("operator", "first_in", "last_in", "first_out_before", "first_out_after"),
    [
        (
            "today",
            at(2026, 3, 31),
            at(2026, 3, 31, 23, 59, 59),
            at(2026, 3, 30, 23, 59, 59),
            at(2026, 4, 1),
        ),
        (
            "yesterday",
            at(2026, 3, 30),
            at(2026, 3, 30, 23, 59, 59),
            at(2026, 3, 29, 23, 59, 59),
            at(2026, 3, 31),
        ),
        (
            "tomorrow",
            at(2026, 4, 1),
            at(2026, 4, 1, 23, 59, 59),
            at(2026, 3, 31, 23, 59, 59),
            at(2026, 4, 2),
        ),
        (
            "last-seven-days",
            at(2026, 3, 24),
            NOW,
            at(2026, 3, 23, 23, 59, 59),
            at(2026, 3, 31, 14, 30, 6),
        ),
        (
            "next-seven-days",
            NOW,
            at(2026, 4, 7, 23, 59, 59),
            at(2026, 3, 31, 14, 30, 4),
            at(2026, 4, 8),
        ),
        (
            "this-month",
            at(2026, 3, 1),
            at(2026, 3, 31, 23, 59, 59),
            at(2026, 2, 28, 23, 59, 59),
            at(2026, 4, 1),
        ),
        (
            "last-month",
            at(2026, 2, 1),
            at(2026, 2, 28, 23, 59, 59),
            at(2026, 1, 31, 23, 59, 59),
            at(2026, 3, 1),
        ),
        (
            "next-month",
            at(2026, 4, 1),
            at(2026, 4, 30, 23, 59, 59),
            at(2026, 3, 31, 23, 59, 59),
            at(2026, 5, 1),
        ),
        (
            "this-year",
            at(2026, 1, 1),
            at(2026, 12, 31, 23, 59, 59),
            at(2025, 12, 31, 23, 59, 59),
            at(2027, 1, 1),
        ),
        (
            "last-year",
            at(2025, 1, 1),
            at(2025, 12, 31, 23, 59, 59),
            at(2024, 12, 31, 23, 59, 59),
            at(2026, 1, 1),
        ),
        (
            "next-year",
            at(2027, 1, 1),
            at(2027, 12, 31, 23, 59, 59),
            at(2026, 12, 31, 23, 59, 59),
            at(2028, 1, 1),
        ),
    ],
)
def test_fixed_ranges_have_exact_edges(
    operator: str,
    first_in: datetime,
    last_in: datetime,
    first_out_before: datetime,
    first_out_after: datetime,
) -> None:
    """Reference §5: today, yesterday, last-seven-days, this-month, last-month, this-year (UTC)."""
    r = date_range(operator, (), NOW)
    assert contains(r, first_in)
    assert contains(r, last_in)
    assert not contains(r, first_out_before)
    assert not contains(r, first_out_after)


@pytest.mark.parametrize(
    ("operator", "value", "inside", "outside"),
    [
        (
            "on",
            "2026-02-14",
            [at(2026, 2, 14), at(2026, 2, 14, 23, 59, 59)],
            [at(2026, 2, 13, 23, 59, 59), at(2026, 2, 15)],
        ),
        (
            "not-on",
            "2026-02-14",
            [at(2026, 2, 13, 23, 59, 59), at(2026, 2, 15)],
            [at(2026, 2, 14), at(2026, 2, 14, 12)],
        ),
        ("on", "2026-02-14T22:00:00Z", [at(2026, 2, 14)], [at(2026, 2, 15)]),
        (
            "on-or-before",
            "2026-02-14",
            [at(2020, 1, 1), at(2026, 2, 14, 23, 59, 59)],
            [at(2026, 2, 15)],
        ),
        (
            "on-or-after",
            "2026-02-14",
            [at(2026, 2, 14), at(2030, 1, 1)],
            [at(2026, 2, 13, 23, 59, 59)],
        ),
        (
            "last-x-days",
            "3",
            [at(2026, 3, 28), NOW],
            [at(2026, 3, 27, 23, 59, 59), at(2026, 3, 31, 14, 30, 6)],
        ),
        (
            "next-x-days",
            "3",
            [NOW, at(2026, 4, 3, 23, 59, 59)],
            [at(2026, 3, 31, 14, 30, 4), at(2026, 4, 4)],
        ),
        ("last-x-hours", "2", [at(2026, 3, 31, 12, 30, 5), NOW], [at(2026, 3, 31, 12, 30, 4)]),
        ("next-x-hours", "2", [NOW, at(2026, 3, 31, 16, 30, 5)], [at(2026, 3, 31, 16, 30, 6)]),
        ("last-x-weeks", "1", [at(2026, 3, 24)], [at(2026, 3, 23, 23, 59, 59)]),
        ("next-x-weeks", "1", [at(2026, 4, 7, 23, 59, 59)], [at(2026, 4, 8)]),
        # 31 March minus one month clamps to 28 February.
        ("last-x-months", "1", [at(2026, 2, 28), NOW], [at(2026, 2, 27, 23, 59, 59)]),
        ("last-x-months", "12", [at(2025, 3, 31)], [at(2025, 3, 30, 23, 59, 59)]),
        ("next-x-months", "1", [at(2026, 4, 30, 23, 59, 59)], [at(2026, 5, 1)]),
        ("last-x-years", "1", [at(2025, 3, 31)], [at(2025, 3, 30, 23, 59, 59)]),
        ("next-x-years", "1", [at(2027, 3, 31, 23, 59, 59)], [at(2027, 4, 1)]),
        ("older-than-x-days", "2", [at(2026, 3, 28, 23, 59, 59)], [at(2026, 3, 29)]),
        ("older-than-x-months", "1", [at(2026, 2, 27, 23, 59, 59)], [at(2026, 2, 28)]),
        ("older-than-x-years", "1", [at(2025, 3, 30, 23, 59, 59)], [at(2025, 3, 31)]),
    ],
)
def test_valued_ranges_have_exact_edges(
    operator: str, value: str, inside: list[datetime], outside: list[datetime]
) -> None:
    """Reference §5: on, on-or-before, on-or-after, last-x-days, next-x-days, last-x-months."""
    r = date_range(operator, (value,), NOW)
    for moment in inside:
        assert contains(r, moment), moment
    for moment in outside:
        assert not contains(r, moment), moment


def test_between_with_dates_covers_the_whole_last_day() -> None:
    """Reference §5: `between` two dates includes the second date's whole day [I]."""
    r = date_range("between", ("2026-01-01", "2026-01-31"), NOW)
    assert contains(r, at(2026, 1, 1))
    assert contains(r, at(2026, 1, 31, 23, 59, 59))
    assert not contains(r, at(2026, 2, 1))
    assert not contains(r, at(2025, 12, 31, 23, 59, 59))


def test_between_with_datetimes_is_inclusive() -> None:
    """Reference §5: `between`/`not-between` with date-times include both ends."""
    r = date_range("between", ("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"), NOW)
    assert contains(r, at(2026, 1, 1, 11))
    assert not contains(r, at(2026, 1, 1, 11, 0, 1))
    negated = date_range("not-between", ("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"), NOW)
    assert contains(negated, at(2026, 1, 1, 11, 0, 1))
    assert not contains(negated, at(2026, 1, 1, 10, 30))


def test_parse_datetime_reads_iso_forms_as_utc() -> None:
    """Reference §3: dates are ISO, UTC; offsets are converted."""
    assert parse_datetime("2026-11-22") == at(2026, 11, 22)
    assert parse_datetime("2026-11-22T08:14:03Z") == at(2026, 11, 22, 8, 14, 3)
    assert parse_datetime("2026-11-22T09:14:03+01:00") == at(2026, 11, 22, 8, 14, 3)
    assert parse_datetime("2026-11-22 08:14:03") == at(2026, 11, 22, 8, 14, 3)


@pytest.mark.parametrize(
    ("operator", "values"),
    [
        ("on", ("yesterday-ish",)),
        ("last-x-days", ("seven",)),
        ("last-x-days", ("-1",)),
        ("between", ("2026-01-01", "soon")),
        ("eq", ("2026-01-01",)),
    ],
)
def test_bad_date_values_are_400(operator: str, values: tuple[str, ...]) -> None:
    """Reference §5, §17.11: a value the operator cannot use is a 400."""
    with pytest.raises(ODataError) as excinfo:
        date_range(operator, values, NOW)
    assert excinfo.value.status == 400


def test_add_months_clamps_to_month_end() -> None:
    """Reference §5: month operators count calendar months (31 Jan + 1 month = end of Feb)."""
    assert add_months(at(2024, 1, 31), 1) == at(2024, 2, 29)
    assert add_months(at(2026, 1, 15), -13) == at(2024, 12, 15)
    assert add_months(at(2026, 12, 31), 2) == at(2027, 2, 28)
