"""`$filter` text → the odata-query AST, and the Edm type names of errors (reference §4.1).

The grammar is odata-query's; the one addition is Dataverse's bracketed
value lists (`PropertyValues=["a","b"]`), rewritten into OData lists first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from odata_query import ast
from odata_query.exceptions import ODataException, ParsingException, TokenizingException
from odata_query.grammar import ODataLexer, ODataParser

from crm2cr.emulators.dataverse.errors import bad_request

EDM_TYPES = {
    "String": "Edm.String",
    "Memo": "Edm.String",
    "EntityName": "Edm.String",
    "Integer": "Edm.Int32",
    "Picklist": "Edm.Int32",
    "State": "Edm.Int32",
    "Status": "Edm.Int32",
    "BigInt": "Edm.Int64",
    "Boolean": "Edm.Boolean",
    "DateTime": "Edm.DateTimeOffset",
    "Decimal": "Edm.Decimal",
    "Money": "Edm.Decimal",
    "Double": "Edm.Double",
    "Uniqueidentifier": "Edm.Guid",
    "Lookup": "Edm.Guid",
    "Owner": "Edm.Guid",
    "Customer": "Edm.Guid",
}
LITERAL_EDM: dict[type[ast._Node], str] = {
    ast.String: "Edm.String",
    ast.Integer: "Edm.Int32",
    ast.Float: "Edm.Double",
    ast.Boolean: "Edm.Boolean",
    ast.GUID: "Edm.Guid",
    ast.DateTime: "Edm.DateTimeOffset",
    ast.Date: "Edm.Date",
    ast.Time: "Edm.TimeOfDay",
    ast.Duration: "Edm.Duration",
}


def parse_filter(text: str) -> ast._Node:
    """The odata-query AST of a `$filter` text; syntax errors are 400 `0x0`."""
    source = _json_arrays_to_lists(text)
    try:
        node: ast._Node = ODataParser().parse(ODataLexer().tokenize(source))
    except TokenizingException as exc:
        position = getattr(exc.token, "index", 0)
        raise bad_request(f"Syntax error at position {position} in '{text}'.") from None
    except ParsingException as exc:
        position = len(text) if exc.eof or exc.token is None else getattr(exc.token, "index", 0)
        raise bad_request(f"Syntax error at position {position} in '{text}'.") from None
    except ODataException as exc:
        raise bad_request(f"Invalid $filter '{text}': {exc}") from None
    if node is None:
        raise bad_request("The $filter expression is empty.")
    return node


def _json_arrays_to_lists(text: str) -> str:
    """`PropertyValues=["a","b"]` (as Dataverse takes it) → the OData list `('a','b')`.

    The odata-query grammar has no brackets. A bracketed list outside a string
    literal is decoded with the JSON decoder (double quotes) or, failing that,
    kept as OData literals (`['a','b']`); the lexer then checks every item.
    """
    out: list[str] = []
    i, quoted = 0, False
    while i < len(text):
        char = text[i]
        if char == "'":
            quoted = not quoted
        if char == "[" and not quoted:
            end = _closing_bracket(text, i)
            inner = text[i + 1 : end]
            try:
                values = json.loads(f"[{inner}]")
                items = [_odata_literal(v) for v in values]
            except ValueError:
                items = [inner] if inner.strip() else []
            if not items:
                raise bad_request(f"Syntax error at position {i} in '{text}'.")
            single = len(items) == 1 and "," not in _outside_quotes(items[0])
            out.append("(" + ",".join(items) + ("," if single else "") + ")")
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _closing_bracket(text: str, start: int) -> int:
    quote_char = ""
    for j in range(start + 1, len(text)):
        char = text[j]
        if quote_char:
            if char == quote_char:
                quote_char = ""
        elif char in "'\"":
            quote_char = char
        elif char == "]":
            return j
    raise bad_request(f"Syntax error at position {start} in '{text}'.")


def _outside_quotes(text: str) -> str:
    """The text with single-quoted literals removed (to look for top-level commas)."""
    return re.sub(r"'(?:[^']|'')*'", "", text)


def _odata_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
