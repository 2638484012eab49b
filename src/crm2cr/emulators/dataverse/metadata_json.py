"""Metadata as the Web API writes it: EntityMetadata, typed AttributeMetadata,
relationships, keys, privileges, labels (reference §13)."""

from __future__ import annotations

from typing import Any

from crm2cr.emulators.dataverse.metadata import (
    CHOICE_KINDS,
    LANGUAGE,
    AttributeDef,
    EntityDef,
    Metadata,
    stable_id,
)

_TYPE_NAMES = {
    "Uniqueidentifier": "UniqueIdentifier",
    "Lookup": "Lookup",
    "Owner": "Lookup",
    "Customer": "Lookup",
}


def label(text: str, owner_id: str = "") -> dict[str, Any]:
    """A Label: LocalizedLabels (1033) and the UserLocalizedLabel."""
    if not text:
        return {"LocalizedLabels": [], "UserLocalizedLabel": None}
    localized = {
        "Label": text,
        "LanguageCode": LANGUAGE,
        "IsManaged": False,
        "MetadataId": stable_id("label", owner_id, text),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": dict(localized)}


def entity_json(metadata: Metadata, entity: EntityDef) -> dict[str, Any]:
    return {
        "MetadataId": entity.metadata_id,
        "LogicalName": entity.logical_name,
        "SchemaName": entity.schema_name,
        "EntitySetName": entity.entity_set,
        "LogicalCollectionName": entity.entity_set,
        "CollectionSchemaName": entity.schema_name + "s",
        "ObjectTypeCode": entity.object_type_code,
        "PrimaryIdAttribute": entity.primary_id,
        "PrimaryNameAttribute": entity.primary_name or None,
        "IsCustomEntity": entity.is_custom,
        "IsActivity": entity.is_activity,
        "IsIntersect": entity.is_intersect,
        "IsManaged": False,
        "OwnershipType": entity.ownership,
        "ChangeTrackingEnabled": entity.change_tracking,
        "DisplayName": label(entity.display_name, entity.metadata_id),
        "DisplayCollectionName": label(entity.display_collection_name, entity.metadata_id),
        "Description": label(entity.description, entity.metadata_id),
        "Privileges": [
            {
                "PrivilegeId": p.privilege_id,
                "Name": p.name,
                "PrivilegeType": p.access,
                "CanBeBasic": p.can_be_basic,
                "CanBeLocal": p.can_be_basic,
                "CanBeDeep": p.can_be_basic,
                "CanBeGlobal": p.can_be_global,
                "CanBeEntityReference": False,
                "CanBeParentEntityReference": False,
            }
            for p in entity.privileges()
        ],
    }


def _option(attr: AttributeDef, value: int) -> dict[str, Any]:
    option = attr.options[value]
    data: dict[str, Any] = {
        "Value": option.value,
        "Color": option.color,
        "IsManaged": False,
        "ExternalValue": None,
        "IsHidden": False,
        "ParentValues": [],
        "MetadataId": None,
        "HasChanged": None,
        "Label": label(option.label, f"{attr.metadata_id}/{value}"),
        "Description": label("", ""),
    }
    if attr.kind == "Status":
        data["State"] = option.state
    if attr.kind == "State":
        data["InvariantName"] = option.label
        data["DefaultStatus"] = None
    return data


def option_set(entity: EntityDef, attr: AttributeDef) -> dict[str, Any]:
    if attr.kind == "Boolean":
        return {
            "MetadataId": stable_id("optionset", entity.logical_name, attr.logical_name),
            "Name": f"{entity.logical_name}_{attr.logical_name}",
            "IsGlobal": False,
            "OptionSetType": "Boolean",
            "TrueOption": _option(attr, 1) if 1 in attr.options else None,
            "FalseOption": _option(attr, 0) if 0 in attr.options else None,
        }
    return {
        "MetadataId": stable_id("optionset", entity.logical_name, attr.logical_name),
        "Name": f"{entity.logical_name}_{attr.logical_name}",
        "IsGlobal": False,
        "OptionSetType": attr.kind,
        "DisplayName": label(attr.display_name, attr.metadata_id),
        "Options": [_option(attr, v) for v in sorted(attr.options)],
    }


def attribute_type_name(attr: AttributeDef) -> str:
    return f"{_TYPE_NAMES.get(attr.kind, attr.kind)}AttributeMetadata"


def attribute_json(entity: EntityDef, attr: AttributeDef, expand: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{attribute_type_name(attr)}",
        "MetadataId": attr.metadata_id,
        "LogicalName": attr.logical_name,
        "SchemaName": attr.schema_name,
        "EntityLogicalName": entity.logical_name,
        "AttributeType": attr.kind,
        "AttributeTypeName": {"Value": f"{attr.kind}Type"},
        "DisplayName": label(attr.display_name, attr.metadata_id),
        "Description": label(attr.description, attr.metadata_id),
        "IsCustomAttribute": attr.is_custom,
        "IsPrimaryId": attr.is_primary_id,
        "IsPrimaryName": attr.is_primary_name,
        "IsValidForCreate": attr.valid_for_create and not attr.computed,
        "IsValidForUpdate": attr.valid_for_update and not attr.computed,
        "IsValidForRead": attr.valid_for_read,
        "IsManaged": False,
        "RequiredLevel": {
            "Value": attr.required_level,
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
    }
    if attr.max_length is not None:
        data["MaxLength"] = attr.max_length
    if attr.is_lookup:
        data["Targets"] = list(attr.targets)
    if attr.min_value is not None:
        data["MinValue"] = attr.min_value
    if attr.max_value is not None:
        data["MaxValue"] = attr.max_value
    if attr.precision is not None:
        data["Precision"] = attr.precision
    if attr.default is not None and attr.kind in ("Boolean", *CHOICE_KINDS):
        data["DefaultValue"] = attr.default
    if attr.kind in CHOICE_KINDS or attr.kind == "Boolean":
        if "OptionSet" in expand:
            data["OptionSet"] = option_set(entity, attr)
        if "GlobalOptionSet" in expand:
            data["GlobalOptionSet"] = None
    return data


def many_to_one(metadata: Metadata, entity: EntityDef) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for nav in entity.navigations.values():
        for target_name in nav.targets:
            target = metadata.entity(target_name)
            schema = (
                nav.relationship if len(nav.targets) == 1 else f"{nav.relationship}_{target_name}"
            )
            found.append(
                {
                    "MetadataId": stable_id("relationship", schema),
                    "SchemaName": schema,
                    "RelationshipType": "OneToManyRelationship",
                    "IsCustomRelationship": False,
                    "IsManaged": False,
                    "ReferencedEntity": target_name,
                    "ReferencedAttribute": target.primary_id if target else f"{target_name}id",
                    "ReferencingEntity": entity.logical_name,
                    "ReferencingAttribute": nav.attribute,
                    "ReferencingEntityNavigationPropertyName": nav.name,
                    "ReferencedEntityNavigationPropertyName": schema,
                }
            )
    return found


def one_to_many(metadata: Metadata, entity: EntityDef) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for other in metadata:
        found.extend(
            r for r in many_to_one(metadata, other) if r["ReferencedEntity"] == entity.logical_name
        )
    return found


def _many_to_many_json(rel: Any) -> dict[str, Any]:
    return {
        "MetadataId": rel.metadata_id,
        "SchemaName": rel.schema_name,
        "RelationshipType": "ManyToManyRelationship",
        "IsCustomRelationship": False,
        "IsManaged": False,
        "Entity1LogicalName": rel.entity1,
        "Entity2LogicalName": rel.entity2,
        "IntersectEntityName": rel.intersect,
        "Entity1IntersectAttribute": rel.entity1_attribute,
        "Entity2IntersectAttribute": rel.entity2_attribute,
        "Entity1NavigationPropertyName": rel.entity1_navigation,
        "Entity2NavigationPropertyName": rel.entity2_navigation,
    }


def many_to_many(entity: EntityDef) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for rel in entity.many_to_many.values():
        seen.setdefault(rel.schema_name, _many_to_many_json(rel))
    return list(seen.values())


def many_to_many_all(metadata: Metadata) -> list[dict[str, Any]]:
    return [_many_to_many_json(r) for r in metadata.relationships()]


def key_id(entity: EntityDef, schema: str) -> str:
    return stable_id("key", entity.logical_name, schema)


def keys(entity: EntityDef) -> list[dict[str, Any]]:
    return [
        {
            "MetadataId": key_id(entity, schema),
            "SchemaName": schema,
            "LogicalName": schema.lower(),
            "KeyAttributes": list(columns),
            "EntityLogicalName": entity.logical_name,
            "EntityKeyIndexStatus": "Active",
            "DisplayName": label(schema, key_id(entity, schema)),
        }
        for schema, columns in entity.keys.items()
    ]
