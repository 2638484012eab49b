"""Query strings as clients send them: `+` for spaces, %2B for a literal plus (reference §4.1)."""

from __future__ import annotations

import httpx

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from tests.support.inprocess import InProcessTransport

API = "http://dv.test/api/data/v9.2"


def test_a_form_encoded_filter_reads_plus_as_space_and_percent_2b_as_plus() -> None:
    emulator = DataverseEmulator(EmulatorOptions())
    try:
        http = httpx.Client(
            transport=InProcessTransport(emulator), headers={"Authorization": "Bearer t"}
        )
        http.post(f"{API}/contacts", json={"lastname": "Plus", "emailaddress1": "a+b@firma.de"})
        http.post(f"{API}/contacts", json={"lastname": "Other", "emailaddress1": "ab@firma.de"})
        spaces = http.get(f"{API}/contacts?$select=lastname&$filter=lastname+eq+'Plus'")
        assert [r["lastname"] for r in spaces.json()["value"]] == ["Plus"]
        plus = http.get(
            f"{API}/contacts?$select=lastname&$filter=emailaddress1%20eq%20'a%2Bb@firma.de'"
        )
        assert [r["lastname"] for r in plus.json()["value"]] == ["Plus"]
    finally:
        emulator.close()
