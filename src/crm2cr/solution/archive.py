"""Unpack a solution file safely: the zip and its XML are untrusted input.

Refuses archives that are too large, have too many members, claim an
implausible compression ratio, are encrypted or carry unsafe member names
(absolute, `..`, backslashes, drive letters: "zip slip"); reads only the
members a solution needs, never more than a bounded number of bytes from
each, whatever the headers claim; parses XML with DTDs, entities and
external references forbidden (defusedxml), so "billion laughs" and XXE
files are rejected, not expanded. Every refusal is an `InvalidInput` whose
message says what is wrong.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from crm2cr.errors import InvalidInput

SOLUTION_XML = "solution.xml"
CUSTOMIZATIONS_XML = "customizations.xml"
CONTENT_TYPES_XML = "[Content_Types].xml"

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200  # deflate rarely beats ~20:1 on XML; far beyond that is a bomb

SUPPORTED_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

_DRIVE = re.compile(r"[A-Za-z]:")
HINT = "Use the file 'crm2cr solution download' writes, or a solution exported from Dataverse."


def unpack(data: bytes) -> dict[str, Element]:
    """The parsed XML members of a solution file, by name ([Content_Types].xml if present)."""
    members = _unpack(data)
    return {name: _parse_xml(raw, name) for name, raw in members.items()}


def bad(member: str, problem: str) -> InvalidInput:
    return InvalidInput(f"The solution file's {member} is invalid: {problem}.", hint=HINT)


def _unpack(data: bytes) -> dict[str, bytes]:
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(
            f"The solution file is {len(data)} bytes; at most {MAX_FILE_BYTES} are accepted.",
            hint=HINT,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_members(infos)
            wanted = {SOLUTION_XML, CUSTOMIZATIONS_XML, CONTENT_TYPES_XML}
            members = {
                info.filename: _read_member(archive, info)
                for info in infos
                if info.filename in wanted
            }
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
        raise InvalidInput(
            f"The solution file is not a readable zip archive ({exc}).", hint=HINT
        ) from exc
    for required in (SOLUTION_XML, CUSTOMIZATIONS_XML):
        if required not in members:
            raise InvalidInput(f"The solution file has no {required}.", hint=HINT)
    return members


def _check_members(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise InvalidInput(
            f"The solution file has {len(infos)} entries; at most {MAX_MEMBERS} are accepted.",
            hint=HINT,
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        _check_member_name(name)
        if name.lower() in seen:
            raise InvalidInput(f"The solution file holds {name[:100]!r} twice.", hint=HINT)
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise InvalidInput(f"The solution file's {name[:100]!r} is encrypted.", hint=HINT)
        if info.file_size > MAX_MEMBER_BYTES:
            raise InvalidInput(
                f"The solution file's {name[:100]!r} unpacks to {info.file_size} bytes; "
                f"at most {MAX_MEMBER_BYTES} are accepted.",
                hint=HINT,
            )
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InvalidInput(
                f"The solution file's {name[:100]!r} is compressed more than {MAX_RATIO}:1 "
                "(a zip bomb?).",
                hint=HINT,
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise InvalidInput(
            f"The solution file unpacks to {total} bytes; at most {MAX_TOTAL_BYTES} are accepted.",
            hint=HINT,
        )


def _check_member_name(name: str) -> None:
    unsafe = (
        not name
        or "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or _DRIVE.match(name) is not None
        or any(part == ".." for part in name.split("/"))
    )
    if unsafe:
        raise InvalidInput(
            f"The solution file contains an unsafe path {name[:100]!r} (absolute, '..' or "
            "backslashes); it was refused.",
            hint=HINT,
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.compress_type not in SUPPORTED_COMPRESSION:
        raise InvalidInput(
            f"The solution file's {info.filename!r} uses an unsupported zip compression "
            f"(method {info.compress_type}); solution files are stored or deflated.",
            hint=HINT,
        )
    # Headers can lie about sizes: read one byte past the limit to catch that.
    with archive.open(info) as stream:
        data = stream.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise InvalidInput(
            f"The solution file's {info.filename!r} unpacks to more than {MAX_MEMBER_BYTES} bytes.",
            hint=HINT,
        )
    return data


def _parse_xml(data: bytes, member: str) -> Element:
    try:
        root: Element = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise InvalidInput(
            f"The solution file's {member} declares a DTD, entities or external references "
            f"({type(exc).__name__}); they are refused.",
            hint=HINT,
        ) from exc
    except ParseError as exc:
        raise bad(member, f"not well-formed XML ({exc})") from exc
    if member != CONTENT_TYPES_XML and root.tag != "ImportExportXml":
        raise bad(member, f"the root element is <{root.tag[:50]}>, not <ImportExportXml>")
    return root
