"""Request headers Dataverse expects (reference §3), and the `Prefer` values it knows."""

from __future__ import annotations

from collections.abc import Iterable

STANDARD_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}
JSON_CONTENT = "application/json; charset=utf-8"

RETURN_REPRESENTATION = "return=representation"
TRACK_CHANGES = "odata.track-changes"
CONTINUE_ON_ERROR = "odata.continue-on-error"

# Annotation sets for `include_annotations`: all of them, or only what mapping labels need.
ALL_ANNOTATIONS = "*"
FORMATTED_VALUES = "OData.Community.Display.V1.FormattedValue"
LOOKUP_NAMES = "Microsoft.Dynamics.CRM.lookuplogicalname"
LABELS = f"{FORMATTED_VALUES},{LOOKUP_NAMES}"
FETCH_PAGING = "Microsoft.Dynamics.CRM.*"  # fetchxmlpagingcookie, morerecords


def max_page_size(rows: int) -> str:
    return f"odata.maxpagesize={int(rows)}"


def include_annotations(names: str) -> str:
    return f'odata.include-annotations="{names}"'


def prefer(values: Iterable[str]) -> str:
    """Several preferences in one header, comma-separated (§3); duplicates dropped."""
    unique: list[str] = []
    for value in values:
        if value and value not in unique:
            unique.append(value)
    return ",".join(unique)


def merge_annotations(*names: str | None) -> str | None:
    """One include-annotations value covering every requested set; '*' covers all."""
    wanted: list[str] = []
    for group in names:
        for item in (group or "").split(","):
            item = item.strip()
            if item == ALL_ANNOTATIONS:
                return ALL_ANNOTATIONS
            if item and item not in wanted:
                wanted.append(item)
    return ",".join(wanted) or None
