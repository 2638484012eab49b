"""Query options other than `$filter`: `$select`, `$orderby`, `$expand`, `$top`, `$count` (§4.1).

Each option is checked against the table's metadata; an unknown column is a
400 `0x0` "Could not find a property named ...", as the service answers.
`$skip` and options the service does not know are refused (§17.11).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crm2cr.emulators.dataverse.errors import bad_request, property_not_found
from crm2cr.emulators.dataverse.metadata import AttributeDef, EntityDef, ManyToManyDef, Metadata

ALLOWED_OPTIONS = frozenset(
    {
        "$select",
        "$filter",
        "$orderby",
        "$top",
        "$count",
        "$expand",
        "$skiptoken",
        "$deltatoken",
        "$format",
        "fetchXml",
    }
)


@dataclass
class OrderBy:
    attr: AttributeDef
    descending: bool = False


@dataclass
class Expand:
    """One `$expand` item: a single-valued navigation or an N:N collection."""

    name: str
    target: EntityDef
    select: list[AttributeDef]
    lookup: str | None = None  # single-valued: the lookup column on the parent
    relationship: ManyToManyDef | None = None  # collection: the N:N relationship
    filter: str | None = None
    orderby: list[OrderBy] = field(default_factory=list)
    top: int | None = None

    @property
    def collection(self) -> bool:
        return self.relationship is not None


def check_options(query: dict[str, str]) -> None:
    for name in query:
        if name == "$skip":
            raise bad_request("The query parameter $skip is not supported")
        if name.startswith("$") and name not in ALLOWED_OPTIONS:
            raise bad_request(f"The query parameter {name} is not supported")


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside parentheses and single-quoted literals."""
    parts: list[str] = []
    depth, quoted = 0, False
    current: list[str] = []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == sep and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def parse_select(entity: EntityDef, text: str | None) -> list[AttributeDef]:
    """Selected columns in request order; none given → every readable column."""
    if text is None or not text.strip():
        return [a for a in entity.attributes.values() if a.valid_for_read]
    selected: list[AttributeDef] = []
    for name in split_top_level(text):
        attr = entity.by_read_name(name)
        if attr is None or not attr.valid_for_read:
            raise property_not_found(name, entity.logical_name)
        if attr not in selected:
            selected.append(attr)
    return selected


def parse_orderby(entity: EntityDef, text: str | None) -> list[OrderBy]:
    if not text:
        return []
    order: list[OrderBy] = []
    for item in split_top_level(text):
        words = item.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request(f"Syntax error in $orderby: '{item}'.")
        name = words[0]
        if "/" in name:
            raise bad_request(f"Ordering by a navigation path ('{name}') is not supported.")
        attr = entity.by_read_name(name)
        if attr is None or not attr.valid_for_read:
            raise property_not_found(name, entity.logical_name)
        order.append(OrderBy(attr, len(words) == 2 and words[1].lower() == "desc"))
    return order


def parse_top(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        top = int(text)
    except ValueError:
        raise bad_request(f"Invalid value '{text}' for $top query option found.") from None
    if top < 0:
        raise bad_request(f"Invalid value '{text}' for $top query option found.")
    return top


def parse_count(text: str | None) -> bool:
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise bad_request(f"'{text}' is not a valid count option.")
    return text.lower() == "true"


def parse_expand(metadata: Metadata, entity: EntityDef, text: str | None) -> list[Expand]:
    if not text:
        return []
    items: list[Expand] = []
    for item in split_top_level(text):
        name, _, rest = item.partition("(")
        name = name.strip()
        options = _nested_options(rest[:-1] if rest.endswith(")") else rest, item)
        items.append(_expand_item(metadata, entity, name, options))
    return items


def _nested_options(text: str, item: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in split_top_level(text, ";"):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in ("$select", "$filter", "$orderby", "$top", "$expand"):
            raise bad_request(f"Syntax error in $expand: '{item}'.")
        options[key] = value.strip()
    return options


def _expand_item(
    metadata: Metadata, entity: EntityDef, name: str, options: dict[str, str]
) -> Expand:
    if "$expand" in options:
        raise bad_request("Nested $expand is not supported by the emulator.")
    nav = entity.navigation(name)
    if nav is not None:
        target = metadata.entity(nav.targets[0])
        if target is None:
            raise property_not_found(name, entity.logical_name)
        if "$filter" in options or "$orderby" in options or "$top" in options:
            raise bad_request(
                f"Only $select is allowed when expanding the single-valued navigation '{name}'."
            )
        return Expand(
            name, target, parse_select(target, options.get("$select")), lookup=nav.attribute
        )
    relationship = entity.many_to_many.get(name)
    if relationship is not None:
        target = metadata.require(relationship.other(entity.logical_name))
        return Expand(
            name,
            target,
            parse_select(target, options.get("$select")),
            relationship=relationship,
            filter=options.get("$filter"),
            orderby=parse_orderby(target, options.get("$orderby")),
            top=parse_top(options.get("$top")),
        )
    raise property_not_found(name, entity.logical_name)
