"""The seeded organisations `empty` and `demo` (reference §17.19, SPEC §6).

`empty`: the organisation, its root business unit, the euro, and one
application user "crm2cr app" (System Administrator; roles come from
security.seed_security). No marketing lists, no crm2cr solution.

`demo`: `empty` plus realistic data built from emulators/common/demo_people.py
(the same people the CleverReach demo account knows): 5 users, 60 accounts,
the 400 people as contacts (some inactive, some opted out of bulk e-mail,
3 extra contacts that share an e-mail with another contact), 40 leads,
static contact/account/lead lists, one dynamic contact list and two campaigns
with activities. Every id is derived from a name, so the demo is the same on
every start.

Credentials of the seeded identities (strict auth, auth.py): the application
user signs in with APP_CLIENT_ID / APP_CLIENT_SECRET; demo users with their
`internalemailaddress` and DEMO_PASSWORD. They are fixed development values
of a local emulator, not secrets.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any

from crm2cr.emulators.common import demo_people
from crm2cr.emulators.dataverse import EMULATOR_ORGANISATION_ID, standard_tables
from crm2cr.emulators.dataverse.records import new_row
from crm2cr.emulators.dataverse.store import Row

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

ROOT_BUSINESS_UNIT_ID = "c2c2c2c2-0000-4000-8000-0000000b0001"
APP_USER_ID = "c2c2c2c2-0000-4000-8000-0000000a0001"
APP_CLIENT_ID = "c2c2c2c2-0000-4000-8000-00000000c11e"
APP_CLIENT_SECRET = "crm2cr-emulator-client-secret"
EURO_ID = "c2c2c2c2-0000-4000-8000-0000000e0001"
DEMO_PASSWORD = "demo"
ORGANISATION_NAME = "crm2cr Emulator"
DEMO_DOMAIN = "crm2cr-demo.example"

_DEMO_NAMESPACE = uuid.UUID("6f1f0a51-97a2-4a39-8c1e-c2c2c2c2c2c2")


def demo_id(kind: str, key: object) -> str:
    return str(uuid.uuid5(_DEMO_NAMESPACE, f"{kind}/{key}"))


def seed(emu: DataverseEmulator, name: str) -> None:
    """Create the standard tables and the seed's rows in an empty store."""
    with emu.store.transaction():
        standard_tables.install(emu.store)
        seed_empty(emu)
        if name == "demo":
            seed_demo(emu)
        seed_roles(emu)
        emu.store.set_org_value("seed", name)


def seed_roles(emu: DataverseEmulator) -> None:
    from crm2cr.emulators.dataverse import security

    security.seed_security(emu)


def _insert(
    emu: DataverseEmulator, table: str, rows: list[Row], user_id: str = APP_USER_ID
) -> None:
    entity = emu.metadata.require(table)
    complete = [
        new_row(entity, r, user_id=user_id, business_unit_id=ROOT_BUSINESS_UNIT_ID) for r in rows
    ]
    emu.store.insert_many(table, complete)


def seed_empty(emu: DataverseEmulator) -> None:
    _insert(
        emu,
        "transactioncurrency",
        [
            {
                "transactioncurrencyid": EURO_ID,
                "currencyname": "Euro",
                "isocurrencycode": "EUR",
                "currencysymbol": "€",
                "exchangerate": 1.0,
            }
        ],
    )
    _insert(
        emu,
        "organization",
        [
            {
                "organizationid": EMULATOR_ORGANISATION_ID,
                "name": ORGANISATION_NAME,
                "expirechangetrackingindays": 7,
                "languagecode": "1033",
                "basecurrencyid": EURO_ID,
                "basecurrencyid__type": "transactioncurrency",
            }
        ],
    )
    _insert(
        emu,
        "businessunit",
        [{"businessunitid": ROOT_BUSINESS_UNIT_ID, "name": ORGANISATION_NAME, "isdisabled": 0}],
    )
    _insert(
        emu,
        "systemuser",
        [
            {
                "systemuserid": APP_USER_ID,
                "firstname": "crm2cr",
                "lastname": "app",
                "fullname": "crm2cr app",
                "internalemailaddress": f"crm2cr-app@{DEMO_DOMAIN}",
                "domainname": f"crm2cr-app@{DEMO_DOMAIN}",
                "applicationid": APP_CLIENT_ID,
                "accessmode": 4,
                "isdisabled": 0,
                "businessunitid": ROOT_BUSINESS_UNIT_ID,
                "businessunitid__type": "businessunit",
            }
        ],
    )


def owner_id(index: int) -> str:
    first, last = demo_people.OWNERS[index]
    return demo_id("systemuser", f"{first} {last}")


