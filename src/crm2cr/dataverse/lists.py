"""Marketing lists: reading members and changing static lists (reference §6, §10, §11).

A static list stores its members (`listmember` rows behind the N:N navigation
`list{contact|account|lead}_association`); a dynamic list's members are the
result of its FetchXML `query`, which is run with our columns and paged.
Membership changes go through `$batch` with continue-on-error, so each member
gets its own result: AddMemberList (which adds no second row for an existing
member, so it is safe to repeat) and the disassociate `$ref` path, which the
reference recommends over the contradictory RemoveMemberList.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from crm2cr.dataverse.batch import Operation
from crm2cr.dataverse.models import MarketingList, MemberType, Outcome, Record
from crm2cr.dataverse.paging import parse_fetch
from crm2cr.dataverse.query import Query, col, guid, key_segment, name
from crm2cr.errors import InvalidInput

if TYPE_CHECKING:
    from crm2cr.dataverse.client import DataverseClient

LIST_COLUMNS = (
    "listid",
    "listname",
    "type",
    "createdfromcode",
    "query",
    "membercount",
    "lockstatus",
    "statecode",
)


def member_fetch(fetch_xml: str, member_type: MemberType, select: Sequence[str]) -> str:
    """A dynamic list's query returning our columns, ordered by id for stable paging."""
    root = parse_fetch(fetch_xml)
    entity = root.find("entity")
    assert entity is not None
    if entity.get("name") != member_type.logical_name:
        raise InvalidInput(
            f"The list's query selects {entity.get('name')!r}, not {member_type.logical_name}s."
        )
    for holder in [entity, *entity.iter("link-entity")]:
        for child in list(holder):
            if child.tag in ("attribute", "all-attributes"):
                holder.remove(child)
    columns = [member_type.primary_id, *(c for c in select if c != member_type.primary_id)]
    for position, column in enumerate(columns):
        entity.insert(position, ET.Element("attribute", {"name": name(column)}))
    if not any(child.tag == "order" for child in entity):
        entity.append(ET.Element("order", {"attribute": member_type.primary_id}))
    return ET.tostring(root, encoding="unicode")


class MarketingLists:
    def __init__(self, client: DataverseClient) -> None:
        self.client = client

    def get(self, list_id: str) -> MarketingList:
        return MarketingList.from_record(self.client.get("lists", list_id, select=LIST_COLUMNS))

    def all(self, *, active_only: bool = True) -> Iterator[MarketingList]:
        query = Query(
            select=LIST_COLUMNS,
            filter=col("statecode").eq(0) if active_only else None,
            orderby=(("listname", False),),
        )
        for row in self.client.rows("lists", query):
            yield MarketingList.from_record(row)

    def create_static(self, list_id: str, listname: str, member_type: MemberType) -> str:
        """A static list under a chosen id (PATCH upsert: a repeat makes no second list)."""
        return self.client.records.upsert(
            "lists",
            list_id,
            {"listname": listname, "type": False, "createdfromcode": member_type.value},
        )

    def members(
        self,
        marketing_list: MarketingList,
        select: Sequence[str],
        *,
        annotations: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Record]:
        """The members' rows with the given columns, page by page (static or dynamic)."""
        member_type = marketing_list.member_type
        if marketing_list.dynamic:
            if not marketing_list.query:
                raise InvalidInput(f"The dynamic list {marketing_list.listname!r} has no query.")
            yield from self.client.fetch_rows(
                member_fetch(marketing_list.query, member_type, select),
                entity_set=member_type.entity_set,
                annotations=annotations,
                page_size=page_size,
            )
            return
        columns = [member_type.primary_id, *(c for c in select if c != member_type.primary_id)]
        yield from self.client.rows(
            member_type.entity_set,
            Query(select=columns),
            annotations=annotations,
            page_size=page_size,
            path=f"{key_segment('lists', marketing_list.listid)}/{member_type.association}",
        )

    def member_ids(self, list_id: str, *, page_size: int | None = None) -> Iterator[str]:
        """Ids of a static list's members from its `listmember` rows (§6)."""
        query = Query(select=("_entityid_value",), filter=col("_listid_value").eq_guid(list_id))
        for row in self.client.rows("listmembers", query, page_size=page_size):
            value = row.get("_entityid_value")
            if value:
                yield str(value).lower()

    def add_members(
        self, list_id: str, member_ids: Iterable[str], *, chunk_size: int | None = None
    ) -> Outcome:
        """AddMemberList per member, in $batch chunks; one result per member, in order."""
        path = f"{key_segment('lists', list_id)}/Microsoft.Dynamics.CRM.AddMemberList"
        operations = [
            Operation("POST", path, {"EntityId": guid(m)}, repeatable=True) for m in member_ids
        ]
        return self.client.batches.run(operations, chunk_size=chunk_size)

    def remove_members(
        self,
        list_id: str,
        member_type: MemberType,
        member_ids: Iterable[str],
        *,
        chunk_size: int | None = None,
    ) -> Outcome:
        """Disassociate each member (§11's client path); one result per member, in order."""
        base = f"{key_segment('lists', list_id)}/{member_type.association}"
        operations = [Operation("DELETE", f"{base}({guid(m)})/$ref") for m in member_ids]
        return self.client.batches.run(operations, chunk_size=chunk_size)

    def add_members_at_once(
        self, list_id: str, member_type: MemberType, member_ids: Sequence[str]
    ) -> None:
        """AddListMembersList: many members in one call, without per-member results."""
        self.client.call_action(
            "AddListMembersList",
            {
                "List": {"@odata.type": "Microsoft.Dynamics.CRM.list", "listid": guid(list_id)},
                "Members": [
                    {
                        "@odata.type": f"Microsoft.Dynamics.CRM.{member_type.logical_name}",
                        member_type.primary_id: guid(m),
                    }
                    for m in member_ids
                ],
            },
            idempotent=True,
        )
