"""Every FetchXML condition operator against a real store, with a fixed clock (reference §5)."""

from __future__ import annotations

import pytest

from crm2cr.emulators.dataverse.errors import ODataError
from tests.unit.dv_batch.conftest import OTHER_UNIT, OTHER_USER, USER, Org, stamp

PEOPLE = ("anna", "ben", "clara", "dora", "emil", "fritz")


@pytest.fixture
def people(org: Org) -> Org:
    acme = org.add("account", "acme", name="Acme GmbH", industrycode=7, address1_city="Berlin")
    org.add("account", "globex", name="Globex AG", industrycode=12, address1_city="Hamburg")
    org.add(
        "contact",
        "anna",
        firstname="Anna",
        lastname="Müller",
        emailaddress1="anna@acme.example",
        address1_city="Berlin",
        numberofchildren=2,
        gendercode=2,
        donotbulkemail=0,
        birthdate=stamp(2026, 3, 31, 8),
        parentcustomerid=acme,
        parentcustomerid__type="account",
    )
    org.add(
        "contact",
        "ben",
        firstname="Ben",
        lastname="Becker",
        emailaddress1="ben@acme.example",
        address1_city="berlin-mitte",
        numberofchildren=0,
        gendercode=1,
        donotbulkemail=1,
        birthdate=stamp(2026, 3, 30, 23, 59, 59),
        ownerid=OTHER_USER,
        ownerid__type="systemuser",
        owningbusinessunit=OTHER_UNIT,
    )
    org.add(
        "contact",
        "clara",
        firstname="Clara",
        lastname="Klein",
        address1_city="Hamburg",
        birthdate=stamp(2026, 3, 24),
        parentcustomerid=org.ids["globex"],
        parentcustomerid__type="account",
    )
    org.add(
        "contact",
        "dora",
        firstname="Dora",
        lastname="O'Neil",
        emailaddress1="dora_x@ex.example",
        numberofchildren=5,
        birthdate=stamp(2026, 2, 15, 12),
    )
    org.add(
        "contact",
        "emil",
        firstname="Emil",
        lastname="Wolf",
        address1_city="Köln",
        numberofchildren=1,
        birthdate=stamp(2025, 12, 31, 23, 59, 59),
        statecode=1,
        statuscode=2,
    )
    org.add(
        "contact",
        "fritz",
        firstname="Fritz",
        lastname="Lange",
        address1_city="Bremen",
        numberofchildren=3,
        birthdate=stamp(2026, 4, 3, 23, 59, 59),
    )
    return org


def where(condition: str) -> str:
    return (
        '<fetch><entity name="contact"><attribute name="fullname"/>'
        f'<filter type="and">{condition}</filter></entity></fetch>'
    )


def cond(attribute: str, operator: str, value: str | None = None) -> str:
    value_attr = f' value="{value}"' if value is not None else ""
    return f'<condition attribute="{attribute}" operator="{operator}"{value_attr}/>'


def values(attribute: str, operator: str, *items: str) -> str:
    inner = "".join(f"<value>{v}</value>" for v in items)
    return f'<condition attribute="{attribute}" operator="{operator}">{inner}</condition>'


