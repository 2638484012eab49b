"""The activation table (reference §6.7): one pure function for single and batch writes.

CleverReach keeps a receiver's consent in three stamps: `registered`,
`activated` and `deactivated` (0 = not set). What a write may do with them is
the heart of crm2cr's promise never to re-subscribe someone who left
(SPEC invariant 2), so the rules live here, apart from any I/O:

| Payload               | Stored           | Result                                       |
|-----------------------|------------------|----------------------------------------------|
| no activation fields  | new              | registered = activated = now, active         |
| activated: 0          | new              | inactive, awaiting opt-in                    |
| activated: ts         | new              | active from ts                               |
| deactivated: ts > 0   | any              | deactivated = ts, inactive                   |
| no activation fields  | existing         | unchanged                                    |
| activated: ts > 0     | never activated  | activated                                    |
| activated: ts > 0     | deactivated      | unchanged, stays deactivated (sticky)        |
| activated: ts > 0     | bounced/blacklisted | stays inactive (`is_active` sees to it)   |
| activated: 0          | active           | deactivated = now                            |
| deactivated: 0        | deactivated      | re-activated, flagged (strict: no-op)        |

`registered` is only overwritten when given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Sticky = Literal["faithful", "strict"]


@dataclass(frozen=True, slots=True)
class Stamps:
    """The stored consent stamps of one receiver in one group."""

    registered: int
    activated: int
    deactivated: int


@dataclass(frozen=True, slots=True)
class Requested:
    """The activation fields of a payload; None = the field was not sent."""

    registered: int | None = None
    activated: int | None = None
    deactivated: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    stamps: Stamps
    reactivated: bool = False  # a deactivated receiver came back through an API write
    refused_reactivation: bool = False  # the same, turned away by sticky=strict


def is_active(stamps: Stamps, *, bounced: int, blocked: bool) -> bool:
    """Reference §6.1, emulator rule: bounced and blacklisted receivers are never active."""
    return stamps.activated > 0 and stamps.deactivated == 0 and bounced == 0 and not blocked


def decide(stored: Stamps | None, requested: Requested, now: int, sticky: Sticky) -> Outcome:
    """The stamps after a write of `requested` onto `stored` (None: a new receiver)."""
    if stored is None:
        return Outcome(_new(requested, now))
    registered = stored.registered if requested.registered is None else requested.registered
    kept = Stamps(registered, stored.activated, stored.deactivated)

    if requested.deactivated is not None and requested.deactivated > 0:
        return Outcome(Stamps(registered, stored.activated, requested.deactivated))

    if requested.deactivated == 0 and stored.deactivated > 0:
        if sticky == "strict":
            return Outcome(kept, refused_reactivation=True)
        activated = requested.activated or stored.activated or now
        return Outcome(Stamps(registered, activated, 0), reactivated=True)

    if requested.activated is None:
        return Outcome(kept)
    if requested.activated > 0:
        if stored.deactivated > 0 or stored.activated > 0:
            return Outcome(kept)  # sticky: an `activated` stamp never undoes a deactivation
        return Outcome(Stamps(registered, requested.activated, 0))
    if stored.activated > 0 and stored.deactivated == 0:
        return Outcome(Stamps(registered, stored.activated, now))
    return Outcome(kept)


def _new(requested: Requested, now: int) -> Stamps:
    registered = now if requested.registered is None else requested.registered
    activated = now if requested.activated is None else requested.activated
    deactivated = requested.deactivated or 0
    return Stamps(registered, activated, deactivated)


def decide_activate(stored: Stamps, now: int, sticky: Sticky) -> Outcome:
    """`PUT …/activate` (reference §6.8): activated = now, deactivated = 0, even after an
    unsubscribe — which is flagged, and refused under sticky=strict."""
    if stored.deactivated > 0:
        if sticky == "strict":
            return Outcome(stored, refused_reactivation=True)
        return Outcome(Stamps(stored.registered, now, 0), reactivated=True)
    if stored.activated > 0:
        return Outcome(stored)
    return Outcome(Stamps(stored.registered, now, 0))


def decide_deactivate(stored: Stamps, now: int) -> Outcome:
    """`PUT …/deactivate`: deactivated = now; an existing deactivation keeps its stamp."""
    if stored.deactivated > 0:
        return Outcome(stored)
    return Outcome(Stamps(stored.registered, stored.activated, now))


def decide_opt_in(stored: Stamps, now: int) -> Outcome:
    """A confirmed double opt-in (reference §10): the one legitimate way back."""
    return Outcome(Stamps(stored.registered, now, 0))
