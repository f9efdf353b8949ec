"""The ratings data model: a sparse users × movies table with original IDs kept both ways.

A :class:`Ratings` holds one row per (user, movie) rating in coordinate form. Indices are
dense ``0..n_users-1`` / ``0..n_items-1``; ``user_ids[u]`` / ``item_ids[i]`` give back the
original IDs (ints or strings, as the file had them). Nothing here ever builds a
users × movies dense array.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from engine._lazy import lazy_module
from engine.data.parsing import MAX_RATING, MIN_RATING
from engine.errors import UnknownIdError, UsageError
from engine.settings import LIKE_THRESHOLD

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


@dataclass
class LoadReport:
    """What a load did: rows read, duplicates dropped, format, whether it came from the cache."""

    format: str = ""
    rows_read: int = 0
    duplicates_dropped: int = 0
    from_cache: bool = False
    seconds: float = 0.0
    notice: str = ""  # something the person should know (a damaged cache was rebuilt)


class _Movies:
    """The ``movies`` field: a DataFrame, or a zero-argument function that builds it on first
    use (the ratings cache passes one, so work that never shows a title never imports
    pandas)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._attr = "_" + name

    def __get__(self, obj: object, objtype: type | None = None):
        if obj is None:  # class access: tells dataclasses the field has no default
            raise AttributeError(self._attr)
        value = obj.__dict__[self._attr]
        if callable(value):
            value = value()
            obj.__dict__[self._attr] = value
        return value

    def __set__(self, obj: object, value: object) -> None:
        obj.__dict__[self._attr] = value


