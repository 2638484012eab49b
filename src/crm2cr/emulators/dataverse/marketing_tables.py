"""Marketing tables of Dynamics 365 (reference §6 list, listmember, campaign, campaignactivity).

Marketing lists with their intersect table `listmember`, campaigns and
campaign activities with theirs, and the N:N relationships between them
(`listcontact_association`, `campaignlist_association`...). standard_tables.py
installs them with the other standard tables.
"""

from __future__ import annotations

from crm2cr.emulators.dataverse.metadata import (
    AttributeDef,
    EntityDef,
    ManyToManyDef,
    boolean,
    datetime_,
    integer,
    lookup,
    memo,
    money,
    new_entity,
    picklist,
    string,
)

CHANNEL = {
    1: "Phone",
    2: "Appointment",
    3: "Letter",
    4: "Letter via Mail Merge",
    5: "Fax",
    6: "Fax via Mail Merge",
    7: "Email",
    8: "Email via Mail Merge",
    9: "Other",
}
MEMBER_TYPE = {1: "Account", 2: "Contact", 4: "Lead"}
MEMBER_TABLE = {1: "account", 2: "contact", 4: "lead"}
CAMPAIGN_TYPE = {
    1: "Advertisement",
    2: "Direct Marketing",
    3: "Event",
    4: "Co-branding",
    5: "Other",
}


def _currency(entity: EntityDef) -> None:
    entity.add(lookup("transactioncurrencyid", ("transactioncurrency",)))


def marketing_list() -> EntityDef:
    e = new_entity(
        "list",
        "lists",
        primary_name="listname",
        object_type_code=4300,
        primary_name_length=128,
        change_tracking=True,
        display_name="Marketing List",
        display_collection_name="Marketing Lists",
        statuses={0: ("Active", 0), 1: ("Inactive", 1)},
    )
    e.add(boolean("type", true="Dynamic", false="Static", valid_for_update=False, default=False))
    e.add(
        picklist(
            "createdfromcode",
            MEMBER_TYPE,
            required_level="SystemRequired",
            valid_for_update=False,
        )
    )
    e.add(memo("query", 1_048_576))
    e.add(
        integer(
            "membercount", valid_for_create=False, valid_for_update=False, computed=True, default=0
        )
    )
    e.add(boolean("lockstatus"))
    e.add(boolean("donotsendonoptout", default=True))
    e.add(boolean("ignoreinactivelistmembers", default=True))
    e.add(string("purpose", 512))
    e.add(string("source", 128))
    e.add(memo("description"))
    e.add(datetime_("lastusedon"))
    e.add(money("cost"))
    _currency(e)
    return e


def listmember() -> EntityDef:
    e = new_entity(
        "listmember",
        "listmembers",
        primary_name="",
        object_type_code=4301,
        ownership="None",
        with_state=False,
        change_tracking=True,
        is_intersect=True,
        supports_retrieve=False,
        supports_update=False,
        display_name="Marketing List Member",
    )
    e.add(lookup("listid", ("list",), required_level="SystemRequired", valid_for_update=False))
    e.add(
        lookup(
            "entityid",
            ("account", "contact", "lead"),
            required_level="SystemRequired",
            valid_for_update=False,
        )
    )
    e.add(AttributeDef("entitytype", "EntityName", valid_for_update=False))
    return e


def campaign() -> EntityDef:
    e = new_entity(
        "campaign",
        "campaigns",
        primary_name="name",
        object_type_code=4400,
        primary_name_length=128,
        display_name="Campaign",
        display_collection_name="Campaigns",
        statuses={
            0: ("Proposed", 0),
            1: ("Ready To Launch", 0),
            2: ("Launched", 0),
            3: ("Completed", 0),
            4: ("Canceled", 0),
            5: ("Suspended", 0),
            6: ("Inactive", 1),
        },
    )
    e.add(string("codename", 32))
    e.add(picklist("typecode", CAMPAIGN_TYPE))
    e.add(money("budgetedcost"))
    e.add(datetime_("proposedstart"))
    e.add(datetime_("proposedend"))
    e.add(datetime_("actualstart"))
    e.add(datetime_("actualend"))
    e.add(boolean("istemplate"))
    e.add(memo("description"))
    _currency(e)
    return e


