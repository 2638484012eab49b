"""Secrets: the OS keyring, or a file only the user can read.

Secrets are client secrets, passwords, access and refresh tokens. They live
in the OS keyring under the service name "crm2cr"; where no keyring is usable
(a headless server, CI) they go to `secrets.json` in the per-user folder with
mode 0600. `CRM2CR_SECRET_STORE=file|keyring` forces one of the two.
Nothing else in the program ever writes a secret anywhere.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterable
from typing import Protocol

from crm2cr import paths
from crm2cr.errors import ConfigError

KEYRING_SERVICE = "crm2cr"
STORE_ENV = "CRM2CR_SECRET_STORE"
FILE_NAME = "secrets.json"
MASK = "********"

log = logging.getLogger(__name__)


class SecretStore(Protocol):
    """Where secrets are kept: name → value."""

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...
    @property
    def kind(self) -> str: ...


class FileSecretStore:
    """A JSON file with mode 0600 in the per-user folder."""

    kind = "file"

    def _read(self) -> dict[str, str]:
        data = paths.read_json_object(
            paths.file(FILE_NAME), fix="Delete it and sign in again with 'crm2cr connect'."
        )
        return {str(k): str(v) for k, v in data.items()}

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        data = self._read()
        data[name] = value
        paths.write_private(paths.file(FILE_NAME), json.dumps(data, indent=1, sort_keys=True))

    def delete(self, name: str) -> None:
        data = self._read()
        if data.pop(name, None) is not None:
            paths.write_private(paths.file(FILE_NAME), json.dumps(data, indent=1, sort_keys=True))


class KeyringSecretStore:
    """The OS keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""

    kind = "keyring"

    def get(self, name: str) -> str | None:
        import keyring

        value: str | None = keyring.get_password(KEYRING_SERVICE, name)
        return value

    def set(self, name: str, value: str) -> None:
        import keyring

        keyring.set_password(KEYRING_SERVICE, name, value)

    def delete(self, name: str) -> None:
        import keyring
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(KEYRING_SERVICE, name)


def keyring_usable() -> bool:
    """True when a real keyring backend (not the fail or null one) is configured."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return False
    priority = getattr(backend, "priority", 0)
    return bool(priority and priority > 0)


def secret_store() -> SecretStore:
    """The store in force: forced by CRM2CR_SECRET_STORE, else keyring when usable."""
    forced = os.environ.get(STORE_ENV, "").strip().lower()
    if forced == "file":
        return FileSecretStore()
    if forced == "keyring":
        return KeyringSecretStore()
    if forced:
        raise ConfigError(
            f"{STORE_ENV}={forced!r} is not a secret store.",
            hint="Use 'file' or 'keyring', or leave it unset.",
        )
    return KeyringSecretStore() if keyring_usable() else FileSecretStore()


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of the given secrets (and bearer tokens) in text."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return BEARER.sub(f"Bearer {MASK}", text)


BEARER = re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]+")
