"""The query builder escapes every value (reference §4.1 query options, §3 values)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from odata_query import ast
from odata_query.grammar import ODataLexer, ODataParser

from crm2cr.dataverse.query import (
    Expand,
    Query,
    alternate_key_segment,
    col,
    encode_params,
    guid,
    key_segment,
    literal,
    name,
)
from crm2cr.errors import InvalidInput


def parse(text: str) -> Any:
    return ODataParser().parse(ODataLexer().tokenize(text))


def test_string_literal_doubles_single_quotes() -> None:
    """Reference §4.1: `'` doubled inside string literals."""
    assert literal("O'Brien") == "'O''Brien'"
    assert col("lastname").eq("O'Brien").text == "lastname eq 'O''Brien'"


@pytest.mark.parametrize(
    "attack",
    [
        "x' or 1 eq 1 or 'a' eq 'a",
        "'; drop table contact --",
        "') or (statecode eq 1",
        "a' eq 'a') or contains(fullname,'",
    ],
)
def test_injection_attempts_stay_one_string_literal(attack: str) -> None:
    """Reference §4.1: a filter value can never change the expression around it."""
    tree = parse(col("emailaddress1").eq(attack).text)
    assert isinstance(tree, ast.Compare)
    assert isinstance(tree.left, ast.Identifier) and tree.left.name == "emailaddress1"
    assert isinstance(tree.right, ast.String) and tree.right.val == attack


@given(st.text(min_size=0, max_size=60))
def test_any_text_round_trips_through_an_odata_parser(value: str) -> None:
    """Reference §4.1: whatever the text, the parsed literal is exactly the value."""
    tree = parse(col("fullname").startswith(value).text)
    assert isinstance(tree, ast.Call)
    literal_node = tree.args[1]
    assert isinstance(literal_node, ast.String) and literal_node.val == value


def test_url_special_characters_are_encoded_by_httpx() -> None:
    """Reference §4.1: `+ & $ , / : ; = ? @` are URL-encoded in literals."""
    value = "a+b&c$d,e/f:g;h=i?j@k #%ü"
    query = encode_params(Query(filter=col("emailaddress1").eq(value)).params())
    key, _, encoded = query.partition("=")
    assert key == "$filter"
    for char in "+&$,/:;=?@ #'":
        assert char not in encoded, char
    url = httpx.URL(f"https://org.example/api/data/v9.2/contacts?{query}")
    assert url.params["$filter"] == f"emailaddress1 eq '{value}'"
    assert "%20" in encoded


def test_typed_literals() -> None:
    """Reference §3 values: GUIDs bare lower case, DateTime UTC without fraction, date-only."""
    assert literal(None) == "null"
    assert literal(True) == "true" and literal(False) == "false"
    assert literal(7) == "7" and literal(1.5) == "1.5"
    assert literal(uuid.UUID("0F8FAD5B-D9CB-469F-A165-70867728950E")) == (
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    )
    local = datetime(2026, 11, 22, 9, 14, 3, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert literal(local) == "2026-11-22T08:14:03Z"
    assert literal(date(2026, 11, 22)) == "2026-11-22"
    tree = parse(col("modifiedon").ge(datetime(2026, 1, 1, tzinfo=UTC)).text)
    assert isinstance(tree.right, ast.DateTime)


def test_naive_datetimes_and_odd_values_are_refused() -> None:
    """Reference §3 values: a date without zone would be read as UTC silently; refuse it."""
    with pytest.raises(InvalidInput):
        literal(datetime(2026, 1, 1))
    with pytest.raises(InvalidInput):
        literal(float("nan"))
    with pytest.raises(InvalidInput):
        literal([1, 2])  # type: ignore[arg-type]


def test_names_and_guids_are_checked() -> None:
    """Reference §1: names are identifiers; a record segment is a bare GUID."""
    for bad in ("full name", "a)", "x/y/z", "contacts(1)", "", "emailaddress1 eq 'a'"):
        with pytest.raises(InvalidInput):
            col(bad)
    with pytest.raises(InvalidInput):
        name("lists/../x")
    with pytest.raises(InvalidInput):
        guid("not-a-guid")
    assert guid("{0F8FAD5B-D9CB-469F-A165-70867728950E}") == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert key_segment("contacts", "0F8FAD5B-D9CB-469F-A165-70867728950E") == (
        "contacts(0f8fad5b-d9cb-469f-a165-70867728950e)"
    )
    assert alternate_key_segment("contacts", {"emailaddress1": "o'b@x.de"}) == (
        "contacts(emailaddress1='o''b@x.de')"
    )


def test_lookup_compare_and_combinators() -> None:
    """Reference §4.1: `_parentcustomerid_value eq {guid}`, and/or/not with parentheses."""
    some = "0f8fad5b-d9cb-469f-a165-70867728950e"
    expr = (col("_listid_value").eq_guid(some) & ~col("statecode").eq(1)) | col(
        "primarycontactid/fullname"
    ).contains("x")
    tree = parse(expr.text)
    assert isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.Or)
    assert "_listid_value eq 0f8fad5b-d9cb-469f-a165-70867728950e" in expr.text
    members = col("gendercode").is_in([1, 2])
    assert isinstance(parse(members.text), ast.BoolOp)
    with pytest.raises(InvalidInput):
        col("gendercode").is_in([])


def test_query_params() -> None:
    """Reference §4.1: $select, $filter, $orderby, $expand with nested options, $count."""
    query = Query(
        select=("fullname", "emailaddress1"),
        filter=col("statecode").eq(0),
        orderby=(("modifiedon", False), ("contactid", True)),
        expand=(Expand("owninguser", select=("firstname",)),),
        count=True,
    )
    assert query.params() == {
        "$select": "fullname,emailaddress1",
        "$filter": "statecode eq 0",
        "$orderby": "modifiedon asc,contactid desc",
        "$expand": "owninguser($select=firstname)",
        "$count": "true",
    }
    with pytest.raises(InvalidInput):
        Query(select=("a,b",)).params()
