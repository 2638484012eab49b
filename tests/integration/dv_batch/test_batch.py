"""`$batch` against the emulator: conformance checklist §18 items 17–19 and the §9 rules."""

from __future__ import annotations

import json

from crm2cr.emulators.dataverse.multipart import (
    BatchRequest,
    ChangeSet,
    ChangeSetResponse,
    ResponsePart,
    content_type_boundary,
)
from tests.integration.dv_batch.conftest import API, Org, answers, crlf, entity_id, part_json

JSON = {"content-type": "application/json; type=entry"}
BAD_COLUMN = ',"nosuchcolumn":1'


def create_part(lastname: str, *, content_id: str | None = None, extra: str = "") -> str:
    cid = f"Content-ID: {content_id}\n" if content_id else ""
    return (
        "Content-Type: application/http\nContent-Transfer-Encoding: binary\n"
        f"{cid}\nPOST {API}/contacts HTTP/1.1\nContent-Type: application/json; type=entry\n\n"
        f'{{"lastname":"{lastname}"{extra}}}\n'
    )


def three_creates(prefix: str) -> str:
    parts = "".join(f"--batch_t\n{create_part(f'{prefix}{n}')}" for n in range(3))
    return crlf(parts + "--batch_t--\n")


def test_batch_of_three_creates_answers_location_and_entity_id_with_crlf(org: Org) -> None:
    """Reference §9, §18 item 17: 200, batchresponse_ boundary, Location + OData-EntityId."""
    response = org.batch(three_creates("Three"))
    assert response.status_code == 200, response.text
    boundary = content_type_boundary(response.headers["content-type"])
    assert boundary.startswith("batchresponse_")
    assert b"\n" not in response.content.replace(b"\r\n", b"")  # CRLF only
    parts = answers(response)
    assert len(parts) == 3
    for n, part in enumerate(parts):
        assert isinstance(part, ResponsePart)
        assert part.status == 204
        headers = dict(part.headers)
        assert headers["location"] == headers["odata-entityid"]
        assert headers["location"].startswith(f"{org.base}{API}/contacts(")
        record = org.get(f"contacts({entity_id(headers['location'])})", **{"$select": "lastname"})
        assert record["lastname"] == f"Three{n}"


def test_lf_only_batch_is_accepted(org: Org) -> None:
    """Reference §9: CRLF is the rule; bare LF line ends are read too."""
    response = org.batch(three_creates("Lf").replace("\r\n", "\n"))
    assert response.status_code == 200, response.text
    assert org.count("contacts", "startswith(lastname,'Lf')") == 3


def test_changeset_whose_second_operation_fails_leaves_nothing(org: Org) -> None:
    """Reference §9, §18 item 18: a change set is atomic."""
    body = crlf(
        '--batch_t\nContent-Type: multipart/mixed; boundary="changeset_c"\n\n'
        f"--changeset_c\n{create_part('Atomic', content_id='1')}"
        f"--changeset_c\n{create_part('Atomic', content_id='2', extra=BAD_COLUMN)}"
        "--changeset_c--\n--batch_t--\n"
    )
    response = org.batch(body)
    assert response.status_code == 400
    (part,) = answers(response)
    assert isinstance(part, ResponsePart)
    assert part.status == 400
    assert part_json(part.body)["error"]["code"] == "0x0"
    assert org.count("contacts", "lastname eq 'Atomic'") == 0


