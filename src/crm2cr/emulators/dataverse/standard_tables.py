"""The standard tables of a Dynamics 365 organisation with the Marketing apps (reference §6).

Columns, option labels (language 1033), object type codes and relationship
names follow the service; only the columns crm2cr and realistic clients use
are present. `install(store)` creates them all in an empty store.
"""

from __future__ import annotations

from crm2cr.emulators.dataverse.marketing_tables import (
    CHANNEL,
    MEMBER_TABLE,
    MEMBER_TYPE,
    campaign,
    campaignactivity,
    campaignactivityitem,
    campaignitem,
    listmember,
    marketing_list,
    marketing_relationships,
)
from crm2cr.emulators.dataverse.metadata import (
    AttributeDef,
    EntityDef,
    boolean,
    datetime_,
    decimal,
    integer,
    lookup,
    memo,
    money,
    new_entity,
    picklist,
    string,
)
from crm2cr.emulators.dataverse.store import Store

__all__ = ["CHANNEL", "MEMBER_TABLE", "MEMBER_TYPE", "install", "tables"]

GENDER = {1: "Male", 2: "Female"}
CONTACT_METHOD = {1: "Any", 2: "Email", 3: "Phone", 4: "Fax", 5: "Mail"}
INDUSTRY = {
    1: "Accounting",
    2: "Agriculture and Non-petrol Natural Resource Extraction",
    3: "Broadcasting Printing and Publishing",
    4: "Brokers",
    5: "Building Supply Retail",
    6: "Business Services",
    7: "Consulting",
    8: "Consumer Services",
    9: "Design, Direction and Creative Management",
    10: "Distributors, Dispatchers and Processors",
    11: "Doctor's Offices and Clinics",
    12: "Durable Manufacturing",
    13: "Eating and Drinking Places",
    14: "Entertainment Retail",
    15: "Equipment Rental and Leasing",
    16: "Financial",
    17: "Food and Tobacco Processing",
    18: "Inbound Capital Intensive Processing",
    19: "Inbound Repair and Services",
    20: "Insurance",
    21: "Legal Services",
    22: "Non-Durable Merchandise Retail",
    23: "Outbound Consumer Service",
    24: "Petrochemical Extraction and Distribution",
    25: "Service Retail",
    26: "SIG Affiliations",
    27: "Social Services",
    28: "Special Outbound Trade Contractors",
    29: "Specialty Realty",
    30: "Transportation",
    31: "Utility Creation and Distribution",
    32: "Vehicle Retail",
    33: "Wholesale",
}
LEAD_SOURCE = {
    1: "Advertisement",
    2: "Employee Referral",
    3: "External Referral",
    4: "Partner",
    5: "Public Relations",
    6: "Seminar",
    7: "Trade Show",
    8: "Web",
    9: "Word of Mouth",
    10: "Other",
}


def _bulk_email(entity: EntityDef) -> None:
    entity.add(boolean("donotbulkemail", true="Do Not Allow", false="Allow"))
    entity.add(boolean("donotemail", true="Do Not Allow", false="Allow"))
    entity.add(boolean("donotphone", true="Do Not Allow", false="Allow"))


def _address(entity: EntityDef) -> None:
    entity.add(string("address1_line1", 250))
    entity.add(string("address1_postalcode", 20))
    entity.add(string("address1_city", 80))
    entity.add(string("address1_stateorprovince", 50))
    entity.add(string("address1_country", 80))


def _currency(entity: EntityDef) -> None:
    entity.add(lookup("transactioncurrencyid", ("transactioncurrency",)))


def organization() -> EntityDef:
    e = new_entity(
        "organization",
        "organizations",
        primary_name="name",
        object_type_code=1019,
        ownership="None",
        with_state=False,
        primary_name_length=160,
    )
    e.add(integer("expirechangetrackingindays", default=7))
    e.add(string("languagecode", 10))
    e.add(lookup("basecurrencyid", ("transactioncurrency",)))
    return e


