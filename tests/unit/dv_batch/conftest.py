"""A real store with the standard tables and a FetchXML runner; a whole emulator via dispatch."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse import standard_tables
from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.emulators.dataverse.auth import caller_for
from crm2cr.emulators.dataverse.fetchxml_parse import parse_fetchxml
from crm2cr.emulators.dataverse.fetchxml_sql import Principal, compile_fetch
from crm2cr.emulators.dataverse.multipart import BatchItem, encode_batch_request
from crm2cr.emulators.dataverse.records import new_row
from crm2cr.emulators.dataverse.seed import APP_USER_ID
from crm2cr.emulators.dataverse.store import Store
from crm2cr.emulators.dataverse.wire import Caller, InternalResponse

NOW = datetime(2026, 3, 31, 14, 30, 5, tzinfo=UTC)
USER = "00000000-0000-4000-8000-0000000000a1"
OTHER_USER = "00000000-0000-4000-8000-0000000000a2"
UNIT = "00000000-0000-4000-8000-0000000000b1"
OTHER_UNIT = "00000000-0000-4000-8000-0000000000b2"


class Org:
    """Rows in a real Store, addressed by short names in tests."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ids: dict[str, str] = {}

    def add(self, table: str, key: str, /, **values: Any) -> str:
        entity = self.store.metadata.require(table)
        record_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{table}/{key}"))
        row = {entity.primary_id: record_id, **values}
        user = values.get("ownerid", USER)
        unit = values.get("owningbusinessunit", UNIT)
        self.store.insert(table, new_row(entity, row, user_id=user, business_unit_id=unit))
        self.ids[key] = record_id
        return record_id

    def names(self, ids: list[str]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return sorted(by_id[i] for i in ids)

    def fetch(
        self, xml: str, *, now: datetime = NOW, user: str = USER, unit: str = UNIT
    ) -> list[str]:
        """The names of the root records the query selects."""
        query = parse_fetchxml(xml)
        compiled = compile_fetch(
            query, self.store.metadata, now=now, principal=Principal(user, unit)
        )
        sql, params = compiled.page_sql(limit=10_000)
        rows = self.store.query(sql, params)
        key = next(c.labels[0] for c in compiled.columns if c.attribute.is_primary_id)
        return self.names([r[key] for r in rows])


@pytest.fixture
def store() -> Iterator[Store]:
    store = Store(None, Clock(NOW.timestamp()))
    standard_tables.install(store)
    yield store
    store.close()


@pytest.fixture
def org(store: Store) -> Org:
    return Org(store)


def stamp(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


@dataclass
class Service:
    """A whole emulator driven through `dispatch`, the entry point `$batch` parts use."""

    emu: DataverseEmulator
    caller: Caller

    def call(
        self,
        method: str,
        url: str,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> InternalResponse:
        payload = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        sent = {"content-type": "application/json", **(headers or {})}
        return self.emu.dispatch(method, url, sent, payload, self.caller)

    def create(self, set_name: str, body: dict[str, Any]) -> str:
        response = self.call("POST", set_name, body)
        assert response.status == 204, response.body
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    def batch(self, items: list[BatchItem], prefer: str = "") -> InternalResponse:
        content_type, body = encode_batch_request(items)
        headers = {"content-type": content_type, "prefer": prefer}
        return self.emu.dispatch("POST", "$batch", headers, body, self.caller)


@pytest.fixture
def service() -> Iterator[Service]:
    emu = DataverseEmulator(EmulatorOptions(seed="empty", limits=False))
    caller = caller_for(emu, APP_USER_ID)
    assert caller is not None
    yield Service(emu, caller)
    emu.close()
