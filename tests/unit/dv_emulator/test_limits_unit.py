"""Service protection windows (reference §15, §17.18) on the emulator clock."""

from __future__ import annotations

import pytest

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.limits import LimitSettings, ServiceLimits


def _limits(**changes: int) -> tuple[ServiceLimits, Clock]:
    clock = Clock()
    return ServiceLimits(LimitSettings(**changes), clock), clock


def test_sliding_window_frees_room_as_requests_age() -> None:
    """Reference §15: 300 s sliding window; Retry-After is the wait for the oldest to leave."""
    limits, clock = _limits(requests=2)
    limits.release(limits.admit("u"), 1.0)
    clock.advance(100)
    limits.release(limits.admit("u"), 1.0)
    with pytest.raises(ODataError) as error:
        limits.admit("u")
    assert error.value.code == "0x80072322"
    assert error.value.headers["Retry-After"] == "200"
    clock.advance(201)
    limits.release(limits.admit("u"), 1.0)
    assert limits.admit("v").counted


def test_concurrency_counts_running_requests() -> None:
    """Reference §15: the 53rd concurrent request is refused at once."""
    limits, _ = _limits(concurrent=52)
    tickets = [limits.admit("u") for _ in range(52)]
    with pytest.raises(ODataError) as error:
        limits.admit("u")
    assert error.value.code == "0x80072326" and error.value.status == 429
    limits.release(tickets[0], 5.0)
    assert limits.admit("u").counted


def test_execution_time_is_summed_over_the_window() -> None:
    """Reference §15: 1,200,000 ms combined execution time per window."""
    limits, clock = _limits(execution_ms=1000)
    limits.release(limits.admit("u"), 600.0)
    limits.release(limits.admit("u"), 600.0)
    with pytest.raises(ODataError) as error:
        limits.admit("u")
    assert error.value.code == "0x80072321"
    assert "1,000 milliseconds" in error.value.message
    clock.advance(300)
    assert limits.admit("u").counted


def test_options_configure_and_switch_off() -> None:
    """`--no-limits` and options.extra thresholds (§17.18)."""
    off = ServiceLimits.from_options(EmulatorOptions(limits=False), Clock())
    for _ in range(10):
        assert not off.admit("u").counted
    tuned = ServiceLimits.from_options(EmulatorOptions(extra={"limit_requests": "1"}), Clock())
    tuned.admit("u")
    with pytest.raises(ODataError):
        tuned.admit("u")
    with pytest.raises(ValueError):
        tuned.update(requests=-1)
    with pytest.raises(ValueError):
        tuned.update(nonsense=1)
