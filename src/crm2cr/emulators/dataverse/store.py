"""The emulator's SQLite store: data, metadata and the org-wide version counter.

Layout (what FetchXML evaluation and other modules may rely on when they run SQL):

- one table per entity, named by its logical name, always double-quoted
  (`"contact"`, `"list"`); one column per attribute, named by the attribute's
  logical name; the primary id column (`contactid`) is `TEXT PRIMARY KEY`;
- lookups (`Lookup`, `Owner`, `Customer`) are two columns: `<attr>` holds the
  target's GUID and `<attr>__type` the target's logical name
  (`ownerid` / `ownerid__type` = 'systemuser');
- GUIDs are lower-case text; String/Memo/EntityName are `TEXT COLLATE NOCASE`
  (the service compares strings case-insensitively); Booleans 0/1; choices,
  state and status integers; DateTime whole UTC Unix seconds; Money/Decimal REAL;
- `versionnumber` comes from one counter for the whole organisation (bumped on
  every write; the etag is `W/"<versionnumber>"`); `createdon`/`modifiedon`
  are set from the emulator clock;
- `_deleted(entity, id, versionnumber)` remembers deletions for change
  tracking; `_metadata` holds the `Metadata` registry as JSON and `_org` the
  counter, so `--data FILE` survives restarts with every table a solution
  import created.

All access goes through `Store.lock` (re-entrant): the app serialises
requests on it, so handlers may read, check and write without races.
`transaction()` is a SAVEPOINT and nests: an exception inside rolls back
exactly that level (a `$batch` change set, a CreateMultiple call).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.dataverse.metadata import (
    INTEGER_KINDS,
    NUMBER_KINDS,
    STRING_KINDS,
    AttributeDef,
    EntityDef,
    ManyToManyDef,
    Metadata,
)

Row = dict[str, Any]
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_SYSTEM_TABLES = """
CREATE TABLE IF NOT EXISTS _metadata (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _org (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _deleted (
    entity TEXT NOT NULL, id TEXT NOT NULL, versionnumber INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix__deleted ON _deleted (entity, versionnumber);
"""


def quote(name: str) -> str:
    """A safe SQL identifier: only logical names (lower-case letters, digits, _) pass."""
    if not _NAME.match(name):
        raise ValueError(f"not a logical name: {name!r}")
    return f'"{name}"'


def sql_type(attr: AttributeDef) -> str:
    if attr.kind in STRING_KINDS:
        return "TEXT COLLATE NOCASE"
    if attr.kind in INTEGER_KINDS or attr.kind == "Boolean" or attr.kind == "DateTime":
        return "INTEGER"
    if attr.kind in NUMBER_KINDS:
        return "REAL"
    return "TEXT"


def sql_columns(attr: AttributeDef) -> list[str]:
    """The SQL columns an attribute occupies."""
    if attr.is_lookup:
        return [attr.logical_name, f"{attr.logical_name}__type"]
    return [attr.logical_name]


class Store:
    """SQLite (in memory, or a file with `--data`) plus the metadata registry."""

    def __init__(self, path: Path | None, clock: Clock) -> None:
        self.clock = clock
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        self.conn.row_factory = sqlite3.Row
        if path:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SYSTEM_TABLES)
        self._depth = 0
        self._metadata_dirty = False
        self._columns: dict[str, list[str]] = {}
        self._indexes: set[str] = set()
        row = self.conn.execute("SELECT json FROM _metadata WHERE id = 1").fetchone()
        self.fresh = row is None
        self.metadata = Metadata.from_json(json.loads(row[0])) if row else Metadata()
        self._version = int(self.org_value("versionnumber", "1000"))
        for entity in self.metadata:
            self._columns[entity.logical_name] = self._entity_columns(entity)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- schema -----------------------------------------------------------------------

    def create_table(self, entity: EntityDef) -> EntityDef:
        """Register `entity` in the metadata, create its SQL table and persist both."""
        with self.lock:
            self.metadata.add_entity(entity)
            columns = []
            for attr in entity.attributes.values():
                for column in sql_columns(attr):
                    kind = sql_type(attr) if column == attr.logical_name else "TEXT"
                    key = " PRIMARY KEY" if attr.is_primary_id else ""
                    columns.append(f"{quote(column)} {kind}{key}")
            table = quote(entity.logical_name)
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})")
            self._columns[entity.logical_name] = self._entity_columns(entity)
            if entity.change_tracking:
                self.ensure_index(entity.logical_name, ("versionnumber",))
            self.save_metadata()
            return entity

    def add_column(self, logical_name: str, attr: AttributeDef) -> AttributeDef:
        """Add a column to an existing table (metadata, SQL, persisted)."""
        with self.lock:
            entity = self.metadata.require(logical_name)
            existing = set(self._columns.get(logical_name, []))
            self.metadata.add_attribute(logical_name, attr)
            for column in sql_columns(attr):
                if column not in existing:
                    kind = sql_type(attr) if column == attr.logical_name else "TEXT"
                    self.conn.execute(
                        f"ALTER TABLE {quote(logical_name)} ADD COLUMN {quote(column)} {kind}"
                    )
            self._columns[logical_name] = self._entity_columns(entity)
            self.save_metadata()
            return attr

    def add_many_to_many(self, relationship: ManyToManyDef) -> ManyToManyDef:
        with self.lock:
            self.metadata.add_many_to_many(relationship)
            for column in (relationship.entity1_attribute, relationship.entity2_attribute):
                self.ensure_index(relationship.intersect, (column,))
            self.save_metadata()
            return relationship

    def save_metadata(self) -> None:
        """Persist the registry; call after changing definitions in place (new options...).

        Inside a transaction the write waits for the outermost commit, so a
        seed or an import creating many tables serialises the registry once.
        """
        with self.lock:
            self.metadata.version += 1
            if self._depth > 0:
                self._metadata_dirty = True
                return
            self._write_metadata()

    def _write_metadata(self) -> None:
        with self.lock:
            self._metadata_dirty = False
            self.conn.execute(
                "INSERT OR REPLACE INTO _metadata (id, json) VALUES (1, ?)",
                (json.dumps(self.metadata.to_json()),),
            )

    def columns(self, logical_name: str) -> list[str]:
        """Every SQL column of a table, in definition order."""
        return self._columns[logical_name]

    def ensure_index(self, logical_name: str, columns: Sequence[str]) -> None:
        """Index (columns..., primary id) so filtered and ordered pages cost O(page)."""
        entity = self.metadata.require(logical_name)
        key = [*columns]
        if entity.primary_id not in key:
            key.append(entity.primary_id)
        name = "ix_" + "_".join([logical_name, *key])
        if name in self._indexes:
            return
        with self.lock:
            self.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(logical_name)} "
                f"({', '.join(quote(c) for c in key)})"
            )
            self._indexes.add(name)

    @staticmethod
    def _entity_columns(entity: EntityDef) -> list[str]:
        return [c for a in entity.attributes.values() for c in sql_columns(a)]

    # -- org values and versions ---------------------------------------------------------

    def org_value(self, key: str, default: str = "") -> str:
        with self.lock:
            row = self.conn.execute("SELECT value FROM _org WHERE key = ?", (key,)).fetchone()
            return str(row[0]) if row else default

    def set_org_value(self, key: str, value: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO _org (key, value) VALUES (?, ?)", (key, value)
            )

    @property
    def version(self) -> int:
        """The latest version number handed out."""
        return self._version

    def next_version(self, count: int = 1) -> int:
        """Reserve `count` version numbers; returns the first."""
        with self.lock:
            first = self._version + 1
            self._version += count
            self.set_org_value("versionnumber", str(self._version))
            return first

    # -- rows -------------------------------------------------------------------------

    def get(self, logical_name: str, record_id: str) -> Row | None:
        entity = self.metadata.require(logical_name)
        with self.lock:
            row = self.conn.execute(
                f"SELECT * FROM {quote(logical_name)} WHERE {quote(entity.primary_id)} = ?",
                (record_id.lower(),),
            ).fetchone()
            return dict(row) if row else None

    def exists(self, logical_name: str, record_id: str) -> bool:
        entity = self.metadata.require(logical_name)
        with self.lock:
            row = self.conn.execute(
                f"SELECT 1 FROM {quote(logical_name)} WHERE {quote(entity.primary_id)} = ?",
                (record_id.lower(),),
            ).fetchone()
            return row is not None

    def insert(self, logical_name: str, values: Mapping[str, Any]) -> Row:
        """Insert one row of storage values; sets version and timestamps. Returns the row.

        The primary id must be in `values` (lower-case GUID); a duplicate raises
        sqlite3.IntegrityError.
        """
        with self.lock:
            row = self._stamped(values, self.next_version(), created=True)
            self._insert_rows(logical_name, [row])
            return row

    def insert_many(self, logical_name: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert many rows with one executemany (benchmarks, seeds); all get versions."""
        if not rows:
            return 0
        with self.lock:
            first = self.next_version(len(rows))
            stamped = [self._stamped(r, first + i, created=True) for i, r in enumerate(rows)]
            self._insert_rows(logical_name, stamped)
            return len(stamped)

    def update(self, logical_name: str, record_id: str, values: Mapping[str, Any]) -> int:
        """Update columns of one row; bumps versionnumber and modifiedon. Returns the version."""
        entity = self.metadata.require(logical_name)
        with self.lock:
            row = self._stamped(values, self.next_version(), created=False)
            known = set(self._columns[logical_name])
            names = [c for c in row if c in known and c != entity.primary_id]
            assignments = ", ".join(f"{quote(c)} = ?" for c in names)
            self.conn.execute(
                f"UPDATE {quote(logical_name)} SET {assignments} "
                f"WHERE {quote(entity.primary_id)} = ?",
                [row[c] for c in names] + [record_id.lower()],
            )
            return int(row["versionnumber"])

    def delete(self, logical_name: str, record_id: str) -> bool:
        """Delete one row; tracked tables remember it for their delta links."""
        entity = self.metadata.require(logical_name)
        with self.lock:
            cursor = self.conn.execute(
                f"DELETE FROM {quote(logical_name)} WHERE {quote(entity.primary_id)} = ?",
                (record_id.lower(),),
            )
            if cursor.rowcount == 0:
                return False
            if entity.change_tracking:
                self.conn.execute(
                    "INSERT INTO _deleted (entity, id, versionnumber) VALUES (?, ?, ?)",
                    (logical_name, record_id.lower(), self.next_version()),
                )
            return True

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        """Run a SELECT; rows as dicts."""
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
            return row[0] if row else None

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        """Run a statement; returns the number of rows changed."""
        with self.lock:
            return self.conn.execute(sql, params).rowcount

    def iterate(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[Row]:
        """Stream a SELECT (hold the lock while consuming)."""
        with self.lock:
            for row in self.conn.execute(sql, params):
                yield dict(row)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block (SAVEPOINT); nests; rolls back on any exception."""
        with self.lock:
            name = f"sp{self._depth}"
            self._depth += 1
            version = self._version
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                # Versions handed out inside were rolled back with their rows.
                self._version = max(version, int(self.org_value("versionnumber", "1000")))
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
                if self._depth == 1 and self._metadata_dirty:
                    self._write_metadata()
            finally:
                self._depth -= 1

    def reset(self) -> None:
        """Drop every table and all metadata (the control API's reset)."""
        with self.lock:
            for entity in self.metadata:
                self.conn.execute(f"DROP TABLE IF EXISTS {quote(entity.logical_name)}")
            self.conn.execute("DELETE FROM _metadata")
            self.conn.execute("DELETE FROM _deleted")
            self.conn.execute("DELETE FROM _org")
            self.metadata = Metadata()
            self._columns.clear()
            self._indexes.clear()
            self._version = 1000
            self.fresh = True

    # -- helpers ------------------------------------------------------------------------

    def _stamped(self, values: Mapping[str, Any], version: int, *, created: bool) -> Row:
        now = self.clock.stamp()
        row = dict(values)
        row["versionnumber"] = version
        row["modifiedon"] = row.get("modifiedon") or now
        if created:
            row["createdon"] = row.get("createdon") or now
        return row

    def _insert_rows(self, logical_name: str, rows: Iterable[Row]) -> None:
        known = self._columns[logical_name]
        rows = list(rows)
        names = [c for c in known if any(c in r for r in rows)]
        placeholders = ", ".join("?" for _ in names)
        self.conn.executemany(
            f"INSERT INTO {quote(logical_name)} ({', '.join(quote(c) for c in names)}) "
            f"VALUES ({placeholders})",
            [[r.get(c) for c in names] for r in rows],
        )