def campaignactivity() -> EntityDef:
    e = new_entity(
        "campaignactivity",
        "campaignactivities",
        primary_id="activityid",
        primary_name="subject",
        object_type_code=4402,
        primary_name_length=200,
        change_tracking=True,
        is_activity=True,
        display_name="Campaign Activity",
        display_collection_name="Campaign Activities",
        states={0: "Open", 1: "Closed", 2: "Canceled"},
        statuses={
            0: ("In Progress", 0),
            1: ("Proposed", 0),
            4: ("Pending", 0),
            5: ("System Aborted", 0),
            6: ("Completed", 0),
            2: ("Closed", 1),
            3: ("Canceled", 2),
        },
    )
    e.add(
        lookup(
            "regardingobjectid",
            ("campaign",),
            required_level="SystemRequired",
            valid_for_update=False,
        )
    )
    e.add(picklist("channeltypecode", CHANNEL, required_level="SystemRequired"))
    e.add(
        picklist(
            "typecode",
            {
                1: "Research",
                2: "Content Preparation",
                3: "Target Marketing",
                4: "Lead Qualification",
                5: "Content Distribution",
                6: "Direct Initial Contact",
                7: "Direct Follow-Up Contact",
                8: "Reminder Distribution",
            },
        )
    )
    e.add(memo("description"))
    e.add(datetime_("scheduledstart"))
    e.add(datetime_("scheduledend"))
    e.add(datetime_("actualstart"))
    e.add(datetime_("actualend"))
    e.add(money("budgetedcost"))
    e.add(boolean("ignoreinactivelistmembers", default=True))
    e.add(boolean("donotsendonoptout", default=True))
    e.add(
        string(
            "activitytypecode",
            64,
            valid_for_create=False,
            valid_for_update=False,
            default="campaignactivity",
        )
    )
    _currency(e)
    return e


def campaignitem() -> EntityDef:
    e = new_entity(
        "campaignitem",
        "campaignitems",
        primary_name="",
        object_type_code=4403,
        ownership="None",
        with_state=False,
        is_intersect=True,
        display_name="Campaign Item",
    )
    e.add(lookup("campaignid", ("campaign",), required_level="SystemRequired"))
    e.add(lookup("entityid", ("list",), required_level="SystemRequired"))
    e.add(integer("entitytype"))
    return e


def campaignactivityitem() -> EntityDef:
    e = new_entity(
        "campaignactivityitem",
        "campaignactivityitems",
        primary_name="",
        object_type_code=4404,
        ownership="None",
        with_state=False,
        is_intersect=True,
        display_name="Campaign Activity Item",
    )
    e.add(lookup("campaignactivityid", ("campaignactivity",), required_level="SystemRequired"))
    e.add(lookup("itemid", ("list",), required_level="SystemRequired"))
    e.add(integer("itemobjecttypecode"))
    return e


def marketing_relationships() -> list[ManyToManyDef]:
    members = [
        ManyToManyDef(
            f"list{member}_association",
            "list",
            member,
            "listmember",
            "listid",
            "entityid",
            f"list{member}_association",
            f"list{member}_association",
        )
        for member in ("contact", "account", "lead")
    ]
    return [
        *members,
        ManyToManyDef(
            "campaignlist_association",
            "campaign",
            "list",
            "campaignitem",
            "campaignid",
            "entityid",
            "campaignlist_association",
            "campaignlist_association",
        ),
        ManyToManyDef(
            "campaignactivitylist_association",
            "campaignactivity",
            "list",
            "campaignactivityitem",
            "campaignactivityid",
            "itemid",
            "campaignactivitylist_association",
            "campaignactivitylist_association",
        ),
    ]
