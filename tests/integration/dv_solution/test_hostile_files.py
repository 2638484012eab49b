"""Malformed and hostile solution files: 400 with a clear message, nothing created (§10, §17.15)."""

from __future__ import annotations

import base64
import io
import zipfile

import httpx
import pytest

from crm2cr.solution.package import build_solution_zip
from crm2cr.solution.schema import SCHEMA

from .support import error_of, import_body, odata

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<ImportExportXml><Entities>&b;</Entities></ImportExportXml>"""


def _with(member: str, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(build_solution_zip(SCHEMA))) as source:
        files = {name: source.read(name) for name in source.namelist()}
    files[member] = data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (b"PK but not really a zip", "not a readable zip archive"),
        (_with("customizations.xml", ENTITY_BOMB), "DTD, entities or external references"),
        (_with("../../etc/evil.xml", b"<x/>"), "unsafe path"),
        (_with("solution.xml", b"<ImportExportXml>"), "not well-formed XML"),
    ],
    ids=["not-a-zip", "entity-attack", "zip-slip", "malformed-xml"],
)
def test_hostile_file_is_refused_with_a_clear_message(
    api: httpx.Client, file: bytes, message: str
) -> None:
    body = import_body(base64.b64encode(file).decode("ascii"))

    response = api.post("ImportSolution", json=body)

    assert response.status_code == 400
    code, text = error_of(response)
    assert code == "0x80048060"
    assert message in text
    solutions = api.get(odata("solutions", filter="uniquename eq 'crm2cr'"))
    assert solutions.json()["value"] == []


def test_extension_of_a_missing_table_is_refused(api: httpx.Client) -> None:
    """An organisation without the table a solution extends cannot take it."""
    from dataclasses import replace

    broken = replace(
        SCHEMA,
        extensions=(replace(SCHEMA.extensions[0], table="nosuchtable", schema_name="NoSuchTable"),),
    )
    body = import_body(base64.b64encode(build_solution_zip(broken)).decode("ascii"))
    response = api.post("ImportSolution", json=body)
    assert response.status_code == 400
    assert "nosuchtable" in error_of(response)[1]
    definitions = api.get(
        odata(
            "EntityDefinitions",
            select="LogicalName",
            filter="LogicalName eq 'crm2cr_cleverreachlink'",
        )
    )
    assert definitions.json()["value"] == []
