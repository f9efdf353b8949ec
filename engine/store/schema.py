"""The ratings store's schema and its ordered migrations.

The file's ``PRAGMA user_version`` says which schema it holds; :func:`migrate` runs one step
per version (:data:`MIGRATIONS`), each in its own transaction that also writes the new
version, as :mod:`engine.model.storage` upgrades model files. A new, empty file is version 0
and goes through every step.

- v1 (rbm-tui up to this release): a ``datasets`` table naming one table of
  ``(item, kind, liked, updated)`` per dataset, and an ``undo`` table of single changes.
- v2: profiles; ONE ``thumbs`` table keyed by ``(dataset, profile, item)`` whose ``state`` is a
  thumb (``like``/``dislike``) or a mark (``seen``, ``not_interested``), with a watchlist flag
  and where the state came from (``hand`` or ``import``); undo rows grouped into steps.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable

from engine.errors import UserStoreError

#: The schema this code writes.
SCHEMA_VERSION = 2
#: The profile every store has from the start (single-person use never names one).
DEFAULT_PROFILE = "me"

_V1 = (
    "CREATE TABLE IF NOT EXISTS datasets ("
    " key TEXT PRIMARY KEY, tbl TEXT NOT NULL UNIQUE, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS undo ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,"
    " item TEXT NOT NULL, kind TEXT NOT NULL,"
    " before INTEGER, after INTEGER, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS undo_key ON undo (key, seq)",
)

_V2 = (
    "CREATE TABLE profiles (name TEXT PRIMARY KEY, created REAL NOT NULL)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE thumbs ("
    " dataset TEXT NOT NULL, profile TEXT NOT NULL, item TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('int', 'str')),"
    " state TEXT CHECK (state IN ('like', 'dislike', 'seen', 'not_interested')),"
    " watch INTEGER NOT NULL DEFAULT 0 CHECK (watch IN (0, 1)),"
    " source TEXT NOT NULL DEFAULT 'hand' CHECK (source IN ('hand', 'import')),"
    " updated REAL NOT NULL,"
    " PRIMARY KEY (dataset, profile, item))",
    "CREATE TABLE undo2 ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, dataset TEXT NOT NULL, profile TEXT NOT NULL,"
    " step INTEGER NOT NULL, item TEXT NOT NULL, kind TEXT NOT NULL,"
    " before_state TEXT, before_watch INTEGER NOT NULL, before_source TEXT NOT NULL,"
    " after_state TEXT, after_watch INTEGER NOT NULL, at REAL NOT NULL)",
)

#: A v1 per-dataset table name, as v1 made them (``r_<slug>_<8 hex digits>``).
_V1_TABLE = re.compile(r"r_[A-Za-z0-9_]{1,40}_[0-9a-f]{8}")


def _to_v1(conn: sqlite3.Connection) -> None:
    """v0 -> v1: the first layout (its per-dataset tables were made on first use)."""
    for sql in _V1:
        conn.execute(sql)


def v1_table(conn: sqlite3.Connection, name: str) -> str | None:
    """``name`` quoted for SQL when it is a v1 per-dataset table that exists, else None.

    The only SQL in the package that names a table from data: v1 made one table per dataset;
    the name is checked against v1's pattern and ``sqlite_master`` before use.
    """
    if not _V1_TABLE.fullmatch(name):
        return None
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return f'"{name}"' if row else None


def v1_rows(conn: sqlite3.Connection, tbl: str, order: str = "") -> sqlite3.Cursor:
    """``(item, kind, liked, updated)`` rows of a v1 table quoted by :func:`v1_table`."""
    return conn.execute("SELECT item, kind, liked, updated FROM " + tbl + order)


def _to_v2(conn: sqlite3.Connection) -> None:
    """v1 -> v2: every dataset's table into ``thumbs`` under the default profile; the undo
    stack kept, each old change one step."""
    for sql in _V2:
        conn.execute(sql)
    now = time.time()
    conn.execute("INSERT INTO profiles (name, created) VALUES (?, ?)", (DEFAULT_PROFILE, now))
    conn.execute("INSERT INTO meta (key, value) VALUES ('active_profile', ?)", (DEFAULT_PROFILE,))
    for key, name in conn.execute("SELECT key, tbl FROM datasets").fetchall():
        tbl = v1_table(conn, name)
        if tbl is None:
            continue
        rows = [
            (key, DEFAULT_PROFILE, i, k, _v1_state(lk), u) for i, k, lk, u in v1_rows(conn, tbl)
        ]
        conn.executemany(
            "INSERT OR REPLACE INTO thumbs (dataset, profile, item, kind, state, updated)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("DROP TABLE " + tbl)
    conn.execute(
        "INSERT INTO undo2 (seq, dataset, profile, step, item, kind, before_state, before_watch,"
        " before_source, after_state, after_watch, at)"
        " SELECT seq, key, ?, seq, item, kind,"
        " CASE before WHEN 1 THEN 'like' WHEN 0 THEN 'dislike' END, 0, 'hand',"
        " CASE after WHEN 1 THEN 'like' WHEN 0 THEN 'dislike' END, 0, at"
        " FROM undo ORDER BY seq",
        (DEFAULT_PROFILE,),
    )
    conn.execute("DROP TABLE undo")
    conn.execute("DROP TABLE datasets")
    conn.execute("ALTER TABLE undo2 RENAME TO undo")
    conn.execute("CREATE INDEX undo_step ON undo (dataset, profile, step)")


def _v1_state(liked: object) -> str:
    return "like" if liked else "dislike"


#: ``{version: step}``: each step takes a store from ``version`` to ``version + 1``.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _to_v1, 1: _to_v2}


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_not_newer(conn: sqlite3.Connection, where: object) -> int:
    """The store's schema version; :class:`UserStoreError` when a newer rbm-tui wrote it."""
    found = version(conn)
    if found > SCHEMA_VERSION:
        raise UserStoreError(
            f"{where}: the ratings store was written by a newer rbm-tui (schema {found}; this "
            f"one reads up to {SCHEMA_VERSION}); update rbm-tui"
        )
    return found


def migrate(conn: sqlite3.Connection, where: object) -> int:
    """Bring the store on ``conn`` (autocommit mode) to :data:`SCHEMA_VERSION`, one
    transaction per step; returns the version it was found at. A store from a newer rbm-tui
    is refused (:class:`UserStoreError`); nothing is changed then."""
    found = check_not_newer(conn, where)
    if found == SCHEMA_VERSION:  # the usual case: no write lock taken
        return found
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = version(conn)  # another process may have migrated meanwhile
            if current >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return found
            MIGRATIONS[current](conn)
            conn.execute(f"PRAGMA user_version = {int(current) + 1:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
