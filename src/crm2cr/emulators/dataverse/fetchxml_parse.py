"""FetchXML text → a small query model (reference §5).

The emulator's minimum: nested and/or filters, the marketing-list operators,
inner/outer link-entity with filters, order, attribute/all-attributes,
distinct, page/count/paging-cookie. Everything else is refused with a message
naming it (§17.11), because silently ignoring a part of a query would return
rows the real service would not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from crm2cr.emulators.dataverse.errors import bad_request
from crm2cr.emulators.dataverse.fetchxml_dates import ON_OPERATORS, RELATIVE_OPERATORS

MAX_COUNT = 5000

NO_VALUE_OPERATORS = frozenset(
    {
        "null",
        "not-null",
        "today",
        "yesterday",
        "tomorrow",
        "last-seven-days",
        "next-seven-days",
        "this-month",
        "last-month",
        "next-month",
        "this-year",
        "last-year",
        "next-year",
        "eq-userid",
        "ne-userid",
        "eq-businessid",
        "ne-businessid",
    }
)
ONE_VALUE_OPERATORS = (
    frozenset(
        {
            "eq",
            "ne",
            "neq",
            "gt",
            "ge",
            "lt",
            "le",
            "like",
            "not-like",
            "begins-with",
            "not-begin-with",
            "ends-with",
            "not-end-with",
        }
    )
    | ON_OPERATORS
    | RELATIVE_OPERATORS
)
LIST_OPERATORS = frozenset({"in", "not-in"})
RANGE_OPERATORS = frozenset({"between", "not-between"})
OPERATORS = NO_VALUE_OPERATORS | ONE_VALUE_OPERATORS | LIST_OPERATORS | RANGE_OPERATORS

# Attributes the service accepts on <fetch> that change nothing for the emulator.
_FETCH_IGNORED = frozenset({"version", "output-format", "mapping", "no-lock", "latematerialize"})
_FETCH_KNOWN = _FETCH_IGNORED | {"distinct", "page", "count", "paging-cookie", "top"}
_FETCH_KNOWN |= {"returntotalrecordcount"}


@dataclass(frozen=True)
class Condition:
    attribute: str
    operator: str
    values: tuple[str, ...] = ()
    entityname: str | None = None  # alias of a link-entity the attribute belongs to


@dataclass(frozen=True)
class Filter:
    kind: Literal["and", "or"]
    items: tuple[Condition | Filter, ...]


@dataclass(frozen=True)
class Order:
    attribute: str
    descending: bool = False


@dataclass(frozen=True)
class Attribute:
    name: str
    alias: str | None = None


@dataclass(frozen=True)
class LinkEntity:
    name: str
    from_attribute: str  # on the linked table
    to_attribute: str  # on the parent table
    alias: str
    outer: bool
    attributes: tuple[Attribute, ...]
    all_attributes: bool
    filter: Filter | None
    orders: tuple[Order, ...]
    links: tuple[LinkEntity, ...]


@dataclass(frozen=True)
class FetchQuery:
    entity: str
    attributes: tuple[Attribute, ...]
    all_attributes: bool
    orders: tuple[Order, ...]
    filter: Filter | None
    links: tuple[LinkEntity, ...]
    distinct: bool = False
    page: int | None = None
    count: int | None = None
    paging_cookie: str | None = None
    top: int | None = None
    return_total_count: bool = False

    def all_links(self) -> Iterator[LinkEntity]:
        """Every link-entity, depth first."""
        stack = list(reversed(self.links))
        while stack:
            link = stack.pop()
            yield link
            stack.extend(reversed(link.links))


def parse_fetchxml(text: str) -> FetchQuery:
    """Parse and check a FetchXML query; raises ODataError naming the problem."""
    try:
        root: Element = fromstring(text)
    except (ParseError, DefusedXmlException) as exc:
        raise bad_request(f"The FetchXML is not well-formed XML: {exc}.") from exc
    if root.tag != "fetch":
        raise bad_request(f"The FetchXML root element must be 'fetch', not '{root.tag}'.")
    _check_attributes(root, _FETCH_KNOWN)
    if _flag(root, "aggregate"):
        raise bad_request("FetchXML aggregate queries are not supported.")
    entities = list(root)
    if len(entities) != 1 or entities[0].tag != "entity":
        raise bad_request("The FetchXML must contain exactly one 'entity' element.")
    entity = entities[0]
    _check_attributes(entity, {"name", "enableprefiltering", "prefilterparametername"})
    name = _required(entity, "name")
    body = _EntityBody(entity, aliases=set(), counter=[0])
    page = _int_attr(root, "page", minimum=1)
    count = _int_attr(root, "count", minimum=1)
    top = _int_attr(root, "top", minimum=1)
    if top is not None and (page is not None or count is not None):
        raise bad_request("The 'top' attribute can't be used with 'page' or 'count'.")
    if count is not None and count > MAX_COUNT:
        raise bad_request(f"The 'count' attribute must not exceed {MAX_COUNT}.")
    if top is not None and top > MAX_COUNT:
        raise bad_request(f"The 'top' attribute must not exceed {MAX_COUNT}.")
    return FetchQuery(
        entity=name,
        attributes=body.attributes,
        all_attributes=body.all_attributes,
        orders=body.orders,
        filter=body.filter,
        links=body.links,
        distinct=_flag(root, "distinct"),
        page=page,
        count=count,
        paging_cookie=root.get("paging-cookie") or None,
        top=top,
        return_total_count=_flag(root, "returntotalrecordcount"),
    )


class _EntityBody:
    """The children an <entity> and a <link-entity> share."""

    def __init__(self, element: Element, *, aliases: set[str], counter: list[int]) -> None:
        attributes: list[Attribute] = []
        orders: list[Order] = []
        filters: list[Filter] = []
        links: list[LinkEntity] = []
        self.all_attributes = False
        for child in element:
            if child.tag == "attribute":
                attributes.append(_attribute(child))
            elif child.tag == "all-attributes":
                _check_attributes(child, set())
                self.all_attributes = True
            elif child.tag == "order":
                orders.append(_order(child))
            elif child.tag == "filter":
                filters.append(_filter(child))
            elif child.tag == "link-entity":
                links.append(_link(child, aliases=aliases, counter=counter))
            else:
                raise bad_request(
                    f"The element '{child.tag}' is not supported inside '{element.tag}'."
                )
        self.attributes = tuple(attributes)
        self.orders = tuple(orders)
        self.links = tuple(links)
        # Several <filter> siblings combine with "and", as the service does.
        if not filters:
            self.filter: Filter | None = None
        elif len(filters) == 1:
            self.filter = filters[0]
        else:
            self.filter = Filter("and", tuple(filters))


def _attribute(element: Element) -> Attribute:
    _check_attributes(element, {"name", "alias", "aggregate", "groupby", "distinct"})
    for unsupported in ("aggregate", "groupby"):
        if element.get(unsupported) is not None:
            raise bad_request(f"The attribute option '{unsupported}' is not supported.")
    return Attribute(_required(element, "name"), element.get("alias") or None)


def _order(element: Element) -> Order:
    _check_attributes(element, {"attribute", "alias", "descending", "entityname"})
    if element.get("alias") is not None or element.get("entityname") is not None:
        raise bad_request("Ordering by 'alias' or 'entityname' is not supported.")
    return Order(_required(element, "attribute"), _flag(element, "descending"))


def _filter(element: Element) -> Filter:
    _check_attributes(element, {"type", "isquickfindfields", "hint"})
    kind = element.get("type", "and")
    if kind not in ("and", "or"):
        raise bad_request(f"The filter type '{kind}' is not supported; use 'and' or 'or'.")
    items: list[Condition | Filter] = []
    for child in element:
        if child.tag == "condition":
            items.append(_condition(child))
        elif child.tag == "filter":
            items.append(_filter(child))
        else:
            raise bad_request(f"The element '{child.tag}' is not supported inside 'filter'.")
    return Filter("and" if kind == "and" else "or", tuple(items))


def _condition(element: Element) -> Condition:
    _check_attributes(
        element, {"attribute", "operator", "value", "entityname", "uiname", "uitype", "uihidden"}
    )
    if element.get("valueof") is not None:
        raise bad_request("Column comparison conditions ('valueof') are not supported.")
    attribute = _required(element, "attribute")
    operator = _required(element, "operator")
    if operator not in OPERATORS:
        raise bad_request(f"The condition operator '{operator}' is not supported.")
    listed: list[str] = []
    for child in element:
        if child.tag != "value":
            raise bad_request(f"The element '{child.tag}' is not supported inside 'condition'.")
        listed.append((child.text or "").strip())
    single = element.get("value")
    values = _condition_values(operator, attribute, single, listed)
    return Condition(
        attribute,
        "ne" if operator == "neq" else operator,
        values,
        element.get("entityname") or None,
    )


def _condition_values(
    operator: str, attribute: str, single: str | None, listed: list[str]
) -> tuple[str, ...]:
    where = f"The condition '{operator}' on '{attribute}'"
    if operator in NO_VALUE_OPERATORS:
        if single is not None or listed:
            raise bad_request(f"{where} takes no value.")
        return ()
    if operator in ONE_VALUE_OPERATORS:
        values = [single] if single is not None else listed
        if len(values) != 1:
            raise bad_request(f"{where} needs exactly one value.")
        return (values[0],)
    values = listed if listed else ([single] if single is not None else [])
    if operator in RANGE_OPERATORS and len(values) != 2:
        raise bad_request(f"{where} needs exactly two values.")
    if not values:
        raise bad_request(f"{where} needs at least one value.")
    return tuple(values)


def _link(element: Element, *, aliases: set[str], counter: list[int]) -> LinkEntity:
    _check_attributes(element, {"name", "from", "to", "alias", "link-type", "visible", "intersect"})
    name = _required(element, "name")
    link_type = element.get("link-type", "inner")
    if link_type not in ("inner", "outer"):
        raise bad_request(f"The link-type '{link_type}' is not supported; use inner or outer.")
    counter[0] += 1
    alias = element.get("alias") or f"{name}{counter[0]}"
    if alias in aliases:
        raise bad_request(f"The link-entity alias '{alias}' is used twice.")
    aliases.add(alias)
    body = _EntityBody(element, aliases=aliases, counter=counter)
    return LinkEntity(
        name=name,
        from_attribute=_required(element, "from"),
        to_attribute=_required(element, "to"),
        alias=alias,
        outer=link_type == "outer",
        attributes=body.attributes,
        all_attributes=body.all_attributes,
        filter=body.filter,
        orders=body.orders,
        links=body.links,
    )


def _check_attributes(element: Element, known: set[str] | frozenset[str]) -> None:
    for name in element.attrib:
        if name not in known:
            raise bad_request(
                f"The attribute '{name}' is not supported on the '{element.tag}' element."
            )


def _required(element: Element, name: str) -> str:
    value = element.get(name)
    if not value:
        raise bad_request(f"The '{element.tag}' element needs a '{name}' attribute.")
    return value


def _flag(element: Element, name: str) -> bool:
    value = element.get(name)
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"The attribute '{name}' must be true or false, not '{value}'.")


def _int_attr(element: Element, name: str, *, minimum: int) -> int | None:
    value: Any = element.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"The attribute '{name}' must be a whole number.") from None
    if number < minimum:
        raise bad_request(f"The attribute '{name}' must be at least {minimum}.")
    return number
