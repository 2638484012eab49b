"""Attributes (§7): global ones for every group, group ones for one group.

Names are checked here before any request, with a message that says what is
allowed: CleverReach keeps names lower-case with `_` for spaces (APT turns
"Communication Key" into `communication_key`) and refuses other characters.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from crm2cr.cleverreach.api import Api, create_once, many, one, segment, true
from crm2cr.cleverreach.models import Attribute, AttributeType
from crm2cr.errors import InvalidInput, NotFoundError

NAME = re.compile(r"[a-z0-9_]+")
TYPES: tuple[str, ...] = get_args(AttributeType)


def attribute_name(name: str) -> str:
    """The name CleverReach will store, or InvalidInput saying what is wrong with it."""
    normal = name.strip().lower().replace(" ", "_")
    if not normal:
        raise InvalidInput("An attribute needs a name.", field="name")
    if not NAME.fullmatch(normal):
        wrong = "".join(sorted({c for c in normal if not NAME.fullmatch(c)}))
        raise InvalidInput(
            f"{name!r} is not a valid CleverReach attribute name (it contains {wrong!r}).",
            hint="Use only letters a-z, digits and '_'; spaces become '_' and capitals lower-case.",
            field="name",
        )
    return normal


def attribute_type(kind: str) -> str:
    if kind not in TYPES:
        raise InvalidInput(
            f"{kind!r} is not a CleverReach attribute type.",
            hint=f"Use one of: {', '.join(TYPES)}.",
            field="type",
        )
    return kind


class Attributes:
    """`/v3/attributes…` and `/v3/groups/{gid}/attributes`."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def all(self, *, group_id: str | None = None) -> list[Attribute]:
        """The account's global attributes, or those of one group."""
        path = f"v3/groups/{segment(group_id)}/attributes" if group_id else "v3/attributes"
        return self.api.get(path, many(Attribute))

    def get(self, attribute_id: str) -> Attribute:
        return self.api.get(f"v3/attributes/{segment(attribute_id)}", one(Attribute))

    def find_by_name(self, name: str, *, group_id: str | None = None) -> Attribute | None:
        wanted = attribute_name(name)
        return next((a for a in self.all(group_id=group_id) if a.name == wanted), None)

    def create(
        self,
        name: str,
        type: str = "text",
        *,
        group_id: str | None = None,
        description: str = "",
        preview_value: str = "",
        default_value: str = "",
    ) -> Attribute:
        """Create a global attribute (or a group one); 409 if the name is taken, 403 past 40."""
        normal, kind = attribute_name(name), attribute_type(type)
        body = {
            "name": normal,
            "type": kind,
            "description": description,
            "preview_value": preview_value,
            "default_value": default_value,
            "group_id": int(group_id) if group_id and group_id.isdigit() else group_id or 0,
        }

        def send() -> Attribute:
            new_id = self.api.call("POST", "v3/attributes", _new_id, body=body, idempotent=False)
            # The create answer is thin since 2023 (APT): only its id is used.
            return Attribute(
                id=new_id,
                name=normal,
                type=kind,
                description=description,
                preview_value=preview_value,
                default_value=default_value,
                groups_id=group_id or "0",
                tag="{" + normal.upper() + "}",
            )

        return create_once(send, lambda: self.find_by_name(normal, group_id=group_id))

    def delete(self, attribute_id: str) -> bool:
        """Delete an attribute and its values; False when it did not exist."""
        try:
            self.api.call("DELETE", f"v3/attributes/{segment(attribute_id)}", true, idempotent=True)
        except NotFoundError:
            return False
        return True


def _new_id(body: Any) -> str:
    value = body.get("id") if isinstance(body, dict) else body
    if isinstance(value, bool) or not isinstance(value, str | int) or value in ("", 0):
        raise ValueError("the create answer has no attribute id")
    return str(value)