CASES = [
    # eq / ne: strings ignore case; ne does not select nulls (SQL semantics, as the service)
    (cond("address1_city", "eq", "BERLIN"), ["anna"]),
    (cond("address1_city", "ne", "Berlin"), ["ben", "clara", "emil", "fritz"]),
    (cond("lastname", "eq", "O'Neil"), ["dora"]),
    (cond("numberofchildren", "gt", "1"), ["anna", "dora", "fritz"]),
    (cond("numberofchildren", "ge", "2"), ["anna", "dora", "fritz"]),
    (cond("numberofchildren", "lt", "2"), ["ben", "emil"]),
    (cond("numberofchildren", "le", "0"), ["ben"]),
    (cond("donotbulkemail", "eq", "true"), ["ben"]),
    (cond("donotbulkemail", "eq", "0"), ["anna", "clara", "dora", "emil", "fritz"]),
    (cond("statecode", "eq", "1"), ["emil"]),
    # like with % and _, case-insensitive; not-like skips nulls
    (cond("address1_city", "like", "%berlin%"), ["anna", "ben"]),
    (cond("address1_city", "like", "B%"), ["anna", "ben", "fritz"]),
    (cond("address1_city", "like", "K_ln"), ["emil"]),
    (cond("emailaddress1", "like", "%@acme.example"), ["anna", "ben"]),
    (cond("address1_city", "not-like", "%berlin%"), ["clara", "emil", "fritz"]),
    (cond("address1_city", "begins-with", "ber"), ["anna", "ben"]),
    (cond("address1_city", "not-begin-with", "ber"), ["clara", "emil", "fritz"]),
    (cond("address1_city", "ends-with", "EN"), ["fritz"]),
    (cond("address1_city", "not-end-with", "en"), ["anna", "ben", "clara", "emil"]),
    # null / not-null
    (cond("address1_city", "null"), ["dora"]),
    (cond("emailaddress1", "not-null"), ["anna", "ben", "dora"]),
    (cond("parentcustomerid", "null"), ["ben", "dora", "emil", "fritz"]),
    # in / not-in with <value> children
    (values("address1_city", "in", "hamburg", "Köln"), ["clara", "emil"]),
    (values("address1_city", "not-in", "Hamburg", "Köln"), ["anna", "ben", "fritz"]),
    (values("gendercode", "in", "1", "2"), ["anna", "ben"]),
    (values("numberofchildren", "between", "1", "3"), ["anna", "emil", "fritz"]),
    (values("numberofchildren", "not-between", "1", "3"), ["ben", "dora"]),
    # date operators, clock fixed at 2026-03-31 14:30:05 UTC
    (cond("birthdate", "on", "2026-03-30"), ["ben"]),
    (cond("birthdate", "on-or-before", "2026-03-24"), ["clara", "dora", "emil"]),
    (cond("birthdate", "on-or-after", "2026-03-30"), ["anna", "ben", "fritz"]),
    (cond("birthdate", "today"), ["anna"]),
    (cond("birthdate", "yesterday"), ["ben"]),
    (cond("birthdate", "last-seven-days"), ["anna", "ben", "clara"]),
    (cond("birthdate", "this-month"), ["anna", "ben", "clara"]),
    (cond("birthdate", "last-month"), ["dora"]),
    (cond("birthdate", "this-year"), ["anna", "ben", "clara", "dora", "fritz"]),
    (cond("birthdate", "last-year"), ["emil"]),
    (cond("birthdate", "last-x-days", "1"), ["anna", "ben"]),
    (cond("birthdate", "last-x-days", "7"), ["anna", "ben", "clara"]),
    (cond("birthdate", "next-x-days", "3"), ["fritz"]),
    (cond("birthdate", "next-x-days", "2"), []),
    (cond("birthdate", "last-x-months", "2"), ["anna", "ben", "clara", "dora"]),
    (values("birthdate", "between", "2026-02-01", "2026-03-24"), ["clara", "dora"]),
    # the caller and its business unit
    (cond("ownerid", "eq-userid"), ["anna", "clara", "dora", "emil", "fritz"]),
    (cond("ownerid", "ne-userid"), ["ben"]),
    (cond("owningbusinessunit", "eq-businessid"), ["anna", "clara", "dora", "emil", "fritz"]),
    # lookups by GUID, with or without braces and in any case
    (cond("parentcustomerid", "eq", "{ACME}"), ["anna"]),
]


@pytest.mark.parametrize(("condition", "expected"), CASES, ids=[c[0] for c in CASES])
def test_operator_selects_exactly_the_right_rows(
    people: Org, condition: str, expected: list[str]
) -> None:
    """Reference §5 (marketing-list operators) and §18 item 16."""
    acme = people.ids["acme"]
    condition = condition.replace("{ACME}", "{" + acme.upper() + "}")
    assert people.fetch(where(condition)) == expected


def test_nested_or_inside_and(people: Org) -> None:
    """Reference §5: nested and/or filters."""
    xml = where(
        cond("statecode", "eq", "0")
        + '<filter type="or">'
        + cond("address1_city", "eq", "Hamburg")
        + cond("numberofchildren", "ge", "3")
        + "</filter>"
    )
    assert people.fetch(xml) == ["clara", "dora", "fritz"]


def test_sibling_filters_combine_with_and(people: Org) -> None:
    """Reference §5: several <filter> siblings of an entity all apply."""
    xml = (
        '<fetch><entity name="contact">'
        f"<filter>{cond('address1_city', 'like', 'B%')}</filter>"
        f"<filter>{cond('numberofchildren', 'gt', '0')}</filter>"
        "</entity></fetch>"
    )
    assert people.fetch(xml) == ["anna", "fritz"]


