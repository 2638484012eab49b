"""Hostile and malformed solution files are refused with a clear message (reference §10, §17.15).

ImportSolution reads whatever a caller uploads; these files must not expand
entities, reach the network, write outside a folder or exhaust memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from crm2cr.errors import InvalidInput
from crm2cr.solution import archive
from crm2cr.solution.reader import read_solution_zip

Rezip = Callable[[Mapping[str, bytes]], bytes]

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ImportExportXml><Entities>&lol3;</Entities></ImportExportXml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<ImportExportXml><Entities>&x;</Entities></ImportExportXml>"""


def test_not_a_zip_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a readable zip archive"):
        read_solution_zip(b"this is not a zip file")


def test_empty_zip_names_the_missing_member(rezip: Rezip) -> None:
    with pytest.raises(InvalidInput, match=r"has no solution\.xml"):
        read_solution_zip(rezip({}))


def test_missing_customizations_is_refused(members: Mapping[str, bytes], rezip: Rezip) -> None:
    files = {"solution.xml": members["solution.xml"]}
    with pytest.raises(InvalidInput, match=r"has no customizations\.xml"):
        read_solution_zip(rezip(files))


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_attacks_are_refused_not_expanded(
    payload: bytes, members: Mapping[str, bytes], rezip: Rezip
) -> None:
    files = dict(members, **{"customizations.xml": payload})
    with pytest.raises(InvalidInput, match="DTD, entities or external references"):
        read_solution_zip(rezip(files))


def test_entity_attack_in_content_types_is_refused(
    members: Mapping[str, bytes], rezip: Rezip
) -> None:
    files = dict(members, **{"[Content_Types].xml": BILLION_LAUGHS})
    with pytest.raises(InvalidInput, match="DTD"):
        read_solution_zip(rezip(files))


@pytest.mark.parametrize(
    "name", ["../evil.xml", "a/../../evil.xml", "/etc/cron.d/evil", "a\\..\\evil", "C:evil"]
)
def test_zip_slip_names_are_refused(name: str, members: Mapping[str, bytes], rezip: Rezip) -> None:
    files = dict(members, **{name: b"<x/>"})
    with pytest.raises(InvalidInput, match="unsafe path"):
        read_solution_zip(rezip(files))


def test_zip_bomb_is_refused(members: Mapping[str, bytes], rezip: Rezip) -> None:
    bomb = b"\0" * (archive.MAX_MEMBER_BYTES - 1)
    files = dict(members, **{"customizations.xml": bomb})
    with pytest.raises(InvalidInput, match="zip bomb"):
        read_solution_zip(rezip(files))


def test_oversized_member_is_refused(
    members: Mapping[str, bytes], rezip: Rezip, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(InvalidInput, match="at most 1000 are accepted"):
        read_solution_zip(rezip(members))


def test_oversized_file_is_refused(monkeypatch: pytest.MonkeyPatch, solution_file: bytes) -> None:
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", 100)
    with pytest.raises(InvalidInput, match="at most 100 are accepted"):
        read_solution_zip(solution_file)


def test_too_many_members_are_refused(
    members: Mapping[str, bytes], rezip: Rezip, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 4)
    files = dict(members, **{f"extra{i}.xml": b"<x/>" for i in range(3)})
    with pytest.raises(InvalidInput, match="6 entries"):
        read_solution_zip(rezip(files))


def test_encrypted_member_is_refused(solution_file: bytes) -> None:
    # zipfile cannot write encrypted members: set the flag in the central directory.
    data = bytearray(solution_file)
    at = data.index(b"PK\x01\x02")  # the first central directory entry
    data[at + 8] |= 0x1
    with pytest.raises(InvalidInput, match="encrypted"):
        read_solution_zip(bytes(data))


def test_malformed_xml_is_refused(members: Mapping[str, bytes], rezip: Rezip) -> None:
    files = dict(members, **{"solution.xml": b"<ImportExportXml><SolutionManifest>"})
    with pytest.raises(InvalidInput, match="not well-formed XML"):
        read_solution_zip(rezip(files))


def test_wrong_root_element_is_refused(members: Mapping[str, bytes], rezip: Rezip) -> None:
    files = dict(members, **{"solution.xml": b"<html><body/></html>"})
    with pytest.raises(InvalidInput, match="not <ImportExportXml>"):
        read_solution_zip(rezip(files))


def _edited(members: Mapping[str, bytes], member: str, old: bytes, new: bytes) -> dict[str, bytes]:
    assert old in members[member]
    return dict(members, **{member: members[member].replace(old, new)})


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            b'<entity Name="crm2cr_CleverReachLink">',
            b'<entity Name="crm2cr_x; DROP TABLE contact">',
            "is not a valid name",
        ),
        (
            b'<attribute PhysicalName="crm2cr_Email">',
            b'<attribute PhysicalName="crm2cr_E&quot;mail">',
            "is not a valid name",
        ),
        (b"<Type>bigint</Type>", b"<Type>money</Type>", "type 'money'"),
        (
            b"<ReferencingAttributeName>crm2cr_ListId</ReferencingAttributeName>",
            b"<ReferencingAttributeName>crm2cr_Other</ReferencingAttributeName>",
            "lookup 'crm2cr_ListId' of 'crm2cr_cleverreachlink' has no relationship",
        ),
        (b"<MaxLength>320</MaxLength>", b"<MaxLength>99999</MaxLength>", "MaxLength 99999"),
    ],
)
def test_invalid_customizations_are_named(
    old: bytes, new: bytes, message: str, members: Mapping[str, bytes], rezip: Rezip
) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_solution_zip(rezip(_edited(members, "customizations.xml", old, new)))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"<Version>1.0.0.0</Version>", b"<Version>one</Version>", "not a solution version"),
        (b"<Managed>0</Managed>", b"<Managed>7</Managed>", "Managed must be 0 or 1"),
        (
            b"<CustomizationPrefix>crm2cr</CustomizationPrefix>",
            b"<CustomizationPrefix>Bad-Prefix</CustomizationPrefix>",
            "customization prefix",
        ),
        (
            b"<CustomizationOptionValuePrefix>",
            b"<CustomizationOptionValuePrefix>9",
            "between 10000 and 99999",
        ),
    ],
)
def test_invalid_manifest_is_named(
    old: bytes, new: bytes, message: str, members: Mapping[str, bytes], rezip: Rezip
) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_solution_zip(rezip(_edited(members, "solution.xml", old, new)))


def test_an_unsupported_compression_is_refused_by_name(members: Mapping[str, bytes]) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2) as packed:
        for name, data in members.items():
            packed.writestr(name, data)
    with pytest.raises(InvalidInput, match="unsupported zip compression"):
        read_solution_zip(buffer.getvalue())
