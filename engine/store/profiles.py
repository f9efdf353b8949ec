"""Profiles: several people in one store, each with their own thumbs, marks and undo.

Every store has the profile :data:`~engine.store.schema.DEFAULT_PROFILE` (``me``) from the
start; one profile is *active* (what the app and the commands use when none is named). The
functions here run inside the caller's transaction.
"""

from __future__ import annotations

import shlex
import sqlite3
import time

from engine.errors import UserStoreError
from engine.store.schema import DEFAULT_PROFILE

#: The longest profile name.
NAME_LIMIT = 40


def check_name(name: str) -> str:
    """``name`` stripped, or :class:`UserStoreError` when it cannot name a profile."""
    text = str(name).strip()
    if not text:
        raise UserStoreError("a profile name cannot be empty")
    if len(text) > NAME_LIMIT:
        raise UserStoreError(f"a profile name has at most {NAME_LIMIT} characters: {text[:50]!r}")
    if not text.isprintable() or text.startswith("-"):
        raise UserStoreError(f"a profile name is printable text not starting with '-': {text!r}")
    return text


def names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM profiles ORDER BY created, name")]


def exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM profiles WHERE name = ?", (name,)).fetchone() is not None


def active(conn: sqlite3.Connection) -> str:
    """The active profile (the first one when the remembered one is gone)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'active_profile'").fetchone()
    if row is not None and exists(conn, row[0]):
        return str(row[0])
    every = names(conn)
    return every[0] if every else DEFAULT_PROFILE


def require(conn: sqlite3.Connection, name: str) -> str:
    """``name`` (stripped, as :func:`check_name` keeps a new one) when it is a profile, else
    :class:`UserStoreError` listing the profiles."""
    text = str(name).strip()
    if exists(conn, text):
        return text
    known = ", ".join(names(conn)) or "none"
    raise UserStoreError(
        f"no profile {text!r} (profiles: {known}); create it with "
        f"`rbm-tui thumbs profiles create {shlex.quote(text)}`"
    )


def create(conn: sqlite3.Connection, name: str) -> str:
    name = check_name(name)
    if exists(conn, name):
        raise UserStoreError(f"the profile {name!r} exists already")
    conn.execute("INSERT INTO profiles (name, created) VALUES (?, ?)", (name, time.time()))
    return name


def switch(conn: sqlite3.Connection, name: str) -> str:
    name = require(conn, name)
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('active_profile', ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (name,),
    )
    return name


def rename(conn: sqlite3.Connection, old: str, new: str) -> str:
    """Rename ``old`` to ``new`` with its thumbs, marks and undo (and as the active one)."""
    old = require(conn, old)
    new = check_name(new)
    if new == old:
        return new
    if exists(conn, new):
        raise UserStoreError(f"the profile {new!r} exists already")
    was_active = active(conn) == old
    conn.execute("UPDATE profiles SET name = ? WHERE name = ?", (new, old))
    conn.execute("UPDATE thumbs SET profile = ? WHERE profile = ?", (new, old))
    conn.execute("UPDATE undo SET profile = ? WHERE profile = ?", (new, old))
    if was_active:
        switch(conn, new)
    return new


def delete(conn: sqlite3.Connection, name: str) -> int:
    """Delete ``name`` with its thumbs, marks and undo; returns how many thumbs and marks
    went. The last profile cannot be deleted; deleting the active one makes the first of
    the others active."""
    name = require(conn, name)
    if len(names(conn)) == 1:
        raise UserStoreError(f"{name!r} is the only profile; create another one first")
    was_active = active(conn) == name
    n = conn.execute("DELETE FROM thumbs WHERE profile = ?", (name,)).rowcount
    conn.execute("DELETE FROM undo WHERE profile = ?", (name,))
    conn.execute("DELETE FROM profiles WHERE name = ?", (name,))
    if was_active:
        switch(conn, names(conn)[0])
    return int(n)


def thumb_counts(conn: sqlite3.Connection, dataset: str | None) -> dict[str, int]:
    """``{profile: number of thumbs}`` (on ``dataset``, or on every dataset), every profile."""
    counts = dict.fromkeys(names(conn), 0)
    sql = "SELECT profile, COUNT(*) FROM thumbs WHERE state IN ('like', 'dislike')"
    params: tuple = ()
    if dataset is not None:
        sql += " AND dataset = ?"
        params = (dataset,)
    for name, n in conn.execute(sql + " GROUP BY profile", params):
        counts[name] = int(n)
    return counts
