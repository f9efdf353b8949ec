"""SQLite plumbing of the ratings store: transactions and the checks made on open."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error), under ``lock``.

    Nested uses join the outer transaction.
    """

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self.conn = conn
        self.lock = lock
        self.outer = False

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.outer = not self.conn.in_transaction
            if self.outer:
                self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.outer:
                self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            self.lock.release()


def connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any thread."""
    return sqlite3.connect(
        target, isolation_level=None, check_same_thread=False, timeout=10, uri=uri
    )


#: SQLite's result codes of a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_DAMAGE_CODES = (11, 26)


def is_damage(e: sqlite3.Error) -> bool:
    """Whether ``e`` says the file is damaged or no database, not that it is busy, locked,
    on a full disk or unreadable for now (those leave the file as it is)."""
    code = getattr(e, "sqlite_errorcode", None)  # Python 3.11 on
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    text = str(e).lower()
    return "malformed" in text or "not a database" in text


def is_damaged(conn: sqlite3.Connection) -> bool:
    """Whether SQLite finds the file damaged (``PRAGMA quick_check``; also a file that is not a
    database at all). Any other failure (a lock held too long, a full disk) is raised."""
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as e:
        if is_damage(e):
            return True
        raise
    return rows != [("ok",)]


def set_wal(conn: sqlite3.Connection, wait: float = 10.0) -> None:
    """Switch ``conn``'s file to write-ahead logging. Another process opening the same new
    file may hold it for a moment, and SQLite's busy wait does not cover this pragma: retry
    for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def writable(path: Path) -> bool:
    """Whether the store at ``path`` can be written: the file (when there) and its folder (for
    SQLite's journal files)."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return False
    return not folder.is_dir() or os.access(folder, os.W_OK)


def read_only_uris(path: Path) -> list[str]:
    """URIs that open ``path`` without writing to it. Without a ``-wal`` file, ``immutable``
    first (SQLite makes no lock or shared-memory file beside it); with one, ``mode=ro`` first
    (it reads the WAL's changes too)."""
    base = path.resolve().as_uri()
    ro, immutable = f"{base}?mode=ro", f"{base}?immutable=1"
    if path.with_name(path.name + "-wal").exists():
        return [ro, immutable]
    return [immutable, ro]


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` that never writes to it (see :func:`read_only_uris`)."""
    last: sqlite3.Error | None = None
    for uri in read_only_uris(path):
        conn = connect(uri, uri=True)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as e:
            last = e
            conn.close()
    raise last if last is not None else sqlite3.OperationalError("cannot open")


def copy_to_memory(src: sqlite3.Connection) -> sqlite3.Connection:
    """An in-memory copy of the database behind ``src``."""
    mem = connect(":memory:")
    src.backup(mem)
    return mem
