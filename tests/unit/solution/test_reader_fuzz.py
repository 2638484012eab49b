"""Property tests: the reader refuses garbage cleanly, and any valid schema survives a trip.

Reference dataverse.md §10 ImportSolution: the emulator reads uploaded files;
whatever arrives, the only failure is an InvalidInput naming the problem.
"""

from __future__ import annotations

import io
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from crm2cr.errors import InvalidInput
from crm2cr.solution.package import build_solution_zip, read_solution_zip
from crm2cr.solution.schema import SCHEMA, Column, ColumnType, Label, Option

VALID = build_solution_zip(SCHEMA)
with zipfile.ZipFile(io.BytesIO(VALID)) as _archive:
    MEMBERS = {name: _archive.read(name) for name in _archive.namelist()}


def _read_or_refuse(data: bytes) -> None:
    try:
        read_solution_zip(data)
    except InvalidInput as exc:
        assert exc.message
        assert exc.hint


@given(st.binary(max_size=2048))
def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    _read_or_refuse(data)


@given(
    st.sampled_from(sorted(MEMBERS)),
    st.integers(min_value=0),
    st.binary(min_size=1, max_size=8),
)
def test_damaged_members_are_read_or_refused_cleanly(member: str, at: int, junk: bytes) -> None:
    original = MEMBERS[member]
    position = at % len(original)
    damaged = original[:position] + junk + original[position + len(junk) :]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in MEMBERS.items():
            archive.writestr(name, damaged if name == member else data)
    _read_or_refuse(buffer.getvalue())


@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(min_value=0, max_value=255))
def test_damaged_archives_are_read_or_refused_cleanly(at: int, byte: int) -> None:
    damaged = bytearray(VALID)
    damaged[at] = byte
    _read_or_refuse(bytes(damaged))


SIMPLE_TYPES: list[ColumnType] = ["string", "memo", "integer", "bigint", "datetime", "picklist"]
NAMES = st.from_regex(r"[A-Z][A-Za-z0-9]{0,20}", fullmatch=True)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)


@st.composite
def columns(draw: st.DrawFn) -> list[Column]:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique_by=str.lower))
    first = SCHEMA.publisher.first_option_value()
    result = []
    for name in names:
        kind = draw(st.sampled_from(SIMPLE_TYPES))
        options: tuple[Option, ...] = ()
        if kind == "picklist":
            values = draw(st.lists(st.integers(0, 9999), min_size=1, max_size=4, unique=True))
            options = tuple(Option(first + v, Label(draw(TEXT) or "x", draw(TEXT))) for v in values)
        result.append(
            Column(
                f"crm2cr_X{name}",
                Label(draw(TEXT) or name, draw(TEXT)),
                kind,
                max_length=draw(st.integers(1, 4000)) if kind in ("string", "memo") else None,
                required=draw(st.sampled_from(["none", "recommended", "required"])),
                options=options,
                description=draw(TEXT).strip(),
            )
        )
    return result


@given(columns())
def test_upgraded_schemas_survive_the_trip(extra: list[Column]) -> None:
    newer = SCHEMA.upgraded("1.0.1.0", columns={"crm2cr_configuration": extra})
    assert read_solution_zip(build_solution_zip(newer)) == newer
