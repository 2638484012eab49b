"""The $batch multipart codec: CRLF and LF, quoted boundaries, Content-IDs, malformed input."""

from __future__ import annotations

import pytest

from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.multipart import (
    BatchItem,
    BatchRequest,
    ChangeSet,
    ChangeSetResponse,
    ResponsePart,
    content_type_boundary,
    encode_batch_request,
    encode_batch_response,
    parse_batch,
    parse_batch_response,
)

EXAMPLE = (
    "--batch_A\r\n"
    'Content-Type: multipart/mixed; boundary="changeset_B"\r\n'
    "\r\n"
    "--changeset_B\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 1\r\n"
    "\r\n"
    "POST /api/data/v9.2/contacts HTTP/1.1\r\n"
    "Content-Type: application/json; type=entry\r\n"
    "\r\n"
    '{"lastname":"Muster"}\r\n'
    "--changeset_B\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 2\r\n"
    "\r\n"
    "PATCH $1 HTTP/1.1\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    '{"firstname":"Erika"}\r\n'
    "--changeset_B--\r\n"
    "--batch_A\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "GET https://contoso.crm4.dynamics.com/api/data/v9.2/contacts?$select=fullname HTTP/1.1\r\n"
    "Accept: application/json\r\n"
    "\r\n"
    "\r\n"
    "--batch_A--\r\n"
)


def _error(excinfo: pytest.ExceptionInfo[ODataError]) -> tuple[int, str]:
    return excinfo.value.status, excinfo.value.code


def test_crlf_batch_with_changeset_parses_in_order() -> None:
    """Reference §9: change set with Content-IDs, then a GET with an absolute URL."""
    items = parse_batch('multipart/mixed; boundary="batch_A"', EXAMPLE.encode())
    assert len(items) == 2
    changeset, get = items
    assert isinstance(changeset, ChangeSet)
    first, second = changeset.requests
    assert (first.method, first.target, first.content_id) == (
        "POST",
        "/api/data/v9.2/contacts",
        "1",
    )
    assert first.headers["content-type"] == "application/json; type=entry"
    assert first.body == b'{"lastname":"Muster"}'
    assert (second.method, second.target, second.content_id) == ("PATCH", "$1", "2")
    assert isinstance(get, BatchRequest)
    assert get.method == "GET"
    assert get.target.startswith("https://contoso.crm4.dynamics.com/api/data/v9.2/contacts?")
    assert get.body == b""
    assert get.content_id is None


def test_lf_only_line_ends_parse_the_same() -> None:
    """Reference §9: CRLF is the rule; bare LF from lenient clients is accepted too."""
    crlf = parse_batch('multipart/mixed; boundary="batch_A"', EXAMPLE.encode())
    lf = parse_batch('multipart/mixed; boundary="batch_A"', EXAMPLE.replace("\r\n", "\n").encode())
    assert lf == crlf


def test_bare_and_quoted_boundaries_are_equal() -> None:
    """Reference §9: the boundary parameter may be quoted or bare."""
    assert content_type_boundary('multipart/mixed; boundary="batch_x"') == "batch_x"
    assert content_type_boundary("multipart/mixed;boundary=batch_x") == "batch_x"
    assert content_type_boundary("Multipart/Mixed; charset=utf-8; boundary=batch_x") == "batch_x"


def test_content_id_on_inner_request_headers_is_read() -> None:
    """Reference §9: some clients put Content-ID on the inner request instead of the part."""
    body = (
        "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
        "--c\r\nContent-Type: application/http\r\n\r\n"
        "POST contacts HTTP/1.1\r\nContent-ID: 7\r\nContent-Type: application/json\r\n\r\n{}\r\n"
        "--c--\r\n--b--\r\n"
    )
    (changeset,) = parse_batch("multipart/mixed; boundary=b", body.encode())
    assert isinstance(changeset, ChangeSet)
    assert changeset.requests[0].content_id == "7"
    assert changeset.requests[0].target == "contacts"


def test_preamble_and_epilogue_are_ignored() -> None:
    """RFC 2046: text before the first and after the last delimiter is not a part."""
    body = (
        "This is a preamble\r\n--b\r\nContent-Type: application/http\r\n\r\n"
        "GET /api/data/v9.2/WhoAmI HTTP/1.1\r\n\r\n\r\n--b--\r\nepilogue"
    )
    (request,) = parse_batch("multipart/mixed; boundary=b", body.encode())
    assert isinstance(request, BatchRequest)
    assert request.target == "/api/data/v9.2/WhoAmI"


def test_similar_boundary_inside_payload_is_not_a_delimiter() -> None:
    """RFC 2046: only a whole `--boundary` line delimits; a longer token does not."""
    body = (
        "--b\r\nContent-Type: application/http\r\n\r\n"
        'POST /api/data/v9.2/contacts HTTP/1.1\r\n\r\n{"lastname":"x"}\r\n--bb\r\n'
        "--b--\r\n"
    )
    (request,) = parse_batch("multipart/mixed; boundary=b", body.encode())
    assert isinstance(request, BatchRequest)
    assert request.body == b'{"lastname":"x"}\r\n--bb'


