"""Groups (§5): the CleverReach side of a coupling."""

from __future__ import annotations

from typing import Any, Literal

from crm2cr.cleverreach.api import Api, anything, create_once, many, one, segment, true
from crm2cr.cleverreach.models import Group, GroupStats
from crm2cr.errors import NotFoundError

GroupOrder = Literal["changed", "created", "changed DESC", "created DESC"]


class Groups:
    """`/v3/groups…`."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def all(self, *, order: GroupOrder | None = None) -> list[Group]:
        params = {"order": order} if order else None
        return self.api.get("v3/groups", many(Group), params=params)

    def get(self, group_id: str) -> Group:
        """One group; NotFoundError if there is none with that id."""
        return self.api.get(f"v3/groups/{segment(group_id)}", one(Group))

    def find(self, group_id: str) -> Group | None:
        return self.api.get_or_none(f"v3/groups/{segment(group_id)}", one(Group))

    def create(
        self, name: str, *, receiver_info: str = "", locked: bool = False, backup: bool = True
    ) -> Group:
        """Create a group. Names need not be unique, so the groups that already
        carry the name are noted first: after a lost answer, only a new one is ours."""
        before = {g.id for g in self.all() if g.name == name}
        body = {"name": name, "receiver_info": receiver_info, "locked": locked, "backup": backup}

        def lookup() -> Group | None:
            fresh = [g for g in self.all() if g.name == name and g.id not in before]
            return fresh[0] if len(fresh) == 1 else None

        return create_once(
            lambda: self.api.call("POST", "v3/groups", one(Group), body=body, idempotent=False),
            lookup,
        )

    def update(
        self,
        group_id: str,
        *,
        name: str | None = None,
        receiver_info: str | None = None,
        locked: bool | None = None,
        backup: bool | None = None,
    ) -> Group:
        fields: dict[str, Any] = {
            "name": name,
            "receiver_info": receiver_info,
            "locked": locked,
            "backup": backup,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        return self.api.call(
            "PUT", f"v3/groups/{segment(group_id)}", one(Group), body=body, idempotent=True
        )

    def delete(self, group_id: str) -> bool:
        """Delete a group and its memberships; False when it did not exist."""
        try:
            self.api.call("DELETE", f"v3/groups/{segment(group_id)}", true, idempotent=True)
        except NotFoundError:
            return False
        return True

    def clear(self, group_id: str) -> None:
        """Remove every receiver from the group (`DELETE …/clear`)."""
        self.api.call("DELETE", f"v3/groups/{segment(group_id)}/clear", anything, idempotent=True)

    def stats(self, group_id: str) -> GroupStats:
        """Counts of the group; cached by the service and lagging (§5): never size loops by them."""
        return self.api.get(f"v3/groups/{segment(group_id)}/stats", one(GroupStats))
