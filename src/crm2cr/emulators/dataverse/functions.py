"""Unbound functions and the service documents: WhoAmI, RetrieveVersion, `/`, `$metadata` (§10)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from crm2cr.emulators.dataverse import EMULATOR_VERSION
from crm2cr.emulators.dataverse.metadata import LOOKUP_KINDS
from crm2cr.emulators.dataverse.odata import EDM_TYPES
from crm2cr.emulators.dataverse.wire import (
    ODATA_VERSION,
    InternalResponse,
    Request,
    json_response,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator


def who_am_i(emu: DataverseEmulator, request: Request) -> InternalResponse:
    return json_response(
        {
            "@odata.context": f"{request.api_root}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
            "BusinessUnitId": request.caller.businessunitid,
            "UserId": request.caller.systemuserid,
            "OrganizationId": emu.organisation_id,
        }
    )


def retrieve_version(emu: DataverseEmulator, request: Request) -> InternalResponse:
    return json_response(
        {
            "@odata.context": (
                f"{request.api_root}/$metadata#Microsoft.Dynamics.CRM.RetrieveVersionResponse"
            ),
            "Version": EMULATOR_VERSION,
        }
    )


def service_document(emu: DataverseEmulator, request: Request) -> InternalResponse:
    """`GET {api}/`: the entity sets."""
    return json_response(
        {
            "@odata.context": f"{request.api_root}/$metadata",
            "value": [
                {"name": e.entity_set, "kind": "EntitySet", "url": e.entity_set}
                for e in sorted(emu.metadata, key=lambda e: e.entity_set)
            ],
        }
    )


def csdl(emu: DataverseEmulator, request: Request) -> InternalResponse:
    """`GET {api}/$metadata`: a CSDL document of the tables, their columns and navigations."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    entities = sorted(emu.metadata, key=lambda e: e.logical_name)
    for entity in entities:
        lines.append(f"<EntityType Name={quoteattr(entity.logical_name)}>")
        lines.append(f"<Key><PropertyRef Name={quoteattr(entity.primary_id)} /></Key>")
        for attr in entity.attributes.values():
            edm = (
                "Edm.Guid" if attr.kind in LOOKUP_KINDS else EDM_TYPES.get(attr.kind, "Edm.String")
            )
            lines.append(f"<Property Name={quoteattr(attr.read_name)} Type={quoteattr(edm)} />")
        for nav in entity.navigations.values():
            target = f"mscrm.{nav.targets[0]}"
            lines.append(
                f"<NavigationProperty Name={quoteattr(nav.name)} Type={quoteattr(target)} />"
            )
        for name, rel in entity.many_to_many.items():
            target = f"Collection(mscrm.{rel.other(entity.logical_name)})"
            lines.append(f"<NavigationProperty Name={quoteattr(name)} Type={quoteattr(target)} />")
        lines.append("</EntityType>")
    lines.append('<EntityContainer Name="System">')
    for entity in entities:
        lines.append(
            f"<EntitySet Name={quoteattr(entity.entity_set)} "
            f"EntityType={quoteattr('Microsoft.Dynamics.CRM.' + entity.logical_name)} />"
        )
    lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return InternalResponse(
        200, {**ODATA_VERSION, "Content-Type": "application/xml"}, "\n".join(lines).encode()
    )
