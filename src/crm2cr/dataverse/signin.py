"""Signing in through Microsoft Entra ID with msal (reference §2.1, §16).

Client credentials (an application user, the unattended default), device code
and username/password. One msal app per source. The user flows keep msal's
SerializableTokenCache in the secret store (keyring, or the 0600 file), so a
later run refreshes silently; a refused token is removed from the cache so
that msal fetches a new one instead of handing it back. msal answers with
error dicts, not exceptions: those become SignInError.
"""

from __future__ import annotations

import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from crm2cr.dataverse.auth import (
    SERVICE,
    AccessToken,
    Clock,
    MsalHttp,
    scope_default,
    scope_user,
    token_from_result,
)
from crm2cr.errors import SignInError
from crm2cr.secrets import secret_store

AUTHORITY_HOST = "https://login.microsoftonline.com"
DEVICE_FLOW_LIMIT = 900.0  # seconds a device-code sign-in may wait for the user


class SecretTokenCache:
    """msal's SerializableTokenCache, persisted under one name in the secret store."""

    def __init__(self, secret_name: str) -> None:
        import msal

        self.secret_name = secret_name
        self.cache = msal.SerializableTokenCache()
        stored = secret_store().get(secret_name)
        if stored:
            self.cache.deserialize(stored)
        self._lock = threading.Lock()

    def save(self) -> None:
        with self._lock:
            if self.cache.has_state_changed:
                secret_store().set(self.secret_name, self.cache.serialize())
                self.cache.has_state_changed = False

    def forget(self, access_token: str) -> None:
        """Drop a refused access token so msal fetches a new one instead of returning it."""
        at_type = self.cache.CredentialType.ACCESS_TOKEN
        for item in list(self.cache.search(at_type)):
            if item.get("secret") == access_token:
                self.cache.remove_at(item)


class _MsalSource:
    """What the three msal flows share: the app, its cache and the refusal handling."""

    def __init__(self, org_url: str, *, cache: SecretTokenCache | None, clock: Clock) -> None:
        import msal

        self.org_url = org_url.rstrip("/")
        self.cache = cache or SecretTokenCache(f"dataverse.msal.{_cache_key(org_url)}")
        self.clock = clock
        self._msal = msal

    def _finish(self, result: Mapping[str, Any] | None) -> AccessToken:
        self.cache.save()
        if result is None:
            raise SignInError(
                SERVICE,
                "interaction_required",
                "no saved sign-in for this user",
                hint="Sign in again with 'crm2cr connect crm'.",
            )
        return token_from_result(result, self.clock)


def _cache_key(org_url: str) -> str:
    return httpx.URL(org_url).host or "org"


class ClientCredentials(_MsalSource):
    """An application user: `acquire_token_for_client` with `{org}/.default` (the default)."""

    def __init__(
        self,
        org_url: str,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        authority_host: str = AUTHORITY_HOST,
        http: MsalHttp | None = None,
        cache: SecretTokenCache | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(org_url, cache=cache, clock=clock)
        self.scopes = [scope_default(org_url)]
        self.app = self._msal.ConfidentialClientApplication(
            client_id,
            client_credential=client_secret,
            authority=f"{authority_host.rstrip('/')}/{tenant}",
            token_cache=self.cache.cache,
            http_client=http or MsalHttp(),
        )

    def __repr__(self) -> str:
        return f"ClientCredentials(org_url={self.org_url!r})"

    def acquire(self, *, rejected: str | None = None) -> AccessToken:
        if rejected:
            self.cache.forget(rejected)
        return self._finish(self.app.acquire_token_for_client(scopes=self.scopes))


class _UserSource(_MsalSource, ABC):
    """User flows: the cached account (refresh token) first, the interactive step if needed."""

    def __init__(
        self,
        org_url: str,
        *,
        tenant: str,
        client_id: str,
        authority_host: str,
        http: MsalHttp | None,
        cache: SecretTokenCache | None,
        clock: Clock,
    ) -> None:
        super().__init__(org_url, cache=cache, clock=clock)
        self.scopes = [scope_user(org_url)]
        self.app = self._msal.PublicClientApplication(
            client_id,
            authority=f"{authority_host.rstrip('/')}/{tenant}",
            token_cache=self.cache.cache,
            http_client=http or MsalHttp(),
        )

    def acquire(self, *, rejected: str | None = None) -> AccessToken:
        if rejected:
            self.cache.forget(rejected)
        accounts = self.app.get_accounts()
        if accounts:
            result = self.app.acquire_token_silent(
                self.scopes, account=accounts[0], force_refresh=bool(rejected)
            )
            if result and "access_token" in result:
                return self._finish(result)
        return self._finish(self.interactive())

    @abstractmethod
    def interactive(self) -> Mapping[str, Any] | None:
        """The flow's own sign-in step, run when no cached account can be used."""


class DeviceCode(_UserSource):
    """Device code: show flow["message"] (through `show`), wait for the user to sign in."""

    def __init__(
        self,
        org_url: str,
        *,
        tenant: str,
        client_id: str,
        show: Callable[[str], None],
        authority_host: str = AUTHORITY_HOST,
        http: MsalHttp | None = None,
        cache: SecretTokenCache | None = None,
        clock: Clock = time.time,
        limit: float = DEVICE_FLOW_LIMIT,
    ) -> None:
        super().__init__(
            org_url,
            tenant=tenant,
            client_id=client_id,
            authority_host=authority_host,
            http=http,
            cache=cache,
            clock=clock,
        )
        self.show = show
        self.limit = limit

    def __repr__(self) -> str:
        return f"DeviceCode(org_url={self.org_url!r})"

    def interactive(self) -> Mapping[str, Any] | None:
        flow = self.app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise SignInError(
                SERVICE,
                str(flow.get("error") or "device_flow_failed"),
                str(flow.get("error_description") or ""),
            )
        self.show(str(flow["message"]))
        deadline = time.monotonic() + self.limit
        result: Mapping[str, Any] = self.app.acquire_token_by_device_flow(
            flow, exit_condition=lambda f: time.monotonic() > deadline
        )
        return result


class UsernamePassword(_UserSource):
    """Resource owner password (ROPC): fails with MFA or federation; discouraged (§2.1)."""

    def __init__(
        self,
        org_url: str,
        *,
        tenant: str,
        client_id: str,
        username: str,
        password: str,
        authority_host: str = AUTHORITY_HOST,
        http: MsalHttp | None = None,
        cache: SecretTokenCache | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(
            org_url,
            tenant=tenant,
            client_id=client_id,
            authority_host=authority_host,
            http=http,
            cache=cache,
            clock=clock,
        )
        self.username = username
        self._password = password

    def __repr__(self) -> str:
        return f"UsernamePassword(org_url={self.org_url!r}, username={self.username!r})"

    def interactive(self) -> Mapping[str, Any] | None:
        with warnings.catch_warnings():
            # msal warns that ROPC is discouraged; the user chose it knowingly
            # (`connect crm --username`), and a warning would only clutter the CLI.
            warnings.simplefilter("ignore", DeprecationWarning)
            result: Mapping[str, Any] = self.app.acquire_token_by_username_password(
                self.username, self._password, scopes=self.scopes
            )
        return result
