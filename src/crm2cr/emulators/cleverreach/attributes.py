"""Attributes (reference §7): global ones (`groups_id` 0) and group ones, 40 per account."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from crm2cr.emulators.cleverreach.store import Tx
from crm2cr.emulators.cleverreach.wire import Refusal

TYPES = ("text", "number", "date", "gender")
_NAME = re.compile(r"^[a-z0-9_]+$")


def normalize_name(name: str) -> str:
    """Lower-case, spaces to `_` (as APT's "Communication Key" → `communication_key`);
    anything else outside `[a-z0-9_]` is refused."""
    result = name.strip().lower().replace(" ", "_")
    if not result or not _NAME.match(result):
        raise Refusal(400, f"invalid attribute name '{name}'")
    return result


@dataclass(frozen=True, slots=True)
class Attribute:
    id: int
    group_id: int
    name: str
    type: str
    description: str
    preview_value: str
    default_value: str

    @property
    def key(self) -> str:
        """How values are keyed in the stored JSON (ids: names never change, ids never recur)."""
        return str(self.id)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "groups_id": self.group_id,
            "name": self.name,
            "description": self.description,
            "preview_value": self.preview_value,
            "default_value": self.default_value,
            "value": None,
            "type": self.type,
            "tag": "{" + self.name.upper() + "}",
        }


_COLUMNS = "id, group_id, name, type, description, preview_value, default_value"


class Catalog:
    """Every attribute of the account, read once per request."""

    def __init__(self, attributes: list[Attribute]) -> None:
        self.all = attributes
        self.globals = [a for a in attributes if a.group_id == 0]
        self._by_group: dict[int, list[Attribute]] = {}
        for a in attributes:
            if a.group_id:
                self._by_group.setdefault(a.group_id, []).append(a)
        self.global_keys = [(a.name, a.key) for a in self.globals]
        self._group_keys = {
            gid: [(a.name, a.key) for a in attrs] for gid, attrs in self._by_group.items()
        }
        self._global_names = {a.name: a for a in self.globals}
        self._group_names = {
            gid: {a.name: a for a in attrs} for gid, attrs in self._by_group.items()
        }

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Catalog:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM attributes ORDER BY id").fetchall()
        return cls([Attribute(*row) for row in rows])

    def of_group(self, group_id: int) -> list[Attribute]:
        return self._by_group.get(group_id, [])

    def group_keys(self, group_id: int) -> list[tuple[str, str]]:
        """(name, storage key) of the group's attributes, for rendering many receivers."""
        return self._group_keys.get(group_id, [])

    def global_named(self, name: str) -> Attribute | None:
        return self._global_names.get(name)

    def group_named(self, group_id: int, name: str) -> Attribute | None:
        return self._group_names.get(group_id, {}).get(name)

    def by_id(self, attr_id: int) -> Attribute | None:
        return next((a for a in self.all if a.id == attr_id), None)


def _group_exists(conn: sqlite3.Connection, group_id: int) -> bool:
    return conn.execute("SELECT 1 FROM groups WHERE id = ?", (group_id,)).fetchone() is not None


def create(tx: Tx, body: dict[str, Any], group_id: int, limit: int) -> Attribute:
    raw_name = body.get("name")
    if not isinstance(raw_name, str):
        raise Refusal(400, "name is required")
    name = normalize_name(raw_name)
    kind = str(body.get("type") or "text").lower()
    if kind not in TYPES:
        raise Refusal(400, f"invalid attribute type '{kind}'")
    if group_id and not _group_exists(tx.conn, group_id):
        raise Refusal(404, "invalid group")
    count = tx.conn.execute("SELECT count(*) FROM attributes").fetchone()[0]
    if count >= limit:
        raise Refusal(403, f"at most {limit} attributes per account")
    exists = tx.conn.execute(
        "SELECT 1 FROM attributes WHERE group_id = ? AND name = ?", (group_id, name)
    ).fetchone()
    if exists:
        raise Refusal(409, f"attribute '{name}' exists already")
    texts = [str(body.get(k) or "") for k in ("description", "preview_value", "default_value")]
    cursor = tx.conn.execute(
        "INSERT INTO attributes (group_id, name, type, description, preview_value,"
        " default_value) VALUES (?, ?, ?, ?, ?, ?)",
        (group_id, name, kind, *texts),
    )
    attr_id = int(cursor.lastrowid or 0)
    tx.audit("attribute.created", group_id=group_id, detail=f"{attr_id} {name} ({kind})")
    return Attribute(attr_id, group_id, name, kind, *texts)


def get(conn: sqlite3.Connection, attr_id: int) -> Attribute:
    row = conn.execute(f"SELECT {_COLUMNS} FROM attributes WHERE id = ?", (attr_id,)).fetchone()
    if row is None:
        raise Refusal(404, "invalid attribute")
    return Attribute(*row)


def update(tx: Tx, attr_id: int, body: dict[str, Any]) -> Attribute:
    current = get(tx.conn, attr_id)
    if "name" in body and normalize_name(str(body["name"])) != current.name:
        raise Refusal(400, "an attribute's name cannot change")
    if "type" in body and str(body["type"]).lower() != current.type:
        raise Refusal(400, "an attribute's type cannot change")
    texts = {
        k: str(body[k]) if body.get(k) is not None else getattr(current, k)
        for k in ("description", "preview_value", "default_value")
    }
    tx.conn.execute(
        "UPDATE attributes SET description = ?, preview_value = ?, default_value = ? WHERE id = ?",
        (texts["description"], texts["preview_value"], texts["default_value"], attr_id),
    )
    tx.audit("attribute.updated", group_id=current.group_id, detail=str(attr_id))
    return get(tx.conn, attr_id)


def delete(tx: Tx, attr_id: int) -> None:
    """Delete the attribute and every value stored for it."""
    current = get(tx.conn, attr_id)
    path = f'$."{current.key}"'
    pattern = f'%"{current.key}"%'
    if current.group_id:
        tx.conn.execute(
            "UPDATE receivers SET attrs = json_remove(attrs, ?)"
            " WHERE group_id = ? AND attrs LIKE ?",
            (path, current.group_id, pattern),
        )
    else:
        tx.conn.execute(
            "UPDATE pool SET gattrs = json_remove(gattrs, ?) WHERE gattrs LIKE ?", (path, pattern)
        )
    tx.conn.execute("DELETE FROM attributes WHERE id = ?", (attr_id,))
    tx.audit("attribute.deleted", group_id=current.group_id, detail=f"{attr_id} {current.name}")


def listing(conn: sqlite3.Connection, group_id: int) -> list[dict[str, Any]]:
    if group_id and not _group_exists(conn, group_id):
        raise Refusal(404, "invalid group")
    return [a.as_json() for a in Catalog.load(conn).all if a.group_id == group_id]
