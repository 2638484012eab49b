"""Who a request speaks for: the bearer check and an Entra-shaped token endpoint (§2).

Dev mode (`--auth dev`, the default): any non-empty bearer token is accepted
and acts as the seeded application user "crm2cr app". A token of the form
`user:<systemuserid>` acts as that system user instead; tests use it to act
as a user lacking privileges. Tokens issued by the endpoint below work too.

Strict mode (`--auth strict`): only tokens this emulator's token endpoint
issued, and only until they expire (3599 s, or `POST /_emulator/tokens/expire`).

Token endpoint, authority `{organisation URL}/{tenant}` (§2.3):

    GET  /{tenant}/v2.0/.well-known/openid-configuration
    POST /{tenant}/oauth2/v2.0/token        grant_type = client_credentials
                                            (client id/secret of an application user,
                                            seed.APP_CLIENT_ID / APP_CLIENT_SECRET),
                                            password (a seeded user's e-mail and
                                            seed.DEMO_PASSWORD), device_code,
                                            refresh_token
    POST /{tenant}/oauth2/v2.0/devicecode   then POST /_emulator/devicecode/approve
                                            {"user_code": ..., "username": optional}
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from crm2cr.emulators.dataverse import seed
from crm2cr.emulators.dataverse.errors import ODataError, not_authenticated
from crm2cr.emulators.dataverse.wire import Caller

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

DEV_USER_PREFIX = "user:"
DEVICE_CODE_LIFETIME = 900
DEVICE_POLL_INTERVAL = 5


@dataclass
class DeviceFlow:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    approved_user: str | None = None


class AuthState:
    """Pending device flows and refresh tokens (memory only, like the access tokens)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.device_flows: dict[str, DeviceFlow] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> systemuserid

    def approve(self, user_code: str, user_id: str) -> bool:
        with self.lock:
            for flow in self.device_flows.values():
                if flow.user_code == user_code.upper():
                    flow.approved_user = user_id
                    return True
        return False


def challenge(emu: DataverseEmulator, base: str) -> ODataError:
    return not_authenticated(f"{base}/{emu.tenant_id}/oauth2/authorize", f"{base}/")


