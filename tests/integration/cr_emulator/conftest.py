"""Fixtures: the CleverReach emulator under uvicorn on 127.0.0.1, reached with raw httpx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.cr_emulator.support import Api, MakeApi, api_factory, over_http


@pytest.fixture
def make_api() -> Iterator[MakeApi]:
    """`make_api(seed=..., auth=..., extra={...})` → a fresh emulator over real HTTP."""
    with api_factory(over_http) as make:
        yield make


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()
