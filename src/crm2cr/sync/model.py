"""The engine's vocabulary: frozen snapshots of both sides, link rows, couplings, policy.

Wire models keep the APIs' names; these are ours (STYLE §14): a `Member` is a
CRM record of a coupling's list, a `Receiver` a CleverReach receiver of its
group, a `Link` the row that pairs them. Values are mapped attributes in
CleverReach's canonical form: attribute name → string ('' for none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Values = Mapping[str, str]


class Direction(StrEnum):
    BOTH = "both"
    TO_CLEVERREACH = "to-cleverreach"
    TO_CRM = "to-crm"

    @property
    def writes_cleverreach(self) -> bool:
        return self is not Direction.TO_CRM

    @property
    def writes_crm(self) -> bool:
        return self is not Direction.TO_CLEVERREACH


class MemberType(StrEnum):
    CONTACT = "contact"
    ACCOUNT = "account"
    LEAD = "lead"


class ReceiverState(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # never activated: awaiting double opt-in
    DEACTIVATED = "deactivated"
    BOUNCED = "bounced"
    BLACKLISTED = "blacklisted"

    @property
    def is_consent_withdrawn(self) -> bool:
        return self in (ReceiverState.DEACTIVATED, ReceiverState.BOUNCED, ReceiverState.BLACKLISTED)


class LinkStatus(StrEnum):
    """The crm2cr_status choice of a link row (SPEC §2)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    BLACKLISTED = "blacklisted"

    @classmethod
    def for_state(cls, state: ReceiverState) -> LinkStatus:
        return {
            ReceiverState.ACTIVE: cls.ACTIVE,
            ReceiverState.PENDING: cls.INACTIVE,
            ReceiverState.DEACTIVATED: cls.UNSUBSCRIBED,
            ReceiverState.BOUNCED: cls.BOUNCED,
            ReceiverState.BLACKLISTED: cls.BLACKLISTED,
        }[state]

    @property
    def is_consent_withdrawn(self) -> bool:
        return self in (LinkStatus.UNSUBSCRIBED, LinkStatus.BOUNCED, LinkStatus.BLACKLISTED)


@dataclass(frozen=True, slots=True)
class Coupling:
    """One CleverReach group paired with one CRM marketing list."""

    id: str
    group_id: str
    list_id: str
    direction: Direction
    member_type: MemberType
    dynamic: bool = False
    list_name: str = ""
    group_name: str = ""


@dataclass(frozen=True, slots=True)
class Member:
    """A CRM record of the coupling's member type, as read before planning."""

    id: str
    email: str
    in_list: bool
    active: bool
    opted_out: bool
    modified: int  # modifiedon, Unix seconds
    values: Values = field(default_factory=dict)
    name: str = ""

    @property
    def key(self) -> str:
        return normalise_email(self.email)


@dataclass(frozen=True, slots=True)
class Receiver:
    """A CleverReach receiver of the coupling's group."""

    id: str
    email: str
    activated: int = 0
    deactivated: int = 0
    bounced: int = 0
    blacklisted: bool = False
    last_changed: int = 0
    values: Values = field(default_factory=dict)

    @property
    def key(self) -> str:
        return normalise_email(self.email)

    @property
    def state(self) -> ReceiverState:
        if self.blacklisted:
            return ReceiverState.BLACKLISTED
        if self.bounced:
            return ReceiverState.BOUNCED
        if self.deactivated:
            return ReceiverState.DEACTIVATED
        if not self.activated:
            return ReceiverState.PENDING
        return ReceiverState.ACTIVE


@dataclass(frozen=True, slots=True)
class Link:
    """A crm2cr_cleverreachlink row: the shared sync state of one pair."""

    id: str
    crm_id: str
    receiver_id: str
    email: str
    status: LinkStatus
    base: Values = field(
        default_factory=dict
    )  # mapped values as last synced, both sides equal then
    cr_stamp: int = 0
    crm_stamp: int = 0
    activated: int = 0  # the receiver's activation the status refers to (one event per episode)

    @property
    def key(self) -> str:
        return normalise_email(self.email)


@dataclass(frozen=True, slots=True)
class Policy:
    """What settings and the licence say, handed in so the planner reads nothing itself."""

    now: int  # Unix seconds, for new link rows and events
    remove_leavers: bool = True
    optout_on_unsubscribe: bool = True
    new_receivers_allowed: int | None = None  # licence head-room; None = unlimited
    recipient_limit: int | None = None  # the licence's limit, for the log
    writable: frozenset[str] = field(default_factory=frozenset)  # attributes CR → CRM may write


def normalise_email(email: str) -> str:
    """The matching key of an address: trimmed and lower-cased, as CleverReach stores it."""
    return email.strip().lower()
