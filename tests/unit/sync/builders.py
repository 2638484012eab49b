"""Small builders for planner scenarios."""

from __future__ import annotations

from crm2cr.sync.decision import link_id
from crm2cr.sync.model import (
    Coupling,
    Direction,
    Link,
    LinkStatus,
    Member,
    MemberType,
    Policy,
    Receiver,
)
from crm2cr.sync.pairing import pair_up
from crm2cr.sync.planner import Plan, plan

GROUP = "1001"
NOW = 1_800_000_000


def coupling(direction: Direction = Direction.TO_CLEVERREACH) -> Coupling:
    return Coupling("c1", GROUP, "list-1", direction, MemberType.CONTACT)


def member(
    n: int,
    *,
    email: str | None = None,
    in_list: bool = True,
    active: bool = True,
    opted_out: bool = False,
    modified: int = NOW - 100,
    **values: str,
) -> Member:
    return Member(
        f"00000000-0000-0000-0000-{n:012d}",
        email or f"p{n}@firma.de",
        in_list,
        active,
        opted_out,
        modified,
        values or {"firstname": f"P{n}"},
        f"P{n}",
    )


def receiver(
    n: int,
    *,
    email: str | None = None,
    activated: int = NOW - 5000,
    deactivated: int = 0,
    bounced: int = 0,
    blacklisted: bool = False,
    last_changed: int = NOW - 200,
    **values: str,
) -> Receiver:
    return Receiver(
        f"r{n}",
        email or f"p{n}@firma.de",
        activated,
        deactivated,
        bounced,
        blacklisted,
        last_changed,
        values or {"firstname": f"P{n}"},
    )


def link(
    m: Member,
    r: Receiver,
    *,
    status: LinkStatus = LinkStatus.ACTIVE,
    base: dict[str, str] | None = None,
    email: str | None = None,
) -> Link:
    return Link(
        link_id(GROUP, m.id),
        m.id,
        r.id,
        email or r.email,
        status,
        base if base is not None else dict(m.values),
        r.last_changed,
        m.modified,
        r.activated,
    )


def policy(**changes: object) -> Policy:
    defaults: dict[str, object] = {"now": NOW, "writable": frozenset({"firstname"})}
    defaults.update(changes)
    return Policy(**defaults)  # type: ignore[arg-type]


def run(
    direction: Direction,
    members: list[Member],
    receivers: list[Receiver],
    links: list[Link],
    *,
    candidates: list[Member] | None = None,
    **pol: object,
) -> Plan:
    remove = bool(pol.get("remove_leavers", True))
    pairs = pair_up(members, receivers, links, candidates or [], direction, remove)
    return plan(coupling(direction), pairs, policy(**pol))


def kinds(p: Plan) -> list[str]:
    return [type(a).__name__ for a in p.ordered()]
