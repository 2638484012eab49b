"""The date operators of FetchXML as UTC ranges (reference §5, [C D29]).

The service evaluates relative dates in the caller's time zone; the emulator
has no user time zones and uses UTC throughout [I]. Where Microsoft's text
leaves the edges open, the choices are: "last X units" runs from midnight X
units back up to now, "next X units" from now to the end of the X-th day or
unit ahead, and a date-only upper bound of `between` covers its whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from crm2cr.emulators.dataverse.errors import bad_request

DAY = timedelta(days=1)


@dataclass(frozen=True)
class DateRange:
    """lower ≤ value, then value < upper (or value ≤ upper when upper_inclusive)."""

    lower: datetime | None
    upper: datetime | None
    upper_inclusive: bool = False
    negated: bool = False  # the rows outside the range (not-on, not-between)


NO_VALUE_DATE_OPERATORS = frozenset(
    {
        "today",
        "yesterday",
        "tomorrow",
        "last-seven-days",
        "next-seven-days",
        "this-month",
        "last-month",
        "next-month",
        "this-year",
        "last-year",
        "next-year",
    }
)
ON_OPERATORS = frozenset({"on", "not-on", "on-or-before", "on-or-after"})
RELATIVE_OPERATORS = frozenset(
    {
        "last-x-hours",
        "next-x-hours",
        "last-x-days",
        "next-x-days",
        "last-x-weeks",
        "next-x-weeks",
        "last-x-months",
        "next-x-months",
        "last-x-years",
        "next-x-years",
        "older-than-x-days",
        "older-than-x-months",
        "older-than-x-years",
    }
)
DATE_OPERATORS = NO_VALUE_DATE_OPERATORS | ON_OPERATORS | RELATIVE_OPERATORS


def parse_datetime(text: str) -> datetime:
    """An ISO date or date-time as an aware UTC datetime; a bare date is its midnight."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad_request(f"'{text}' is not a valid date or date-time.") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def is_date_only(text: str) -> bool:
    return len(text.strip()) == 10


def midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time(), UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later (earlier when negative); the day is clamped to the month's end."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, _month_length(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def date_range(operator: str, values: tuple[str, ...], now: datetime) -> DateRange:
    """The UTC range a date operator selects, relative to `now` (the emulator clock)."""
    today = midnight(now)
    if operator in NO_VALUE_DATE_OPERATORS:
        return _fixed_range(operator, today, now)
    if operator in ON_OPERATORS:
        day = midnight(parse_datetime(values[0]))
        if operator == "on":
            return DateRange(day, day + DAY)
        if operator == "not-on":
            return DateRange(day, day + DAY, negated=True)
        if operator == "on-or-before":
            return DateRange(None, day + DAY)
        return DateRange(day, None)
    if operator in RELATIVE_OPERATORS:
        return _relative_range(operator, _whole_number(values[0]), today, now)
    if operator in ("between", "not-between"):
        lower = parse_datetime(values[0])
        upper = parse_datetime(values[1])
        negated = operator == "not-between"
        if is_date_only(values[1]):
            return DateRange(lower, upper + DAY, negated=negated)
        return DateRange(lower, upper, upper_inclusive=True, negated=negated)
    raise bad_request(f"The operator '{operator}' is not a date operator.")


def _fixed_range(operator: str, today: datetime, now: datetime) -> DateRange:
    month = today.replace(day=1)
    year = month.replace(month=1)
    ranges = {
        "today": DateRange(today, today + DAY),
        "yesterday": DateRange(today - DAY, today),
        "tomorrow": DateRange(today + DAY, today + 2 * DAY),
        "last-seven-days": DateRange(today - 7 * DAY, now, upper_inclusive=True),
        "next-seven-days": DateRange(now, today + 8 * DAY),
        "this-month": DateRange(month, add_months(month, 1)),
        "last-month": DateRange(add_months(month, -1), month),
        "next-month": DateRange(add_months(month, 1), add_months(month, 2)),
        "this-year": DateRange(year, add_months(year, 12)),
        "last-year": DateRange(add_months(year, -12), year),
        "next-year": DateRange(add_months(year, 12), add_months(year, 24)),
    }
    return ranges[operator]


def _relative_range(operator: str, count: int, today: datetime, now: datetime) -> DateRange:
    unit = operator.rsplit("-", 1)[1]
    if operator.startswith("older-than-"):
        return DateRange(None, _shift(today, unit, -count))
    if unit == "hours":
        hours = timedelta(hours=count)
        if operator.startswith("last-"):
            return DateRange(now - hours, now, upper_inclusive=True)
        return DateRange(now, now + hours, upper_inclusive=True)
    if operator.startswith("last-"):
        return DateRange(_shift(today, unit, -count), now, upper_inclusive=True)
    return DateRange(now, _shift(today, unit, count) + DAY)


def _shift(moment: datetime, unit: str, count: int) -> datetime:
    if unit == "days":
        return moment + count * DAY
    if unit == "weeks":
        return moment + count * 7 * DAY
    if unit == "months":
        return add_months(moment, count)
    return add_months(moment, 12 * count)


def _whole_number(text: str) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        raise bad_request(f"'{text}' is not a whole number.") from None
    if number < 0:
        raise bad_request(f"'{text}' must not be negative.")
    return number
