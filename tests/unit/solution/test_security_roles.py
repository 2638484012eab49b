"""Role rules of the emulated organisation (reference dataverse.md §13.3)."""

from __future__ import annotations

from crm2cr.emulators.dataverse.metadata import new_entity
from crm2cr.emulators.dataverse.security_roles import (
    IMPORT_CUSTOMIZATIONS,
    MARKETING_PROFESSIONAL,
    READ_ONLY,
    SALESPERSON,
    SYSTEM_ADMINISTRATOR,
    SYSTEM_CUSTOMIZER,
    PrivilegeSpec,
    misc_privilege_id,
    role_by_name,
    table_privileges,
)


def _privileges(
    name: str, *, custom: bool = False, ownership: str = "UserOwned"
) -> dict[str, PrivilegeSpec]:
    entity = new_entity(
        name,
        name + "s",
        primary_name="name",
        object_type_code=10_001,
        ownership=ownership,  # type: ignore[arg-type]
        is_custom=custom,
        schema_name=name.capitalize() if not custom else "crm2cr_Thing",
    )
    return {p.access: p for p in table_privileges(entity)}


def test_table_privileges_are_named_after_the_schema_name() -> None:
    """§13.3: prv{Access}{SchemaName}, eight for user-owned tables."""
    specs = _privileges("crm2cr_thing", custom=True)
    assert specs["Create"].name == "prvCreatecrm2cr_Thing"
    assert set(specs) == {
        "Create",
        "Read",
        "Write",
        "Delete",
        "Append",
        "AppendTo",
        "Assign",
        "Share",
    }


def test_administrator_holds_everything_at_global() -> None:
    for spec in [
        *_privileges("contact").values(),
        *_privileges("crm2cr_thing", custom=True).values(),
    ]:
        assert SYSTEM_ADMINISTRATOR.depth(spec) == "Global"
    misc = PrivilegeSpec(IMPORT_CUSTOMIZATIONS, misc_privilege_id(IMPORT_CUSTOMIZATIONS), "Misc")
    assert SYSTEM_ADMINISTRATOR.depth(misc) == "Global"
    assert SYSTEM_CUSTOMIZER.depth(misc) == "Global"
    assert MARKETING_PROFESSIONAL.depth(misc) is None


def test_marketing_professional_has_nothing_on_custom_tables() -> None:
    """SPEC §2 rights check: the crm2cr tables need privileges granted by an administrator."""
    assert MARKETING_PROFESSIONAL.depth(_privileges("list")["Read"]) == "Global"
    assert MARKETING_PROFESSIONAL.depth(_privileges("contact")["Write"]) == "Global"
    for spec in _privileges("crm2cr_thing", custom=True).values():
        assert MARKETING_PROFESSIONAL.depth(spec) is None


def test_salesperson_uses_basic_and_local_depths() -> None:
    contact = _privileges("contact")
    assert SALESPERSON.depth(contact["Read"]) == "Local"
    assert SALESPERSON.depth(contact["Write"]) == "Basic"
    assert SALESPERSON.depth(_privileges("list")["Delete"]) is None


def test_tables_without_owner_only_know_global() -> None:
    """§13.3: organisation-owned tables have no Basic or Local depth."""
    specs = _privileges("solution", ownership="OrganizationOwned")
    assert "Assign" not in specs
    assert SALESPERSON.depth(_privileges("team", ownership="None")["Read"]) == "Global"
    assert SYSTEM_CUSTOMIZER.depth(specs["Write"]) == "Global"


def test_read_only_reads_everything_and_writes_nothing() -> None:
    specs = _privileges("crm2cr_thing", custom=True)
    assert READ_ONLY.depth(specs["Read"]) == "Global"
    assert all(READ_ONLY.depth(s) is None for a, s in specs.items() if a != "Read")


def test_intersect_tables_have_no_privileges() -> None:
    entity = new_entity(
        "listmember", "listmembers", primary_name="", object_type_code=4301, is_intersect=True
    )
    assert table_privileges(entity) == []


def test_role_names_compare_case_insensitively() -> None:
    assert role_by_name("system administrator") is SYSTEM_ADMINISTRATOR
    assert role_by_name(" Read Only ") is READ_ONLY
    assert role_by_name("Overlord") is None
