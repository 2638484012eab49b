"""Change tracking: `Prefer: odata.track-changes` and delta links (reference §12.1).

First request: every row (paged by nextLink as usual) and, on the last page,
`@odata.deltaLink` whose `$deltatoken` is `{versionnumber}!{MM/dd/yyyy HH:mm:ss}`.
Following it returns the rows changed since (ordered by version), then
`$deletedEntity` entries for rows deleted since, and a new deltaLink.
Tokens older than `organization.expirechangetrackingindays` (7), or not
readable, are 400 `0x80044352`: the client must sync fully again.
Only tables with change tracking enabled answer; `$filter`, `$orderby`,
`$expand` and `$top` are refused with the service's message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote

from crm2cr.emulators.dataverse import paging
from crm2cr.emulators.dataverse.errors import (
    bad_request,
    expired_version_stamp,
    unsupported_with_change_tracking,
)
from crm2cr.emulators.dataverse.metadata import EntityDef
from crm2cr.emulators.dataverse.query import check_options, parse_select
from crm2cr.emulators.dataverse.reads import (
    STREAMING_TYPE,
    fetch_page,
    needed_columns,
    text_response,
)
from crm2cr.emulators.dataverse.serialize import Formatter, context_url
from crm2cr.emulators.dataverse.store import Row, quote
from crm2cr.emulators.dataverse.wire import InternalResponse, Request, json_response

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

REFUSED = ("$filter", "$orderby", "$expand", "$top")
STAMP_FORMAT = "%m/%d/%Y %H:%M:%S"


def make_token(version: int, moment: datetime) -> str:
    return f"{version}!{moment.strftime(STAMP_FORMAT)}"


def parse_token(emu: DataverseEmulator, text: str) -> int:
    """The version a delta token stands for; expired or unreadable → 0x80044352."""
    version_text, sep, stamp = text.partition("!")
    try:
        version = int(version_text)
        issued = datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise expired_version_stamp() from None
    if not sep or version < 0 or version > emu.store.version:
        raise expired_version_stamp()
    days = emu.store.scalar('SELECT expirechangetrackingindays FROM "organization" LIMIT 1')
    if emu.clock.now() - issued > timedelta(days=int(days or 7)):
        raise expired_version_stamp()
    return version


def _check(request: Request, entity: EntityDef) -> None:
    if not entity.change_tracking:
        raise bad_request(
            f"Change tracking is not enabled for the entity '{entity.logical_name}'. "
            "Enable it before asking for changes."
        )
    check_options(request.query)
    for option in REFUSED:
        if option in request.query:
            raise unsupported_with_change_tracking(option)


def delta_link(request: Request, version: int, emu: DataverseEmulator) -> str:
    token = make_token(version, emu.clock.now())
    parts = (
        [f"$select={url_quote(request.query['$select'], safe=paging.SAFE)}"]
        if ("$select" in request.query)
        else []
    )
    parts.append(f"$deltatoken={url_quote(token, safe='')}")
    return f"{request.api_root}/{request.path}?{'&'.join(parts)}"


def read_changes(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    _check(request, entity)
    if "$deltatoken" in request.query:
        return _delta(emu, request, entity)
    return _initial(emu, request, entity)


def _initial(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    select = parse_select(entity, request.query.get("$select"))
    token = (
        paging.decode_token(request.query["$skiptoken"]) if "$skiptoken" in request.query else None
    )
    snapshot = (
        int((token.extra or {}).get("upto", emu.store.version)) if token else emu.store.version
    )
    rows, more = fetch_page(
        emu,
        entity,
        ["t0.versionnumber <= ?"],
        [snapshot],
        [],
        request.prefer.page_size(),
        token.values if token else None,
        needed_columns(entity, select),
    )
    formatter = Formatter(emu, request.prefer)
    formatter.prime(rows, select)
    body: dict[str, Any] = {
        "@odata.context": context_url(
            request.api_root, entity.entity_set, select if "$select" in request.query else None
        ),
        "value": [formatter.entity(entity, row, select) for row in rows],
    }
    if more and rows:
        cookie = paging.encode_token(
            paging.PageToken(
                (token.page if token else 1) + 1,
                [rows[-1][entity.primary_id]],
                tracking=True,
                extra={"upto": snapshot},
            )
        )
        body["@odata.nextLink"] = paging.next_link(
            request.api_root, request.path, request.query, cookie
        )
    else:
        body["@odata.deltaLink"] = delta_link(request, snapshot, emu)
    return _answer(body, request)


def _answer(body: dict[str, Any], request: Request) -> InternalResponse:
    applied = ",".join(
        p for p in ("odata.track-changes", request.prefer.applied(page_size=True)) if p
    )
    return json_response(
        body, headers={"Content-Type": STREAMING_TYPE, "Preference-Applied": applied}
    )


def _changed_rows(
    emu: DataverseEmulator, entity: EntityDef, since: int, upto: int, after: int, limit: int
) -> list[Row]:
    return emu.store.query(
        f"SELECT * FROM {quote(entity.logical_name)} WHERE versionnumber > ? "
        "AND versionnumber <= ? ORDER BY versionnumber LIMIT ?",
        (max(since, after), upto, limit),
    )


def _deleted(
    emu: DataverseEmulator, entity: EntityDef, since: int, upto: int, after: int, limit: int
) -> list[Row]:
    return emu.store.query(
        "SELECT d.id AS id, d.versionnumber AS versionnumber FROM _deleted d "
        "WHERE d.entity = ? AND d.versionnumber > ? AND d.versionnumber <= ? "
        f"AND NOT EXISTS (SELECT 1 FROM {quote(entity.logical_name)} t "
        f"WHERE t.{quote(entity.primary_id)} = d.id) "
        "ORDER BY d.versionnumber LIMIT ?",
        (entity.logical_name, max(since, after), upto, limit),
    )


def _delta(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    since = parse_token(emu, request.query["$deltatoken"])
    select = parse_select(entity, request.query.get("$select"))
    token = (
        paging.decode_token(request.query["$skiptoken"]) if "$skiptoken" in request.query else None
    )
    extra = (token.extra or {}) if token else {}
    upto = int(extra.get("upto", emu.store.version))
    phase = str(extra.get("phase", "rows"))
    after = int(token.values[0]) if token and token.values else since
    limit = request.prefer.page_size()
    formatter = Formatter(emu, request.prefer)
    values: list[dict[str, Any]] = []
    following: tuple[str, int] | None = None
    deleted_after = after
    if phase == "rows":
        # Updates first (by version), then deletions, as the service orders them.
        rows = _changed_rows(emu, entity, since, upto, after, limit + 1)
        if len(rows) > limit:
            rows = rows[:limit]
            following = ("rows", int(rows[-1]["versionnumber"]))
        formatter.prime(rows, select)
        values = [formatter.entity(entity, row, select) for row in rows]
        deleted_after = since
    if following is None:
        deleted_context = f"{request.api_root}/$metadata#{entity.entity_set}/$deletedEntity"
        room = limit - len(values)
        deleted = _deleted(emu, entity, since, upto, deleted_after, room + 1)
        if len(deleted) > room:
            deleted = deleted[:room]
            last = int(deleted[-1]["versionnumber"]) if deleted else deleted_after
            following = ("deleted", last)
        values.extend(
            {
                "@odata.context": deleted_context,
                "id": row["id"],
                "reason": "deleted",
            }
            for row in deleted
        )
    context = context_url(
        request.api_root, entity.entity_set, select if "$select" in request.query else None
    )
    body: dict[str, Any] = {"@odata.context": f"{context}/$delta", "value": values}
    if following is not None:
        cookie = paging.encode_token(
            paging.PageToken(
                (token.page if token else 1) + 1,
                [following[1]],
                tracking=True,
                extra={"upto": upto, "phase": following[0]},
            )
        )
        body["@odata.nextLink"] = paging.next_link(
            request.api_root, request.path, request.query, cookie
        )
    else:
        body["@odata.deltaLink"] = delta_link(request, upto, emu)
    return _answer(body, request)


def count_changes(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    _check(request, entity)
    since = parse_token(emu, request.query["$deltatoken"])
    upto = emu.store.version
    changed = emu.store.scalar(
        f"SELECT COUNT(*) FROM {quote(entity.logical_name)} WHERE versionnumber > ? "
        "AND versionnumber <= ?",
        (since, upto),
    )
    deleted = len(_deleted(emu, entity, since, upto, since, 1_000_000))
    return text_response(str(int(changed or 0) + deleted))
