"""The $batch multipart writer and reader (reference §9)."""

from __future__ import annotations

import json

import pytest

from crm2cr.dataverse.batch import (
    ChangeSet,
    Operation,
    PartAnswer,
    _align,
    boundary_of,
    decode_batch,
    encode_batch,
)
from crm2cr.errors import InvalidInput, ProtocolError

API_PATH = "/api/data/v9.2"


def test_encoded_batch_is_crlf_multipart_with_change_sets_and_content_ids() -> None:
    """Reference §9: multipart/mixed batch_ boundary, CRLF, nested changeset_, Content-ID."""
    content_type, body = encode_batch(
        [
            Operation("GET", "contacts?$select=fullname"),
            ChangeSet(
                [
                    Operation("POST", "accounts", {"name": "Contoso"}),
                    Operation("POST", "contacts", {"parentcustomerid_account@odata.bind": "$1"}),
                ]
            ),
        ],
        api_path=API_PATH,
    )
    boundary = boundary_of(content_type)
    assert content_type.startswith("multipart/mixed") and boundary.startswith("batch_")
    text = body.decode()
    assert "\n" not in text.replace("\r\n", "")  # every line ends in CRLF
    assert text.endswith(f"--{boundary}--\r\n")
    assert "GET /api/data/v9.2/contacts?$select=fullname HTTP/1.1\r\n" in text
    assert 'Content-Type: multipart/mixed; boundary="changeset_' in text
    assert "Content-ID: 1\r\n" in text and "Content-ID: 2\r\n" in text
    create = "POST /api/data/v9.2/accounts HTTP/1.1\r\nContent-Type: application/json; type=entry"
    assert create in text
    assert '{"parentcustomerid_account@odata.bind": "$1"}' in text


def test_batch_limits_and_change_set_rules() -> None:
    """Reference §9: ≤ 1000 requests; change sets hold no GETs."""
    with pytest.raises(InvalidInput):
        encode_batch([Operation("DELETE", "contacts")] * 1001, api_path=API_PATH)
    with pytest.raises(InvalidInput):
        encode_batch([], api_path=API_PATH)
    with pytest.raises(InvalidInput):
        ChangeSet([Operation("GET", "contacts")])


RESPONSE = (
    "--batchresponse_1f\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_64\r\n"
    "\r\n"
    "--changesetresponse_64\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 1\r\n"
    "\r\n"
    "HTTP/1.1 204 No Content\r\n"
    "OData-Version: 4.0\r\n"
    "Location: https://org/api/data/v9.2/contacts(e73ffc82-0000-0000-0000-000000000001)\r\n"
    "OData-EntityId: https://org/api/data/v9.2/contacts(e73ffc82-0000-0000-0000-000000000001)\r\n"
    "\r\n"
    "\r\n"
    "--changesetresponse_64--\r\n"
    "--batchresponse_1f\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json; odata.metadata=minimal; odata.streaming=true\r\n"
    "\r\n"
    '{"value":[{"fullname":"A\\r\\nB"}]}\r\n'
    "--batchresponse_1f\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 404 Not Found\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n"
    "\r\n"
    '{"error":{"code":"0x80040217","message":"contact With Id = x Does Not Exist"}}\r\n'
    "--batchresponse_1f--\r\n"
)


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_decode_reads_parts_in_order(newline: str) -> None:
    """Reference §9: nested changesetresponse, full HTTP parts, Content-ID echoed; LF tolerated."""
    body = RESPONSE.replace("\r\n", newline).encode()
    groups = decode_batch('multipart/mixed; boundary="batchresponse_1f"', body)
    assert [[a.status for a in g] for g in groups] == [[204], [200], [404]]
    created = groups[0][0]
    assert created.content_id == "1"
    assert created.headers["odata-entityid"].endswith("0001)")
    assert created.body == b""
    assert json.loads(groups[1][0].body) == {"value": [{"fullname": "A\r\nB"}]}
    assert json.loads(groups[2][0].body)["error"]["code"] == "0x80040217"


def test_decode_refuses_what_is_not_a_batch_answer() -> None:
    """Reference §9: answers without boundary or status line are protocol errors."""
    with pytest.raises(ProtocolError):
        boundary_of("multipart/mixed")
    with pytest.raises(ProtocolError):
        decode_batch("multipart/mixed; boundary=b", b"no boundary here")
    broken = b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 abc\r\n\r\n--b--\r\n"
    with pytest.raises(ProtocolError):
        decode_batch("multipart/mixed; boundary=b", broken)


def test_a_failed_change_set_answering_one_part_fails_all_its_operations() -> None:
    """Reference §9, §17.4: a failing change set rolls back and may answer with one part."""
    failure = PartAnswer(400, {}, b'{"error":{"code":"0x0","message":"bad"}}')
    change_set = ChangeSet([Operation("POST", "contacts", {}), Operation("POST", "contacts", {})])
    assert _align(change_set, [failure]) == [failure, failure]
    assert _align(Operation("POST", "contacts", {}), []) == [None]
    with pytest.raises(ProtocolError):
        _align(Operation("POST", "contacts", {}), [failure, failure])
