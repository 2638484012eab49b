"""InsertOptionValue (reference dataverse.md §6 campaignactivity, §10)."""

from __future__ import annotations

from typing import Any

import httpx

from crm2cr.solution.schema import OPTION_VALUE_PREFIX

from .support import error_of, import_solution, odata

CHANNEL = (
    "EntityDefinitions(LogicalName='campaignactivity')/Attributes(LogicalName='channeltypecode')"
    "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
)


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "EntityLogicalName": "campaignactivity",
        "AttributeLogicalName": "channeltypecode",
        "Label": {"LocalizedLabels": [{"Label": "Newsletter", "LanguageCode": 1033}]},
        **extra,
    }


def _labels(api: httpx.Client) -> dict[int, str]:
    response = api.get(odata(CHANNEL, expand="OptionSet($select=Options)"))
    options = response.json()["OptionSet"]["Options"]
    return {o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"] for o in options}


def test_new_value_comes_from_the_default_publisher_range(api: httpx.Client) -> None:
    """§6: custom values start at the publisher's option-value prefix × 10000."""
    first = api.post("InsertOptionValue", json=_body())
    second = api.post("InsertOptionValue", json=_body())
    assert first.status_code == 200, first.text
    assert first.json()["NewOptionValue"] == 100_000_000
    assert second.json()["NewOptionValue"] == 100_000_001
    assert _labels(api)[100_000_000] == "Newsletter"


def test_solution_publisher_prefix_is_used_and_exported(api: httpx.Client) -> None:
    assert import_solution(api).status_code == 204
    response = api.post("InsertOptionValue", json=_body(SolutionUniqueName="crm2cr"))
    assert response.json()["NewOptionValue"] == OPTION_VALUE_PREFIX * 10_000 + 1
    exported = api.post("ExportSolution", json={"SolutionName": "crm2cr", "Managed": False})
    assert exported.status_code == 200


def test_explicit_value_is_used_once(api: httpx.Client) -> None:
    first = api.post("InsertOptionValue", json=_body(Value=727_000_000))
    assert first.status_code == 200, first.text
    assert first.json()["NewOptionValue"] == 727_000_000
    assert first.json()["@odata.context"].endswith(
        "#Microsoft.Dynamics.CRM.InsertOptionValueResponse"
    )
    again = api.post("InsertOptionValue", json=_body(Value=727_000_000))
    assert again.status_code == 400
    assert "727000000" in error_of(again)[1]


def test_unknown_table_column_or_non_choice_is_refused(api: httpx.Client) -> None:
    missing = api.post("InsertOptionValue", json=_body(EntityLogicalName="nosuch"))
    assert missing.status_code == 404
    assert error_of(missing)[0] == "0x80040217"
    no_column = api.post("InsertOptionValue", json=_body(AttributeLogicalName="nosuch"))
    assert no_column.status_code == 404
    text = api.post("InsertOptionValue", json=_body(AttributeLogicalName="subject"))
    assert text.status_code == 400
    no_label = api.post("InsertOptionValue", json=_body(Label={}))
    assert no_label.status_code == 400