def test_header_continuation_lines_are_folded() -> None:
    """Reference §9 (RFC 822 folding): a header may continue on an indented line."""
    body = (
        "--b\r\nContent-Type: application/http\r\n\r\n"
        "GET /api/data/v9.2/contacts HTTP/1.1\r\nPrefer: odata.maxpagesize=2,\r\n"
        ' odata.include-annotations="*"\r\n\r\n\r\n--b--\r\n'
    )
    (request,) = parse_batch("multipart/mixed; boundary=b", body.encode())
    assert isinstance(request, BatchRequest)
    assert request.headers["prefer"] == 'odata.maxpagesize=2, odata.include-annotations="*"'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", "--b\r\n--b--\r\n"),
        ("multipart/mixed", "--b\r\n--b--\r\n"),
        ("multipart/mixed; boundary=" + "x" * 71, "--b--\r\n"),
        ("multipart/mixed; boundary=b", "no delimiters at all"),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\n\r\nGET\r\n\r\n--b--\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\n\r\nGET /x FTP/1\r\n\r\n--b--\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\n\r\n"
            "GET /x HTTP/1.1\r\nbroken\r\n\r\n--b--\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\n\r\n\r\n--b--\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "R0VU\r\n--b--\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
            "--c\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n--d--\r\n--c--\r\n--b--\r\n",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: multipart/mixed\r\n\r\n--c--\r\n--b--\r\n",
        ),
    ],
    ids=[
        "not-multipart",
        "no-boundary",
        "boundary-too-long",
        "boundary-absent",
        "no-close-delimiter",
        "part-not-http",
        "no-request-target",
        "not-http-version",
        "bad-header-line",
        "empty-part",
        "base64-part",
        "nested-changeset",
        "changeset-without-boundary",
    ],
)
def test_malformed_batches_are_400_0x0(content_type: str, body: str) -> None:
    """Reference §9/§14: a malformed multipart body is a 400 with the service's error body."""
    with pytest.raises(ODataError) as excinfo:
        parse_batch(content_type, body.encode())
    assert _error(excinfo) == (400, "0x0")
    assert excinfo.value.message


def test_response_encoding_uses_batchresponse_boundaries_and_crlf() -> None:
    """Reference §9: batchresponse_/changesetresponse_ boundaries, Content-ID echoed, CRLF."""
    location = "http://127.0.0.1/api/data/v9.2/contacts(00000000-0000-0000-0000-000000000001)"
    content_type, body = encode_batch_response(
        [
            ChangeSetResponse(
                (
                    ResponsePart(
                        204,
                        (("OData-Version", "4.0"), ("Location", location)),
                        content_id="1",
                    ),
                )
            ),
            ResponsePart(200, (("Content-Type", "application/json"),), b'{"value":[]}'),
        ]
    )
    boundary = content_type_boundary(content_type)
    assert boundary.startswith("batchresponse_")
    text = body.decode()
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert "boundary=changesetresponse_" in text
    assert "HTTP/1.1 204 No Content\r\n" in text
    assert "HTTP/1.1 200 OK\r\n" in text
    assert "Content-ID: 1\r\n" in text
    assert text.endswith(f"--{boundary}--\r\n")
    changeset, get = parse_batch_response(content_type, body)
    assert isinstance(changeset, ChangeSetResponse)
    assert changeset.parts[0].status == 204
    assert changeset.parts[0].content_id == "1"
    assert dict(changeset.parts[0].headers)["location"] == location
    assert isinstance(get, ResponsePart)
    assert (get.status, get.body) == (200, b'{"value":[]}')


def test_request_encoding_round_trips() -> None:
    """Reference §9: the request writer and the parser agree (CRLF, change sets, Content-IDs)."""
    items: list[BatchItem] = [
        ChangeSet(
            (
                BatchRequest(
                    "POST",
                    "/api/data/v9.2/contacts",
                    {"content-type": "application/json"},
                    b'{"lastname":"A"}',
                    "1",
                ),
                BatchRequest("PATCH", "$1", {"content-type": "application/json"}, b"{}", "2"),
            )
        ),
        BatchRequest("GET", "/api/data/v9.2/contacts", {"accept": "application/json"}, b""),
    ]
    content_type, body = encode_batch_request(items, boundary="batch_fixed")
    assert content_type == 'multipart/mixed; boundary="batch_fixed"'
    assert parse_batch(content_type, body) == items


def test_unknown_status_gets_a_reason_phrase() -> None:
    """Reference §9: every inner answer is a full HTTP status line."""
    _, body = encode_batch_response([ResponsePart(299)])
    assert b"HTTP/1.1 299 Unknown\r\n" in body


def test_empty_batch_has_no_parts() -> None:
    """Reference §9: a batch with no parts is well-formed and answers no parts."""
    assert parse_batch("multipart/mixed; boundary=b", b"--b--\r\n") == []
