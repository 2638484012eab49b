"""Dataverse error answers: `{"error":{"code":"0x…","message":"…"}}` (reference §14, §17).

Every handler raises `ODataError`; the app (and `DataverseEmulator.dispatch`)
turns it into the JSON body with `render_body`. The constructors below carry
the service's own codes and message texts, so clients see what they would see
from a real organisation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from crm2cr.errors import Crm2crError

JSON_TYPE = "application/json; odata.metadata=minimal"


class ODataError(Crm2crError):
    """An error answer of the emulated Web API."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> bytes:
        return render_body(self.code, self.message)


def render_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


# -- 400 ------------------------------------------------------------------------------


def bad_request(message: str, code: str = "0x0") -> ODataError:
    """OData parse errors and unsupported query options: 400 `0x0` (§14, §17.11)."""
    return ODataError(400, code, message)


def property_not_found(name: str, entity: str) -> ODataError:
    return bad_request(
        f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{entity}'."
    )


def invalid_property(name: str, entity: str) -> ODataError:
    return bad_request(
        "An error occurred while validating input parameters: Microsoft.Crm.CrmException: "
        f"Invalid property '{name}' was found in entity 'Microsoft.Dynamics.CRM.{entity}'."
    )


def length_exceeded(attribute: str, entity: str, max_length: int) -> ODataError:
    return ODataError(
        400,
        "0x80044331",
        f"A validation error occurred.  The length of the '{attribute}' attribute of the "
        f"'{entity}' entity exceeded the maximum allowed length of '{max_length}'.",
    )


def validation_error(message: str) -> ODataError:
    return ODataError(400, "0x80044331", f"A validation error occurred.  {message}")


def unreadable_body(detail: str = "") -> ODataError:
    text = "The request body is not valid JSON."
    return ODataError(400, "0x80048d19", f"{text} {detail}".strip())


def bad_guid(text: str) -> ODataError:
    return bad_request(
        "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."
        f" Value: '{text}'."
    )


def unsupported_with_change_tracking(option: str) -> ODataError:
    return bad_request(
        f'The "{option}" query parameter isn\'t supported when Change Tracking is enabled.'
    )


def expired_version_stamp() -> ODataError:
    return ODataError(
        400,
        "0x80044352",
        "Version stamp associated with the client has expired. Please perform a full sync.",
    )


def list_cannot_take_members(reason: str) -> ODataError:
    """AddMemberList on a dynamic, locked or inactive list (§17.7)."""
    return ODataError(400, "0x80040203", reason)


def duplicate_key_on_create(key: str) -> ODataError:
    return ODataError(
        400,
        "0x80060892",
        f"Entity Key {key} violated. A record with the same value for {key} already exists.",
    )


# -- 401 / 403 ------------------------------------------------------------------------


def not_authenticated(authorization_uri: str, resource_id: str) -> ODataError:
    """401 with the challenge Microsoft's clients read the tenant from (§2.2, §17.1)."""
    return ODataError(
        401,
        "0x80044302",
        "Request is not authenticated.",
        headers={
            "WWW-Authenticate": (
                f"Bearer authorization_uri={authorization_uri}, resource_id={resource_id}"
            )
        },
    )


def access_denied() -> ODataError:
    return ODataError(403, "0x80048405", "Access is denied.")


def privilege_denied(
    *,
    user_id: str,
    privilege: str,
    privilege_id: str,
    object_type_code: int,
    entity: str,
    role_count: int,
    privilege_count: int,
) -> ODataError:
    """403 `0x80040220` with the message the service writes (§13.3)."""
    return ODataError(
        403,
        "0x80040220",
        f"Principal user (Id={user_id}, type=8, roleCount={role_count}, "
        f"privilegeCount={privilege_count}, accessMode=0), is missing {privilege} privilege "
        f"(Id={privilege_id}) on OTC={object_type_code} for entity '{entity}'. "
        f"context.Caller={user_id}",
    )


# -- 404 / 405 ------------------------------------------------------------------------


def segment_not_found(segment: str) -> ODataError:
    return ODataError(404, "0x8006088a", f"Resource not found for the segment '{segment}'.")


def no_http_resource(url: str) -> ODataError:
    """A known operation with the wrong verb (§10)."""
    return ODataError(404, "", f"No HTTP resource was found that matches the request URI '{url}'.")


def record_not_found(entity: str, record_id: str) -> ODataError:
    return ODataError(404, "0x80040217", f"{entity} With Id = {record_id} Does Not Exist")


def entity_definition_not_found(name: str) -> ODataError:
    return ODataError(404, "0x80040217", f"Could not find entity with name '{name}'.")


def attribute_definition_not_found(entity: str, name: str) -> ODataError:
    return ODataError(
        404, "0x80040217", f"Could not find attribute with name '{name}' on entity '{entity}'."
    )


def record_not_found_by_key(entity: str, key: str) -> ODataError:
    return ODataError(
        404,
        "0x80060891",
        f"A record with the specified key values does not exist in {entity} entity",
    )


def method_not_allowed(message: str) -> ODataError:
    return ODataError(405, "0x80040225", message)


# -- 412 / 413 / 429 / 5xx -------------------------------------------------------------


def duplicate_record() -> ODataError:
    """`If-None-Match: *` on an existing record (§7.3, §17.2)."""
    return ODataError(412, "0x80040237", "A record with matching key values already exists.")


def version_mismatch() -> ODataError:
    """Stale `If-Match` etag (§7.3, §17.2)."""
    return ODataError(
        412,
        "0x80060882",
        "The version of the existing record doesn't match the RowVersion property provided.",
    )


def request_too_large() -> ODataError:
    return ODataError(413, "0x8004418a", "Request length exceeds the allowed limit.")


REQUESTS_CODE = "0x80072322"
EXECUTION_TIME_CODE = "0x80072321"
CONCURRENCY_CODE = "0x80072326"


def too_many_requests(limit: int, window: int, retry_after: int) -> ODataError:
    return ODataError(
        429,
        REQUESTS_CODE,
        f"Number of requests exceeded the limit of {limit} over time window of {window} seconds.",
        headers={"Retry-After": str(retry_after)},
    )


def execution_time_exceeded(limit_ms: int, window: int, retry_after: int) -> ODataError:
    return ODataError(
        429,
        EXECUTION_TIME_CODE,
        f"Combined execution time of incoming requests exceeded limit of {limit_ms:,} "
        f"milliseconds over time window of {window} seconds. Decrease number of concurrent "
        "requests or reduce the duration of requests and try again later.",
        headers={"Retry-After": str(retry_after)},
    )


def too_many_concurrent(limit: int, retry_after: int) -> ODataError:
    return ODataError(
        429,
        CONCURRENCY_CODE,
        f"Number of concurrent requests exceeded the limit of {limit}.",
        headers={"Retry-After": str(retry_after)},
    )


def unexpected() -> ODataError:
    return ODataError(500, "0x80040216", "An unexpected error occurred.")
