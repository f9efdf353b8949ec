"""A cache of parsed ratings in ``paths.cache_dir()/ratings/`` (one ``.npz`` per source).

The key is a blake2b hash of the source's absolute path and, for each file it depends on, the
size, the mtime and a blake2b hash of its first MiB. Files are plain ``np.savez`` archives
(no pickles): string IDs and movie columns are stored as UTF-8 bytes plus offsets. They are
written safely (:mod:`engine.files`). A cache file that cannot be read, or whose content fails
the checks (shapes, types, index ranges, finite ratings in range), raises :class:`DamagedCache`
and is rebuilt by the loader, which says so.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine import files, paths
from engine._lazy import lazy_module
from engine.data.parsing import MAX_RATING, MIN_RATING
from engine.data.ratings import LoadReport, Ratings

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


class DamagedCache(Exception):
    """A cache file exists but cannot be trusted (unreadable, or its content fails checks)."""


#: Bump when the stored layout or the parsing rules change.
#: 2: movies.csv rows whose ID is no number are dropped, not the titles; 3: control and
#: direction characters in titles are spaces, ;-separated movie lists are read
CACHE_VERSION = 3
_HEAD = 1 << 20


def ratings_cache_dir() -> Path:
    """Where parsed ratings are cached (created on first use)."""
    p = paths.cache_dir() / "ratings"
    p.mkdir(parents=True, exist_ok=True)
    return p


def cache_key(path: Path, files: list[Path]) -> str:
    """The cache key of ``path`` whose parse depends on ``files``."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"v{CACHE_VERSION}\0{Path(path).resolve()}\0".encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{Path(f).resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        with open(f, "rb") as fh:
            h.update(hashlib.blake2b(fh.read(_HEAD), digest_size=20).digest())
    return h.hexdigest()


def cache_file(key: str) -> Path:
    return ratings_cache_dir() / f"{key}.npz"


# --------------------------------------------------------------------------- strings
def _pack(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    enc = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in enc], out=offsets[1:])
    return np.frombuffer(b"".join(enc), dtype=np.uint8), offsets


def _unpack(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    buf = data.tobytes()
    o = offsets.tolist()
    return [buf[o[k] : o[k + 1]].decode("utf-8") for k in range(len(o) - 1)]


def _put_ids(out: dict, name: str, ids: np.ndarray) -> None:
    if ids.dtype.kind in "iu":
        out[name] = ids.astype(np.int64)
    else:
        out[f"{name}_s"], out[f"{name}_o"] = _pack([str(x) for x in ids.tolist()])


def _get_ids(z: dict, name: str) -> np.ndarray:
    if name in z:
        return z[name]
    return np.asarray(_unpack(z[f"{name}_s"], z[f"{name}_o"]), dtype=object)


# --------------------------------------------------------------------------- store/load
def store(key: str, r: Ratings) -> Path | None:
    """Write ``r`` to the cache; returns the file, or None when the cache is not writable."""
    out: dict[str, np.ndarray] = {
        "users": r.users,
        "items": r.items,
        "values": r.values,
    }
    if r.timestamps is not None:
        out["timestamps"] = r.timestamps
    _put_ids(out, "user_ids", r.user_ids)
    _put_ids(out, "item_ids", r.item_ids)
    out["title_s"], out["title_o"] = _pack([str(t) for t in r.movies["title"].tolist()])
    out["genres_s"], out["genres_o"] = _pack([str(g) for g in r.movies["genres"].tolist()])
    year = r.movies["year"]
    out["year_na"] = year.isna().to_numpy()
    out["year"] = year.fillna(0).to_numpy(dtype=np.int64)
    rep = r.report
    meta = {
        "version": CACHE_VERSION,
        "format": rep.format,
        "rows_read": rep.rows_read,
        "duplicates_dropped": rep.duplicates_dropped,
    }
    out["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    try:
        target = cache_file(key)
        with files.open_output(target, "wb", encoding=None) as fh:
            np.savez(fh, allow_pickle=False, **out)
    except (OSError, files.OutputError):
        return None
    return target


def load(key: str) -> Ratings | None:
    """The cached ratings for ``key``, or None when there are none (or of another version).

    Raises :class:`DamagedCache` when the file is there but cannot be trusted."""
    try:
        f = cache_file(key)
    except OSError:
        return None
    if not f.is_file():
        return None
    try:
        with np.load(f, allow_pickle=False) as npz:
            z = {k: npz[k] for k in npz.files}
        meta = json.loads(z["meta"].tobytes().decode())
        if not isinstance(meta, dict) or meta.get("version") != CACHE_VERSION:
            return None
        r = _ratings(z, meta)
        if r is None or not _consistent(r):
            raise DamagedCache(f"{f}: its content fails the checks")
    except DamagedCache:
        raise
    except Exception as e:  # noqa: BLE001 - any unreadable cache file is rebuilt
        raise DamagedCache(f"{f}: {type(e).__name__}") from None
    return r


def _ratings(z: dict, meta: dict) -> Ratings | None:
    """The ratings stored in ``z`` (the movie table built on first use), or None when its
    movie columns disagree in length; the rest is checked by :func:`_consistent`."""
    titles = _unpack(z["title_s"], z["title_o"])
    genres = _unpack(z["genres_s"], z["genres_o"])
    years, year_na = z["year"], z["year_na"]
    if not len(titles) == len(genres) == len(years) == len(year_na):
        return None

    def movies() -> pd.DataFrame:  # built on first use (training needs no titles)
        year = pd.array(years, dtype="Int64")
        year[year_na] = pd.NA
        return pd.DataFrame({"title": titles, "year": year, "genres": genres})

    report = LoadReport(
        format=meta.get("format", ""),
        rows_read=int(meta.get("rows_read", len(z["values"]))),
        duplicates_dropped=int(meta.get("duplicates_dropped", 0)),
        from_cache=True,
    )
    r = Ratings(
        users=z["users"],
        items=z["items"],
        values=z["values"],
        timestamps=z.get("timestamps"),
        user_ids=_get_ids(z, "user_ids"),
        item_ids=_get_ids(z, "item_ids"),
        movies=movies,
        report=report,
    )
    r.__dict__["_titles"] = titles  # read without building the movie table
    return r


def _consistent(r: Ratings) -> bool:
    """Whether the stored arrays agree: lengths, types, index ranges, ratings in range."""
    n = r.n_ratings
    users, items, values, ts = r.users, r.items, r.values, r.timestamps
    return (
        len(users) == n == len(items)
        and (ts is None or len(ts) == n)
        and len(r.__dict__["_titles"]) == r.n_items
        and users.dtype == np.int32
        and items.dtype == np.int32
        and values.dtype == np.float32
        and (n == 0 or (0 <= users.min() and users.max() < r.n_users))
        and (n == 0 or (0 <= items.min() and items.max() < r.n_items))
        and bool(np.isfinite(values).all())
        and (n == 0 or (values.min() >= MIN_RATING and values.max() <= MAX_RATING))
        and _ids_ok(r.user_ids)
        and _ids_ok(r.item_ids)
        and (ts is None or ts.dtype.kind in "iu")
    )


def _ids_ok(ids: np.ndarray) -> bool:
    """Original IDs as the loader gives them: 1-D, distinct, whole numbers or text."""
    if ids.ndim != 1 or ids.dtype.kind not in "iuOU":
        return False
    return len(set(ids.tolist())) == len(ids)  # (no pandas: a cached load never imports it)
