"""Attribute naming (reference §7, emulator): lower-case, spaces → `_`, else 400."""

from __future__ import annotations

import pytest

from crm2cr.emulators.cleverreach.attributes import normalize_name
from crm2cr.emulators.cleverreach.wire import Refusal
from tests.unit.cr_emulator.support import Api


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("firstname", "firstname"),
        ("FirstName", "firstname"),
        ("Communication Key", "communication_key"),
        ("  padded  ", "padded"),
        ("plz_2", "plz_2"),
    ],
)
def test_names_are_normalized(given: str, stored: str) -> None:
    """Reference §7: names appear lower-case; APT's "Communication Key" → communication_key."""
    assert normalize_name(given) == stored


@pytest.mark.parametrize("given", ["", "   ", "e-mail", "straße", "a.b", "{tag}", "x/y"])
def test_other_characters_are_refused(given: str) -> None:
    """Reference §7, emulator: anything else outside [a-z0-9_] → 400."""
    with pytest.raises(Refusal) as refused:
        normalize_name(given)
    assert refused.value.status == 400


def test_the_api_applies_the_rules(api: Api) -> None:
    """Reference §7 through the API: the stored name, the tag, and the 400 body."""
    created = api.attribute("Kunden Nummer")
    assert (created["name"], created["tag"]) == ("kunden_nummer", "{KUNDEN_NUMMER}")
    refused = api.post("/v3/attributes", json={"name": "kunden-nummer", "type": "text"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Bad Request: invalid attribute name 'kunden-nummer'"
    )
    bad_type = api.post("/v3/attributes", json={"name": "x", "type": "money"})
    assert bad_type.status_code == 400


def test_name_and_type_are_fixed_and_delete_drops_values(api: Api) -> None:
    """Reference §7, emulator: name and type fixed; DELETE → true and drops the values."""
    attr = api.attribute("city")
    gid = api.group()
    api.upsert(gid, [{"email": "a@example.org", "global_attributes": {"city": "Köln"}}])
    renamed = api.put(f"/v3/attributes/{attr['id']}", json={"name": "town"})
    assert renamed.status_code == 400
    described = api.ok("PUT", f"/v3/attributes/{attr['id']}", json={"description": "Ort"})
    assert described["description"] == "Ort"
    assert api.ok("DELETE", f"/v3/attributes/{attr['id']}") is True
    assert api.get(f"/v3/attributes/{attr['id']}").status_code == 404
    assert api.receiver(gid, "a@example.org")["global_attributes"] == {}
    again = api.attribute("city")
    assert again["id"] != attr["id"]  # ids are never reused
    assert api.receiver(gid, "a@example.org")["global_attributes"] == {"city": ""}
