"""The person's own likes and dislikes, kept in SQLite, one table per dataset.

The file is ``paths.data_dir()/ratings.sqlite``. Each dataset key (``demo``, ``ml-100k``, an
imported name or a path) gets its own table of ``(item, kind, liked, updated)`` rows, keyed
by the movie's *original* ID (so a rating survives retraining and model changes). Every
change (like, dislike, clear, undo) is one transaction that also records the undo step, so
quitting or a crash at any moment loses no rating and never leaves a half-applied change.

The undo stack lives in the same database (table ``undo``), so ``z`` works across restarts;
pass ``path=":memory:"`` for a store that lives in memory only (tests, dry runs).

Nothing here imports Textual or torch.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine import files, paths
from engine.errors import UserStoreError

__all__ = ["DB_NAME", "UNDO_LIMIT", "Change", "RatedItem", "UserStore", "UserStoreError"]

#: The database file name inside ``paths.data_dir()``.
DB_NAME = "ratings.sqlite"
#: Undo steps kept per dataset (older ones are dropped).
UNDO_LIMIT = 1000
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Change:
    """One change of one movie's thumb: ``before`` -> ``after`` (True like, False dislike,
    None not rated)."""

    key: str
    item_id: object
    before: bool | None
    after: bool | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class RatedItem:
    item_id: object
    liked: bool
    updated: float  # seconds since the epoch


def _encode(item_id: object) -> tuple[str, str]:
    """``(text, kind)`` of an original movie ID (ints, numpy ints and strings)."""
    if isinstance(item_id, bool):
        raise TypeError("a movie ID cannot be a bool")
    try:
        import numbers

        if isinstance(item_id, numbers.Integral):
            return str(int(item_id)), "int"
    except TypeError:  # pragma: no cover
        pass
    return str(item_id), "str"


def _decode(text: str, kind: str) -> object:
    return int(text) if kind == "int" else text


def _bool(v: int | None) -> bool | None:
    return None if v is None else bool(v)


def _table_name(key: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")[:40] or "x"
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=4).hexdigest()
    return f"r_{slug}_{digest}"


class UserStore:
    """The person's ratings for every dataset, in one SQLite file.

    Args:
        path: the database file; default ``paths.data_dir()/ratings.sqlite``; ``":memory:"``
            keeps everything in memory.
        synchronous: SQLite's ``synchronous`` pragma. ``"NORMAL"`` (the default, with WAL) is
            safe against the app crashing or being killed at any moment; ``"FULL"`` also
            survives a power cut at the price of an fsync per key press.
    """

    def __init__(self, path: str | Path | None = None, *, synchronous: str = "NORMAL") -> None:
        if path is None:
            path = paths.data_dir() / DB_NAME
        self.path = path if str(path) == ":memory:" else Path(path)
        self._lock = threading.RLock()
        self._tables: dict[str, str] = {}
        try:
            if isinstance(self.path, Path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=10
            )
            if str(self.path) != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
                raise ValueError(f"bad synchronous mode {synchronous!r}")
            self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            with self._tx():
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS datasets ("
                    " key TEXT PRIMARY KEY, tbl TEXT NOT NULL UNIQUE, created REAL NOT NULL)"
                )
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS undo ("
                    " seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,"
                    " item TEXT NOT NULL, kind TEXT NOT NULL,"
                    " before INTEGER, after INTEGER, at REAL NOT NULL)"
                )
                self._conn.execute("CREATE INDEX IF NOT EXISTS undo_key ON undo (key, seq)")
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                for key, tbl in self._conn.execute("SELECT key, tbl FROM datasets"):
                    self._tables[key] = tbl
        except (sqlite3.Error, OSError) as e:
            raise UserStoreError(f"{self.path}: cannot open the ratings database ({e})") from e

    # ------------------------------------------------------------------ plumbing
    def _tx(self):
        return _Transaction(self._conn, self._lock)

    def _table(self, key: str, create: bool) -> str | None:
        tbl = self._tables.get(key)
        if tbl is not None or not create:
            return tbl
        tbl = _table_name(key)
        self._conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{tbl}" ('
            " item TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " liked INTEGER NOT NULL CHECK (liked IN (0, 1)), updated REAL NOT NULL)"
        )
        self._conn.execute(
            "INSERT OR IGNORE INTO datasets (key, tbl, created) VALUES (?, ?, ?)",
            (key, tbl, time.time()),
        )
        self._tables[key] = tbl
        return tbl

    def _reload_tables(self) -> None:
        with self._lock:
            try:
                rows = self._conn.execute("SELECT key, tbl FROM datasets").fetchall()
            except sqlite3.Error:  # pragma: no cover
                rows = []
            self._tables = dict(rows)

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.close()
            except sqlite3.Error:  # pragma: no cover
                pass

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------- reading
    def keys(self) -> list[str]:
        """Dataset keys that have a ratings table."""
        with self._lock:
            return sorted(self._tables)

    def get(self, key: str, item_id: object) -> bool | None:
        """The person's thumb on one movie (None: not rated)."""
        with self._lock:
            tbl = self._table(key, create=False)
            if tbl is None:
                return None
            text, _ = _encode(item_id)
            row = self._conn.execute(
                f'SELECT liked FROM "{tbl}" WHERE item = ?', (text,)
            ).fetchone()
            return None if row is None else bool(row[0])

    def items(self, key: str) -> list[RatedItem]:
        """Every rated movie of ``key``, oldest change first."""
        with self._lock:
            tbl = self._table(key, create=False)
            if tbl is None:
                return []
            rows = self._conn.execute(
                f'SELECT item, kind, liked, updated FROM "{tbl}" ORDER BY updated, rowid'
            ).fetchall()
        return [RatedItem(_decode(i, k), bool(lk), float(u)) for i, k, lk, u in rows]

    def ratings(self, key: str) -> dict[object, bool]:
        """``{original movie ID: liked}`` for ``key`` (oldest change first)."""
        return {r.item_id: r.liked for r in self.items(key)}

    def count(self, key: str) -> int:
        with self._lock:
            tbl = self._table(key, create=False)
            if tbl is None:
                return 0
            return int(self._conn.execute(f'SELECT COUNT(*) FROM "{tbl}"').fetchone()[0])

    def undo_depth(self, key: str) -> int:
        """How many changes of ``key`` can be undone."""
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM undo WHERE key = ?", (key,)).fetchone()
            return int(row[0])

    # ------------------------------------------------------------------- writing
    def set(self, key: str, item_id: object, liked: bool | None) -> Change:
        """Set one movie's thumb (True like, False dislike, None clear), in one transaction.

        A change that changes nothing records no undo step.
        """
        text, kind = _encode(item_id)
        after = None if liked is None else bool(liked)
        try:
            with self._tx():
                tbl = self._table(key, create=True)
                row = self._conn.execute(
                    f'SELECT liked FROM "{tbl}" WHERE item = ?', (text,)
                ).fetchone()
                before = None if row is None else bool(row[0])
                if before == after:
                    return Change(key, _decode(text, kind), before, after)
                self._write(tbl, text, kind, after)
                self._conn.execute(
                    "INSERT INTO undo (key, item, kind, before, after, at) VALUES (?,?,?,?,?,?)",
                    (key, text, kind, _int(before), _int(after), time.time()),
                )
                self._conn.execute(
                    "DELETE FROM undo WHERE key = ? AND seq <= (SELECT seq FROM undo WHERE key = ?"
                    " ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                    (key, key, UNDO_LIMIT),
                )
        except sqlite3.Error as e:
            self._reload_tables()
            raise UserStoreError(f"{self.path}: cannot save the rating ({e})") from e
        return Change(key, _decode(text, kind), before, after)

    def like(self, key: str, item_id: object) -> Change:
        return self.set(key, item_id, True)

    def dislike(self, key: str, item_id: object) -> Change:
        return self.set(key, item_id, False)

    def clear(self, key: str, item_id: object) -> Change:
        return self.set(key, item_id, None)

    def undo(self, key: str) -> Change | None:
        """Undo the last change of ``key`` (in one transaction); None when there is none.

        The returned change goes from the undone value back to the restored one.
        """
        try:
            with self._tx():
                row = self._conn.execute(
                    "SELECT seq, item, kind, before, after FROM undo WHERE key = ?"
                    " ORDER BY seq DESC LIMIT 1",
                    (key,),
                ).fetchone()
                if row is None:
                    return None
                seq, text, kind, before, _after = row
                tbl = self._table(key, create=True)
                cur = self._conn.execute(
                    f'SELECT liked FROM "{tbl}" WHERE item = ?', (text,)
                ).fetchone()
                current = None if cur is None else bool(cur[0])
                self._write(tbl, text, kind, _bool(before))
                self._conn.execute("DELETE FROM undo WHERE seq = ?", (seq,))
        except sqlite3.Error as e:
            self._reload_tables()
            raise UserStoreError(f"{self.path}: cannot undo ({e})") from e
        return Change(key, _decode(text, kind), current, _bool(before))

    def clear_all(self, key: str) -> int:
        """Forget every rating (and the undo steps) of ``key``; returns how many were removed."""
        with self._tx():
            tbl = self._table(key, create=False)
            if tbl is None:
                return 0
            n = int(self._conn.execute(f'SELECT COUNT(*) FROM "{tbl}"').fetchone()[0])
            self._conn.execute(f'DELETE FROM "{tbl}"')
            self._conn.execute("DELETE FROM undo WHERE key = ?", (key,))
            return n

    def _write(self, tbl: str, text: str, kind: str, liked: bool | None) -> None:
        if liked is None:
            self._conn.execute(f'DELETE FROM "{tbl}" WHERE item = ?', (text,))
        else:
            self._conn.execute(
                f'INSERT INTO "{tbl}" (item, kind, liked, updated) VALUES (?, ?, ?, ?)'
                " ON CONFLICT(item) DO UPDATE SET liked = excluded.liked,"
                " updated = excluded.updated",
                (text, kind, int(liked), time.time()),
            )

    # -------------------------------------------------------------------- export
    def export_csv(
        self,
        key: str,
        path: str | Path,
        titles: Mapping[object, str] | Callable[[object], str | None] | None = None,
    ) -> int:
        """Write ``key``'s ratings to a CSV file (atomically); returns the number of rows.

        Columns: ``movieId, title, liked, rating, updated`` where ``liked`` is 1/0,
        ``rating`` is 5 for a like and 1 for a dislike (so the file loads as ratings), and
        ``updated`` is an ISO-8601 UTC time. ``titles`` maps a movie ID to its title.
        """
        items = self.items(key)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["movieId", "title", "liked", "rating", "updated"])
        for r in items:
            title = _title(titles, r.item_id)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.updated))
            w.writerow([r.item_id, title, int(r.liked), 5 if r.liked else 1, stamp])
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        files.write_bytes(target, buf.getvalue().encode("utf-8"))
        return len(items)

    def import_items(self, key: str, items: Iterable[tuple[object, bool]]) -> int:
        """Set many thumbs in one transaction (no undo steps); returns how many were written."""
        n = 0
        with self._tx():
            tbl = self._table(key, create=True)
            for item_id, liked in items:
                text, kind = _encode(item_id)
                self._write(tbl, text, kind, bool(liked))
                n += 1
        return n


def _title(titles, item_id) -> str:
    if titles is None:
        return ""
    if callable(titles):
        return titles(item_id) or ""
    return str(titles.get(item_id, "") or "")


def _int(v: bool | None) -> int | None:
    return None if v is None else int(v)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error), under the store's lock."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self.conn = conn
        self.lock = lock
        self.outer = False

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        self.outer = not self.conn.in_transaction
        if self.outer:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.outer:
                if exc_type is None:
                    self.conn.execute("COMMIT")
                else:
                    self.conn.execute("ROLLBACK")
        finally:
            self.lock.release()
