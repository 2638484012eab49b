"""$filter → SQL (reference §4.1): parameters only, metadata-checked names, 400 on bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.odata import compile_filter
from crm2cr.emulators.dataverse.records import new_row
from crm2cr.emulators.dataverse.seed import APP_USER_ID, ROOT_BUSINESS_UNIT_ID

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _sql(emu: DataverseEmulator, text: str) -> tuple[str, list[object]]:
    return compile_filter(emu.metadata, emu.metadata.require("contact"), text, now=NOW)


def _matching(emu: DataverseEmulator, text: str) -> list[str]:
    sql, params = _sql(emu, text)
    rows = emu.store.query(f'SELECT t0.lastname FROM "contact" t0 WHERE {sql}', params)
    return sorted(str(r["lastname"]) for r in rows)


@pytest.fixture
def people(emu: DataverseEmulator) -> DataverseEmulator:
    entity = emu.metadata.require("contact")
    for index, (first, last, city, mail) in enumerate(
        [
            ("Anna", "Müller", "Berlin", "anna@x.example"),
            ("Ben", "O'Brien", "Hamburg", None),
            ("Clara", "Smith", None, "clara@x.example"),
        ]
    ):
        emu.store.insert(
            "contact",
            new_row(
                entity,
                {
                    "contactid": f"00000000-0000-0000-0000-00000000000{index}",
                    "firstname": first,
                    "lastname": last,
                    "address1_city": city,
                    "emailaddress1": mail,
                    "createdon": int(NOW.timestamp()) - index * 86400 * 5,
                },
                user_id=APP_USER_ID,
                business_unit_id=ROOT_BUSINESS_UNIT_ID,
            ),
        )
    return emu


def test_literals_become_parameters(emu: DataverseEmulator) -> None:
    """Reference §4.1: no value from the URL reaches the SQL text."""
    sql, params = _sql(emu, "lastname eq 'x''; drop table contact; --'")
    assert sql == '(t0."lastname" = ?)'
    assert params == ["x'; drop table contact; --"]
    sql, params = _sql(emu, "contains(lastname,'%'' or 1=1 --')")
    assert "or 1=1" not in sql and params == ["%%' or 1=1 --%"]


def test_injection_attempts_change_nothing(people: DataverseEmulator) -> None:
    """A hostile literal matches nothing and leaves every table in place."""
    assert _matching(people, "lastname eq 'x''; DROP TABLE contact; --'") == []
    assert _matching(people, "lastname eq 'Smith'') OR (1=1'") == []
    assert len(_matching(people, "statecode eq 0")) == 3
    for text in ('lastname"; drop table contact; -- eq 1', "lastname eq 1; drop table contact"):
        with pytest.raises(ODataError) as error:
            _sql(people, text)
        assert error.value.status == 400
    assert people.store.scalar('SELECT COUNT(*) FROM "contact"') == 3


def test_unknown_columns_and_navigation_properties_are_refused(emu: DataverseEmulator) -> None:
    """Reference §4.1, §4.3: only readable properties; lookups only as _x_value."""
    for text, name in (
        ("nosuch eq 1", "nosuch"),
        ("parentcustomerid eq null", "parentcustomerid"),
        ("Lastname eq 'x'", "Lastname"),
        ("nosuchnav/name eq 'x'", "nosuchnav"),
    ):
        with pytest.raises(ODataError) as error:
            _sql(emu, text)
        assert error.value.status == 400 and error.value.code == "0x0"
        assert f"Could not find a property named '{name}'" in error.value.message


@pytest.mark.parametrize(
    "text",
    [
        "lastname eq",
        "lastname eq 'unterminated",
        "(lastname eq 'x'",
        "statecode eq 'zero'",
        "lastname eq 1",
        "createdon gt 'yesterday'",
        "tolower(lastname) eq 'x'",
        "statecode add 1 eq 2",
        "contains(statecode,'1')",
        "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['a'])",
        "Microsoft.Dynamics.CRM.Unknown(PropertyName='statecode')",
        "listcontact_association/any(l:l/listname eq 'x')",
        "",
    ],
)
def test_invalid_filters_are_400(emu: DataverseEmulator, text: str) -> None:
    """Reference §14: 400 0x0 for what the service cannot parse or type-check."""
    with pytest.raises(ODataError) as error:
        _sql(emu, text)
    assert error.value.status == 400


def test_operators_and_functions_select_the_right_rows(people: DataverseEmulator) -> None:
    """Reference §4.1: the supported operators, evaluated by SQLite."""
    assert _matching(people, "lastname eq 'müller'") == ["Müller"]
    assert _matching(people, "lastname eq 'O''Brien'") == ["O'Brien"]
    assert _matching(people, "address1_city ne 'Berlin'") == ["O'Brien"]
    assert _matching(people, "address1_city eq null") == ["Smith"]
    assert _matching(people, "not (address1_city eq null)") == ["Müller", "O'Brien"]
    assert _matching(people, "firstname gt 'anna' and firstname le 'CLARA'") == ["O'Brien", "Smith"]
    assert _matching(people, "startswith(emailaddress1,'CLA')") == ["Smith"]
    assert _matching(people, "endswith(lastname,'ler')") == ["Müller"]
    assert _matching(people, "firstname in ('Ben','Clara')") == ["O'Brien", "Smith"]
    in_function = "Microsoft.Dynamics.CRM.In(PropertyName='firstname',PropertyValues=['Anna'])"
    assert _matching(people, in_function) == ["Müller"]
    not_in = "Microsoft.Dynamics.CRM.NotIn(PropertyName='firstname',PropertyValues=[\"Anna\"])"
    assert _matching(people, not_in) == ["O'Brien", "Smith"]
    assert _matching(
        people, "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)"
    ) == ["Müller", "O'Brien"]
    assert _matching(people, "Microsoft.Dynamics.CRM.Today(PropertyName='createdon')") == ["Müller"]
    assert _matching(people, "createdon lt 2026-11-20") == ["O'Brien", "Smith"]
    assert _matching(people, "_ownerid_value eq " + APP_USER_ID) == [
        "Müller",
        "O'Brien",
        "Smith",
    ]
    assert _matching(people, "Microsoft.Dynamics.CRM.EqualUserId(PropertyName='ownerid')") == []
    assert _matching(people, "firstname eq lastname") == []
    assert _matching(people, "donotbulkemail eq false and not donotbulkemail") == [
        "Müller",
        "O'Brien",
        "Smith",
    ]


def test_navigation_path_is_a_correlated_subquery(people: DataverseEmulator) -> None:
    """Reference §4.1: one level of navigation, target type checked, case-insensitive."""
    sql, params = _sql(people, "parentcustomerid_account/name eq 'Contoso'")
    assert "\"parentcustomerid__type\" = 'account'" in sql and params == ["Contoso"]
    assert "COLLATE NOCASE" in sql
    assert _matching(people, "ownerid/fullname eq 'CRM2CR APP'") == ["Müller", "O'Brien", "Smith"]