@dataclass
class Ratings:
    """Sparse explicit ratings.

    Attributes:
        users: ``int32 (n,)`` dense user index of each rating.
        items: ``int32 (n,)`` dense movie index of each rating.
        values: ``float32 (n,)`` the rating on the dataset's scale (e.g. 1-5 or 0.5-5).
        timestamps: ``int64 (n,)`` seconds since the epoch, or ``None`` when the file had none.
        user_ids: ``(n_users,)`` original user IDs; ``user_ids[u]`` is the ID of index ``u``.
        item_ids: ``(n_items,)`` original movie IDs.
        movies: one row per movie index with columns ``title`` (str), ``year`` (Int64, may be NA)
            and ``genres`` (str, ``|``-separated, may be empty).
        source: where the ratings came from (a path or a dataset name).
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray | None
    user_ids: np.ndarray
    item_ids: np.ndarray
    movies: pd.DataFrame = _Movies()  # may be given as a function that builds it
    source: str = ""
    report: LoadReport = field(default_factory=LoadReport)

    # ------------------------------------------------------------------ sizes
    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_ratings(self) -> int:
        return len(self.values)

    def __len__(self) -> int:
        return self.n_ratings

    def __repr__(self) -> str:
        return (
            f"Ratings({self.n_users} users × {self.n_items} movies, {self.n_ratings} ratings, "
            f"source={self.source!r})"
        )

    # ------------------------------------------------------------- ID lookups
    @cached_property
    def user_index(self) -> dict:
        """Original user ID -> dense index."""
        return {k: i for i, k in enumerate(self.user_ids.tolist())}

    @cached_property
    def item_index(self) -> dict:
        """Original movie ID -> dense index."""
        return {k: i for i, k in enumerate(self.item_ids.tolist())}

    def lookup_user(self, user_id: object) -> int:
        """Dense index of an original user ID; accepts the ID as a string too. Raises
        :class:`~engine.errors.UnknownIdError` (a KeyError)."""
        return _lookup(self.user_index, user_id, "user")

    def lookup_item(self, item_id: object) -> int:
        """Dense index of an original movie ID; accepts the ID as a string too. Raises
        :class:`~engine.errors.UnknownIdError` (a KeyError)."""
        return _lookup(self.item_index, item_id, "movie")

    # ------------------------------------------------------------ like/dislike
    def liked(self, threshold: float = LIKE_THRESHOLD) -> np.ndarray:
        """``bool (n,)``: True where the rating is a like (rating >= threshold). A threshold
        beyond float32's range compares as infinite, without a numpy warning."""
        with np.errstate(over="ignore"):
            return self.values >= threshold

    def like_share(self, threshold: float = LIKE_THRESHOLD) -> float:
        """Fraction of ratings that are likes."""
        return float(self.liked(threshold).mean()) if self.n_ratings else 0.0

    @property
    def sparsity(self) -> float:
        """Fraction of the users × movies table that is unrated."""
        cells = self.n_users * self.n_items
        return 1.0 - self.n_ratings / cells if cells else 1.0

    @property
    def scale(self) -> tuple[float, float]:
        """(min, max) rating seen."""
        if not self.n_ratings:
            return (0.0, 0.0)
        return float(self.values.min()), float(self.values.max())

    # ----------------------------------------------------------- by-user views
    @cached_property
    def _by_user(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.users, kind="stable")
        counts = np.bincount(self.users, minlength=self.n_users)
        indptr = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return order, indptr

    def by_user(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR view: ``(indptr int64 (n_users+1,), items int32 (n,), values float32 (n,))``.

        The ratings of user ``u`` are ``items[indptr[u]:indptr[u+1]]``.
        """
        order, indptr = self._by_user
        return indptr, self.items[order], self.values[order]

    def user_items(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """``(items, values)`` rated by dense user index ``u``."""
        order, indptr = self._by_user
        sel = order[indptr[u] : indptr[u + 1]]
        return self.items[sel], self.values[sel]

    def item_counts(self) -> np.ndarray:
        """``int64 (n_items,)`` number of ratings of each movie."""
        return np.bincount(self.items, minlength=self.n_items)

    def item_like_counts(self, threshold: float = LIKE_THRESHOLD) -> np.ndarray:
        """``int64 (n_items,)`` number of likes of each movie."""
        return np.bincount(self.items[self.liked(threshold)], minlength=self.n_items)

    # --------------------------------------------------------------- subsets
    def subset(self, mask: np.ndarray) -> Ratings:
        """The ratings where ``mask`` (bool (n,) or an index array) holds, with the same ID maps.

        Train and test parts of a split share one index space, so indices stay comparable.
        """
        ts = None if self.timestamps is None else self.timestamps[mask]
        return Ratings(
            users=self.users[mask],
            items=self.items[mask],
            values=self.values[mask],
            timestamps=ts,
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            movies=self.movies,
            source=self.source,
            report=self.report,
        )

    def title_list(self) -> list[str]:
        """Each movie's title (its ID when the data has none), read from the parse cache when
        it holds them, so that no movie table is built (and pandas not imported)."""
        titles = self.__dict__.get("_titles")
        if titles is not None and len(titles) == self.n_items:
            return list(titles)
        return self.movies["title"].astype(str).tolist()

    def has_titles(self) -> list[bool]:
        """Whether each movie has a real title (not just its ID)."""
        return [t != str(i) for t, i in zip(self.title_list(), self.item_ids.tolist())]

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame ``user, item, rating[, timestamp]`` with original IDs (for export)."""
        df = pd.DataFrame(
            {
                "user": self.user_ids[self.users],
                "item": self.item_ids[self.items],
                "rating": self.values,
            }
        )
        if self.timestamps is not None:
            df["timestamp"] = self.timestamps
        return df


def _lookup(index: dict, key: object, what: str) -> int:
    if key in index:
        return index[key]
    if isinstance(key, str):
        try:
            k2: object = int(key)
        except ValueError:
            k2 = None
        if k2 is not None and k2 in index:
            return index[k2]
    else:
        if str(key) in index:
            return index[str(key)]
    raise UnknownIdError(f"unknown {what} ID {key!r}")


def from_arrays(
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray | None = None,
    movies: pd.DataFrame | None = None,
    source: str = "",
) -> Ratings:
    """Build :class:`Ratings` from per-row original IDs (any hashable dtype) and ratings.

    ``movies``, if given, is indexed by original movie ID with columns title/year/genres;
    movies in it that nobody rated are kept as well (they can still be recommended).
    Raises :class:`~engine.errors.UsageError` when the arrays differ in length or a rating
    is outside the 0-10 scale (NaN included), as :func:`engine.load_ratings` refuses it.
    """
    _check_arrays(user_ids, item_ids, values, timestamps)
    uid_codes, uniq_users = pd.factorize(pd.Series(user_ids), sort=True)
    if movies is not None and len(movies):
        all_items = pd.Index(movies.index).union(pd.Index(pd.unique(pd.Series(item_ids))))
        all_items = all_items.sort_values()
        iid_codes = all_items.get_indexer(pd.Series(item_ids))
        uniq_items = all_items
    else:
        iid_codes, uniq_items = pd.factorize(pd.Series(item_ids), sort=True)
    meta = movie_frame(np.asarray(uniq_items), movies)
    return Ratings(
        users=np.asarray(uid_codes, dtype=np.int32),
        items=np.asarray(iid_codes, dtype=np.int32),
        values=np.asarray(values, dtype=np.float32),
        timestamps=None if timestamps is None else np.asarray(timestamps, dtype=np.int64),
        user_ids=np.asarray(uniq_users),
        item_ids=np.asarray(uniq_items),
        movies=meta,
        source=source,
    )


def _check_arrays(user_ids, item_ids, values, timestamps) -> None:
    """UsageError unless the per-row arrays are 1-D, of one length, and every rating is a
    number within the 0-10 scale."""
    named = {"user_ids": user_ids, "item_ids": item_ids, "values": values}
    if timestamps is not None:
        named["timestamps"] = timestamps
    shapes = {name: np.shape(a) for name, a in named.items()}
    if len({len(sh) for sh in shapes.values()} | {1}) != 1 or len(set(shapes.values())) != 1:
        listed = ", ".join(f"{name} {sh}" for name, sh in shapes.items())
        raise UsageError(f"from_arrays: {listed}; give 1-D arrays of one length, one per rating")
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise UsageError(f"from_arrays: values are not numbers ({e})") from None
    with np.errstate(invalid="ignore"):
        bad = np.nonzero(~((v >= MIN_RATING) & (v <= MAX_RATING)))[0]
    if len(bad):
        raise UsageError(
            f"from_arrays: the rating {v[bad[0]]} at position {bad[0]} is outside the 0-10 scale"
        )


def movie_frame(item_ids: np.ndarray, movies: pd.DataFrame | None) -> pd.DataFrame:
    """One row per movie of ``item_ids`` with ``title``, ``year`` and ``genres``, taken from
    ``movies`` (indexed by movie ID) where it has them (a missing title is the ID)."""
    n = len(item_ids)
    if movies is None or not len(movies):
        return pd.DataFrame(
            {
                "title": [str(i) for i in item_ids],
                "year": pd.array([pd.NA] * n, dtype="Int64"),
                "genres": [""] * n,
            }
        )
    m = movies.reindex(item_ids)
    title = m["title"] if "title" in m else pd.Series([None] * n)
    title = [t if isinstance(t, str) else str(i) for t, i in zip(title.tolist(), item_ids)]
    year = m["year"] if "year" in m else pd.Series([pd.NA] * n)
    genres = m["genres"] if "genres" in m else pd.Series([""] * n)
    return pd.DataFrame(
        {
            "title": title,
            "year": pd.array(year.tolist(), dtype="Int64"),
            "genres": [g if isinstance(g, str) else "" for g in genres.tolist()],
        }
    )
