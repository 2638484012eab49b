"""The crm2cr solution as data (SPEC §2; reference dataverse.md §6, §13)."""

from __future__ import annotations

import re

import pytest

from crm2cr.errors import InvalidInput
from crm2cr.solution.schema import (
    OPTION_VALUE_PREFIX,
    SCHEMA,
    SOLUTION_VERSION,
    Column,
    Label,
    parse_version,
)


def test_solution_identity_is_the_one_the_program_requires() -> None:
    """SPEC §2: solution `crm2cr` by publisher prefix `crm2cr_`, unmanaged."""
    assert SOLUTION_VERSION == "1.0.0.0"
    assert SCHEMA.version == SOLUTION_VERSION
    assert SCHEMA.unique_name == "crm2cr"
    assert SCHEMA.publisher.prefix == "crm2cr"
    assert 10_000 <= SCHEMA.publisher.option_value_prefix <= 99_999
    assert not SCHEMA.managed


def test_every_custom_name_carries_the_publisher_prefix() -> None:
    """Reference §13.2: custom tables and columns carry the publisher's prefix."""
    for table in SCHEMA.tables:
        assert table.logical_name.startswith("crm2cr_")
        for column in table.all_columns:
            assert column.logical_name.startswith("crm2cr_"), column
            assert re.fullmatch(r"[a-z0-9_]+", column.logical_name)
    for ext in SCHEMA.extensions:
        assert all(c.logical_name.startswith("crm2cr_") for c in ext.columns)


def test_link_table_columns() -> None:
    """SPEC §2: the link table holds regarding record, list, group, receiver and sync base."""
    link = SCHEMA.table("crm2cr_cleverreachlink")
    assert link.display.en == "CleverReach Link"
    assert link.primary_name.logical_name == "crm2cr_name"
    expected = {
        "crm2cr_contactid": "lookup",
        "crm2cr_accountid": "lookup",
        "crm2cr_leadid": "lookup",
        "crm2cr_regardingtype": "picklist",
        "crm2cr_listid": "lookup",
        "crm2cr_groupid": "string",
        "crm2cr_receiverid": "string",
        "crm2cr_email": "string",
        "crm2cr_status": "picklist",
        "crm2cr_basehash": "string",
        "crm2cr_crstamp": "bigint",
        "crm2cr_crmmodifiedon": "datetime",
        "crm2cr_lastsynced": "datetime",
        "crm2cr_pairkey": "string",
    }
    assert {c.logical_name: c.type for c in link.columns} == expected
    assert link.column("crm2cr_email").max_length == 320
    assert link.column("crm2cr_basehash").max_length == 64
    assert link.column("crm2cr_listid").targets == ("list",)
    statuses = [o.label.en for o in link.column("crm2cr_status").options]
    assert statuses == ["active", "inactive", "unsubscribed", "bounced", "blacklisted"]
    assert [k.columns for k in link.keys] == [("crm2cr_pairkey",)]
    assert link.change_tracking


def test_unsubscribe_table_columns() -> None:
    """SPEC §2: one unsubscribe row per event, keyed by its event key."""
    table = SCHEMA.table("crm2cr_cleverreachunsubscribe")
    assert table.display.de == "CleverReach Abmeldung"
    names = {c.logical_name for c in table.columns}
    assert {
        "crm2cr_email",
        "crm2cr_receiverid",
        "crm2cr_groupid",
        "crm2cr_contactid",
        "crm2cr_accountid",
        "crm2cr_leadid",
        "crm2cr_reason",
        "crm2cr_source",
        "crm2cr_eventdate",
        "crm2cr_eventkey",
    } <= names
    reasons = [o.label.en for o in table.column("crm2cr_reason").options]
    assert reasons == [
        "unsubscribed",
        "bounced",
        "blacklisted",
        "crm opt-out",
        "double opt-in re-activation",
    ]
    sources = [o.label.en for o in table.column("crm2cr_source").options]
    assert sources == ["cleverreach", "crm", "webhook", "audit"]
    assert [k.columns for k in table.keys] == [("crm2cr_eventkey",)]
    assert table.change_tracking


