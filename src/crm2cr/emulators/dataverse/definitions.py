"""Metadata queries: `EntityDefinitions`, `RelationshipDefinitions` (reference §13.1, §7.4).

    EntityDefinitions[?$select=…&$filter=LogicalName eq 'x']
    EntityDefinitions(LogicalName='x') | EntityDefinitions(<MetadataId>)
        /Attributes[(LogicalName='y')][/Microsoft.Dynamics.CRM.PicklistAttributeMetadata]
            ?$expand=OptionSet,GlobalOptionSet
        /ManyToOneRelationships | /OneToManyRelationships | /ManyToManyRelationships
        /Keys      (GET; POST defines an alternate key)
    RelationshipDefinitions(SchemaName='x')

The JSON comes from metadata_json.py; `$filter` here is evaluated in Python
over those documents (eq, ne, and, or, not on their properties).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from odata_query import ast

from crm2cr.emulators.dataverse import metadata_json as mj
from crm2cr.emulators.dataverse.errors import (
    attribute_definition_not_found,
    bad_request,
    duplicate_key_on_create,
    entity_definition_not_found,
    no_http_resource,
    property_not_found,
    segment_not_found,
)
from crm2cr.emulators.dataverse.metadata import AttributeDef, EntityDef
from crm2cr.emulators.dataverse.odata import parse_filter
from crm2cr.emulators.dataverse.query import split_top_level
from crm2cr.emulators.dataverse.store import quote
from crm2cr.emulators.dataverse.wire import (
    InternalResponse,
    Request,
    Segment,
    json_response,
    no_content,
)

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

ROOTS = frozenset({"EntityDefinitions", "RelationshipDefinitions", "GlobalOptionSetDefinitions"})
NAMESPACE = "Microsoft.Dynamics.CRM."


def _key_value(segment: Segment, name: str) -> tuple[str, str]:
    """(kind, value) of `X(Name='v')` or `X(<guid>)`."""
    key = (segment.key or "").strip()
    prefix = f"{name}="
    if key.startswith(prefix):
        value = key[len(prefix) :].strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            return "name", value[1:-1].replace("''", "'")
        raise bad_request(f"The key '{key}' is not valid.")
    return "id", key.lower()


def find_entity(emu: DataverseEmulator, segment: Segment) -> EntityDef:
    kind, value = _key_value(segment, "LogicalName")
    for entity in emu.metadata:
        if (kind == "name" and entity.logical_name == value) or (
            kind == "id" and entity.metadata_id == value
        ):
            return entity
    raise entity_definition_not_found(value)


def find_attribute(entity: EntityDef, segment: Segment) -> AttributeDef:
    kind, value = _key_value(segment, "LogicalName")
    for attr in entity.attributes.values():
        if (kind == "name" and attr.logical_name == value) or (
            kind == "id" and attr.metadata_id == value
        ):
            return attr
    raise attribute_definition_not_found(entity.logical_name, value)


def handle(emu: DataverseEmulator, request: Request) -> InternalResponse:
    segments = request.segments
    root = segments[0]
    if root.name == "RelationshipDefinitions":
        return relationship_definition(emu, request)
    if root.name == "GlobalOptionSetDefinitions":
        if root.key is None:
            return collection(request, "GlobalOptionSetDefinitions", [])
        _, name = _key_value(root, "Name")
        raise bad_request(f"Could not find optionset with name '{name}'.", "0x80040217")
    if root.key is None:
        if len(segments) > 1:
            raise segment_not_found(segments[1].name)
        if request.method != "GET":
            raise no_http_resource(request.url)
        documents = [mj.entity_json(emu.metadata, e) for e in emu.metadata]
        return collection(request, "EntityDefinitions", documents)
    entity = find_entity(emu, root)
    if len(segments) == 1:
        if request.method != "GET":
            raise no_http_resource(request.url)
        return single(request, "EntityDefinitions", mj.entity_json(emu.metadata, entity))
    part = segments[1]
    if part.name == "Attributes":
        return attributes(emu, request, entity)
    lists: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "ManyToOneRelationships": lambda: mj.many_to_one(emu.metadata, entity),
        "OneToManyRelationships": lambda: mj.one_to_many(emu.metadata, entity),
        "ManyToManyRelationships": lambda: mj.many_to_many(entity),
        "Keys": lambda: mj.keys(entity),
    }
    if part.name == "Keys" and request.method == "POST" and len(segments) == 2:
        return define_key(emu, request, entity)
    if part.name in lists and len(segments) == 2 and part.key is None:
        if request.method != "GET":
            raise no_http_resource(request.url)
        return collection(
            request, f"EntityDefinitions('{entity.logical_name}')/{part.name}", lists[part.name]()
        )
    raise segment_not_found(part.name)


def attributes(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    if request.method != "GET":
        raise no_http_resource(request.url)
    segments = request.segments[2:]
    part = request.segments[1]
    cast: str | None = None
    if segments:
        if len(segments) > 1 or not segments[0].name.startswith(NAMESPACE):
            raise segment_not_found(segments[-1].name)
        cast = segments[0].name.removeprefix(NAMESPACE)
    expand = {e.strip() for e in split_top_level(request.query.get("$expand", ""))}
    expand = {e.split("(")[0] for e in expand}
    unknown = expand - {"OptionSet", "GlobalOptionSet"}
    if unknown:
        raise property_not_found(sorted(unknown)[0], "AttributeMetadata")
    if part.key is not None:
        attr = find_attribute(entity, part)
        document = mj.attribute_json(entity, attr, expand)
        if cast is not None and document["@odata.type"] != f"#{NAMESPACE}{cast}":
            raise bad_request(
                f"The attribute '{attr.logical_name}' is not of type '{NAMESPACE}{cast}'."
            )
        return single(request, "EntityDefinitions/Attributes", document)
    documents = [mj.attribute_json(entity, a, expand) for a in entity.attributes.values()]
    if cast is not None:
        documents = [d for d in documents if d["@odata.type"] == f"#{NAMESPACE}{cast}"]
    return collection(request, f"EntityDefinitions('{entity.logical_name}')/Attributes", documents)


def define_key(emu: DataverseEmulator, request: Request, entity: EntityDef) -> InternalResponse:
    """`POST EntityDefinitions(LogicalName='x')/Keys` (§7.4); refuses keys existing rows violate."""
    body = request.json_object()
    schema = body.get("SchemaName")
    columns = body.get("KeyAttributes")
    if not isinstance(schema, str) or not isinstance(columns, list) or not columns:
        raise bad_request("A key needs SchemaName and KeyAttributes.")
    for column in columns:
        attr = entity.attributes.get(str(column))
        if attr is None:
            raise property_not_found(str(column), entity.logical_name)
    names = [str(c) for c in columns]
    duplicates = emu.store.scalar(
        f"SELECT 1 FROM {quote(entity.logical_name)} "
        f"WHERE {' AND '.join(f'{quote(c)} IS NOT NULL' for c in names)} "
        f"GROUP BY {', '.join(quote(c) for c in names)} HAVING COUNT(*) > 1 LIMIT 1"
    )
    if duplicates:
        raise duplicate_key_on_create(schema)
    entity.keys[schema] = tuple(names)
    emu.store.ensure_index(entity.logical_name, names)
    emu.store.save_metadata()
    key_id = mj.key_id(entity, schema)
    return no_content(
        {
            "OData-EntityId": (
                f"{request.api_root}/EntityDefinitions({entity.metadata_id})/Keys({key_id})"
            )
        }
    )


def relationship_definition(emu: DataverseEmulator, request: Request) -> InternalResponse:
    root = request.segments[0]
    if request.method != "GET":
        raise no_http_resource(request.url)
    documents: list[dict[str, Any]] = []
    for entity in emu.metadata:
        documents.extend(mj.many_to_one(emu.metadata, entity))
    documents.extend(mj.many_to_many_all(emu.metadata))
    if root.key is None:
        return collection(request, "RelationshipDefinitions", documents)
    kind, value = _key_value(root, "SchemaName")
    for document in documents:
        if (kind == "name" and document["SchemaName"] == value) or (
            kind == "id" and document["MetadataId"] == value
        ):
            return single(request, "RelationshipDefinitions", document)
    raise bad_request(f"Could not find relationship with name '{value}'.", "0x80040217")


# -- $select and $filter over documents ------------------------------------------------------


def _select(request: Request, document: dict[str, Any], type_name: str) -> dict[str, Any]:
    text = request.query.get("$select")
    if not text:
        return document
    names = [n.strip() for n in text.split(",") if n.strip()]
    expanded = {e.split("(")[0].strip() for e in split_top_level(request.query.get("$expand", ""))}
    out = {k: v for k, v in document.items() if k.startswith("@")}
    for name in names:
        if name not in document:
            raise property_not_found(name, type_name)
        out[name] = document[name]
    out["MetadataId"] = document.get("MetadataId")
    for name in expanded:
        if name in document:
            out[name] = document[name]
    return out


def _matches(node: ast._Node, document: dict[str, Any]) -> bool:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return _matches(node.left, document) and _matches(node.right, document)
        return _matches(node.left, document) or _matches(node.right, document)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _matches(node.operand, document)
    if isinstance(node, ast.Compare) and isinstance(node.comparator, ast.Eq | ast.NotEq):
        if not isinstance(node.left, ast.Identifier) or not isinstance(node.right, ast._Literal):
            raise bad_request("Metadata filters compare a property with a literal.")
        name = node.left.name
        if name not in document:
            raise property_not_found(name, "EntityMetadata")
        value = document[name]
        literal = node.right.py_val if not isinstance(node.right, ast.Null) else None
        if isinstance(literal, object) and hasattr(literal, "hex") and not isinstance(literal, str):
            literal = str(literal)
        equal = value == literal
        return equal if isinstance(node.comparator, ast.Eq) else not equal
    raise bad_request("Metadata filters support eq, ne, and, or and not.")


def collection(request: Request, context: str, documents: list[dict[str, Any]]) -> InternalResponse:
    if "$filter" in request.query:
        node = parse_filter(request.query["$filter"])
        documents = [d for d in documents if _matches(node, d)]
    type_name = context.rsplit("/", 1)[-1]
    values = [_select(request, d, type_name) for d in documents]
    return json_response(
        {"@odata.context": f"{request.api_root}/$metadata#{context}", "value": values}
    )


def single(request: Request, context: str, document: dict[str, Any]) -> InternalResponse:
    body = _select(request, document, context.rsplit("/", 1)[-1])
    return json_response(
        {"@odata.context": f"{request.api_root}/$metadata#{context}/$entity", **body}
    )
