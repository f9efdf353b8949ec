"""One movie's row in the ``thumbs`` table and its undo records (inside the caller's
transaction); :class:`Change` says what one change did."""

from __future__ import annotations

import numbers
import sqlite3
import time
from dataclasses import dataclass

from engine.store.schema import DEFAULT_PROFILE

#: ``(state, watch, source)`` of one movie; a movie without a row is :data:`EMPTY`.
Row = tuple[str | None, int, str]
EMPTY: Row = (None, 0, "hand")
THUMB = {True: "like", False: "dislike"}
LIKED = {"like": True, "dislike": False}


@dataclass(frozen=True)
class Change:
    """One change of one movie: its thumb ``before`` -> ``after`` (True like, False dislike,
    None none), and its full state (thumb or mark) and watchlist flag either side."""

    key: str
    item_id: object
    before: bool | None
    after: bool | None
    profile: str = DEFAULT_PROFILE
    state_before: str | None = None
    state_after: str | None = None
    watch_before: bool = False
    watch_after: bool = False

    @property
    def changed(self) -> bool:
        return (self.state_before, self.watch_before) != (self.state_after, self.watch_after)


def encode(item_id: object) -> tuple[str, str]:
    """``(text, kind)`` of an original movie ID (ints, numpy ints and strings)."""
    if isinstance(item_id, bool):
        raise TypeError("a movie ID cannot be a bool")
    if isinstance(item_id, numbers.Integral):
        return str(int(item_id)), "int"
    return str(item_id), "str"


def decode(text: str, kind: str) -> object:
    """The original movie ID of a stored ``(text, kind)``; a row edited by hand whose "int"
    is no number is read as text (it names no movie, and nothing else is lost with it)."""
    if kind == "int":
        try:
            return int(text)
        except (TypeError, ValueError):
            return str(text)
    return text


def change(key: str, profile: str, text: str, kind: str, before: Row, after: Row) -> Change:
    return Change(
        key,
        decode(text, kind),
        LIKED.get(before[0] or ""),
        LIKED.get(after[0] or ""),
        profile,
        before[0],
        after[0],
        bool(before[1]),
        bool(after[1]),
    )


def read(conn: sqlite3.Connection, key: str, profile: str, text: str) -> Row:
    r = conn.execute(
        "SELECT state, watch, source FROM thumbs WHERE dataset = ? AND profile = ? AND item = ?",
        (key, profile, text),
    ).fetchone()
    return EMPTY if r is None else (r[0], int(r[1]), r[2])


def put(conn: sqlite3.Connection, key: str, profile: str, text: str, kind: str, row: Row) -> None:
    """Write one movie's row (an empty row deletes it)."""
    if row[0] is None and not row[1]:
        conn.execute(
            "DELETE FROM thumbs WHERE dataset = ? AND profile = ? AND item = ?",
            (key, profile, text),
        )
        return
    conn.execute(
        "INSERT INTO thumbs (dataset, profile, item, kind, state, watch, source, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dataset, profile, item) DO UPDATE"
        " SET state = excluded.state, watch = excluded.watch, source = excluded.source,"
        " updated = excluded.updated",
        (key, profile, text, kind, *row, time.time()),
    )


def new_step(conn: sqlite3.Connection) -> int:
    """The number of a new undo step."""
    return int(conn.execute("SELECT COALESCE(MAX(step), 0) + 1 FROM undo").fetchone()[0])


def record(
    conn: sqlite3.Connection,
    where: tuple[str, str, int],
    text: str,
    kind: str,
    before: Row,
    after: Row,
) -> None:
    """Record one change of undo step ``where = (key, profile, step)``."""
    conn.execute(
        "INSERT INTO undo (dataset, profile, step, item, kind, before_state, before_watch,"
        " before_source, after_state, after_watch, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (*where, text, kind, *before, after[0], after[1], time.time()),
    )


def trim(conn: sqlite3.Connection, key: str, profile: str, keep: int) -> None:
    """Keep the last ``keep`` undo steps of ``key`` and ``profile``."""
    conn.execute(
        "DELETE FROM undo WHERE dataset = ? AND profile = ? AND step <= (SELECT step FROM"
        " undo WHERE dataset = ? AND profile = ? GROUP BY step ORDER BY step DESC"
        " LIMIT 1 OFFSET ?)",
        (key, profile, key, profile, keep),
    )


def undo_last(conn: sqlite3.Connection, key: str, profile: str) -> list[Change]:
    """Undo the last step of ``key`` and ``profile``; its changes, last made first."""
    row = conn.execute(
        "SELECT MAX(step) FROM undo WHERE dataset = ? AND profile = ?", (key, profile)
    ).fetchone()
    if row[0] is None:
        return []
    rows = conn.execute(
        "SELECT item, kind, before_state, before_watch, before_source FROM undo"
        " WHERE dataset = ? AND profile = ? AND step = ? ORDER BY seq DESC",
        (key, profile, row[0]),
    ).fetchall()
    changes = []
    for text, kind, *before in rows:
        current = read(conn, key, profile, text)
        put(conn, key, profile, text, kind, tuple(before))
        changes.append(change(key, profile, text, kind, current, tuple(before)))
    conn.execute(
        "DELETE FROM undo WHERE dataset = ? AND profile = ? AND step = ?", (key, profile, row[0])
    )
    return changes