def authenticate(emu: DataverseEmulator, headers: Mapping[str, str], base: str) -> Caller:
    """The caller a request's bearer token stands for, or 401 with the challenge (§2.2)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise challenge(emu, base)
    issued = emu.tokens.lookup(token)
    if issued is not None:
        user_id = issued.subject
    elif emu.options.auth == "strict":
        raise challenge(emu, base)
    elif token.startswith(DEV_USER_PREFIX):
        user_id = token[len(DEV_USER_PREFIX) :].strip().lower()
    else:
        user_id = seed.APP_USER_ID
    caller = caller_for(emu, user_id)
    if caller is None:
        raise challenge(emu, base)
    return caller


def caller_for(emu: DataverseEmulator, user_id: str) -> Caller | None:
    """The Caller of an enabled system user, or None."""
    if "systemuser" not in emu.metadata:
        return None
    with emu.store.lock:
        row = emu.store.get("systemuser", user_id)
    if row is None or row.get("isdisabled"):
        return None
    return Caller(str(row["systemuserid"]), str(row.get("businessunitid") or ""))


# -- the token endpoint ----------------------------------------------------------------


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": error,
            "error_description": description,
            "error_codes": [int(description[6:].split(":")[0])]
            if description[6:7].isdigit()
            else [],
            "trace_id": secrets.token_hex(8),
            "correlation_id": secrets.token_hex(8),
        },
        status,
    )


def _id_token(emu: DataverseEmulator, base: str, client_id: str, user: dict[str, Any]) -> str:
    """An unsigned id token: MSAL reads its claims to name the account."""
    now = emu.clock.stamp()
    claims = {
        "aud": client_id,
        "iss": f"{base}/{emu.tenant_id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + int(emu.tokens.lifetime),
        "sub": user["systemuserid"],
        "oid": user["systemuserid"],
        "tid": emu.tenant_id,
        "name": user.get("fullname") or "",
        "preferred_username": user.get("internalemailaddress") or "",
        "ver": "2.0",
    }

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _grant(
    emu: DataverseEmulator,
    base: str,
    user: dict[str, Any],
    scope: str,
    client_id: str,
    *,
    user_flow: bool,
) -> JSONResponse:
    issued = emu.tokens.issue(str(user["systemuserid"]))
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": scope or f"{base}/.default",
        "expires_in": int(emu.tokens.lifetime),
        "ext_expires_in": int(emu.tokens.lifetime),
        "access_token": issued.token,
    }
    if user_flow:
        refresh = secrets.token_urlsafe(32)
        with emu.auth.lock:
            emu.auth.refresh_tokens[refresh] = str(user["systemuserid"])
        body["refresh_token"] = refresh
        body["id_token"] = _id_token(emu, base, client_id, user)
        body["client_info"] = (
            base64.urlsafe_b64encode(
                json.dumps({"uid": user["systemuserid"], "utid": emu.tenant_id}).encode()
            )
            .decode()
            .rstrip("=")
        )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _users(emu: DataverseEmulator, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    return emu.store.query(f'SELECT * FROM "systemuser" WHERE {sql}', params)


def auth_app(emu: DataverseEmulator) -> Router:
    def base_of(request: HttpRequest) -> str:
        return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"

    async def openid_configuration(request: HttpRequest) -> Response:
        tenant = request.path_params["tenant"]
        root = f"{base_of(request)}/{tenant}"
        return JSONResponse(
            {
                "issuer": f"{base_of(request)}/{emu.tenant_id}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "grant_types_supported": [
                    "client_credentials",
                    "password",
                    "refresh_token",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "EU",
            }
        )

    async def device_code(request: HttpRequest) -> Response:
        form = await request.form()
        client_id = str(form.get("client_id") or "")
        if not client_id:
            return _error(
                400,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
            )
        code = secrets.token_urlsafe(32)
        user_code = secrets.token_hex(4).upper()
        flow = DeviceFlow(
            code,
            user_code,
            client_id,
            str(form.get("scope") or ""),
            emu.clock.time() + DEVICE_CODE_LIFETIME,
        )
        with emu.auth.lock:
            emu.auth.device_flows[code] = flow
        verification = f"{base_of(request)}/_emulator/devicecode"
        return JSONResponse(
            {
                "device_code": code,
                "user_code": user_code,
                "verification_uri": verification,
                "expires_in": DEVICE_CODE_LIFETIME,
                "interval": DEVICE_POLL_INTERVAL,
                "message": (
                    f"To sign in, use a web browser to open the page {verification} and enter "
                    f"the code {user_code} to authenticate."
                ),
            }
        )

    async def token(request: HttpRequest) -> Response:
        form = await request.form()
        grant = str(form.get("grant_type") or "")
        scope = str(form.get("scope") or "")
        client_id = str(form.get("client_id") or "")
        base = base_of(request)
        if grant == "client_credentials":
            secret = str(form.get("client_secret") or "")
            users = _users(emu, "applicationid = ?", (client_id.lower(),))
            if not users:
                return _error(
                    400,
                    "unauthorized_client",
                    f"AADSTS700016: Application with identifier '{client_id}' was not found in "
                    f"the directory '{emu.tenant_id}'.",
                )
            if secret != registered_secret(emu, client_id):
                return _error(
                    401,
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    "in the request is the client secret value, not the client secret ID.",
                )
            return _grant(emu, base, users[0], scope, client_id, user_flow=False)
        if grant == "password":
            username = str(form.get("username") or "")
            users = _users(emu, "internalemailaddress = ? OR domainname = ?", (username, username))
            if (
                not users
                or str(form.get("password") or "") != seed.DEMO_PASSWORD
                or users[0].get("applicationid")
            ):
                return _error(
                    400,
                    "invalid_grant",
                    "AADSTS50126: Error validating credentials due to invalid username or "
                    "password.",
                )
            return _grant(emu, base, users[0], scope, client_id, user_flow=True)
        if grant in ("urn:ietf:params:oauth:grant-type:device_code", "device_code"):
            return _device_token(emu, base, str(form.get("device_code") or ""), scope)
        if grant == "refresh_token":
            with emu.auth.lock:
                user_id = emu.auth.refresh_tokens.get(str(form.get("refresh_token") or ""))
            users = _users(emu, "systemuserid = ?", (user_id,)) if user_id else []
            if not users:
                return _error(
                    400,
                    "invalid_grant",
                    "AADSTS9002313: Invalid request. Request is malformed or invalid.",
                )
            return _grant(emu, base, users[0], scope, client_id, user_flow=True)
        return _error(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        )

    return Router(
        routes=[
            Route("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration),
            Route("/{tenant}/oauth2/v2.0/devicecode", device_code, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        ]
    )


def _device_token(emu: DataverseEmulator, base: str, code: str, scope: str) -> Response:
    with emu.auth.lock:
        flow = emu.auth.device_flows.get(code)
        if flow is not None and (flow.approved_user or flow.expires_at <= emu.clock.time()):
            emu.auth.device_flows.pop(code, None)
    if flow is None:
        return _error(
            400,
            "invalid_grant",
            "AADSTS70000: The provided value for the 'device_code' is not valid.",
        )
    if flow.expires_at <= emu.clock.time():
        return _error(
            400,
            "expired_token",
            "AADSTS70020: The provided value for the input parameter 'device_code' is not "
            "valid. This device code has expired.",
        )
    if flow.approved_user is None:
        return _error(
            400,
            "authorization_pending",
            "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    users = _users(emu, "systemuserid = ?", (flow.approved_user,))
    if not users:
        return _error(
            400, "invalid_grant", "AADSTS50034: The user account does not exist in the directory."
        )
    return _grant(emu, base, users[0], scope or flow.scope, flow.client_id, user_flow=True)


def registered_secret(emu: DataverseEmulator, client_id: str) -> str:
    """The client secret of an application registration (the seeded one, or added by control)."""
    extra = emu.store.org_value(f"client_secret:{client_id.lower()}")
    if extra:
        return extra
    return seed.APP_CLIENT_SECRET if client_id.lower() == seed.APP_CLIENT_ID else ""