def test_content_id_references_resolve_in_urls_and_binds(org: Org) -> None:
    """Reference §9, §18 item 18: `$1` as a URL (PATCH $1) and in `@odata.bind`."""
    changeset = ChangeSet(
        (
            BatchRequest("POST", f"{API}/accounts", JSON, b'{"name":"Acme"}', "1"),
            BatchRequest(
                "POST",
                f"{API}/contacts",
                JSON,
                b'{"lastname":"Ref","parentcustomerid_account@odata.bind":"$1"}',
                "2",
            ),
            BatchRequest("PATCH", "$1", JSON, b'{"name":"Acme Renamed"}', "3"),
        )
    )
    response = org.batch_items([changeset])
    assert response.status_code == 200, response.text
    (answer,) = answers(response)
    assert isinstance(answer, ChangeSetResponse)
    assert [p.content_id for p in answer.parts] == ["1", "2", "3"]
    assert [p.status for p in answer.parts] == [204, 204, 204]
    account_id = entity_id(dict(answer.parts[0].headers)["odata-entityid"])
    contact_id = entity_id(dict(answer.parts[1].headers)["odata-entityid"])
    contact = org.get(f"contacts({contact_id})", **{"$select": "_parentcustomerid_value"})
    assert contact["_parentcustomerid_value"] == account_id
    assert org.get(f"accounts({account_id})", **{"$select": "name"})["name"] == "Acme Renamed"


def test_undeclared_content_id_reference_is_400(org: Org) -> None:
    """Reference §9, §18 item 18: an undeclared `$n` → 400 with the service's message."""
    changeset = ChangeSet(
        (
            BatchRequest("POST", f"{API}/contacts", JSON, b'{"lastname":"Undeclared"}', "1"),
            BatchRequest("PATCH", "$5", JSON, b'{"lastname":"x"}', "2"),
        )
    )
    response = org.batch_items([changeset])
    assert response.status_code == 400
    (part,) = answers(response)
    assert isinstance(part, ResponsePart)
    assert part.status == 400
    message = part_json(part.body)["error"]["message"]
    assert message == "Content-ID Reference: '$5' does not exist in the batch context."
    assert org.count("contacts", "lastname eq 'Undeclared'") == 0


