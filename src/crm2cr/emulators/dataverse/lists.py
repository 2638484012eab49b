"""Marketing-list membership (reference §6 list/listmember, §7.5, §10, §11, §17.6–8).

A static list's members are `listmember` rows (`listid` → list, `entityid`
→ the member, `entitytype` its table); `membercount` on the list is kept
current with every change. Every way in or out ends here:
AddMemberList, AddListMembersList, RemoveMemberList, QualifyMemberList,
associate/disassociate `$ref`, `POST`/`DELETE /listmembers`.

Rules (§17.7): adding to a dynamic, locked or inactive list → 400
`0x80040203`; a member that is not a row of the list's member type → 404
`0x80040217`; adding an existing member answers its listmember id and adds
no row. Other N:N relationships (campaign ↔ list, campaign activity ↔ list)
get plain intersect rows.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.dataverse.errors import (
    bad_request,
    list_cannot_take_members,
    record_not_found,
)
from crm2cr.emulators.dataverse.keys import parse_guid
from crm2cr.emulators.dataverse.metadata import EntityDef, ManyToManyDef
from crm2cr.emulators.dataverse.records import new_row
from crm2cr.emulators.dataverse.router import dynamic_list_member_ids, require_access
from crm2cr.emulators.dataverse.standard_tables import MEMBER_TABLE
from crm2cr.emulators.dataverse.store import Row, quote
from crm2cr.emulators.dataverse.wire import (
    Caller,
    InternalResponse,
    Request,
    json_response,
    no_content,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator


def get_list(emu: DataverseEmulator, list_id: str) -> Row:
    row = emu.store.get("list", list_id)
    if row is None:
        raise record_not_found("list", list_id)
    return row


def member_table(list_row: Row) -> str:
    return MEMBER_TABLE.get(int(list_row.get("createdfromcode") or 0), "contact")


def check_changeable(list_row: Row) -> None:
    if list_row.get("type"):
        raise list_cannot_take_members(
            "Members cannot be added to or removed from a dynamic marketing list."
        )
    if list_row.get("lockstatus"):
        raise list_cannot_take_members("The marketing list is locked; members cannot be changed.")
    if list_row.get("statecode"):
        raise list_cannot_take_members("The marketing list is inactive; members cannot be changed.")


def refresh_member_count(emu: DataverseEmulator, list_id: str) -> None:
    count = emu.store.scalar('SELECT COUNT(*) FROM "listmember" WHERE listid = ?', (list_id,))
    emu.store.update("list", list_id, {"membercount": int(count or 0)})


def find_membership(emu: DataverseEmulator, list_id: str, member_id: str) -> str | None:
    found = emu.store.scalar(
        'SELECT listmemberid FROM "listmember" WHERE listid = ? AND entityid = ? LIMIT 1',
        (list_id, member_id),
    )
    return str(found) if found is not None else None


def add_member(
    emu: DataverseEmulator,
    list_row: Row,
    member_id: str,
    caller: Caller,
    *,
    table: str | None = None,
) -> str:
    """Add one member to a static list; returns the listmember id (existing or new)."""
    list_id = str(list_row["listid"])
    expected = member_table(list_row)
    check_changeable(list_row)
    if table is not None and table != expected:
        raise record_not_found(expected, member_id)
    if not emu.store.exists(expected, member_id):
        raise record_not_found(expected, member_id)
    require_access(emu, caller, "Append", emu.metadata.require("list"))
    require_access(emu, caller, "AppendTo", emu.metadata.require(expected))
    existing = find_membership(emu, list_id, member_id)
    if existing is not None:
        return existing
    return _insert_member(emu, list_id, member_id, expected, caller, None)


def _insert_member(
    emu: DataverseEmulator,
    list_id: str,
    member_id: str,
    table: str,
    caller: Caller,
    listmember_id: str | None,
) -> str:
    entity = emu.metadata.require("listmember")
    new_id = listmember_id or str(uuid.uuid4())
    row = new_row(
        entity,
        {
            "listmemberid": new_id,
            "listid": list_id,
            "listid__type": "list",
            "entityid": member_id.lower(),
            "entityid__type": table,
            "entitytype": table,
        },
        user_id=caller.systemuserid,
        business_unit_id=caller.businessunitid,
    )
    emu.store.insert("listmember", row)
    refresh_member_count(emu, list_id)
    return new_id


def remove_member(emu: DataverseEmulator, list_row: Row, member_or_listmember_id: str) -> bool:
    """Remove by member id or listmember id (§17.6); False when it was not a member."""
    check_changeable(list_row)
    list_id = str(list_row["listid"])
    found = emu.store.scalar(
        'SELECT listmemberid FROM "listmember" WHERE listid = ? '
        "AND (entityid = ? OR listmemberid = ?)",
        (list_id, member_or_listmember_id, member_or_listmember_id),
    )
    if found is None:
        return False
    emu.store.delete("listmember", str(found))
    refresh_member_count(emu, list_id)
    return True


def create_listmember(emu: DataverseEmulator, values: Row, caller: Caller) -> str:
    """`POST /listmembers` with `listid@odata.bind` and `entityid_<table>@odata.bind`."""
    list_id, member_id = values.get("listid"), values.get("entityid")
    if not list_id or not member_id:
        raise bad_request("A listmember needs listid and entityid.")
    list_row = get_list(emu, str(list_id))
    table = str(values.get("entityid__type") or member_table(list_row))
    existing = find_membership(emu, str(list_id), str(member_id))
    if existing is not None:
        return existing
    add_member(emu, list_row, str(member_id), caller, table=table)
    found = find_membership(emu, str(list_id), str(member_id))
    assert found is not None
    if values.get("listmemberid") and found != values["listmemberid"]:
        emu.store.execute(
            'UPDATE "listmember" SET listmemberid = ? WHERE listmemberid = ?',
            (values["listmemberid"], found),
        )
        return str(values["listmemberid"])
    return found


def delete_listmember(emu: DataverseEmulator, listmember_id: str) -> None:
    row = emu.store.query(
        'SELECT listid FROM "listmember" WHERE listmemberid = ?', (listmember_id,)
    )
    if not row:
        raise record_not_found("listmember", listmember_id)
    list_row = get_list(emu, str(row[0]["listid"]))
    check_changeable(list_row)
    emu.store.delete("listmember", listmember_id)
    refresh_member_count(emu, str(list_row["listid"]))


def delete_intersect_rows(
    emu: DataverseEmulator, relationship: ManyToManyDef, column: str, record_id: str
) -> None:
    """Intersect rows of a deleted record (a deleted list or member leaves every list)."""
    intersect = emu.metadata.require(relationship.intersect)
    rows = emu.store.query(
        f"SELECT * FROM {quote(intersect.logical_name)} WHERE {quote(column)} = ?", (record_id,)
    )
    lists_touched: set[str] = set()
    for row in rows:
        emu.store.delete(intersect.logical_name, row[intersect.primary_id])
        if intersect.logical_name == "listmember" and row.get("listid") != record_id:
            lists_touched.add(str(row["listid"]))
    for list_id in lists_touched:
        if emu.store.exists("list", list_id):
            refresh_member_count(emu, list_id)


# -- associate / disassociate (§7.5) ---------------------------------------------------------


def associate(
    emu: DataverseEmulator,
    entity: EntityDef,
    record_id: str,
    navigation: str,
    target: EntityDef,
    target_id: str,
    caller: Caller,
) -> None:
    relationship = entity.many_to_many[navigation]
    other = relationship.other(entity.logical_name)
    if target.logical_name != other:
        raise bad_request(
            f"The navigation property '{navigation}' relates {entity.logical_name} to {other}, "
            f"not to {target.logical_name}."
        )
    first, second = (
        (record_id, target_id)
        if entity.logical_name == relationship.entity1
        else (target_id, record_id)
    )
    if relationship.intersect == "listmember":
        add_member(emu, get_list(emu, first), second, caller, table=relationship.entity2)
        return
    require_access(emu, caller, "Append", emu.metadata.require(relationship.entity1))
    require_access(emu, caller, "AppendTo", emu.metadata.require(relationship.entity2))
    a, b = relationship.entity1_attribute, relationship.entity2_attribute
    exists = emu.store.scalar(
        f"SELECT 1 FROM {quote(relationship.intersect)} WHERE {quote(a)} = ? AND {quote(b)} = ?",
        (first, second),
    )
    if exists:
        return
    intersect = emu.metadata.require(relationship.intersect)
    values: dict[str, Any] = {
        intersect.primary_id: str(uuid.uuid4()),
        a: first,
        f"{a}__type": relationship.entity1,
        b: second,
        f"{b}__type": relationship.entity2,
    }
    emu.store.insert(
        intersect.logical_name,
        new_row(
            intersect, values, user_id=caller.systemuserid, business_unit_id=caller.businessunitid
        ),
    )


def disassociate(
    emu: DataverseEmulator,
    entity: EntityDef,
    record_id: str,
    navigation: str,
    target_id: str,
    caller: Caller,
) -> None:
    relationship = entity.many_to_many[navigation]
    first, second = (
        (record_id, target_id)
        if entity.logical_name == relationship.entity1
        else (target_id, record_id)
    )
    require_access(emu, caller, "Append", emu.metadata.require(relationship.entity1))
    if relationship.intersect == "listmember":
        list_row = get_list(emu, first)
        if not remove_member(emu, list_row, second):
            raise record_not_found(relationship.entity2, second)
        return
    intersect = emu.metadata.require(relationship.intersect)
    a, b = relationship.entity1_attribute, relationship.entity2_attribute
    rows = emu.store.query(
        f"SELECT {quote(intersect.primary_id)} AS id FROM {quote(intersect.logical_name)} "
        f"WHERE {quote(a)} = ? AND {quote(b)} = ?",
        (first, second),
    )
    if not rows:
        raise record_not_found(relationship.entity2, second)
    for row in rows:
        emu.store.delete(intersect.logical_name, row["id"])


# -- actions (§10) ------------------------------------------------------------------------


def _entity_id(value: Any, what: str) -> str:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("id") and isinstance(item, str) and not key.startswith("@"):
                return parse_guid(item)
    if isinstance(value, str):
        return parse_guid(value)
    raise bad_request(f"The parameter '{what}' is missing or not an entity id.")


def add_member_list(emu: DataverseEmulator, request: Request, list_id: str) -> InternalResponse:
    body = request.json_object()
    member_id = _entity_id(body.get("EntityId"), "EntityId")
    with emu.store.transaction():
        listmember_id = add_member(emu, get_list(emu, list_id), member_id, request.caller)
    return json_response(
        {
            "@odata.context": (
                f"{request.api_root}/$metadata#Microsoft.Dynamics.CRM.AddMemberListResponse"
            ),
            "Id": listmember_id,
        }
    )


def remove_member_list(emu: DataverseEmulator, request: Request, list_id: str) -> InternalResponse:
    body = request.json_object()
    if "EntityId" in body:
        member_id = _entity_id(body["EntityId"], "EntityId")
    elif isinstance(body.get("ListMember"), dict):
        member_id = _entity_id(body["ListMember"], "ListMember")
    else:
        raise bad_request("RemoveMemberList needs EntityId or ListMember.")
    require_access(emu, request.caller, "Append", emu.metadata.require("list"))
    with emu.store.transaction():
        remove_member(emu, get_list(emu, list_id), member_id)
    return no_content()


def add_list_members_list(emu: DataverseEmulator, request: Request) -> InternalResponse:
    body = request.json_object()
    list_id = _entity_id(body.get("List"), "List")
    members = body.get("Members")
    if not isinstance(members, list) or not members:
        raise bad_request("AddListMembersList needs Members, a non-empty list of entities.")
    with emu.store.transaction():
        list_row = get_list(emu, list_id)
        for member in members:
            table = None
            if isinstance(member, dict) and isinstance(member.get("@odata.type"), str):
                table = member["@odata.type"].rsplit(".", 1)[-1].lstrip("#")
            add_member(emu, list_row, _entity_id(member, "Members"), request.caller, table=table)
            list_row = get_list(emu, list_id)
    return no_content()


def qualify_member_list(emu: DataverseEmulator, request: Request, list_id: str) -> InternalResponse:
    """Keep only the given members (OverrideorRemove true) or remove them (false)."""
    body = request.json_object()
    members = body.get("ListMember") or body.get("MembersId") or []
    if not isinstance(members, list):
        raise bad_request("QualifyMemberList needs ListMember, a list of entities.")
    ids = {_entity_id(m, "ListMember") for m in members}
    keep = bool(body.get("OverrideorRemove", True))
    with emu.store.transaction():
        list_row = get_list(emu, list_id)
        check_changeable(list_row)
        current = emu.store.query(
            'SELECT listmemberid, entityid FROM "listmember" WHERE listid = ?', (list_id,)
        )
        for row in current:
            if (row["entityid"] in ids) != keep:
                emu.store.delete("listmember", row["listmemberid"])
        refresh_member_count(emu, list_id)
    return no_content()


def copy_dynamic_list_to_static(
    emu: DataverseEmulator, request: Request, list_id: str
) -> InternalResponse:
    require_access(emu, request.caller, "Create", emu.metadata.require("list"))
    with emu.store.transaction():
        source = get_list(emu, list_id)
        if not source.get("type"):
            raise bad_request("CopyDynamicListToStatic needs a dynamic marketing list.")
        ids = dynamic_list_member_ids(emu, source)
        entity = emu.metadata.require("list")
        new_id = str(uuid.uuid4())
        values = {
            k: source.get(k)
            for k in ("listname", "purpose", "createdfromcode", "description", "source")
        }
        values.update({"listid": new_id, "type": 0, "query": None, "membercount": 0})
        emu.store.insert(
            "list",
            new_row(
                entity,
                values,
                user_id=request.caller.systemuserid,
                business_unit_id=request.caller.businessunitid,
            ),
        )
        table = member_table(source)
        for member_id in ids:
            _insert_member(emu, new_id, member_id, table, request.caller, None)
        refresh_member_count(emu, new_id)
    return json_response(
        {
            "@odata.context": (
                f"{request.api_root}/$metadata#Microsoft.Dynamics.CRM.CopyDynamicListToStaticResponse"
            ),
            "StaticListId": new_id,
        }
    )