def test_configuration_table_is_keyed_by_name() -> None:
    """SPEC §2: named JSON documents, one per name."""
    table = SCHEMA.table("crm2cr_configuration")
    assert table.column("crm2cr_document").type == "memo"
    assert table.column("crm2cr_kind").type == "string"
    assert table.column("crm2cr_version").type == "integer"
    assert [k.columns for k in table.keys] == [("crm2cr_name",)]


def test_campaign_activity_gets_the_cleverreach_channel_and_mailing_columns() -> None:
    """Reference §6 campaignactivity: channeltypecode 1-9 plus crm2cr's CleverReach."""
    (ext,) = SCHEMA.extensions
    assert ext.table == "campaignactivity"
    ((column, option),) = ext.options
    assert column == "channeltypecode"
    assert option.label.en == "CleverReach"
    assert option.value == OPTION_VALUE_PREFIX * 10_000
    assert {c.logical_name for c in ext.columns} == {
        "crm2cr_mailingid",
        "crm2cr_mailingname",
        "crm2cr_mailingstate",
        "crm2cr_sent",
        "crm2cr_opens",
        "crm2cr_clicks",
        "crm2cr_bounces",
        "crm2cr_unsubscribes",
        "crm2cr_figuresupdated",
    }


def test_custom_option_values_lie_in_the_publisher_range() -> None:
    """Reference §6: custom values start at the option-value prefix × 10000."""
    first = SCHEMA.publisher.first_option_value()
    for table in SCHEMA.tables:
        for column in table.columns:
            if column.logical_name == "crm2cr_regardingtype":
                assert [o.value for o in column.options] == [1, 2, 4]  # list member types
                continue
            for option in column.options:
                assert first <= option.value < first + 10_000


def test_every_lookup_has_its_one_to_many_relationship() -> None:
    """SPEC §2: 1:N from contact, account, lead and list to the two tables."""
    pairs = {(r.referenced, r.referencing, r.lookup) for r in SCHEMA.relationships}
    for table in SCHEMA.tables:
        for column in table.columns:
            if column.type == "lookup":
                (target,) = column.targets
                assert (target, table.logical_name, column.logical_name) in pairs
    assert len(pairs) == len(SCHEMA.relationships) == 7


def test_upgraded_adds_columns_and_tables_at_a_higher_version() -> None:
    """An upgrade path: a later release adds to the schema under a higher version."""
    extra = Column("crm2cr_Note", Label("Note"), "string", max_length=100)
    newer = SCHEMA.upgraded("1.1.0.0", columns={"crm2cr_cleverreachlink": [extra]})
    assert newer.version == "1.1.0.0"
    assert newer.table("crm2cr_cleverreachlink").columns[-1] == extra
    assert SCHEMA.table("crm2cr_cleverreachlink").column("crm2cr_email")
    with pytest.raises(KeyError):
        SCHEMA.table("crm2cr_cleverreachlink").column("crm2cr_note")


@pytest.mark.parametrize("version", ["1.0.0.0", "0.9.9.9"])
def test_upgraded_refuses_a_version_that_is_not_higher(version: str) -> None:
    with pytest.raises(InvalidInput, match="needs a version above"):
        SCHEMA.upgraded(version)


def test_upgraded_refuses_an_unknown_table() -> None:
    with pytest.raises(InvalidInput, match="no table 'contact'"):
        SCHEMA.upgraded("2.0.0.0", columns={"contact": []})


def test_versions_compare_numerically() -> None:
    """Reference §6 solution: `version` is a.b.c.d."""
    assert parse_version("1.10.0.0") > parse_version("1.9.0.0")
    assert parse_version("1.0") == (1, 0, 0, 0)
    for bad in ("1", "1.0.x.0", "", "1.0.0.0.0"):
        with pytest.raises(InvalidInput):
            parse_version(bad)
