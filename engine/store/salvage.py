"""Repair of a damaged ratings store: the file is moved aside, whatever rows can still be read
go into a fresh store, and the caller is told how many thumbs came back.

Rows are read from both ends of each table (``ORDER BY rowid`` and ``... DESC``), so one
damaged page in the middle loses only the rows on it. Profiles (empty ones too) and the
active profile come back when they can be read. The undo stack is not salvaged (a partial
stack could undo the wrong thing).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from engine.files import damaged_name
from engine.store import db, schema


@dataclass(frozen=True)
class Recovery:
    """What opening a damaged store did: ``damaged_copy`` is where the damaged file was kept
    (None when it could not be moved: a read-only store), ``recovered`` how many thumbs and
    marks were read back."""

    path: Path
    damaged_copy: Path | None
    recovered: int

    @property
    def message(self) -> str:
        kept = (
            f"a copy was kept at {self.damaged_copy}"
            if self.damaged_copy is not None
            else "it is read-only, so it was left as it is"
        )
        n = self.recovered
        return (
            f"the ratings store {self.path} was damaged; {kept}; "
            f"{n} thumb{'s' if n != 1 else ''} recovered"
        )


def move_aside(path: Path) -> Path:
    """Rename the damaged ``path`` (and its ``-wal`` file, which belongs to it) aside; returns
    the new name. SQLite's ``-shm`` file is rebuilt from the WAL, so it is removed."""
    target = damaged_name(path)
    os.replace(path, target)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        os.replace(wal, target.with_name(target.name + "-wal"))
    with contextlib.suppress(OSError):
        path.with_name(path.name + "-shm").unlink()
    return target


def put_back(damaged: Path, path: Path) -> None:
    """Undo :func:`move_aside`: ``damaged`` (and its ``-wal``) back at ``path``, unless a
    file took that name meanwhile."""
    if path.exists():
        return
    wal = damaged.with_name(damaged.name + "-wal")
    if wal.exists():
        os.replace(wal, path.with_name(path.name + "-wal"))
    os.replace(damaged, path)


def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows ``sql`` (ending in ``ORDER BY rowid``) reads from both ends of the table,
    stopping at the first damaged page each way; duplicates removed, in order."""
    got: dict[tuple, None] = {}
    for order in ("", " DESC"):
        with contextlib.suppress(sqlite3.DatabaseError):
            for row in conn.execute(sql + order, params):
                got.setdefault(tuple(row), None)
    return list(got)


def _thumbs_v2(src: sqlite3.Connection) -> list[tuple]:
    return _rows(
        src,
        "SELECT dataset, profile, item, kind, state, watch, source, updated FROM thumbs"
        " ORDER BY rowid",
    )


def _thumbs_v1(src: sqlite3.Connection) -> list[tuple]:
    out = []
    for key, name in _rows(src, "SELECT key, tbl FROM datasets ORDER BY rowid"):
        try:
            tbl = schema.v1_table(src, name)
        except sqlite3.DatabaseError:
            continue
        if tbl is None:
            continue
        for item, kind, liked, updated in _rows_v1(src, tbl):
            state = "like" if liked else "dislike"
            out.append((key, schema.DEFAULT_PROFILE, item, kind, state, 0, "hand", updated))
    return out


def _rows_v1(src: sqlite3.Connection, tbl: str) -> list[tuple]:
    got: dict[tuple, None] = {}
    for order in (" ORDER BY rowid", " ORDER BY rowid DESC"):
        with contextlib.suppress(sqlite3.DatabaseError):
            for row in schema.v1_rows(src, tbl, order):
                got.setdefault(tuple(row), None)
    return list(got)


def readable_thumbs(src: sqlite3.Connection) -> list[tuple]:
    """``(dataset, profile, item, kind, state, watch, source, updated)`` rows still readable
    from a damaged store of any version (none when even its schema cannot be read)."""
    try:
        found = schema.version(src)
        return _thumbs_v1(src) if found == 1 else _thumbs_v2(src) if found >= 2 else []
    except sqlite3.DatabaseError:
        return []


@dataclass
class Readable:
    """What a damaged store still gives: thumbs rows (see :func:`readable_thumbs`), profiles
    ``(name, created)`` (empty ones too) and the active profile (None when unreadable)."""

    thumbs: list[tuple]
    profiles: list[tuple]
    active: str | None


def readable(src: sqlite3.Connection) -> Readable:
    """Everything of ``src`` worth keeping that can still be read (the undo stack is not)."""
    thumbs = readable_thumbs(src)
    try:
        if schema.version(src) < 2:
            return Readable(thumbs, [], None)
    except sqlite3.DatabaseError:
        return Readable(thumbs, [], None)
    profiles = _rows(src, "SELECT name, created FROM profiles ORDER BY rowid")
    meta = dict(_rows(src, "SELECT key, value FROM meta ORDER BY rowid"))
    active = meta.get("active_profile")
    return Readable(thumbs, profiles, active if isinstance(active, str) else None)


def _fill(conn: sqlite3.Connection, found: Readable) -> None:
    """Insert salvaged rows into a fresh v2 store (with their profiles); the active profile
    is the damaged store's when it came back, and the default profile the fresh store made
    goes again when the damaged store had deleted it."""
    rows = found.thumbs
    conn.execute("BEGIN IMMEDIATE")
    for row in rows:
        with contextlib.suppress(sqlite3.IntegrityError):  # a damaged row that breaks a CHECK
            conn.execute(
                "INSERT OR IGNORE INTO thumbs (dataset, profile, item, kind, state, watch,"
                " source, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
    for name, created in found.profiles:
        with contextlib.suppress(sqlite3.Error):  # a damaged row of another type
            conn.execute("INSERT OR IGNORE INTO profiles (name, created) VALUES (?, ?)",
                         (str(name), float(created)))  # fmt: skip
    conn.execute(
        "INSERT OR IGNORE INTO profiles (name, created) SELECT DISTINCT profile, ? FROM thumbs",
        (time.time(),),
    )
    names = {str(n) for n, _ in found.profiles}
    if found.active in names:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'active_profile'", (found.active,))
        if schema.DEFAULT_PROFILE not in names:
            conn.execute(
                "DELETE FROM profiles WHERE name = ? AND NOT EXISTS"
                " (SELECT 1 FROM thumbs WHERE profile = profiles.name)",
                (schema.DEFAULT_PROFILE,),
            )
    conn.execute("COMMIT")


def salvage(path: Path, damaged: Path) -> int:
    """Build a fresh store at ``path`` from the readable rows of ``damaged`` (built aside and
    renamed into place); returns how many rows came back."""
    try:
        src = db.open_read_only(damaged)
    except sqlite3.Error:
        found = Readable([], [], None)
    else:
        found = readable(src)
        src.close()
    tmp = path.with_name(path.name + ".salvage-tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    conn = db.connect(str(tmp))
    try:
        schema.migrate(conn, tmp)
        _fill(conn, found)
        n = int(conn.execute("SELECT COUNT(*) FROM thumbs").fetchone()[0])
        conn.close()
        os.replace(tmp, path)
    except BaseException:  # a full disk: nothing half-built is left
        conn.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return n


def salvage_in_memory(src: sqlite3.Connection) -> tuple[sqlite3.Connection, int]:
    """A fresh in-memory store holding the readable rows of ``src`` (a damaged store that
    cannot be moved: read-only)."""
    found = readable(src)
    mem = db.connect(":memory:")
    schema.migrate(mem, ":memory:")
    _fill(mem, found)
    return mem, int(mem.execute("SELECT COUNT(*) FROM thumbs").fetchone()[0])
