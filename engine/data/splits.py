"""Train/test splits of :class:`~engine.ratings.Ratings`.

Every function returns ``(train, test)`` sharing one index space (same ``user_ids``,
``item_ids`` and ``movies``), so dense indices are comparable across the two parts. All of them
are deterministic for a given seed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine._lazy import lazy_module
from engine.data.loaders import load_ratings
from engine.data.ratings import Ratings, movie_frame

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "aligned",
    "last_by_time",
    "leave_k_out",
    "official_fold",
    "random_holdout",
    "stratified_item_holdout",
]

#: The folds GroupLens ships with MovieLens 100K: u1..u5 (5-fold) and ua/ub (10 per user).
OFFICIAL_FOLDS = ("1", "2", "3", "4", "5", "a", "b")


# --------------------------------------------------------------------------- helpers
def _check_fraction(fraction: float) -> None:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive), got {fraction}")


def _ranks(groups: np.ndarray, n_groups: int, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by ``order`` (grouped by ``groups``): each row's 0-based rank within its
    group and its group's size, both aligned with the original rows."""
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    rank = np.empty(len(groups), dtype=np.int64)
    g_sorted = groups[order]
    rank[order] = np.arange(len(groups), dtype=np.int64) - starts[g_sorted]
    return rank, counts[groups]


def _split(r: Ratings, test: np.ndarray) -> tuple[Ratings, Ratings]:
    return r.subset(~test), r.subset(test)


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


# --------------------------------------------------------------------------- splits
def random_holdout(r: Ratings, fraction: float = 0.2, seed: int = 0) -> tuple[Ratings, Ratings]:
    """Per user, a random ``fraction`` of the ratings (rounded) goes to test.

    A user always keeps at least one rating in train.
    """
    _check_fraction(fraction)
    rng = np.random.default_rng(seed)
    rand = rng.random(r.n_ratings)
    order = np.lexsort((rand, r.users))
    rank, count = _ranks(r.users, r.n_users, order)
    n_test = np.minimum(_round_half_up(fraction * count), count - 1)
    return _split(r, rank < n_test)


def stratified_item_holdout(
    r: Ratings, fraction: float = 0.25, seed: int = 42
) -> tuple[Ratings, Ratings]:
    """Per movie, a random ``fraction`` of its ratings goes to test.

    Like Microsoft Recommenders' ``python_stratified_split(filter_by="item", ratio=1 - fraction,
    seed=seed)``: every row gets a key from ``np.random.RandomState(seed).rand``, each movie's
    rows are ordered by key, and the first ``round((1 - fraction) * count)`` (half to even) are
    train, the rest test. On ML-100K's ``u.data`` in file order with the defaults this gives
    exactly the split in ``shared/data/benchmarks/ml100k-msr``.
    """
    _check_fraction(fraction)
    rand = np.random.RandomState(seed).rand(r.n_ratings)
    order = np.lexsort((rand, r.items))
    rank, count = _ranks(r.items, r.n_items, order)
    n_train = np.rint((1.0 - fraction) * count).astype(np.int64)
    return _split(r, rank >= n_train)


def leave_k_out(r: Ratings, k: int = 1, seed: int = 0) -> tuple[Ratings, Ratings]:
    """Per user with more than ``k`` ratings, ``k`` random ratings go to test."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    rng = np.random.default_rng(seed)
    rand = rng.random(r.n_ratings)
    order = np.lexsort((rand, r.users))
    rank, count = _ranks(r.users, r.n_users, order)
    return _split(r, (count > k) & (rank < k))


def last_by_time(r: Ratings, fraction: float = 0.2) -> tuple[Ratings, Ratings]:
    """Per user, the latest ``fraction`` of the ratings (by timestamp) goes to test.

    Ties in time keep file order. A user always keeps at least one rating in train.
    """
    _check_fraction(fraction)
    if r.timestamps is None:
        raise ValueError(f"{r.source or 'these ratings'} have no timestamps: use random_holdout")
    idx = np.arange(r.n_ratings)
    order = np.lexsort((idx, r.timestamps, r.users))
    rank, count = _ranks(r.users, r.n_users, order)
    n_test = np.minimum(_round_half_up(fraction * count), count - 1)
    return _split(r, rank >= count - n_test)


# --------------------------------------------------------------------------- aligned files
def official_fold(
    ml100k_dir: str | os.PathLike[str], k: int | str, *, cache: bool = True
) -> tuple[Ratings, Ratings]:
    """MovieLens 100K's shipped fold ``u{k}.base`` / ``u{k}.test`` (k in 1..5, "a" or "b").

    Both parts share one index space: users and movies of both files (and every movie of
    ``u.item``), mapped identically.
    """
    k = str(k)
    if k not in OFFICIAL_FOLDS:
        raise ValueError(f"unknown ML-100K fold {k!r}: use one of {', '.join(OFFICIAL_FOLDS)}")
    d = Path(ml100k_dir)
    return aligned(d / f"u{k}.base", d / f"u{k}.test", cache=cache)


def aligned(
    train_path: str | os.PathLike[str],
    test_path: str | os.PathLike[str],
    *,
    cache: bool = True,
) -> tuple[Ratings, Ratings]:
    """Load two ratings files and put them in one index space (the union of users and movies).

    Movie metadata comes from either file (the train file's wins where both have it).
    """
    a = load_ratings(train_path, cache=cache)
    b = load_ratings(test_path, cache=cache)
    return align(a, b)


def align(a: Ratings, b: Ratings) -> tuple[Ratings, Ratings]:
    """Re-index two :class:`Ratings` onto the union of their users and movies."""
    ua, ub = _compatible(a.user_ids, b.user_ids)
    ia, ib = _compatible(a.item_ids, b.item_ids)
    users = _union(ua, ub)
    items = _union(ia, ib)
    meta = pd.concat([a.movies.set_axis(pd.Index(ia)), b.movies.set_axis(pd.Index(ib))], axis=0)
    meta = meta[~meta.index.duplicated(keep="first")]
    movies = movie_frame(np.asarray(items), meta)
    user_ids, item_ids = np.asarray(users), np.asarray(items)

    def remap(r: Ratings, uids: np.ndarray, iids: np.ndarray) -> Ratings:
        umap = users.get_indexer(pd.Index(uids)).astype(np.int32)
        imap = items.get_indexer(pd.Index(iids)).astype(np.int32)
        return Ratings(
            users=umap[r.users],
            items=imap[r.items],
            values=r.values,
            timestamps=r.timestamps,
            user_ids=user_ids,
            item_ids=item_ids,
            movies=movies,
            source=r.source,
            report=r.report,
        )

    return remap(a, ua, ia), remap(b, ub, ib)


def _compatible(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both ID arrays as ints when both are ints, else both as strings."""
    if x.dtype.kind in "iu" and y.dtype.kind in "iu":
        return x.astype(np.int64), y.astype(np.int64)
    return (
        np.asarray([str(v) for v in x.tolist()], dtype=object),
        np.asarray([str(v) for v in y.tolist()], dtype=object),
    )


def _union(x: np.ndarray, y: np.ndarray) -> pd.Index:
    return pd.Index(x).union(pd.Index(y)).sort_values()