def businessunit() -> EntityDef:
    e = new_entity(
        "businessunit",
        "businessunits",
        primary_name="name",
        object_type_code=10,
        ownership="None",
        with_state=False,
        primary_name_length=160,
    )
    e.add(lookup("parentbusinessunitid", ("businessunit",)))
    e.add(boolean("isdisabled"))
    return e


def systemuser() -> EntityDef:
    e = new_entity(
        "systemuser",
        "systemusers",
        primary_name="fullname",
        object_type_code=8,
        ownership="None",
        with_state=False,
        primary_name_length=200,
    )
    e.attributes["fullname"].computed = True
    e.attributes["fullname"].valid_for_create = False
    e.attributes["fullname"].valid_for_update = False
    e.add(string("firstname", 64))
    e.add(string("lastname", 64))
    e.add(string("internalemailaddress", 100))
    e.add(string("domainname", 1024))
    e.add(AttributeDef("applicationid", "Uniqueidentifier"))
    e.add(boolean("isdisabled", true="Disabled", false="Enabled"))
    e.add(
        picklist(
            "accessmode",
            {
                0: "Read-Write",
                1: "Administrative",
                2: "Read",
                3: "Support User",
                4: "Non-interactive",
                5: "Delegated Admin",
            },
            default=0,
        )
    )
    e.add(lookup("businessunitid", ("businessunit",), required_level="SystemRequired"))
    return e


def team() -> EntityDef:
    e = new_entity(
        "team",
        "teams",
        primary_name="name",
        object_type_code=9,
        ownership="None",
        with_state=False,
        primary_name_length=160,
    )
    e.add(lookup("businessunitid", ("businessunit",), required_level="SystemRequired"))
    e.add(
        picklist(
            "teamtype",
            {0: "Owner", 1: "Access", 2: "Security Group", 3: "Office Group"},
            default=0,
        )
    )
    e.add(boolean("isdefault"))
    return e


def transactioncurrency() -> EntityDef:
    e = new_entity(
        "transactioncurrency",
        "transactioncurrencies",
        primary_name="currencyname",
        object_type_code=9105,
        ownership="OrganizationOwned",
    )
    e.add(string("isocurrencycode", 5))
    e.add(string("currencysymbol", 10))
    e.add(decimal("exchangerate", precision=10, default=1.0))
    return e


def _person_name(e: EntityDef) -> None:
    full = e.attributes[e.primary_name]
    full.computed = True
    full.valid_for_create = False
    full.valid_for_update = False
    e.add(string("firstname", 50))
    e.add(string("middlename", 50))
    e.add(string("lastname", 50))


def contact() -> EntityDef:
    e = new_entity(
        "contact",
        "contacts",
        primary_name="fullname",
        object_type_code=2,
        primary_name_length=160,
        change_tracking=True,
        display_name="Contact",
        display_collection_name="Contacts",
    )
    _person_name(e)
    e.add(string("salutation", 100))
    e.add(string("jobtitle", 100))
    e.add(string("department", 100))
    for n in (1, 2, 3):
        e.add(string(f"emailaddress{n}", 100))
    e.add(string("telephone1", 50))
    e.add(string("mobilephone", 50))
    e.add(datetime_("birthdate"))
    e.add(picklist("gendercode", GENDER))
    e.add(picklist("preferredcontactmethodcode", CONTACT_METHOD, default=1))
    _bulk_email(e)
    _address(e)
    e.add(lookup("parentcustomerid", ("account", "contact"), "Customer"))
    e.add(memo("description"))
    e.add(money("creditlimit"))
    e.add(integer("numberofchildren", min_value=0, max_value=1_000_000_000))
    _currency(e)
    return e


