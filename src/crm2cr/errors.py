"""The one exception tree of crm2cr.

Every error the program raises on purpose is one of these. Each carries a
message (what went wrong), a hint (how to fix it) and an exit code: 2 for bad
usage, configuration or input (nothing was written), 1 for a run that had
errors. Messages and hints never contain a secret.

    Crm2crError (exit 1)
    ├── UserError (exit 2): bad usage, configuration or input; nothing written
    │   ├── ConfigError            a settings, mapping or connection file is wrong
    │   ├── NotConnected           no saved connection for a service
    │   ├── InvalidInput           an argument or form value is wrong
    │   └── SignInError            the identity provider refused the sign-in
    ├── ApiError(service, status, code, api_message): a service answered with an error
    │   ├── TransientError         worth retrying later
    │   │   ├── RateLimited        429, with retry_after
    │   │   ├── ServerError        5xx
    │   │   └── ConnectionLost     the connection dropped or timed out
    │   ├── AuthError (exit 2)     401: token missing, wrong or expired
    │   │   └── OAuthError         a token endpoint refused a grant {error, error_description}
    │   ├── ForbiddenError         403: scope, quota or privilege
    │   │   └── PrivilegeDenied    403 naming a missing Dataverse privilege
    │   ├── NotFoundError          404
    │   │   └── NoMarketingLists   404 on /lists: the organisation has no marketing lists
    │   ├── ConflictError          409 / 412: duplicate or version mismatch
    │   ├── ValidationError        400: the service rejected the input
    │   │   └── ChangeTokenExpired a change-tracking token is too old: read everything again
    │   ├── BatchTooLarge          413
    │   └── ProtocolError          an answer that does not have the documented shape
    └── SyncError: a sync run could not go on safely
        ├── SideEmpty              a side reads as empty while links say it had members
        ├── ReadOnlyViolation      a write was planned for a side the direction keeps read-only
        └── ReactivationRefused    a request would re-activate an unsubscribed receiver
"""

from __future__ import annotations


class Crm2crError(Exception):
    """Base of every error crm2cr raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and the hint on one line, for terminals and logs."""
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class UserError(Crm2crError):
    """Bad usage, configuration or input: the program wrote nothing."""

    exit_code = 2


class ConfigError(UserError):
    """A settings, mapping, coupling or connection file is unusable."""


class NotConnected(UserError):
    """No saved connection (or no secret) for a service."""

    def __init__(self, service: str, *, hint: str = "") -> None:
        command = "crm" if service == "dataverse" else service
        super().__init__(
            f"Not connected to {service_label(service)}.",
            hint=hint or f"Run 'crm2cr connect {command} --help' to sign in first.",
        )
        self.service = service


class InvalidInput(UserError):
    """An argument, option or form value is wrong."""

    def __init__(self, message: str, *, hint: str = "", field: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


class SignInError(UserError):
    """Microsoft Entra ID or the CleverReach token endpoint refused the sign-in."""

    def __init__(self, service: str, error: str, description: str = "", *, hint: str = "") -> None:
        text = f"Sign-in to {service_label(service)} failed: {error}"
        if description:
            text += f" ({first_line(description)})"
        super().__init__(
            text, hint=hint or "Check the client id, secret, tenant and URL, then sign in again."
        )
        self.service = service
        self.error = error


class ApiError(Crm2crError):
    """A service answered with an error; keeps the service's own code and message."""

    def __init__(
        self,
        service: str,
        status: int,
        api_message: str,
        *,
        code: str = "",
        hint: str = "",
        method: str = "",
        url: str = "",
    ) -> None:
        where = f" ({method} {url})" if method and url else ""
        super().__init__(
            f"{service_label(service)} answered {status}: {api_message}{where}", hint=hint
        )
        self.service = service
        self.status = status
        self.code = code
        self.api_message = api_message
        self.method = method
        self.url = url


class TransientError(ApiError):
    """A failure that may go away: retried with backoff before it is raised."""


class RateLimited(TransientError):
    """429: the service asks the caller to slow down."""

    def __init__(
        self,
        service: str,
        api_message: str,
        *,
        retry_after: float | None = None,
        code: str = "",
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(
            service,
            429,
            api_message,
            code=code,
            method=method,
            url=url,
            hint="The service's request limit was reached; wait and run again.",
        )
        self.retry_after = retry_after


class ServerError(TransientError):
    """5xx from the service."""


class ConnectionLost(TransientError):
    """The connection failed, dropped or timed out before an answer came."""

    def __init__(self, service: str, detail: str, *, method: str = "", url: str = "") -> None:
        super().__init__(
            service,
            0,
            f"no answer ({detail})",
            method=method,
            url=url,
            hint="Check the URL and the network connection, then run again.",
        )


class AuthError(ApiError):
    """401: the token is missing, wrong or expired, and a fresh one did not help."""

    exit_code = 2


class OAuthError(AuthError):
    """A token endpoint refused a grant: `{"error", "error_description"}` (RFC 6749 §5.2)."""

    def __init__(
        self,
        service: str,
        status: int,
        error: str,
        error_description: str = "",
        *,
        hint: str = "",
        method: str = "",
        url: str = "",
    ) -> None:
        text = f"{error} ({first_line(error_description)})" if error_description else error
        super().__init__(
            service,
            status,
            text,
            code=error,
            method=method,
            url=url,
            hint=hint
            or f"Run 'crm2cr connect {service} --help' and sign in to {service_label(service)} "
            "again.",
        )
        self.error = error
        self.error_description = error_description


class ForbiddenError(ApiError):
    """403: the signed-in identity may not do this."""


class PrivilegeDenied(ForbiddenError):
    """403 from Dataverse naming the missing privilege (e.g. prvReadList)."""

    def __init__(
        self,
        service: str,
        api_message: str,
        *,
        privilege: str,
        code: str = "",
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(
            service,
            403,
            api_message,
            code=code,
            method=method,
            url=url,
            hint=f"Ask a CRM administrator to grant {privilege} (organisation depth recommended).",
        )
        self.privilege = privilege


class NotFoundError(ApiError):
    """404: the record, group or route does not exist."""


class NoMarketingLists(NotFoundError):
    """404 on /lists: a bare Dataverse environment without the Dynamics 365 apps has no lists."""


class ConflictError(ApiError):
    """409 or 412: a duplicate key, or the record changed since it was read."""


class ValidationError(ApiError):
    """400: the service rejected the request's input."""


class ChangeTokenExpired(ValidationError):
    """400 ExpiredVersionStamp: the delta token expired; the caller reads the full table again."""


class BatchTooLarge(ApiError):
    """413: the batch was larger than the service accepts."""


class ProtocolError(ApiError):
    """The service answered in a shape its documentation does not describe."""


class SyncError(Crm2crError):
    """A sync run (or one coupling of it) could not go on safely."""


class SideEmpty(SyncError):
    """A side reads as empty while its link rows say it had members."""


class ReadOnlyViolation(SyncError):
    """A write was planned for a side that the coupling's direction keeps read-only."""


class ReactivationRefused(SyncError):
    """A request would have re-activated an unsubscribed receiver (SPEC invariant 2)."""


_LABELS = {"dataverse": "Dataverse", "cleverreach": "CleverReach"}


def service_label(service: str) -> str:
    return _LABELS.get(service, service)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