def _ascii(text: str) -> str:
    return (
        text.replace("ä", "ae")
        .replace("ö", "oe")
        .replace("ü", "ue")
        .replace("ß", "ss")
        .replace("Ä", "Ae")
        .replace("Ö", "Oe")
        .replace("Ü", "Ue")
        .lower()
    )


def _owner(index: int) -> dict[str, Any]:
    return {"ownerid": owner_id(index), "ownerid__type": "systemuser"}


def seed_demo(emu: DataverseEmulator) -> None:
    rng = random.Random(demo_people.SEED + 7)
    users = []
    for index, (first, last) in enumerate(demo_people.OWNERS):
        email = f"{_ascii(first)}.{_ascii(last)}@{DEMO_DOMAIN}"
        users.append(
            {
                "systemuserid": owner_id(index),
                "firstname": first,
                "lastname": last,
                "internalemailaddress": email,
                "domainname": email,
                "accessmode": 0,
                "isdisabled": 0,
                "businessunitid": ROOT_BUSINESS_UNIT_ID,
                "businessunitid__type": "businessunit",
            }
        )
    _insert(emu, "systemuser", users)

    firms = demo_people.companies()
    people = demo_people.people()
    first_person: dict[int, int] = {}
    for person in people:
        first_person.setdefault(person.company, person.index)
    accounts = []
    for firm in firms:
        primary = first_person.get(firm.index)
        accounts.append(
            {
                "accountid": demo_id("account", firm.index),
                "name": firm.name,
                "emailaddress1": f"info@{firm.domain}",
                "websiteurl": f"https://www.{firm.domain}",
                "address1_city": firm.city,
                "address1_country": "Deutschland",
                "industrycode": rng.choice((6, 7, 12, 16, 30, 33)),
                "numberofemployees": rng.randrange(5, 2000),
                "primarycontactid": demo_id("contact", primary) if primary is not None else None,
                "primarycontactid__type": "contact" if primary is not None else None,
                "transactioncurrencyid": EURO_ID,
                "transactioncurrencyid__type": "transactioncurrency",
                **_owner(firm.owner),
            }
        )
    _insert(emu, "account", accounts)

    contacts = [_contact(person, rng) for person in people]
    # Twins: a second record with the e-mail of another (the duplicate warning's case).
    for twin, source in enumerate((11, 57, 203)):
        row = _contact(people[source], rng)
        row["contactid"] = demo_id("contact-twin", twin)
        row["firstname"] = f"{people[source].firstname[0]}."
        row["statecode"], row["statuscode"] = 0, 1
        contacts.append(row)
    _insert(emu, "contact", contacts)

    leads = []
    for index in range(40):
        first = rng.choice(demo_people.FIRST_NAMES)
        last = rng.choice(demo_people.LAST_NAMES)
        company = f"{rng.choice(demo_people.COMPANY_STEMS)} {rng.choice(demo_people.COMPANY_KINDS)}"
        leads.append(
            {
                "leadid": demo_id("lead", index),
                "firstname": first,
                "lastname": last,
                "companyname": company,
                "subject": f"Interesse: {rng.choice(('Newsletter', 'Beratung', 'Angebot'))}",
                "emailaddress1": f"{_ascii(first)}.{_ascii(last)}{index}@leads.example",
                "address1_city": rng.choice(demo_people.CITIES),
                "leadsourcecode": rng.choice((1, 6, 7, 8)),
                "donotbulkemail": 1 if index % 13 == 12 else 0,
                "statecode": 0,
                "statuscode": 1 if index % 3 else 2,
                **_owner(index % len(demo_people.OWNERS)),
            }
        )
    _insert(emu, "lead", leads)
    _seed_lists(emu, people, rng)
    _seed_campaigns(emu)


def _contact(person: demo_people.DemoPerson, rng: random.Random) -> Row:
    inactive = person.index % 37 == 36
    return {
        "contactid": demo_id("contact", person.index),
        "firstname": person.firstname,
        "lastname": person.lastname,
        "emailaddress1": person.email,
        "gendercode": person.gender or None,
        "address1_city": person.city,
        "address1_country": "Deutschland",
        "jobtitle": rng.choice(("Geschäftsführung", "Einkauf", "Marketing", "Vertrieb", "IT")),
        "telephone1": f"+49 30 {rng.randrange(1000000, 9999999)}",
        "donotbulkemail": 1 if person.index % 23 == 22 else 0,
        "statecode": 1 if inactive else 0,
        "statuscode": 2 if inactive else 1,
        "parentcustomerid": demo_id("account", person.company),
        "parentcustomerid__type": "account",
        "transactioncurrencyid": EURO_ID,
        "transactioncurrencyid__type": "transactioncurrency",
        **_owner(person.owner),
    }