def account() -> EntityDef:
    e = new_entity(
        "account",
        "accounts",
        primary_name="name",
        object_type_code=1,
        primary_name_length=160,
        change_tracking=True,
        display_name="Account",
        display_collection_name="Accounts",
    )
    e.add(string("accountnumber", 20))
    e.add(string("emailaddress1", 100))
    e.add(string("telephone1", 50))
    e.add(string("websiteurl", 200))
    _bulk_email(e)
    _address(e)
    e.add(lookup("primarycontactid", ("contact",)))
    e.add(lookup("parentaccountid", ("account",)))
    e.add(picklist("industrycode", INDUSTRY))
    e.add(money("revenue"))
    e.add(integer("numberofemployees", min_value=0, max_value=1_000_000_000))
    e.add(memo("description"))
    _currency(e)
    return e


def lead() -> EntityDef:
    e = new_entity(
        "lead",
        "leads",
        primary_name="fullname",
        object_type_code=4,
        primary_name_length=160,
        change_tracking=True,
        display_name="Lead",
        display_collection_name="Leads",
        states={0: "Open", 1: "Qualified", 2: "Disqualified"},
        statuses={
            1: ("New", 0),
            2: ("Contacted", 0),
            3: ("Qualified", 1),
            4: ("Lost", 2),
            5: ("Cannot Contact", 2),
            6: ("No Longer Interested", 2),
            7: ("Canceled", 2),
        },
    )
    _person_name(e)
    e.add(string("subject", 300, required_level="ApplicationRequired"))
    e.add(string("companyname", 100))
    e.add(string("jobtitle", 100))
    e.add(string("emailaddress1", 100))
    e.add(string("telephone1", 50))
    _bulk_email(e)
    _address(e)
    e.add(picklist("leadsourcecode", LEAD_SOURCE))
    e.add(lookup("parentaccountid", ("account",)))
    e.add(lookup("parentcontactid", ("contact",)))
    e.add(memo("description"))
    return e


def publisher() -> EntityDef:
    e = new_entity(
        "publisher",
        "publishers",
        primary_name="friendlyname",
        object_type_code=7101,
        ownership="OrganizationOwned",
        with_state=False,
        primary_name_length=256,
    )
    e.add(string("uniquename", 256))
    e.add(string("customizationprefix", 8))
    e.add(integer("customizationoptionvalueprefix", min_value=10000, max_value=99999))
    e.add(memo("description"))
    return e


def solution() -> EntityDef:
    e = new_entity(
        "solution",
        "solutions",
        primary_name="friendlyname",
        object_type_code=7100,
        ownership="OrganizationOwned",
        with_state=False,
        primary_name_length=256,
    )
    e.add(string("uniquename", 65))
    e.add(string("version", 256))
    e.add(boolean("ismanaged", valid_for_update=False))
    e.add(boolean("isvisible", default=True))
    e.add(lookup("publisherid", ("publisher",)))
    e.add(datetime_("installedon"))
    e.add(memo("description"))
    return e


def importjob() -> EntityDef:
    e = new_entity(
        "importjob",
        "importjobs",
        primary_name="name",
        object_type_code=4428,
        ownership="OrganizationOwned",
        with_state=False,
        primary_name_length=256,
    )
    e.add(string("solutionname", 256))
    e.add(AttributeDef("progress", "Double", precision=2, default=0.0))
    e.add(datetime_("startedon"))
    e.add(datetime_("completedon"))
    e.add(memo("data", 1_073_741_823))
    e.add(AttributeDef("solutionid", "Uniqueidentifier"))
    return e


def tables() -> list[EntityDef]:
    return [
        organization(),
        businessunit(),
        systemuser(),
        team(),
        transactioncurrency(),
        contact(),
        account(),
        lead(),
        marketing_list(),
        listmember(),
        campaign(),
        campaignactivity(),
        campaignitem(),
        campaignactivityitem(),
        publisher(),
        solution(),
        importjob(),
    ]


def install(store: Store) -> None:
    """Create every standard table and relationship in an empty store."""
    with store.transaction():
        for entity in tables():
            store.create_table(entity)
        for relationship in marketing_relationships():
            store.add_many_to_many(relationship)
        store.ensure_index("contact", ("emailaddress1",))
        store.ensure_index("contact", ("parentcustomerid",))
