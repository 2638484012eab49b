"""Pure: is a CRM record eligible for its coupling, and which of several with one e-mail wins."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from crm2cr.sync.model import Member
from crm2cr.sync.reasons import Code, Reason, because


@lru_cache(maxsize=65536)
def is_valid_email(address: str) -> bool:
    """Syntactically valid (no DNS look-up: the planner does no I/O)."""
    if not address or len(address) > 254:
        return False
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def ineligibility(member: Member) -> Reason | None:
    """None when eligible (SPEC §5): a list member, active, valid e-mail, not opted out."""
    if not member.in_list:
        return because(Code.NOT_IN_LIST)
    if not member.active:
        return because(Code.INACTIVE_IN_CRM)
    if not member.email.strip():
        return because(Code.NO_EMAIL)
    if not is_valid_email(member.email.strip()):
        return because(Code.INVALID_EMAIL, email=member.email)
    if member.opted_out:
        return because(Code.OPTED_OUT_IN_CRM)
    return None


def primary_first(members: Sequence[Member], linked_id: str = "") -> list[Member]:
    """Order records sharing one e-mail: the linked one, then the most recently modified.

    Ties go to the smaller id, so every machine picks the same primary record.
    """
    return sorted(members, key=lambda m: (m.id != linked_id, -m.modified, m.id))