def test_inner_link_entity_filter_restricts_parents(people: Org) -> None:
    """Reference §5: inner link-entity with a filter on the linked table."""
    xml = (
        '<fetch><entity name="contact"><attribute name="fullname"/>'
        '<link-entity name="account" from="accountid" to="parentcustomerid" alias="a">'
        '<filter><condition attribute="industrycode" operator="in"><value>7</value></condition>'
        "</filter></link-entity></entity></fetch>"
    )
    assert people.fetch(xml) == ["anna"]


def test_outer_link_entity_keeps_parents_and_entityname_tests_the_link(people: Org) -> None:
    """Reference §5: outer link-entity; `entityname` conditions address the link's alias."""
    outer = (
        '<fetch><entity name="contact">'
        '<link-entity name="account" from="accountid" to="parentcustomerid" alias="a" '
        'link-type="outer"><filter>'
        + cond("address1_city", "eq", "Hamburg")
        + "</filter></link-entity>{filter}</entity></fetch>"
    )
    assert people.fetch(outer.format(filter="")) == list(PEOPLE)
    without_hamburg_company = outer.format(
        filter='<filter><condition entityname="a" attribute="accountid" operator="null"/></filter>'
    )
    assert people.fetch(without_hamburg_company) == ["anna", "ben", "dora", "emil", "fritz"]


def test_static_list_members_through_listmember_link(people: Org) -> None:
    """Reference §11: membership of a static list as a link-entity to `listmember`."""
    list_id = people.add("list", "newsletter", listname="Newsletter", createdfromcode=2)
    for name in ("anna", "clara"):
        people.add(
            "listmember",
            f"m-{name}",
            listid=list_id,
            listid__type="list",
            entityid=people.ids[name],
            entityid__type="contact",
            entitytype="contact",
        )
    xml = (
        '<fetch><entity name="contact">'
        '<link-entity name="listmember" from="entityid" to="contactid" alias="m">'
        f'<filter><condition attribute="listid" operator="eq" value="{list_id}"/></filter>'
        "</link-entity></entity></fetch>"
    )
    assert people.fetch(xml) == ["anna", "clara"]


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        (cond("nosuchcolumn", "eq", "x"), "doesn't contain attribute with Name = 'nosuchcolumn'"),
        (cond("numberofchildren", "like", "%1%"), "'like' is not valid"),
        (cond("address1_city", "today"), "'today' is not valid"),
        (cond("address1_city", "eq-userid"), "'eq-userid' is not valid"),
        (cond("numberofchildren", "eq", "two"), "is not a whole number"),
        (cond("donotbulkemail", "eq", "maybe"), "is not true, false, 1 or 0"),
        (cond("parentcustomerid", "eq", "not-a-guid"), "Guid should contain 32 digits"),
        (cond("birthdate", "on", "someday"), "is not a valid date"),
        (
            '<condition entityname="zz" attribute="name" operator="null"/>',
            "entityname 'zz'",
        ),
    ],
)
def test_misused_conditions_are_400_naming_the_problem(
    people: Org, condition: str, fragment: str
) -> None:
    """Reference §5/§17.11: anything unsupported or wrong → 400 0x0 naming it."""
    with pytest.raises(ODataError) as excinfo:
        people.fetch(where(condition))
    assert (excinfo.value.status, excinfo.value.code) == (400, "0x0")
    assert fragment in excinfo.value.message


def test_unknown_entity_and_link_entity_are_400(people: Org) -> None:
    """Reference §5, §17.11: an unknown table or lookup is a 400 naming it."""
    with pytest.raises(ODataError) as excinfo:
        people.fetch('<fetch><entity name="nosuch"/></fetch>')
    assert "'nosuch'" in excinfo.value.message
    with pytest.raises(ODataError):
        people.fetch(
            '<fetch><entity name="contact"><link-entity name="account" from="accountid" '
            'to="nosuchlookup"/></entity></fetch>'
        )


def test_user_operators_follow_the_principal(people: Org) -> None:
    """Reference §5: eq-userid / eq-businessid mean the caller and its business unit."""
    xml = where(cond("ownerid", "eq-userid"))
    assert people.fetch(xml, user=OTHER_USER) == ["ben"]
    assert people.fetch(xml, user=USER) == ["anna", "clara", "dora", "emil", "fritz"]
    assert people.fetch(where(cond("owningbusinessunit", "eq-businessid")), unit=OTHER_UNIT) == [
        "ben"
    ]
