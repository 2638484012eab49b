"""Wire models of the CleverReach REST API v3 (reference §2.4, §5–§12).

They keep the API's names. Parsing is lenient where the service is: ids come
as JSON strings or integers and are stored as strings; timestamps are integer
Unix seconds with 0 for "not set" (a missing or null one reads as 0); attribute
values are strings ("" when unset). Unknown fields are ignored, so a service
that adds fields does not break us.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _id(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("an id is a string or an integer, not a boolean")
    if isinstance(value, int):
        return str(value)
    return value


def _stamp(value: object) -> object:
    if value is None or value == "" or value is False:
        return 0
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _values(value: object) -> object:
    # Values are strings on the wire [C]; a null, number or list in one of
    # them must not cost us the whole receiver.
    if value is None:
        return {}
    if isinstance(value, list) and not value:  # PHP serialises an empty map as []
        return {}
    if isinstance(value, dict):
        return {
            str(k): "" if v is None else v if isinstance(v, str) else str(v)
            for k, v in value.items()
        }
    return value


def _list(value: object) -> object:
    return [] if value is None else value


Id = Annotated[str, BeforeValidator(_id)]
Stamp = Annotated[int, BeforeValidator(_stamp)]
Values = Annotated[dict[str, str], BeforeValidator(_values)]

AttributeType = Literal["text", "number", "date", "gender"]
ReceiverType = Literal["all", "active", "inactive", "bounce"]
MailingState = Literal["draft", "waiting", "running", "finished", "automation"]


class Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class Account(Wire):
    """`GET /v3/debug/whoami` (§12): `id` is the customer number."""

    id: Id
    name: str = ""
    firstname: str = ""
    company: str = ""
    email: str = ""
    login_domain: str = ""
    lang: str = ""


class TokenTtl(Wire):
    """`GET /v3/debug/ttl` (§3.5): seconds the token has left."""

    ttl: int
    date: str = ""


class Group(Wire):
    """A group (§5)."""

    id: Id
    name: str
    locked: bool = False
    backup: bool = False
    receiver_info: str = ""
    stamp: Stamp = 0
    last_mailing: Stamp = 0
    last_changed: Stamp = 0


class GroupStats(Wire):
    """`GET /v3/groups/{id}/stats` (§5); cached by the service, so it lags."""

    total_count: int = 0
    active_count: int = 0
    inactive_count: int = 0
    bounce_count: int = 0
    avg_points: float = 0.0
    quality: int = 0
    time: Stamp = 0
    order_count: int = 0


class ReceiverEvent(Wire):
    stamp: Stamp = 0
    type: str = ""
    type_id: str = ""
    value: str = ""
    mailing_id: Id = "0"
    groups_id: Id = "0"


class Receiver(Wire):
    """A receiver in a group's context (§6.1); `id` is the account-wide pool id."""

    id: Id
    email: str
    group_id: Id = ""
    registered: Stamp = 0
    activated: Stamp = 0
    deactivated: Stamp = 0
    imported: Stamp = 0
    bounced: Stamp = 0
    active: bool = False
    source: str = ""
    last_changed: Stamp = 0
    points: float = 0
    attributes: Values = Field(default_factory=dict)
    global_attributes: Values = Field(default_factory=dict)
    tags: Annotated[list[str], BeforeValidator(_list)] = Field(default_factory=list)
    events: Annotated[list[ReceiverEvent], BeforeValidator(_list)] = Field(default_factory=list)
    orders: Annotated[list[dict[str, Any]], BeforeValidator(_list)] = Field(default_factory=list)


class Attribute(Wire):
    """A global (`groups_id` "0") or group attribute (§7)."""

    id: Id
    name: str
    type: str = "text"
    description: str = ""
    preview_value: str = ""
    default_value: str = ""
    groups_id: Id = "0"
    tag: str = ""

    @property
    def is_global(self) -> bool:
        return self.groups_id in ("", "0")


class BlacklistEntry(Wire):
    """An account or group blacklist entry (§9)."""

    email: str
    comment: str = ""
    stamp: Stamp = 0
    is_locked: int = Field(default=0, alias="isLocked")


class Bounce(Wire):
    """`GET /v3/bounces` (§9); the vendor spells `occurences` so."""

    email: str
    category: str = ""
    occurences: int = 0
    last_update: Stamp = 0
    last_update_gmt: str = ""
    expires_by: Stamp = 0
    bounce_message: str = ""
    type: str = ""
    type_id: Id = ""


class MailingSummary(Wire):
    """One entry of the state-keyed mailing list (§8.2)."""

    id: Id
    name: str = ""
    subject: str = ""
    stamp: Stamp = 0


class MailingGroups(Wire):
    group_ids: list[Id] = Field(default_factory=list)


class Mailing(Wire):
    """`GET /v3/mailings/{id}` (§8.3)."""

    id: Id
    name: str = ""
    subject: str = ""
    sender_name: str = ""
    sender_email: str = ""
    body_html: str = ""
    body_text: str = ""
    state: str = ""
    stamp: Stamp = 0
    last_changed: Stamp = 0
    started: Stamp = 0
    finished: Stamp = 0
    ready: Stamp = 0
    send_on: Stamp = 0
    m_type: int = 0
    mailing_groups: MailingGroups = Field(default_factory=MailingGroups)
    tags: Annotated[list[str], BeforeValidator(_list)] = Field(default_factory=list)


class ReportStats(Wire):
    """A report's `stats` (§8.5, keys as CORE2 reads them)."""

    delivered: int = 0
    bounced: int = 0
    unique_opened: int = 0
    unique_clicks: int = 0
    unsubscribed: int = 0
    spam: int = 0


def _stats(value: object) -> object:
    # The emulator nests the figures under "total" (§8.5); CORE2 reads them flat.
    if isinstance(value, dict) and isinstance(value.get("total"), dict):
        return value["total"]
    return {} if value is None or value == [] else value


class Report(Wire):
    """`GET /v3/reports/{id}` (§8.5); the report id is the mailing id."""

    id: Id
    name: str = ""
    sender_name: str = ""
    sender_email: str = ""
    stats: Annotated[ReportStats, BeforeValidator(_stats)] = Field(default_factory=ReportStats)


class Form(Wire):
    """A double opt-in form (§10); `customer_tables_id` is its group."""

    id: Id
    name: str = ""
    customer_tables_id: Id = ""


class Webhook(Wire):
    """A webhook registration as listed (§11)."""

    id: Id = ""
    url: str
    event: str
    condition: Id = ""
