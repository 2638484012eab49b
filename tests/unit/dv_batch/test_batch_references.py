"""`$batch` Content-ID references and batch-level checks, through `dispatch` (reference §9)."""

from __future__ import annotations

import json

from crm2cr.emulators.dataverse.multipart import (
    BatchRequest,
    ChangeSet,
    ChangeSetResponse,
    ResponsePart,
    parse_batch_response,
)
from crm2cr.emulators.dataverse.wire import InternalResponse
from tests.unit.dv_batch.conftest import Service

API = "/api/data/v9.2"
JSON = {"content-type": "application/json"}


def post(set_name: str, body: dict[str, object], content_id: str | None = None) -> BatchRequest:
    return BatchRequest("POST", f"{API}/{set_name}", JSON, json.dumps(body).encode(), content_id)


def parts(response: InternalResponse) -> list[ResponsePart]:
    flat: list[ResponsePart] = []
    for item in parse_batch_response(response.headers["Content-Type"], response.body):
        flat.extend(item.parts if isinstance(item, ChangeSetResponse) else (item,))
    return flat


def test_reference_with_a_path_suffix_addresses_below_the_entity(service: Service) -> None:
    """Reference §9: `$1/lastname` is the column of the record part 1 created."""
    response = service.batch(
        [
            ChangeSet(
                (
                    post("contacts", {"lastname": "Before"}, "1"),
                    BatchRequest("PUT", "$1/lastname", JSON, b'{"value":"After"}', "2"),
                )
            )
        ]
    )
    assert response.status == 200, response.body
    created, put = parts(response)
    assert put.status == 204
    location = dict(created.headers)["location"]
    record_id = location.rsplit("(", 1)[1].rstrip(")")
    record = service.call("GET", f"contacts({record_id})?$select=lastname").json()
    assert record["lastname"] == "After"


def test_references_in_collection_binds_and_nested_deep_inserts(service: Service) -> None:
    """Reference §9: `$n` in `@odata.bind` values, also inside lists and nested objects."""
    response = service.batch(
        [
            ChangeSet(
                (
                    post("accounts", {"name": "Parent"}, "1"),
                    post(
                        "contacts",
                        {"lastname": "Child", "parentcustomerid_account@odata.bind": "$1"},
                        "2",
                    ),
                    post(
                        "lists",
                        {
                            "listname": "L",
                            "createdfromcode": 2,
                            "listcontact_association@odata.bind": ["$2"],
                        },
                        "3",
                    ),
                )
            )
        ]
    )
    assert response.status == 200, response.body
    account, contact, marketing_list = (
        dict(p.headers)["odata-entityid"].rsplit("(", 1)[1].rstrip(")") for p in parts(response)
    )
    record = service.call("GET", f"contacts({contact})?$select=_parentcustomerid_value").json()
    assert record["_parentcustomerid_value"] == account
    members = service.call("GET", f"lists({marketing_list})/listcontact_association").json()
    assert [m["contactid"] for m in members["value"]] == [contact]


def test_references_into_a_rolled_back_changeset_no_longer_exist(service: Service) -> None:
    """Reference §9: a failed change set leaves nothing, not even its Content-IDs."""
    failing = ChangeSet(
        (
            post("contacts", {"lastname": "Gone"}, "1"),
            post("contacts", {"lastname": "Bad", "nosuchcolumn": 1}, "2"),
        )
    )
    later = BatchRequest("PATCH", "$1", JSON, b'{"lastname":"Ghost"}', "3")
    response = service.batch([failing, later], prefer="odata.continue-on-error")
    assert response.status == 200
    first, second = parts(response)
    assert first.status == 400
    assert second.status == 400
    assert json.loads(second.body)["error"]["message"] == (
        "Content-ID Reference: '$1' does not exist in the batch context."
    )


def test_duplicate_content_ids_make_the_batch_400(service: Service) -> None:
    """Reference §9: Content-IDs are unique per batch [C C1]."""
    response = service.batch(
        [
            ChangeSet((post("contacts", {"lastname": "A"}, "1"),)),
            ChangeSet((post("contacts", {"lastname": "B"}, "1"),)),
        ]
    )
    assert response.status == 400
    assert "Content-ID '1'" in json.loads(response.body)["error"]["message"]
    assert service.call("GET", "contacts?$select=lastname").json()["value"] == []


def test_dollar_segments_that_are_not_references_pass_through(service: Service) -> None:
    """Reference §9: `$metadata` starts with `$` but is no Content-ID reference."""
    response = service.batch([BatchRequest("GET", "$metadata", {}, b"")])
    assert response.status == 200
    (part,) = parts(response)
    assert part.status == 200


def test_nested_batch_is_refused(service: Service) -> None:
    """Reference §9: no nesting."""
    response = service.batch([BatchRequest("POST", f"{API}/$batch", JSON, b"")])
    assert response.status == 400
    assert "batch" in json.loads(response.body)["error"]["message"]


def test_batch_parts_inherit_batch_level_mscrm_headers_only(service: Service) -> None:
    """Reference §3, §9: a part keeps its own Prefer; continue-on-error stays the batch's."""
    request = BatchRequest(
        "POST",
        f"{API}/contacts",
        {**JSON, "prefer": "return=representation"},
        b'{"lastname":"Shown"}',
    )
    response = service.batch([request], prefer="odata.continue-on-error")
    (part,) = parts(response)
    assert part.status == 201
    assert json.loads(part.body)["lastname"] == "Shown"
    assert dict(part.headers)["req_id"]
