"""The FetchXML parser: the supported subset; a 400 naming anything else (§5, §17.11)."""

from __future__ import annotations

import pytest

from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.fetchxml_parse import Condition, Filter, parse_fetchxml


def test_full_marketing_list_query_parses_into_the_model() -> None:
    """Reference §5: the designer's query with order, nested filter and a link-entity."""
    query = parse_fetchxml(
        '<fetch version="1.0" output-format="xml-platform" mapping="logical" distinct="true" '
        'count="50" page="2" paging-cookie="&lt;cookie page=&quot;1&quot;/&gt;">'
        '<entity name="contact"><attribute name="contactid"/><attribute name="fullname" alias="n"/>'
        '<order attribute="fullname" descending="true"/>'
        '<filter type="and"><condition attribute="statecode" operator="eq" value="0"/>'
        '<filter type="or"><condition attribute="address1_city" operator="like" value="%B%"/>'
        '<condition attribute="gendercode" operator="in"><value>1</value><value> 2 </value>'
        "</condition></filter></filter>"
        '<link-entity name="account" from="accountid" to="parentcustomerid" link-type="outer">'
        "<all-attributes/></link-entity></entity></fetch>"
    )
    assert (query.entity, query.distinct, query.count, query.page) == ("contact", True, 50, 2)
    assert query.paging_cookie == '<cookie page="1"/>'
    assert [(a.name, a.alias) for a in query.attributes] == [
        ("contactid", None),
        ("fullname", "n"),
    ]
    assert query.orders[0].descending is True
    assert query.filter == Filter(
        "and",
        (
            Condition("statecode", "eq", ("0",)),
            Filter(
                "or",
                (
                    Condition("address1_city", "like", ("%B%",)),
                    Condition("gendercode", "in", ("1", "2")),
                ),
            ),
        ),
    )
    (link,) = query.links
    assert (link.outer, link.all_attributes, link.alias) == (True, True, "account1")


def test_neq_is_ne_and_a_single_value_may_be_a_child() -> None:
    """Reference §5 [C D29]: `neq` is `ne`; one value as attribute or <value> child."""
    query = parse_fetchxml(
        '<fetch><entity name="contact"><filter>'
        '<condition attribute="lastname" operator="neq"><value>x</value></condition>'
        "</filter></entity></fetch>"
    )
    assert query.filter == Filter("and", (Condition("lastname", "ne", ("x",)),))


def test_nested_link_entities_are_walked_depth_first() -> None:
    """Reference §5: link-entities nest; each gets its own alias."""
    query = parse_fetchxml(
        '<fetch><entity name="contact">'
        '<link-entity name="account" from="accountid" to="parentcustomerid" alias="a">'
        '<link-entity name="systemuser" from="systemuserid" to="ownerid" alias="u"/>'
        "</link-entity>"
        '<link-entity name="listmember" from="entityid" to="contactid" alias="m"/>'
        "</entity></fetch>"
    )
    assert [link.alias for link in query.all_links()] == ["a", "u", "m"]


@pytest.mark.parametrize(
    ("xml", "fragment"),
    [
        ("<fetch><entity name='contact'>", "not well-formed"),
        ("<query><entity name='contact'/></query>", "root element must be 'fetch'"),
        ("<fetch aggregate='true'><entity name='contact'/></fetch>", "aggregate"),
        ("<fetch/>", "exactly one 'entity'"),
        ("<fetch><entity/></fetch>", "needs a 'name'"),
        ("<fetch unknown='1'><entity name='contact'/></fetch>", "'unknown'"),
        ("<fetch top='5' page='1'><entity name='contact'/></fetch>", "'top'"),
        ("<fetch count='5001'><entity name='contact'/></fetch>", "5000"),
        ("<fetch count='0'><entity name='contact'/></fetch>", "at least 1"),
        ("<fetch page='two'><entity name='contact'/></fetch>", "whole number"),
        ("<fetch distinct='maybe'><entity name='contact'/></fetch>", "true or false"),
        (
            "<fetch><entity name='contact'><attribute name='x' groupby='true'/></entity></fetch>",
            "groupby",
        ),
        ("<fetch><entity name='contact'><order alias='n'/></entity></fetch>", "alias"),
        ("<fetch><entity name='contact'><filter type='xor'/></entity></fetch>", "'xor'"),
        ("<fetch><entity name='contact'><filter><value/></filter></entity></fetch>", "'value'"),
        (
            "<fetch><entity name='contact'><filter><condition attribute='a' operator='above' "
            "value='1'/></filter></entity></fetch>",
            "'above'",
        ),
        (
            "<fetch><entity name='contact'><filter><condition attribute='a' operator='eq' "
            "valueof='b'/></filter></entity></fetch>",
            "valueof",
        ),
        (
            "<fetch><entity name='contact'><filter><condition attribute='a' operator='null' "
            "value='1'/></filter></entity></fetch>",
            "takes no value",
        ),
        (
            "<fetch><entity name='contact'><filter><condition attribute='a' operator='eq'/>"
            "</filter></entity></fetch>",
            "exactly one value",
        ),
        (
            "<fetch><entity name='contact'><filter><condition attribute='a' operator='between'>"
            "<value>1</value></condition></filter></entity></fetch>",
            "exactly two values",
        ),
        (
            "<fetch><entity name='contact'><filter><condition attribute='a' operator='in'/>"
            "</filter></entity></fetch>",
            "at least one value",
        ),
        (
            "<fetch><entity name='contact'><link-entity name='account' from='accountid' "
            "to='parentcustomerid' link-type='any'/></entity></fetch>",
            "link-type 'any'",
        ),
        (
            "<fetch><entity name='contact'><link-entity name='account' from='accountid' "
            "to='parentcustomerid' alias='a'/><link-entity name='account' from='accountid' "
            "to='parentcustomerid' alias='a'/></entity></fetch>",
            "used twice",
        ),
        (
            "<fetch><entity name='contact'><link-entity name='account' to='x'/></entity></fetch>",
            "needs a 'from'",
        ),
        ("<fetch><entity name='contact'><savedquery/></entity></fetch>", "'savedquery'"),
        (
            '<!DOCTYPE fetch [<!ENTITY x "boom">]><fetch><entity name="&x;"/></fetch>',
            "not well-formed",
        ),
    ],
)
def test_unsupported_or_malformed_fetchxml_is_400_naming_it(xml: str, fragment: str) -> None:
    """Reference §5, §17.11: anything unsupported → 400 0x0 naming it; never silently ignored."""
    with pytest.raises(ODataError) as excinfo:
        parse_fetchxml(xml)
    assert (excinfo.value.status, excinfo.value.code) == (400, "0x0")
    assert fragment in excinfo.value.message
