"""Shared fixtures and hypothesis profiles.

Profiles: `ci` (default in CI), `dev` (default), `long` (soak runs), chosen
with `--hypothesis-profile NAME` or HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# dev and ci are derandomized and keep no example database: the same examples
# every run, so a red suite means a change broke something, never an unlucky
# draw or a replay of some earlier hunt. `long` hunts, and remembers what it found.
settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def crm2cr_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own per-user folder and the file secret store."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CRM2CR_HOME", str(home))
    monkeypatch.setenv("CRM2CR_SECRET_STORE", "file")
    monkeypatch.setenv("CRM2CR_NO_UPDATE_CHECK", "1")
    yield home