DYNAMIC_QUERY = (
    '<fetch version="1.0" output-format="xml-platform" mapping="logical" distinct="false">'
    '<entity name="contact"><attribute name="fullname"/><attribute name="emailaddress1"/>'
    '<attribute name="contactid"/><order attribute="fullname" descending="false"/>'
    '<filter type="and"><condition attribute="statecode" operator="eq" value="0"/>'
    '<condition attribute="address1_city" operator="in"><value>Berlin</value>'
    "<value>Hamburg</value></condition></filter></entity></fetch>"
)


def _seed_lists(
    emu: DataverseEmulator, people: tuple[demo_people.DemoPerson, ...], rng: random.Random
) -> None:
    indexes = list(range(len(people)))
    newsletter = sorted(rng.sample(indexes, 250))
    premium = sorted(rng.sample(indexes, 60))
    specs: list[tuple[str, str, int, list[str]]] = [
        (
            "Newsletter",
            "Monatlicher Newsletter",
            2,
            [demo_id("contact", i) for i in newsletter] + [demo_id("contact-twin", 0)],
        ),
        ("Kunden Premium", "Premium-Kunden", 2, [demo_id("contact", i) for i in premium]),
        ("Partnerfirmen", "Partnerunternehmen", 1, [demo_id("account", i) for i in range(20)]),
        ("Messe-Leads 2026", "Leads der Messe", 4, [demo_id("lead", i) for i in range(25)]),
    ]
    lists: list[Row] = []
    members: list[Row] = []
    for name, purpose, member_type, member_ids in specs:
        list_id = demo_id("list", name)
        lists.append(
            {
                "listid": list_id,
                "listname": name,
                "purpose": purpose,
                "type": 0,
                "createdfromcode": member_type,
                "membercount": len(member_ids),
                "statecode": 0,
                "statuscode": 0,
                **_owner(2),
            }
        )
        table = standard_tables.MEMBER_TABLE[member_type]
        members.extend(
            {
                "listmemberid": demo_id("listmember", f"{name}/{member}"),
                "listid": list_id,
                "listid__type": "list",
                "entityid": member,
                "entityid__type": table,
                "entitytype": table,
            }
            for member in member_ids
        )
    lists.append(
        {
            "listid": demo_id("list", "Kontakte Berlin und Hamburg"),
            "listname": "Kontakte Berlin und Hamburg",
            "purpose": "Dynamische Liste: aktive Kontakte in Berlin und Hamburg",
            "type": 1,
            "createdfromcode": 2,
            "query": DYNAMIC_QUERY,
            "membercount": 0,
            "statecode": 0,
            "statuscode": 0,
            **_owner(2),
        }
    )
    _insert(emu, "list", lists)
    _insert(emu, "listmember", members)


def _seed_campaigns(emu: DataverseEmulator) -> None:
    now = emu.clock.stamp()
    campaigns = [
        ("Frühjahrsaktion 2026", 2, "Newsletter", [("Newsletter März", 7), ("Telefonaktion", 1)]),
        ("Kundenevent Herbst", 3, "Kunden Premium", [("Einladung Kundenevent", 7)]),
    ]
    rows: list[Row] = []
    activities: list[Row] = []
    items: list[Row] = []
    activity_items: list[Row] = []
    for name, kind, list_name, acts in campaigns:
        campaign_id = demo_id("campaign", name)
        list_id = demo_id("list", list_name)
        rows.append(
            {
                "campaignid": campaign_id,
                "name": name,
                "typecode": kind,
                "proposedstart": now + 7 * 86400,
                "statecode": 0,
                "statuscode": 0,
                **_owner(2),
            }
        )
        items.append(
            {
                "campaignitemid": demo_id("campaignitem", name),
                "campaignid": campaign_id,
                "campaignid__type": "campaign",
                "entityid": list_id,
                "entityid__type": "list",
                "entitytype": 4300,
            }
        )
        for subject, channel in acts:
            activity_id = demo_id("campaignactivity", subject)
            activities.append(
                {
                    "activityid": activity_id,
                    "subject": subject,
                    "channeltypecode": channel,
                    "regardingobjectid": campaign_id,
                    "regardingobjectid__type": "campaign",
                    "scheduledstart": now + 14 * 86400,
                    "statecode": 0,
                    "statuscode": 0,
                    **_owner(2),
                }
            )
            activity_items.append(
                {
                    "campaignactivityitemid": demo_id("campaignactivityitem", subject),
                    "campaignactivityid": activity_id,
                    "campaignactivityid__type": "campaignactivity",
                    "itemid": list_id,
                    "itemid__type": "list",
                    "itemobjecttypecode": 4300,
                }
            )
    _insert(emu, "campaign", rows)
    _insert(emu, "campaignactivity", activities)
    _insert(emu, "campaignitem", items)
    _insert(emu, "campaignactivityitem", activity_items)
