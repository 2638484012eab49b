"""The activation table, row by row (reference §6.7), as the pure function `decide`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm2cr.emulators.cleverreach.rules import (
    Outcome,
    Requested,
    Stamps,
    Sticky,
    decide,
    decide_activate,
    decide_deactivate,
    decide_opt_in,
    is_active,
)

NOW = 1_800_000_000
TS = 1_700_000_000
ACTIVE = Stamps(registered=TS - 10, activated=TS - 10, deactivated=0)
NEVER = Stamps(registered=TS - 10, activated=0, deactivated=0)
GONE = Stamps(registered=TS - 10, activated=TS - 10, deactivated=TS - 5)
GONE_BEFORE_OPT_IN = Stamps(registered=TS - 10, activated=0, deactivated=TS - 5)


def active(stamps: Stamps) -> bool:
    return is_active(stamps, bounced=0, blocked=False)


@pytest.mark.parametrize("sticky", ["faithful", "strict"])
def test_new_without_activation_fields_is_active_now(sticky: Sticky) -> None:
    """Row 1: no activation fields, new → registered = activated = now, active."""
    out = decide(None, Requested(), NOW, sticky)
    assert out == Outcome(Stamps(NOW, NOW, 0))
    assert active(out.stamps)


def test_new_with_activated_zero_awaits_opt_in() -> None:
    """Row 2: `activated: 0`, new → inactive, awaiting opt-in."""
    out = decide(None, Requested(activated=0), NOW, "faithful")
    assert out.stamps == Stamps(NOW, 0, 0)
    assert not active(out.stamps)


def test_new_with_activated_stamp_is_active_from_it() -> None:
    """Row 3: `activated: ts`, new → active from ts; `registered` kept when given."""
    out = decide(None, Requested(registered=TS - 1, activated=TS), NOW, "faithful")
    assert out.stamps == Stamps(TS - 1, TS, 0)
    assert active(out.stamps)


@pytest.mark.parametrize("stored", [None, ACTIVE, NEVER, GONE])
def test_deactivated_stamp_deactivates_anything(stored: Stamps | None) -> None:
    """Row 4: `deactivated: ts>0`, any → deactivated = ts, inactive."""
    out = decide(stored, Requested(deactivated=TS), NOW, "faithful")
    assert out.stamps.deactivated == TS
    assert not active(out.stamps)
    assert not out.reactivated


@pytest.mark.parametrize("stored", [ACTIVE, NEVER, GONE, GONE_BEFORE_OPT_IN])
def test_existing_without_activation_fields_is_unchanged(stored: Stamps) -> None:
    """Row 5: no activation fields, existing → unchanged."""
    assert decide(stored, Requested(), NOW, "faithful") == Outcome(stored)


def test_activated_stamp_activates_never_activated() -> None:
    """Row 6: `activated: ts>0`, never activated → activated."""
    out = decide(NEVER, Requested(activated=TS), NOW, "faithful")
    assert out.stamps == Stamps(NEVER.registered, TS, 0)
    assert active(out.stamps)


@pytest.mark.parametrize("stored", [GONE, GONE_BEFORE_OPT_IN])
@pytest.mark.parametrize("sticky", ["faithful", "strict"])
def test_activated_stamp_never_undoes_a_deactivation(stored: Stamps, sticky: Sticky) -> None:
    """Row 7: `activated: ts>0`, deactivated → unchanged, stays deactivated."""
    out = decide(stored, Requested(activated=NOW), NOW, sticky)
    assert out == Outcome(stored)
    assert not active(out.stamps)


def test_activated_stamp_leaves_bounced_and_blacklisted_inactive() -> None:
    """Row 8: `activated: ts>0`, bounced / blacklisted → stays inactive."""
    out = decide(NEVER, Requested(activated=TS), NOW, "faithful")
    assert not is_active(out.stamps, bounced=TS, blocked=False)
    assert not is_active(out.stamps, bounced=0, blocked=True)


def test_activated_zero_deactivates_an_active_receiver_now() -> None:
    """Row 9: `activated: 0`, active → deactivated = now."""
    out = decide(ACTIVE, Requested(activated=0), NOW, "faithful")
    assert out.stamps == Stamps(ACTIVE.registered, ACTIVE.activated, NOW)
    assert decide(NEVER, Requested(activated=0), NOW, "faithful") == Outcome(NEVER)


def test_deactivated_zero_reactivates_in_faithful_mode_flagged() -> None:
    """Row 10: `deactivated: 0`, deactivated → re-activated, flagged."""
    out = decide(GONE, Requested(deactivated=0), NOW, "faithful")
    assert out.stamps == Stamps(GONE.registered, GONE.activated, 0)
    assert out.reactivated and active(out.stamps)
    never = decide(GONE_BEFORE_OPT_IN, Requested(deactivated=0), NOW, "faithful")
    assert never.stamps.activated == NOW and never.reactivated


def test_deactivated_zero_is_a_flagged_no_op_in_strict_mode() -> None:
    """Row 10 under sticky=strict: a no-op, still recorded as an attempt."""
    out = decide(GONE, Requested(deactivated=0), NOW, "strict")
    assert out.stamps == GONE and out.refused_reactivation and not out.reactivated


def test_deactivated_zero_on_an_active_receiver_changes_nothing() -> None:
    """Row 10 only applies to deactivated receivers."""
    assert decide(ACTIVE, Requested(deactivated=0), NOW, "faithful") == Outcome(ACTIVE)


def test_registered_is_only_overwritten_when_given() -> None:
    """Below the table: `registered` is only overwritten when given."""
    assert decide(ACTIVE, Requested(), NOW, "faithful").stamps.registered == ACTIVE.registered
    given_stamp = decide(ACTIVE, Requested(registered=TS + 1), NOW, "faithful")
    assert given_stamp.stamps.registered == TS + 1


def test_activate_call_reactivates_flagged_or_is_refused_when_strict() -> None:
    """Reference §6.8: activate sets activated = now, deactivated = 0 even after an
    unsubscribe (flagged); strict refuses."""
    out = decide_activate(GONE, NOW, "faithful")
    assert out.stamps == Stamps(GONE.registered, NOW, 0) and out.reactivated
    strict = decide_activate(GONE, NOW, "strict")
    assert strict.stamps == GONE and strict.refused_reactivation
    assert decide_activate(NEVER, NOW, "strict").stamps == Stamps(NEVER.registered, NOW, 0)
    assert decide_activate(ACTIVE, NOW, "faithful") == Outcome(ACTIVE)


def test_deactivate_call_and_opt_in() -> None:
    """Reference §6.8 and §10: deactivate keeps an existing stamp; a confirmed opt-in is
    the one legitimate way back."""
    assert decide_deactivate(ACTIVE, NOW).stamps.deactivated == NOW
    assert decide_deactivate(GONE, NOW) == Outcome(GONE)
    back = decide_opt_in(GONE, NOW)
    assert back.stamps == Stamps(GONE.registered, NOW, 0) and not back.reactivated


stamps = st.builds(
    Stamps,
    registered=st.integers(0, NOW),
    activated=st.integers(0, NOW),
    deactivated=st.integers(0, NOW),
)
requests = st.builds(
    Requested,
    registered=st.none() | st.integers(0, NOW),
    activated=st.none() | st.integers(0, NOW),
    deactivated=st.none() | st.integers(1, NOW),  # never `deactivated: 0`
)


@given(stored=stamps, requested=requests, sticky=st.sampled_from(["faithful", "strict"]))
def test_only_deactivated_zero_ever_brings_a_deactivated_receiver_back(
    stored: Stamps, requested: Requested, sticky: Sticky
) -> None:
    """SPEC invariant 2 as the emulator sees it: without `deactivated: 0` no write can
    re-activate a deactivated receiver."""
    out = decide(stored, requested, NOW, sticky)
    if stored.deactivated > 0:
        assert out.stamps.deactivated > 0
        assert not out.reactivated


@given(stored=stamps, requested=requests)
def test_strict_mode_never_reactivates(stored: Stamps, requested: Requested) -> None:
    """Reference §13: sticky=strict turns the last row into a no-op, whatever is sent."""
    for deactivated in (requested.deactivated, 0):
        req = Requested(requested.registered, requested.activated, deactivated)
        out = decide(stored, req, NOW, "strict")
        assert not out.reactivated
        if stored.deactivated > 0:
            assert out.stamps.deactivated > 0
