"""Opening the ratings store: migrated to the current schema, repaired when damaged, read-only
(an in-memory copy) when the file or its folder cannot be written."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from engine.store import db, salvage, schema
from engine.store.salvage import Recovery

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


@dataclass(frozen=True)
class Opened:
    """An open store: its connection, whether it is a read-only copy, and the repair made."""

    conn: sqlite3.Connection
    read_only: bool = False
    recovery: Recovery | None = None


def open_store(path: Path | str, synchronous: str = "NORMAL", read_only: bool = False) -> Opened:
    """Open (creating when missing) the store at ``path`` (``":memory:"``: in memory).

    Raises ``sqlite3.Error`` / ``OSError`` / :class:`engine.errors.UserStoreError`; the
    caller names the file.
    """
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS:
        raise ValueError(f"bad synchronous mode {synchronous!r}")
    if str(path) == ":memory:":
        conn = db.connect(":memory:")
        schema.migrate(conn, path)
        return Opened(conn)
    path = Path(path)
    if read_only or not _prepare_folder(path) or not db.writable(path):
        return _open_read_only(path)
    try:
        return _open_writable(path, mode)
    except sqlite3.OperationalError as e:
        if any(why in str(e) for why in _READ_ONLY_WHEN):
            return _open_read_only(path)
        raise


#: SQLite's words for a store that can be read but not written now: a read-only file or
#: folder, or a full disk (whose thumbs can still be listed and exported).
_READ_ONLY_WHEN = ("readonly", "read-only", "disk I/O error", "database or disk is full")


def _prepare_folder(path: Path) -> bool:
    """Make the store's folder; False when that is not permitted (a read-only place)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        return False
    return True


def _open_writable(path: Path, mode: str) -> Opened:
    conn = db.connect(str(path))
    recovery = None
    try:
        damaged = path.exists() and db.is_damaged(conn)
    except BaseException:  # busy, locked, a full disk: the file stays where it is
        conn.close()
        raise
    if damaged:
        conn.close()
        recovery = _repair(path)
        conn = db.connect(str(path))
    try:
        schema.check_not_newer(conn, path)  # before anything is changed
        db.set_wal(conn)
        conn.execute(f"PRAGMA synchronous={mode}")  # one of SYNCHRONOUS
        schema.migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return Opened(conn, recovery=recovery)


def _repair(path: Path) -> Recovery:
    """Move the damaged store aside and build a fresh one of its readable rows; when that
    fails (a full disk), the damaged file is put back as it was."""
    copy = salvage.move_aside(path)
    try:
        return Recovery(path, copy, salvage.salvage(path, copy))
    except BaseException:
        salvage.put_back(copy, path)
        raise


def _open_read_only(path: Path) -> Opened:
    """An in-memory copy of the store (migrated there; the file is never written)."""
    if not path.exists():
        conn = db.connect(":memory:")
        schema.migrate(conn, path)
        return Opened(conn, read_only=True)
    src = db.open_read_only(path)
    try:
        if db.is_damaged(src):
            conn, n = salvage.salvage_in_memory(src)
            return Opened(conn, read_only=True, recovery=Recovery(path, None, n))
        conn = db.copy_to_memory(src)
    finally:
        src.close()
    schema.migrate(conn, path)
    return Opened(conn, read_only=True)
