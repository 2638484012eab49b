"""The request core: paths and creates that must not run twice (reference §2.3, §14)."""

from __future__ import annotations

import pytest

from crm2cr.cleverreach.api import create_once, segment
from crm2cr.errors import ConflictError, ConnectionLost, ServerError


def test_emails_in_paths_are_percent_encoded_except_the_at_sign() -> None:
    """Reference §2.3: `@` unencoded, everything else that needs it encoded."""
    assert segment("anna@example.org") == "anna@example.org"
    assert segment("anna+news@example.org") == "anna%2Bnews@example.org"
    assert segment("a/b?c#d@example.org") == "a%2Fb%3Fc%23d@example.org"
    assert segment(1146810) == "1146810"


class Service:
    """A create whose answers can be lost, and the lookup that finds what it made."""

    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)  # "ok", "lost-after", "lost-before", "503", "409"
        self.made: list[str] = []
        self.sent = 0

    def create(self) -> str:
        self.sent += 1
        outcome = self.outcomes.pop(0)
        if outcome == "409":
            raise ConflictError("cleverreach", 409, "Conflict: duplicate address")
        if outcome in ("ok", "lost-after", "503-after"):
            self.made.append(f"id{len(self.made)}")
        if outcome.startswith("lost"):
            raise ConnectionLost("cleverreach", "ReadError")
        if outcome.startswith("503"):
            raise ServerError("cleverreach", 503, "Service Unavailable")
        return self.made[-1]

    def lookup(self) -> str | None:
        return self.made[-1] if self.made else None


@pytest.mark.parametrize(
    ("outcomes", "sent", "made"),
    [
        (["ok"], 1, 1),
        (["lost-after"], 1, 1),  # made, answer lost: found, not resent
        (["503-after"], 1, 1),
        (["lost-before", "ok"], 2, 1),  # never arrived: not found, resent once
        (["503", "lost-after"], 2, 1),
    ],
)
def test_a_lost_create_is_looked_up_before_it_is_resent(
    outcomes: list[str], sent: int, made: int
) -> None:
    """Reference §14 Retries: never blindly retry a create (SPEC invariant 3)."""
    service = Service(*outcomes)
    assert create_once(service.create, service.lookup) == service.made[-1]
    assert (service.sent, len(service.made)) == (sent, made)


def test_a_conflict_is_the_callers_unless_an_attempt_was_lost() -> None:
    """Reference §6.4: 409 on a first attempt is a real duplicate."""
    with pytest.raises(ConflictError):
        create_once(Service("409").create, lambda: "someone else's")
    # lost, not found at first, then 409: the lost attempt landed late; look again
    service = Service("lost-before", "409")
    found = iter([None, "landed-late"])
    assert create_once(service.create, lambda: next(found)) == "landed-late"
    assert service.sent == 2


def test_attempts_are_bounded() -> None:
    """Reference §14 Retries: every loop is bounded."""
    service = Service("lost-before", "lost-before", "lost-before", "ok")
    with pytest.raises(ConnectionLost):
        create_once(service.create, service.lookup, attempts=3)
    assert service.sent == 3