def test_get_inside_a_changeset_is_400_and_runs_nothing(org: Org) -> None:
    """Reference §9, §18 item 18: change sets may not contain GETs."""
    body = crlf(
        '--batch_t\nContent-Type: multipart/mixed; boundary="changeset_c"\n\n'
        f"--changeset_c\n{create_part('WithGet', content_id='1')}"
        "--changeset_c\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n"
        f"Content-ID: 2\n\nGET {API}/contacts HTTP/1.1\n\n\n"
        "--changeset_c--\n--batch_t--\n"
    )
    response = org.batch(body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x0"
    assert "GET" in response.json()["error"]["message"]
    assert org.count("contacts", "lastname eq 'WithGet'") == 0


def _good_bad_good() -> list[BatchRequest]:
    return [
        BatchRequest("POST", f"{API}/contacts", JSON, b'{"lastname":"First"}'),
        BatchRequest("POST", f"{API}/contacts", JSON, b'{"lastname":"Bad","nosuchcolumn":1}'),
        BatchRequest("POST", f"{API}/contacts", JSON, b'{"lastname":"Third"}'),
    ]


def test_without_continue_on_error_the_first_failure_stops_the_batch(org: Org) -> None:
    """Reference §9, §17.4, §18 item 19: failing status; parts run so far, then the failure."""
    response = org.batch_items(list(_good_bad_good()))
    assert response.status_code == 400
    parts = answers(response)
    assert [p.status for p in parts if isinstance(p, ResponsePart)] == [204, 400]
    assert org.count("contacts", "lastname eq 'First'") == 1
    assert org.count("contacts", "lastname eq 'Third'") == 0


def test_with_continue_on_error_every_part_runs(org: Org) -> None:
    """Reference §9, §18 item 19: 200 and every part with its own status."""
    response = org.batch_items(list(_good_bad_good()), prefer="odata.continue-on-error")
    assert response.status_code == 200
    assert "odata.continue-on-error" in response.headers.get("preference-applied", "")
    parts = answers(response)
    assert [p.status for p in parts if isinstance(p, ResponsePart)] == [204, 400, 204]
    assert org.count("contacts", "lastname eq 'First'") == 1
    assert org.count("contacts", "lastname eq 'Third'") == 1


def test_failed_changeset_with_continue_on_error_rolls_back_and_later_parts_run(
    org: Org,
) -> None:
    """Reference §9: a failing change set rolls back entirely; the batch goes on."""
    changeset = ChangeSet(
        (
            BatchRequest("POST", f"{API}/contacts", JSON, b'{"lastname":"Rolled"}', "1"),
            BatchRequest("PATCH", "$1", JSON, b'{"nosuchcolumn":"x"}', "2"),
        )
    )
    after = BatchRequest("POST", f"{API}/contacts", JSON, b'{"lastname":"After"}')
    response = org.batch_items([changeset, after], prefer="odata.continue-on-error")
    assert response.status_code == 200
    failed, ran = answers(response)
    assert isinstance(failed, ResponsePart) and failed.status == 400
    assert failed.content_id == "2"
    assert isinstance(ran, ResponsePart) and ran.status == 204
    assert org.count("contacts", "lastname eq 'Rolled'") == 0
    assert org.count("contacts", "lastname eq 'After'") == 1


def test_get_parts_answer_streaming_json_and_the_batch_is_journaled_as_a_read(
    org: Org,
) -> None:
    """Reference §9: GET parts answer 200 with streaming JSON; a GET-only batch is a read."""
    org.create("contacts", {"lastname": "Reader"})
    seq = org.emu.journal.last_seq
    get = BatchRequest(
        "GET", f"{API}/contacts?$select=lastname", {"accept": "application/json"}, b""
    )
    response = org.batch_items([get, get])
    assert response.status_code == 200
    for part in answers(response):
        assert isinstance(part, ResponsePart)
        headers = dict(part.headers)
        assert part.status == 200
        assert headers["content-type"] == (
            "application/json; odata.metadata=minimal; odata.streaming=true"
        )
        assert [r["lastname"] for r in part_json(part.body)["value"]] == ["Reader"]
    assert org.emu.journal.writes_since(seq) == []


def test_absolute_and_root_relative_request_urls_both_work(org: Org) -> None:
    """Reference §9: request lines relative (`/api/data/v9.2/…`) or absolute."""
    absolute = f"{org.base}{API}/contacts"
    response = org.batch_items(
        [
            BatchRequest("POST", absolute, JSON, b'{"lastname":"Abs"}'),
            BatchRequest("POST", f"{API}/contacts", JSON, b'{"lastname":"Rel"}'),
        ]
    )
    assert response.status_code == 200, response.text
    assert org.count("contacts", "lastname eq 'Abs' or lastname eq 'Rel'") == 2


def test_more_than_1000_requests_is_400(org: Org) -> None:
    """Reference §9: at most 1000 requests per batch."""
    get = BatchRequest("GET", f"{API}/WhoAmI", {}, b"")
    response = org.batch_items([get] * 1001)
    assert response.status_code == 400
    assert "1000" in response.json()["error"]["message"]


def test_malformed_batch_is_400_with_the_error_body(org: Org) -> None:
    """Reference §9, §14: malformed multipart → 400 `{"error":{"code","message"}}`."""
    response = org.batch("--batch_t\r\nContent-Type: application/http\r\n\r\nGET /x HTTP/1.1\r\n")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "0x0"
    assert "close delimiter" in error["message"]


def test_create_with_return_representation_in_a_batch(org: Org) -> None:
    """Reference §7.1, §9: 201 with the record; `Location` names it."""
    request = BatchRequest(
        "POST",
        f"{API}/contacts",
        {**JSON, "prefer": "return=representation"},
        json.dumps({"lastname": "Represented"}).encode(),
        "1",
    )
    response = org.batch_items([ChangeSet((request,))])
    assert response.status_code == 200, response.text
    (answer,) = answers(response)
    assert isinstance(answer, ChangeSetResponse)
    (part,) = answer.parts
    assert part.status == 201
    record = part_json(part.body)
    assert record["lastname"] == "Represented"
    assert entity_id(dict(part.headers)["location"]) == record["contactid"]
