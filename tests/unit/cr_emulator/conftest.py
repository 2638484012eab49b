"""Fixtures: the CleverReach emulator in process, reached with raw httpx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.cr_emulator.support import Api, MakeApi, api_factory, in_process


@pytest.fixture
def make_api() -> Iterator[MakeApi]:
    """`make_api(seed=..., auth=..., extra={...})` → a fresh emulator in process."""
    with api_factory(in_process) as make:
        yield make


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()
