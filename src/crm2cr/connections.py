"""Saved connections: where each service is and how to sign in, never the secret itself.

`connections.json` in the per-user folder holds URLs, tenant, client id, user
name and the sign-in method; client secrets, passwords and tokens go to the
secret store (keyring, or the 0600 file) under names derived from the host.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import httpx

from crm2cr import paths
from crm2cr.errors import ConfigError, NotConnected
from crm2cr.secrets import secret_store

FILE_NAME = "connections.json"


class CrmMethod(StrEnum):
    CLIENT_CREDENTIALS = "client-credentials"
    DEVICE_CODE = "device-code"
    PASSWORD = "password"
    TOKEN = "token"


class CleverReachMethod(StrEnum):
    CLIENT_CREDENTIALS = "client-credentials"
    TOKEN = "token"


@dataclass(frozen=True)
class CrmConnection:
    url: str
    method: CrmMethod
    tenant: str = ""
    client_id: str = ""
    username: str = ""

    @property
    def secret_name(self) -> str:
        """Where this connection's secret (client secret, password or token) is kept."""
        return f"dataverse.{host_of(self.url)}.{self.method.value}"


@dataclass(frozen=True)
class CleverReachConnection:
    url: str
    method: CleverReachMethod
    client_id: str = ""


def host_of(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.host}:{parsed.port}" if parsed.port else (parsed.host or "unknown")


def _read() -> dict[str, Any]:
    return paths.read_json_object(
        paths.file(FILE_NAME),
        fix="Delete it and sign in again with 'crm2cr connect crm' / 'connect cleverreach'.",
    )


def _write(data: dict[str, Any]) -> None:
    paths.write_atomic(paths.file(FILE_NAME), json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_crm(connection: CrmConnection, secret: str | None) -> None:
    """Save the connection and its secret together (the secret first: never a half pair)."""
    if secret is not None:
        secret_store().set(connection.secret_name, secret)
    data = _read()
    data["crm"] = {k: str(v) for k, v in asdict(connection).items()}
    _write(data)


def save_cleverreach(connection: CleverReachConnection) -> None:
    data = _read()
    data["cleverreach"] = {k: str(v) for k, v in asdict(connection).items()}
    _write(data)


def load_crm() -> CrmConnection:
    raw = _read().get("crm")
    if not isinstance(raw, dict):
        raise NotConnected("dataverse")
    try:
        return CrmConnection(
            url=str(raw["url"]),
            method=CrmMethod(raw["method"]),
            tenant=str(raw.get("tenant", "")),
            client_id=str(raw.get("client_id", "")),
            username=str(raw.get("username", "")),
        )
    except (KeyError, ValueError):
        raise ConfigError(
            f"The saved CRM connection in {paths.file(FILE_NAME)} is incomplete.",
            hint="Sign in again with 'crm2cr connect crm'.",
        ) from None


def load_cleverreach() -> CleverReachConnection:
    raw = _read().get("cleverreach")
    if not isinstance(raw, dict):
        raise NotConnected("cleverreach")
    try:
        return CleverReachConnection(
            url=str(raw["url"]),
            method=CleverReachMethod(raw["method"]),
            client_id=str(raw.get("client_id", "")),
        )
    except (KeyError, ValueError):
        raise ConfigError(
            f"The saved CleverReach connection in {paths.file(FILE_NAME)} is incomplete.",
            hint="Sign in again with 'crm2cr connect cleverreach'.",
        ) from None


def crm_secret(connection: CrmConnection) -> str | None:
    return secret_store().get(connection.secret_name)
