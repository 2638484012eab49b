"""Wire parsing (reference §2.4, §6.1, §8.5, §14 Parsing)."""

from __future__ import annotations

from crm2cr.cleverreach.mailings import MailingFigures
from crm2cr.cleverreach.models import Attribute, Group, Receiver, Report


def test_ids_come_as_strings_or_integers_and_are_kept_as_strings() -> None:
    """Reference §2.4: group/receiver ids are strings, attribute ids integers."""
    assert Group.model_validate({"id": 1363537, "name": "N"}).id == "1363537"
    assert Group.model_validate({"id": "1363537", "name": "N"}).id == "1363537"
    attribute = Attribute.model_validate({"id": 1124177, "groups_id": 0, "name": "firstname"})
    assert (attribute.id, attribute.groups_id, attribute.is_global) == ("1124177", "0", True)


def test_timestamps_are_integers_with_zero_for_unset() -> None:
    """Reference §2.4: integer Unix seconds, 0 = not set."""
    receiver = Receiver.model_validate(
        {"id": "1", "email": "a@b.example", "activated": "1535636508", "deactivated": None}
    )
    assert (receiver.activated, receiver.deactivated, receiver.bounced) == (1535636508, 0, 0)


def test_attribute_values_are_strings_and_empty_maps_may_be_lists() -> None:
    """Reference §6.1: values are strings, "" when unset; PHP sends an empty map as []."""
    receiver = Receiver.model_validate(
        {
            "id": 3387,
            "email": "anna@example.org",
            "attributes": [],
            "global_attributes": {"firstname": "Anna", "points": 3, "unset": None},
            "tags": None,
        }
    )
    assert receiver.attributes == {}
    assert receiver.global_attributes == {"firstname": "Anna", "points": "3", "unset": ""}
    assert receiver.tags == []


def test_report_stats_map_to_figures() -> None:
    """Reference §8.5: sent = delivered + bounced; opens, clicks, bounces, unsubscribes."""
    flat = Report.model_validate(
        {
            "id": 7,
            "stats": {
                "delivered": 98,
                "bounced": 2,
                "unique_opened": 40,
                "unique_clicks": 10,
                "unsubscribed": 1,
            },
        }
    )
    nested = Report.model_validate({"id": "7", "stats": {"total": flat.stats.model_dump()}})
    for report in (flat, nested):
        assert MailingFigures.of(report) == MailingFigures(
            sent=100, opens=40, clicks=10, bounces=2, unsubscribes=1
        )
