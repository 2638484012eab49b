"""The emulator's SQLite schema.

Receivers are memberships keyed (group_id, pool_id): one pool row per e-mail
per account holds the id and the global attributes; each membership holds its
stamps, group attributes, tags and orders. The primary key is the (group, id)
index every listing pages along; the unique pool e-mail plus that key is the
(group, e-mail) lookup. `blocked` mirrors the blacklist so `active` stays a
cheap expression.
"""

from __future__ import annotations

import sqlite3

# Where the id counters start, so ids look like CleverReach's (reference §2.4).
FIRST_IDS = {
    "groups": 1_146_800,
    "pool": 3_380,
    "attributes": 1_124_170,
    "mailings": 17_459_490,
    "forms": 231_400,
    "hooks": 5_000,
    "outbox": 0,
    "events": 0,
    "audit": 0,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    receiver_info TEXT NOT NULL DEFAULT '',
    locked INTEGER NOT NULL DEFAULT 0,
    backup INTEGER NOT NULL DEFAULT 1,
    stamp INTEGER NOT NULL,
    last_mailing INTEGER NOT NULL DEFAULT 0,
    last_changed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    gattrs TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS receivers (
    group_id INTEGER NOT NULL,
    pool_id INTEGER NOT NULL,
    registered INTEGER NOT NULL DEFAULT 0,
    activated INTEGER NOT NULL DEFAULT 0,
    deactivated INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    bounced INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'RESTful API',
    last_changed INTEGER NOT NULL DEFAULT 0,
    points INTEGER NOT NULL DEFAULT 0,
    attrs TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '[]',
    orders TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (group_id, pool_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receivers_by_pool ON receivers (pool_id, group_id);
CREATE TABLE IF NOT EXISTS attributes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    preview_value TEXT NOT NULL DEFAULT '',
    default_value TEXT NOT NULL DEFAULT '',
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pool_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    stamp INTEGER NOT NULL,
    type TEXT NOT NULL,
    type_id TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    mailing_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_by_pool ON events (pool_id, id);
CREATE TABLE IF NOT EXISTS blacklist (
    group_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    stamp INTEGER NOT NULL,
    PRIMARY KEY (group_id, email)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blacklist_by_email ON blacklist (email);
CREATE TABLE IF NOT EXISTS bounces (
    email TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    occurences INTEGER NOT NULL,
    last_update INTEGER NOT NULL,
    expires_by INTEGER NOT NULL,
    bounce_message TEXT NOT NULL,
    type TEXT NOT NULL,
    type_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mailings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    sender_email TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    editor TEXT NOT NULL,
    open_tracking INTEGER NOT NULL,
    click_tracking INTEGER NOT NULL,
    group_ids TEXT NOT NULL,
    filter TEXT NOT NULL,
    state TEXT NOT NULL,
    stamp INTEGER NOT NULL,
    last_changed INTEGER NOT NULL,
    started INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    ready INTEGER NOT NULL DEFAULT 0,
    send_on INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS recipients (
    mailing_id INTEGER NOT NULL,
    pool_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    opened INTEGER NOT NULL DEFAULT 0,
    clicked INTEGER NOT NULL DEFAULT 0,
    unsubscribed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mailing_id, pool_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS forms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    condition TEXT NOT NULL,
    call_token TEXT NOT NULL,
    secret TEXT NOT NULL,
    stamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    form_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    kind TEXT NOT NULL,
    doidata TEXT NOT NULL,
    stamp INTEGER NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stamp INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    label TEXT NOT NULL,
    group_id INTEGER NOT NULL DEFAULT 0,
    pool_id INTEGER NOT NULL DEFAULT 0,
    email TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    reactivation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

DATA_TABLES = (
    "groups",
    "pool",
    "receivers",
    "attributes",
    "events",
    "blacklist",
    "bounces",
    "mailings",
    "recipients",
    "forms",
    "hooks",
    "outbox",
    "audit",
    "meta",
)


def create(conn: sqlite3.Connection) -> bool:
    """Create the tables; True if the database was new (and so needs a seed)."""
    found = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'groups'").fetchone()
    fresh = int(found[0]) == 0
    conn.executescript(SCHEMA)
    if fresh:
        conn.executemany(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", list(FIRST_IDS.items())
        )
    return fresh
