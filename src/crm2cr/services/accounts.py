"""Signing in to both services, opening clients from saved connections, the dashboard.

A connection is saved only after the service answered with the account it
belongs to: a wrong URL, secret or token leaves nothing written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx

from crm2cr import connections
from crm2cr.cleverreach.auth import ClientCredentials as CrCredentials
from crm2cr.cleverreach.auth import Token, TokenStore
from crm2cr.cleverreach.client import CleverReachClient, open_client
from crm2cr.connections import CleverReachConnection, CleverReachMethod, CrmConnection, CrmMethod
from crm2cr.dataverse.auth import BearerAuth, LoopbackClientCredentials, StaticToken, TokenSource
from crm2cr.dataverse.client import DataverseClient
from crm2cr.dataverse.signin import ClientCredentials, DeviceCode, UsernamePassword
from crm2cr.errors import ConfigError, InvalidInput
from crm2cr.http import RetryPolicy

# Microsoft's sample public client id for development sign-ins (reference §2.1).
DEV_CLIENT_ID = "51f81489-12ee-4a9e-aaae-a2591f45987d"
CLEVERREACH_URL = "https://rest.cleverreach.com"

Show = Callable[[str], None]

# Signing in answers a person waiting at a prompt: one quick retry, then the error.
SIGN_IN_POLICY = RetryPolicy(attempts=2, base_delay=0.5, max_total_wait=10.0)


@dataclass(frozen=True)
class CrmAccount:
    url: str
    method: str
    organisation_id: str
    user_id: str
    business_unit_id: str
    version: str


@dataclass(frozen=True)
class CleverReachAccount:
    url: str
    method: str
    customer_id: str
    name: str
    email: str
    login_domain: str


@dataclass(frozen=True)
class CrmSignIn:
    """What `connect crm` was given; exactly one way of signing in."""

    url: str
    client_id: str | None = None
    client_secret: str | None = None
    tenant: str | None = None
    device_code: bool = False
    username: str | None = None
    password: str | None = None
    token: str | None = None

    def connection(self) -> tuple[CrmConnection, str | None]:
        ways = [
            bool(self.token),
            self.device_code,
            bool(self.username or self.password),
            bool(self.client_secret),
        ]
        if sum(ways) != 1:
            raise InvalidInput(
                "Give exactly one way to sign in to the CRM.",
                hint="Use --client-id/--client-secret/--tenant, --device-code, "
                "--username/--password or --token.",
            )
        url = normalise_url(self.url)
        if self.token:
            return CrmConnection(url, CrmMethod.TOKEN), self.token
        if self.device_code:
            return CrmConnection(
                url,
                CrmMethod.DEVICE_CODE,
                self.tenant or "organizations",
                self.client_id or DEV_CLIENT_ID,
            ), None
        if self.username or self.password:
            if not (self.username and self.password):
                raise InvalidInput(
                    "--username and --password go together.",
                    hint="Give both, or sign in another way.",
                )
            return CrmConnection(
                url,
                CrmMethod.PASSWORD,
                self.tenant or "organizations",
                self.client_id or DEV_CLIENT_ID,
                self.username,
            ), self.password
        if not self.client_id:
            raise InvalidInput(
                "--client-secret needs --client-id.",
                hint="Give the application (client) id of the app registration.",
            )
        return CrmConnection(
            url, CrmMethod.CLIENT_CREDENTIALS, self.tenant or "", self.client_id
        ), self.client_secret


def normalise_url(url: str) -> str:
    parsed = httpx.URL(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(
            f"{url!r} is not a URL.",
            hint="Give it with its scheme, e.g. https://contoso.crm4.dynamics.com.",
            field="url",
        )
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise InvalidInput(
            f"{url} is plain http.",
            hint="Real services are reached over https; plain http is for the "
            "local emulators on 127.0.0.1 only.",
            field="url",
        )
    return str(parsed.copy_with(path="/", query=None, fragment=None)).rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def crm_token_source(
    connection: CrmConnection,
    secret: str | None,
    *,
    show: Show,
    transport: httpx.BaseTransport | None = None,
) -> TokenSource:
    """The token source a saved connection signs in with."""
    loopback = is_loopback(httpx.URL(connection.url).host)
    if connection.method is CrmMethod.TOKEN:
        return StaticToken(_required(secret, connection))
    if connection.method is CrmMethod.CLIENT_CREDENTIALS:
        secret = _required(secret, connection)
        tenant = connection.tenant or _discover_tenant(connection.url, transport)
        if loopback:
            http = httpx.Client(transport=transport) if transport is not None else None
            return LoopbackClientCredentials(
                connection.url,
                tenant=tenant,
                client_id=connection.client_id,
                client_secret=secret,
                http=http,
            )
        return ClientCredentials(
            connection.url, tenant=tenant, client_id=connection.client_id, client_secret=secret
        )
    if loopback:
        raise InvalidInput(
            f"{connection.method.value} sign-in needs Microsoft Entra ID, not a local emulator.",
            hint="For an emulator use --token or --client-id/--client-secret.",
        )
    if connection.method is CrmMethod.DEVICE_CODE:
        return DeviceCode(
            connection.url, tenant=connection.tenant, client_id=connection.client_id, show=show
        )
    return UsernamePassword(
        connection.url,
        tenant=connection.tenant,
        client_id=connection.client_id,
        username=connection.username,
        password=_required(secret, connection),
    )


def _required(secret: str | None, connection: CrmConnection) -> str:
    if not secret:
        raise ConfigError(
            f"The secret of the saved CRM connection to {connection.url} is missing.",
            hint="Sign in again with 'crm2cr connect crm'.",
        )
    return secret


def _discover_tenant(url: str, transport: httpx.BaseTransport | None) -> str:
    with DataverseClient.connect(url, None, transport=transport, policy=SIGN_IN_POLICY) as probe:
        return probe.sign_in_challenge().tenant


def open_crm(
    *, show: Show = lambda _: None, transport: httpx.BaseTransport | None = None
) -> DataverseClient:
    """A client for the saved CRM connection."""
    connection = connections.load_crm()
    source = crm_token_source(
        connection, connections.crm_secret(connection), show=show, transport=transport
    )
    return DataverseClient.connect(connection.url, BearerAuth(source), transport=transport)


def connect_crm(
    sign_in: CrmSignIn, *, show: Show = lambda _: None, transport: httpx.BaseTransport | None = None
) -> CrmAccount:
    """Sign in, ask the organisation who we are, and only then save the connection."""
    connection, secret = sign_in.connection()
    if connection.method is CrmMethod.CLIENT_CREDENTIALS and not connection.tenant:
        connection = replace(connection, tenant=_discover_tenant(connection.url, transport))
    source = crm_token_source(connection, secret, show=show, transport=transport)
    with DataverseClient.connect(
        connection.url, BearerAuth(source), transport=transport, policy=SIGN_IN_POLICY
    ) as client:
        me = client.who_am_i()
        version = client.retrieve_version()
    connections.save_crm(connection, secret)
    return CrmAccount(
        connection.url,
        connection.method.value,
        me.organization_id,
        me.user_id,
        me.business_unit_id,
        version,
    )


def connect_cleverreach(
    url: str = CLEVERREACH_URL,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    token: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> CleverReachAccount:
    """Sign in to CleverReach, read the account, and only then save token and connection."""
    url = normalise_url(url)
    if bool(token) == bool(client_id or client_secret):
        raise InvalidInput(
            "Give exactly one way to sign in to CleverReach.",
            hint="Use --client-id with --client-secret, or --token.",
        )
    if not token and not (client_id and client_secret):
        raise InvalidInput(
            "--client-id and --client-secret go together.",
            hint="Both are shown for your OAuth app under Account › Extras › REST API.",
        )
    store = TokenStore(url)
    credentials = CrCredentials(client_id, client_secret) if client_id and client_secret else None
    with open_client(
        url,
        token=token,
        credentials=credentials,
        store=store,
        transport=transport,
        policy=SIGN_IN_POLICY,
    ) as client:
        account = client.whoami()
    if token:
        store.save(Token(token))
        method = CleverReachMethod.TOKEN
    else:
        assert credentials is not None
        store.save_credentials(credentials)
        method = CleverReachMethod.CLIENT_CREDENTIALS
    connections.save_cleverreach(CleverReachConnection(url, method, client_id or ""))
    return CleverReachAccount(
        url, method.value, str(account.id), account.name, account.email, account.login_domain
    )


def open_cleverreach(*, transport: httpx.BaseTransport | None = None) -> CleverReachClient:
    """A client for the saved CleverReach connection (token and credentials from the store)."""
    connection = connections.load_cleverreach()
    return open_client(connection.url, store=TokenStore(connection.url), transport=transport)
