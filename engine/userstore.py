"""The person's likes, dislikes and marks, kept in SQLite, per dataset and profile.

The file is ``paths.data_dir()/ratings.sqlite``: one ``thumbs`` table keyed by ``(dataset,
profile, item)``, the movie addressed by its *original* ID (so a rating survives retraining
and model changes). A movie's state is a thumb (like, dislike) or a mark (``seen``: seen, no
opinion; ``not_interested``), and it may be on the watchlist. Every change (a thumb, a mark,
the watchlist, clear all, an import) is one transaction that also records its undo step, so
quitting or a crash at any moment loses nothing and never leaves a half-applied change.

Several people share a store through *profiles* (:mod:`engine.store.profiles`); every method
takes ``profile=None``, the active profile. The schema is versioned and migrated on open
(:mod:`engine.store.schema`); a damaged file is moved aside and its readable rows salvaged
(:attr:`UserStore.recovery`); a file that cannot be written opens read-only
(:attr:`UserStore.read_only`). :attr:`UserStore.notice` says either in one line.

``path=":memory:"`` keeps everything in memory (tests, dry runs). Nothing here imports
Textual or torch.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine import paths
from engine.errors import UserStoreError
from engine.settings import LIKE_THRESHOLD
from engine.store import profiles as _profiles
from engine.store import rows, transfer
from engine.store.db import Transaction
from engine.store.opening import open_store
from engine.store.rows import Change, Row
from engine.store.salvage import Recovery
from engine.store.schema import DEFAULT_PROFILE, SCHEMA_VERSION

__all__ = [
    "DB_NAME",
    "DEFAULT_PROFILE",
    "NOT_INTERESTED",
    "SCHEMA_VERSION",
    "SEEN",
    "UNDO_LIMIT",
    "Change",
    "ImportResult",
    "RatedItem",
    "Recovery",
    "UserStore",
    "UserStoreError",
]

#: The database file name inside ``paths.data_dir()``.
DB_NAME = "ratings.sqlite"
#: Undo steps kept per dataset and profile (older ones are dropped).
UNDO_LIMIT = 1000
#: The marks beyond thumbs: seen, no opinion; not interested (never recommended, not a dislike).
SEEN, NOT_INTERESTED = "seen", "not_interested"
MARKS = (SEEN, NOT_INTERESTED)


@dataclass(frozen=True)
class RatedItem:
    item_id: object
    liked: bool
    updated: float  # seconds since the epoch


@dataclass(frozen=True)
class ImportResult:
    """What :meth:`UserStore.import_items` did: thumbs ``written``, hand-given thumbs ``kept``
    (not replaced), and items ``unchanged`` (the same thumb already there)."""

    written: int = 0
    kept: int = 0
    unchanged: int = 0


class UserStore:
    """Everyone's thumbs and marks for every dataset, in one SQLite file.

    Args:
        path: the database file; default ``paths.data_dir()/ratings.sqlite``; ``":memory:"``
            keeps everything in memory.
        synchronous: SQLite's ``synchronous`` pragma. ``"NORMAL"`` (the default, with WAL) is
            safe against the app crashing or being killed at any moment; ``"FULL"`` also
            survives a power cut at the price of an fsync per key press.
        read_only: open a copy that is never written (also chosen when the file or its
            folder cannot be written).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        synchronous: str = "NORMAL",
        read_only: bool = False,
    ) -> None:
        if path is None:
            path = paths.data_dir() / DB_NAME
        self.path = path if str(path) == ":memory:" else Path(path)
        self._lock = threading.RLock()
        try:
            opened = open_store(self.path, synchronous, read_only)
        except (sqlite3.Error, OSError) as e:
            raise UserStoreError(f"{self.path}: cannot open the ratings database ({e})") from e
        self._conn = opened.conn
        #: True when the store is an in-memory copy of a file that cannot be written.
        self.read_only = opened.read_only
        #: The repair made on open (a damaged file moved aside), or None.
        self.recovery: Recovery | None = opened.recovery

    @property
    def notice(self) -> str | None:
        """One line to show on open (a repair, a read-only store), or None."""
        parts = []
        if self.recovery is not None:
            parts.append(self.recovery.message)
        if self.read_only:
            parts.append(
                f"the ratings store {self.path} is read-only: your thumbs are shown, "
                "new thumbs will not be saved"
            )
        return "; ".join(parts) or None

    # ------------------------------------------------------------------ plumbing
    def _problem(self, what: str, e: sqlite3.Error) -> str:
        text = str(e)
        if "malformed" in text or "not a database" in text:
            return (
                f"{self.path}: the ratings store is damaged ({text}); start rbm-tui again "
                "to repair it (a copy of the damaged file is kept)"
            )
        return f"{self.path}: cannot {what} ({text})"

    @contextlib.contextmanager
    def _reading(self, what: str = "read the ratings") -> Iterator[sqlite3.Connection]:
        try:
            with self._lock:
                yield self._conn
        except sqlite3.Error as e:
            raise UserStoreError(self._problem(what, e)) from e

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One transaction, refused on a read-only store; SQLite errors as one line."""
        if self.read_only:
            raise UserStoreError(
                f"{self.path}: cannot {what}: the ratings store is read-only, "
                "new thumbs will not be saved"
            )
        try:
            with Transaction(self._conn, self._lock) as conn:
                yield conn
        except sqlite3.Error as e:
            raise UserStoreError(self._problem(what, e)) from e

    def _profile(self, profile: str | None) -> str:
        if profile is None:
            return _profiles.active(self._conn)
        return _profiles.require(self._conn, profile)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ profiles
    def profiles(self) -> list[str]:
        """Every profile, oldest first."""
        with self._reading() as conn:
            return _profiles.names(conn)

    def active_profile(self) -> str:
        with self._reading() as conn:
            return _profiles.active(conn)

    def data_version(self) -> int:
        """A number that changes when another connection (another rbm-tui process) commits a
        change to the store; this one's own writes leave it as it is."""
        with self._reading() as conn:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def profile_counts(self, key: str | None = None) -> dict[str, int]:
        """``{profile: thumbs}`` on dataset ``key`` (None: on every dataset)."""
        with self._reading() as conn:
            return _profiles.thumb_counts(conn, key)

    def create_profile(self, name: str) -> str:
        with self._writing("create the profile") as conn:
            return _profiles.create(conn, name)

    def ensure_profile(self, name: str) -> str:
        """``name`` as a profile, created when missing."""
        with self._writing("create the profile") as conn:
            name = _profiles.check_name(name)
            return name if _profiles.exists(conn, name) else _profiles.create(conn, name)

    def switch_profile(self, name: str) -> str:
        with self._writing("switch the profile") as conn:
            return _profiles.switch(conn, name)

    def rename_profile(self, old: str, new: str) -> str:
        with self._writing("rename the profile") as conn:
            return _profiles.rename(conn, old, new)

    def delete_profile(self, name: str) -> int:
        """Delete a profile with its thumbs and marks; returns how many went."""
        with self._writing("delete the profile") as conn:
            return _profiles.delete(conn, name)

    # ------------------------------------------------------------------- reading
    def keys(self) -> list[str]:
        """Dataset keys that hold thumbs or marks (any profile)."""
        with self._reading() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT dataset FROM thumbs ORDER BY 1")]

    def _select(self, key: str, profile: str | None, where: str, params: tuple = ()) -> list:
        """``(item, kind, state, watch, updated)`` rows of ``key`` and ``profile`` that match
        ``where`` (a fixed condition of this class), oldest change first."""
        with self._reading() as conn:
            name = self._profile(profile)
            return conn.execute(
                "SELECT item, kind, state, watch, updated FROM thumbs"
                " WHERE dataset = ? AND profile = ? AND " + where + " ORDER BY updated, rowid",
                (key, name, *params),
            ).fetchall()

    def get(self, key: str, item_id: object, profile: str | None = None) -> bool | None:
        """The thumb on one movie (None: no thumb)."""
        return rows.LIKED.get(self.state(key, item_id, profile) or "")

    def state(self, key: str, item_id: object, profile: str | None = None) -> str | None:
        """One movie's thumb or mark: ``like``, ``dislike``, ``seen``, ``not_interested``
        or None."""
        text, _ = rows.encode(item_id)
        found = self._select(key, profile, "item = ?", (text,))
        return found[0][2] if found else None

    def items(self, key: str, profile: str | None = None) -> list[RatedItem]:
        """Every movie of ``key`` with a thumb, oldest change first."""
        found = self._select(key, profile, "state IN ('like', 'dislike')")
        return [RatedItem(rows.decode(i, k), s == "like", float(u)) for i, k, s, _w, u in found]

    def ratings(self, key: str, profile: str | None = None) -> dict[object, bool]:
        """``{original movie ID: liked}`` for ``key`` (oldest change first)."""
        return {r.item_id: r.liked for r in self.items(key, profile)}

    def marks(self, key: str, profile: str | None = None) -> dict[object, str]:
        """``{original movie ID: mark}`` of the movies marked ``seen`` or ``not_interested``."""
        found = self._select(key, profile, "state IN ('seen', 'not_interested')")
        return {rows.decode(i, k): s for i, k, s, _w, _u in found}

    def watchlist(self, key: str, profile: str | None = None) -> list[object]:
        """The movies on the watchlist, oldest change first."""
        return [rows.decode(i, k) for i, k, *_ in self._select(key, profile, "watch = 1")]

    def count(self, key: str, profile: str | None = None) -> int:
        """How many thumbs ``key`` has."""
        return len(self.items(key, profile))

    def undo_depth(self, key: str, profile: str | None = None) -> int:
        """How many steps of ``key`` can be undone."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT COUNT(DISTINCT step) FROM undo WHERE dataset = ? AND profile = ?",
                (key, self._profile(profile)),
            ).fetchone()
            return int(row[0])

    # ------------------------------------------------------------------- writing
    def _update(
        self, key: str, item_id: object, profile: str | None, new: Callable[[Row], Row], what: str
    ) -> Change:
        """Change one movie's row to ``new(row)`` in one transaction with its undo step (none
        when nothing changes)."""
        text, kind = rows.encode(item_id)
        with self._writing(what) as conn:
            name = self._profile(profile)
            before = rows.read(conn, key, name, text)
            after = new(before)
            if after[:2] != before[:2]:
                rows.put(conn, key, name, text, kind, after)
                rows.record(conn, (key, name, rows.new_step(conn)), text, kind, before, after)
                rows.trim(conn, key, name, UNDO_LIMIT)
        return rows.change(key, name, text, kind, before, after)

    def set(
        self, key: str, item_id: object, liked: bool | None, profile: str | None = None
    ) -> Change:
        """Set one movie's thumb (True like, False dislike, None clear; a mark is replaced),
        in one transaction. A change that changes nothing records no undo step."""
        state = None if liked is None else rows.THUMB[bool(liked)]
        return self._update(key, item_id, profile, lambda r: (state, r[1], "hand"), "save it")

    def like(self, key: str, item_id: object, profile: str | None = None) -> Change:
        return self.set(key, item_id, True, profile)

    def dislike(self, key: str, item_id: object, profile: str | None = None) -> Change:
        return self.set(key, item_id, False, profile)

    def clear(self, key: str, item_id: object, profile: str | None = None) -> Change:
        return self.set(key, item_id, None, profile)

    def mark(
        self, key: str, item_id: object, mark: str | None, profile: str | None = None
    ) -> Change:
        """Mark one movie :data:`SEEN` or :data:`NOT_INTERESTED` (replacing its thumb), or
        clear it (None); undoable like a thumb."""
        if mark is not None and mark not in MARKS:
            raise ValueError(f"unknown mark {mark!r}; one of {', '.join(MARKS)}")
        return self._update(key, item_id, profile, lambda r: (mark, r[1], "hand"), "save the mark")

    def set_watch(self, key: str, item_id: object, on: bool, profile: str | None = None) -> Change:
        """Put one movie on the watchlist or take it off (its thumb or mark stays)."""
        return self._update(
            key, item_id, profile, lambda r: (r[0], int(bool(on)), r[2]), "save the watchlist"
        )

    def undo_step(self, key: str, profile: str | None = None) -> list[Change]:
        """Undo the last step of ``key`` (one change, a clear-all or an import) in one
        transaction; returns its changes, each from the undone value back to the restored
        one, last made first ([] when there is nothing to undo)."""
        with self._writing("undo") as conn:
            return rows.undo_last(conn, key, self._profile(profile))

    def undo(self, key: str, profile: str | None = None) -> Change | None:
        """Undo the last step of ``key`` (:meth:`undo_step`); returns its first change (the
        only one of a single thumb), None when there is nothing to undo."""
        changes = self.undo_step(key, profile)
        return changes[-1] if changes else None

    def clear_all(self, key: str, profile: str | None = None) -> int:
        """Clear every thumb of ``key`` (marks and the watchlist stay) as ONE undo step;
        returns how many were cleared."""
        with self._writing("clear the ratings") as conn:
            name = self._profile(profile)
            found = conn.execute(
                "SELECT item, kind, state, watch, source FROM thumbs WHERE dataset = ?"
                " AND profile = ? AND state IN ('like', 'dislike')",
                (key, name),
            ).fetchall()
            step = (key, name, rows.new_step(conn))
            for text, kind, *before in found:
                after: Row = (None, before[1], "hand")
                rows.put(conn, key, name, text, kind, after)
                rows.record(conn, step, text, kind, tuple(before), after)
            rows.trim(conn, key, name, UNDO_LIMIT)
        return len(found)

    def import_items(
        self,
        key: str,
        profile: str | None,
        items: Iterable[tuple[object, bool]],
        replace: bool = False,
    ) -> ImportResult:
        """Set many thumbs ``(movie ID, liked)`` in ONE transaction and one undo step.

        A thumb or mark given by hand is kept unless ``replace``; one that came from an
        earlier import is updated; importing the same items again changes nothing.
        """
        counts = {"written": 0, "kept": 0, "unchanged": 0}
        with self._writing("import the ratings") as conn:
            name = self._profile(profile)
            step = (key, name, rows.new_step(conn))
            for item_id, liked in items:
                text, kind = rows.encode(item_id)
                before = rows.read(conn, key, name, text)
                after: Row = (rows.THUMB[bool(liked)], before[1], "import")
                if before[0] == after[0]:
                    counts["unchanged"] += 1
                elif before[0] is not None and before[2] == "hand" and not replace:
                    counts["kept"] += 1
                else:
                    rows.put(conn, key, name, text, kind, after)
                    rows.record(conn, step, text, kind, before, after)
                    counts["written"] += 1
            rows.trim(conn, key, name, UNDO_LIMIT)
        return ImportResult(**counts)

    # -------------------------------------------------------------------- export
    def export_ratings(
        self,
        key: str,
        path: str | Path,
        profile: str | None = None,
        titles: transfer.Titles = None,
        like_threshold: float = LIKE_THRESHOLD,
    ) -> int:
        """Write the profile's thumbs on ``key`` as a ratings file ``user,item,rating`` (user:
        the profile's name; item: the dataset's movie ID; rating 5 a like, 1 a dislike, or
        :func:`~engine.store.transfer.thumb_stars` of the dataset's ``like_threshold``) and,
        with ``titles`` (movie ID -> title), ``title``, atomically; returns the number of
        rows."""
        name = self.active_profile() if profile is None else profile
        thumbs = self.ratings(key, name)
        return transfer.write_ratings(path, name, thumbs.items(), titles, like_threshold)

    def export_csv(
        self,
        key: str,
        path: str | Path,
        titles: transfer.Titles = None,
        profile: str | None = None,
    ) -> int:
        """Write ``key``'s thumbs with titles and times to a CSV file (atomically); returns the
        number of rows. Columns: ``movieId, title, liked, rating, updated`` where ``liked``
        is 1/0, ``rating`` 5 for a like and 1 for a dislike, ``updated`` ISO-8601 UTC;
        ``titles`` maps a movie ID to its title."""
        return transfer.write_table(path, self.items(key, profile), titles)
