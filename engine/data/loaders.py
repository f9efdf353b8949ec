"""Load ratings from MovieLens files (100K, 1M, 10M, latest/20M/25M/32M) or a generic CSV/TSV.

One call, :func:`load_ratings`, takes a path (a directory, a GroupLens ``.zip`` or a single
file), detects the format (:mod:`engine.data.sources`), parses it (:mod:`engine.data.parsing`),
reads the movie metadata beside it (:mod:`engine.data.movies`) and returns
:class:`~engine.data.ratings.Ratings`. Parsed results are cached (:mod:`engine.data.cache`).
Bad input raises :class:`~engine.errors.RatingsError` naming the file, the line and the problem.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine._lazy import lazy_module
from engine.data import cache as _cache
from engine.data.linelength import check_line_lengths
from engine.data.movies import match_index_dtype, read_movies
from engine.data.parsing import (
    FORMAT_ML1M,
    FORMAT_ML10M,
    FORMAT_ML100K,
    Layout,
    read_ratings,
    sniff_layout,
)
from engine.data.ratings import LoadReport, Ratings, from_arrays
from engine.data.sources import Plan, plan_source
from engine.errors import RatingsError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


# --------------------------------------------------------------------------- public API
def load_ratings(
    path: str | os.PathLike[str],
    *,
    cache: bool = True,
    like_threshold: float | None = None,
) -> Ratings:
    """Load ratings from ``path`` and return :class:`Ratings`.

    ``path`` may be a MovieLens folder or ``.zip`` (100K, 1M, 10M, latest, 20M, 25M, 32M), a
    single MovieLens ratings file (``u.data``, ``u1.base``, ``ratings.dat``, ``ratings.csv``), or
    a generic CSV/TSV whose header names user, item and rating columns (and optionally a
    timestamp). Titles, years and genres come from the metadata files beside it when present.

    Duplicate (user, movie) rows keep the latest timestamp (the last row when there are no
    timestamps). With ``cache=True`` the parsed result is kept in the user cache dir and reused
    while the file is unchanged. ``like_threshold`` is accepted for API symmetry and unused.

    Raises :class:`RatingsError` naming the file, the line and the problem for bad input.
    """
    del like_threshold
    t0 = time.perf_counter()
    p = Path(path).expanduser()
    plan = plan_source(p)
    key = _cache_key(p, plan) if cache else None
    r, notice = _from_cache(key, path)
    if r is None:
        r = _load_plan(plan, source=str(path))
        if key is not None:
            _cache.store(key, r)
    r.report.seconds = time.perf_counter() - t0
    r.report.notice = "; ".join(m for m in (notice, duplicates_notice(r)) if m)
    return r


def duplicates_notice(r: Ratings) -> str:
    """One line saying how many repeated (person, movie) rows were merged and which won, or
    "" when there were none."""
    n = r.report.duplicates_dropped
    if not n:
        return ""
    rows = "row was" if n == 1 else "rows were"
    winner = (
        "the one with the latest timestamp (the last row on a tie)"
        if r.timestamps is not None
        else "the last row"
    )
    return f"{n:,} repeated (person, movie) {rows} merged: each pair keeps {winner}"


def _cache_key(p: Path, plan: Plan) -> str | None:
    try:
        return _cache.cache_key(p, plan.key_files)
    except OSError:
        return None


def _from_cache(key: str | None, path: object) -> tuple[Ratings | None, str]:
    """(the cached ratings or None, a notice when the cache was damaged)."""
    if key is None:
        return None, ""
    try:
        r = _cache.load(key)
    except _cache.DamagedCache:
        return None, f"the parsed-ratings cache of {path} was damaged; rebuilt from the file"
    if r is not None:
        r.source = str(path)
        r.report.from_cache = True
    return r, ""


def _load_plan(plan: Plan, source: str) -> Ratings:
    src = plan.source
    if src.size() == 0:
        raise RatingsError(src.display, "the file is empty", hint="pick the ratings file itself")
    check_line_lengths(src)
    if plan.kind == "ml100k":
        layout = Layout("\t", "\t", 4, False, 0, 1, 2, 3, True, False, "tabs")
        fmt = FORMAT_ML100K
        data = None
    elif plan.kind == "dat":
        layout = Layout("\t", "::", 4, False, 0, 1, 2, 3, True, False, "'::'")
        fmt = FORMAT_ML1M
        raw = src.read_bytes()
        data = raw.replace(b"::", b"\t")
        del raw
    else:
        layout, fmt = sniff_layout(src)
        data = None

    users, items, values, ts, nrows = read_ratings(src, layout, data)
    del data
    if nrows == 0:
        raise RatingsError(
            src.display,
            "the file has no ratings",
            hint="each row needs a user, a movie and a rating",
        )
    movies, meta_fmt = read_movies(src, plan.kind)
    if meta_fmt == "dat-latin1":
        fmt = FORMAT_ML1M
    elif plan.kind == "dat" and bool(np.any(values != np.round(values))):
        fmt = FORMAT_ML10M
    if movies is not None:
        movies = match_index_dtype(movies, items)
    r = from_arrays(users, items, values, ts, movies=movies, source=source)
    del users, items, values, ts
    for name in ("user_ids", "item_ids"):
        ids = getattr(r, name)
        if ids.dtype.kind in "iu" and ids.dtype != np.int64:
            setattr(r, name, ids.astype(np.int64))
    dropped = _drop_duplicates(r)
    r.report = LoadReport(format=fmt, rows_read=nrows, duplicates_dropped=dropped)
    if nrows > 1_000_000:
        _release_memory()
    return r


def _release_memory() -> None:
    """Hand the parser's freed buffers back to the OS (glibc keeps them otherwise)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# --------------------------------------------------------------------------- duplicates
def _drop_duplicates(r: Ratings) -> int:
    """Drop repeated (user, movie) rows in place, keeping the latest; return how many."""
    n = r.n_ratings
    if n < 2:
        return 0
    key = r.users.astype(np.int64) * max(r.n_items, 1) + r.items
    dup = pd.Index(key).duplicated(keep=False)
    if not dup.any():
        return 0
    idx = np.arange(n)
    if r.timestamps is not None:
        order = np.lexsort((idx, r.timestamps, key))
    else:
        order = np.lexsort((idx, key))
    ks = key[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = ks[1:] != ks[:-1]
    keep = np.sort(order[last])
    r.users = r.users[keep]
    r.items = r.items[keep]
    r.values = r.values[keep]
    if r.timestamps is not None:
        r.timestamps = r.timestamps[keep]
    return n - len(keep)
