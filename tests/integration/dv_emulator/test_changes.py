"""Change tracking with delta links (reference §12.1, §18.26)."""

from __future__ import annotations

from typing import Any

from .conftest import Org, error_of

TRACK = {"Prefer": "odata.track-changes"}


def _follow(org: Org, url: str, page_size: int = 5000) -> tuple[list[dict[str, Any]], str]:
    """All values of a tracked read and the final deltaLink."""
    values: list[dict[str, Any]] = []
    headers = {"Prefer": f"odata.track-changes,odata.maxpagesize={page_size}"}
    for _ in range(100):
        response = org.http.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        values.extend(body["value"])
        if "@odata.deltaLink" in body:
            return values, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]
    raise AssertionError("no deltaLink after 100 pages")


def test_delta_lists_updates_then_deletions(org: Org) -> None:
    """Reference §12.1, §18.26: deltaLink; changed rows, then $deletedEntity reason deleted."""
    keep = org.create("contacts", {"lastname": "Keep", "emailaddress1": "k@x.example"})
    gone = org.create("contacts", {"lastname": "Gone"})
    quiet = org.create("contacts", {"lastname": "Quiet"})
    response = org.http.get("contacts?$select=lastname,emailaddress1", headers=TRACK)
    assert response.status_code == 200
    assert "odata.track-changes" in response.headers["Preference-Applied"]
    first = response.json()
    assert {row["contactid"] for row in first["value"]} == {keep, gone, quiet}
    delta = first["@odata.deltaLink"]
    assert delta.startswith(f"{org.api}/contacts?") and "$deltatoken=" in delta

    org.http.patch(f"contacts({keep})", json={"lastname": "Kept"})
    org.http.delete(f"contacts({gone})")
    born_and_gone = org.create("contacts", {"lastname": "Brief"})
    org.http.delete(f"contacts({born_and_gone})")
    body = org.get(delta)
    assert body["@odata.context"].endswith("/$delta")
    changed = [v for v in body["value"] if "reason" not in v]
    deleted = [v for v in body["value"] if "reason" in v]
    assert [(v["contactid"], v["lastname"]) for v in changed] == [(keep, "Kept")]
    assert changed[0]["emailaddress1"] == "k@x.example"
    assert {v["id"] for v in deleted} == {gone, born_and_gone}
    assert all(v["reason"] == "deleted" for v in deleted)
    assert deleted[0]["@odata.context"].endswith("#contacts/$deletedEntity")
    assert body["value"].index(changed[0]) < body["value"].index(deleted[0])
    again = org.get(body["@odata.deltaLink"])
    assert again["value"] == []


def test_initial_and_delta_pages(org: Org) -> None:
    """Reference §12.1: both the full read and the delta page with maxpagesize."""
    ids = [org.create("contacts", {"lastname": f"P{i}"}) for i in range(5)]
    values, delta = _follow(org, "contacts?$select=lastname", page_size=2)
    assert sorted(v["contactid"] for v in values) == sorted(ids)
    for record in ids[:3]:
        org.http.patch(f"contacts({record})", json={"firstname": "x"})
    for record in ids[3:]:
        org.http.delete(f"contacts({record})")
    changes, _ = _follow(org, delta, page_size=2)
    assert [v["contactid"] for v in changes if "reason" not in v] == ids[:3]
    assert {v["id"] for v in changes if "reason" in v} == set(ids[3:])


def test_query_options_and_tokens_refused(org: Org) -> None:
    """Reference §12.1, §17.11, §18.26: $filter with tracking → 400; expired token 0x80044352."""
    org.create("contacts", {"lastname": "T"})
    response = org.http.get("contacts?$filter=statecode eq 0", headers=TRACK)
    assert response.status_code == 400
    assert error_of(response)[1] == (
        'The "$filter" query parameter isn\'t supported when Change Tracking is enabled.'
    )
    for option in ("$orderby=lastname", "$top=1", "$expand=owninguser"):
        assert org.http.get(f"contacts?{option}", headers=TRACK).status_code == 400
    delta = org.http.get("contacts", headers=TRACK).json()["@odata.deltaLink"]
    garbled = org.http.get("contacts?$deltatoken=garbage")
    assert garbled.status_code == 400 and error_of(garbled)[0] == "0x80044352"
    org.emu.clock.advance(8 * 86400)
    expired = org.http.get(delta)
    assert expired.status_code == 400
    assert error_of(expired)[0] == "0x80044352"
    assert "full sync" in error_of(expired)[1]
    assert org.http.get("systemusers", headers=TRACK).status_code == 400


def test_count_of_changes(org: Org) -> None:
    """Reference §12.1: /$count?$deltatoken= counts the changes."""
    record = org.create("contacts", {"lastname": "C"})
    delta = org.http.get("contacts", headers=TRACK).json()["@odata.deltaLink"]
    token = delta.split("$deltatoken=")[1]
    org.http.patch(f"contacts({record})", json={"lastname": "D"})
    org.create("contacts", {"lastname": "E"})
    assert org.http.get(f"contacts/$count?$deltatoken={token}").text == "2"
