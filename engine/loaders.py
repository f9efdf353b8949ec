"""Load ratings from MovieLens files (100K, 1M, 10M, latest/20M/25M/32M) or a generic CSV/TSV.

One call, :func:`load_ratings`, takes a path (a directory, a GroupLens ``.zip`` or a single
file), detects the format and returns :class:`~engine.ratings.Ratings` with movie titles, years
and genres when the metadata is there. Parsed results are cached (see :mod:`engine.cache`).

The fast path is pandas' C parser with fixed dtypes. When it fails, or when validation finds a
bad value, a slower line-by-line scan finds the first bad line so that the
:class:`~engine.ratings.RatingsError` can name the file, the 1-based line number, the problem and
the fix.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from engine._lazy import lazy_module
from engine.ratings import LoadReport, Ratings, RatingsError, from_arrays

pd = lazy_module("pandas")

__all__ = [
    "FORMAT_CSV",
    "FORMAT_ML100K",
    "FORMAT_ML10M",
    "FORMAT_ML1M",
    "FORMAT_ML_LATEST",
    "load_ratings",
    "parse_year",
]

FORMAT_ML100K = "movielens-100k"
FORMAT_ML1M = "movielens-1m"
FORMAT_ML10M = "movielens-10m"
FORMAT_ML_LATEST = "movielens-latest"
FORMAT_CSV = "csv"

#: Ratings must lie in this range (inclusive); anything else is a broken file.
MIN_RATING, MAX_RATING = 0.0, 10.0

RATINGS_NAMES = ("u.data", "ratings.dat", "ratings.csv")
_ML100K_NAME = re.compile(r"^u(\d|a|b)?\.(data|base|test)$")
_YEAR = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")

_USER_NAMES = {"user", "userid", "users", "uid", "username", "customerid", "reviewerid"}
_ITEM_NAMES = {"item", "itemid", "items", "iid", "movie", "movieid", "movies", "mid", "film"}
_ITEM_NAMES |= {"filmid"}
_RATING_NAMES = {"rating", "ratings", "score", "stars", "star", "rate"}
_TIME_NAMES = {"timestamp", "time", "ts", "unixtime", "unixtimestamp", "datetime"}

ML100K_GENRES = (
    "unknown|Action|Adventure|Animation|Children's|Comedy|Crime|Documentary|Drama|Fantasy|"
    "Film-Noir|Horror|Musical|Mystery|Romance|Sci-Fi|Thriller|War|Western"
).split("|")

_FIX_ROW = "fix or delete this line"


# --------------------------------------------------------------------------- sources
class _Source:
    """A file to read: on disk or inside a zip. ``display`` is what error messages show."""

    display: str
    name: str

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def size(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def sibling(self, name: str) -> _Source | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def read_bytes(self) -> bytes:
        with self.open() as fh:
            return fh.read()

    def head(self, n: int = 65536) -> bytes:
        with self.open() as fh:
            return fh.read(n)


class _FileSource(_Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.display = str(path)
        self.name = path.name

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        try:
            fh = open(self.path, "rb")
        except OSError as e:
            raise RatingsError(self.display, f"cannot open the file: {e.strerror}") from e
        with fh:
            yield fh

    def size(self) -> int:
        return self.path.stat().st_size

    def sibling(self, name: str) -> _Source | None:
        p = self.path.parent / name
        return _FileSource(p) if p.is_file() else None


class _ZipSource(_Source):
    def __init__(self, zip_path: Path, member: str, names: set[str]) -> None:
        self.zip_path = zip_path
        self.member = member
        self.names = names
        self.display = f"{zip_path}:{member}"
        self.name = member.rsplit("/", 1)[-1]

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        with zipfile.ZipFile(self.zip_path) as zf, zf.open(self.member) as fh:
            yield fh

    def size(self) -> int:
        with zipfile.ZipFile(self.zip_path) as zf:
            return zf.getinfo(self.member).file_size

    def sibling(self, name: str) -> _Source | None:
        folder = self.member.rsplit("/", 1)[0] + "/" if "/" in self.member else ""
        m = folder + name
        return _ZipSource(self.zip_path, m, self.names) if m in self.names else None


@dataclass
class _Plan:
    """What to read: the ratings source, its kind, and the files the cache key depends on."""

    source: _Source
    kind: str  # "ml100k" (tab, no header), "dat" (``::``), "delimited" (CSV/TSV, sniffed)
    key_files: list[Path] = field(default_factory=list)


def _plan(path: Path) -> _Plan:
    if not path.exists():
        raise RatingsError(path, "no such file or directory", hint="check the path")
    if path.is_dir():
        return _plan_dir(path)
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return _plan_zip(path)
    return _plan_file(_FileSource(path), [path])


def _plan_dir(path: Path) -> _Plan:
    for folder in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
        for name in RATINGS_NAMES:
            f = folder / name
            if f.is_file():
                return _plan_file(_FileSource(f), [f])
    skip = {"movies", "links", "tags", "genome-scores", "genome-tags", "users"}
    cands = [
        p
        for p in sorted(path.iterdir())
        if p.is_file()
        and p.suffix.lower() in (".csv", ".tsv", ".dat", ".txt")
        and p.stem.lower() not in skip
    ]
    if len(cands) == 1:
        return _plan_file(_FileSource(cands[0]), [cands[0]])
    raise RatingsError(
        path,
        "no ratings file found in this folder",
        hint="expected u.data, ratings.dat or ratings.csv (or a single ratings CSV); "
        "pass the ratings file itself",
    )


def _plan_zip(path: Path) -> _Plan:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as e:
        raise RatingsError(path, f"not a readable zip file ({e})", hint="download it again") from e
    found = [n for n in names if n.rsplit("/", 1)[-1] in RATINGS_NAMES]
    if not found:
        raise RatingsError(
            path,
            "the zip holds no ratings file (u.data, ratings.dat or ratings.csv)",
            hint="use a MovieLens zip as GroupLens ships it, or pass the ratings file itself",
        )
    found.sort(key=lambda n: (n.count("/"), RATINGS_NAMES.index(n.rsplit("/", 1)[-1]), n))
    src = _ZipSource(path, found[0], set(names))
    return _plan_file(src, [path])


def _plan_file(src: _Source, key_files: list[Path]) -> _Plan:
    name = src.name.lower()
    if _ML100K_NAME.match(name):
        kind = "ml100k"
    elif name.endswith(".dat"):
        kind = "dat"
    else:
        first = src.head(4096).split(b"\n", 1)[0]
        kind = "dat" if b"::" in first else "delimited"
    plan = _Plan(src, kind, key_files)
    if isinstance(src, _FileSource):
        for meta in ("u.item", "u.genre", "movies.dat", "movies.csv"):
            s = src.sibling(meta)
            if isinstance(s, _FileSource):
                plan.key_files.append(s.path)
    return plan


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
    plan = _plan(p)
    key = None
    if cache:
        from engine import cache as _cache

        try:
            key = _cache.cache_key(p, plan.key_files)
        except OSError:
            key = None
        if key is not None:
            r = _cache.load(key)
            if r is not None:
                r.source = str(path)
                r.report.from_cache = True
                r.report.seconds = time.perf_counter() - t0
                return r
    r = _load_plan(plan, source=str(path))
    r.report.seconds = time.perf_counter() - t0
    if key is not None:
        from engine import cache as _cache

        _cache.store(key, r)
    return r


def parse_year(title: str) -> int | None:
    """The year ending a MovieLens title: ``"Heat (1995)"`` -> 1995; a range gives its first."""
    m = _YEAR.search(title)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------- parsing
@dataclass
class _Layout:
    """How a delimited ratings file is laid out."""

    sep: str  # the pandas separator
    split: str  # what the line scanner splits on
    ncols: int
    header: bool
    user: int
    item: int
    rating: int
    timestamp: int | None
    int_ids: bool  # IDs must be whole numbers (MovieLens formats)
    quoted: bool  # fields may be quoted (CSV)
    sep_name: str = ""

    @property
    def needed(self) -> int:
        cols = [self.user, self.item, self.rating]
        if self.timestamp is not None:
            cols.append(self.timestamp)
        return max(cols) + 1


def _load_plan(plan: _Plan, source: str) -> Ratings:
    src = plan.source
    if src.size() == 0:
        raise RatingsError(src.display, "the file is empty", hint="pick the ratings file itself")
    if plan.kind == "ml100k":
        layout = _Layout("\t", "\t", 4, False, 0, 1, 2, 3, True, False, "tabs")
        fmt = FORMAT_ML100K
        data = None
    elif plan.kind == "dat":
        layout = _Layout("\t", "::", 4, False, 0, 1, 2, 3, True, False, "'::'")
        fmt = FORMAT_ML1M
        raw = src.read_bytes()
        data = raw.replace(b"::", b"\t")
        del raw
    else:
        layout, fmt = _sniff_layout(src)
        data = None

    users, items, values, ts, nrows = _read_ratings(src, layout, data)
    del data
    if nrows == 0:
        raise RatingsError(
            src.display,
            "the file has no ratings",
            hint="each row needs a user, a movie and a rating",
        )
    movies, meta_fmt = _read_movies(src, plan.kind)
    if meta_fmt == "dat-latin1":
        fmt = FORMAT_ML1M
    elif plan.kind == "dat" and bool(np.any(values != np.round(values))):
        fmt = FORMAT_ML10M
    if movies is not None:
        movies = _match_index_dtype(movies, items)
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


def _decode_first_line(src: _Source) -> str | None:
    head = src.head(1 << 20)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    lines = head.splitlines()
    for raw in lines:
        if raw.strip():
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise RatingsError(
                    src.display,
                    "the first line is not valid UTF-8 text",
                    line=1,
                    hint="save the file as UTF-8 text (CSV)",
                ) from None
    return None


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _sniff_layout(src: _Source) -> tuple[_Layout, str]:
    first = _decode_first_line(src)
    if first is None:
        raise RatingsError(src.display, "the file is empty", hint="pick the ratings file itself")
    counts = {d: _split_quoted(first, d) for d in (",", ";", "\t")}
    sep = max(counts, key=lambda d: len(counts[d]))
    fields = counts[sep]
    sep_name = {",": "commas", ";": "semicolons", "\t": "tabs"}[sep]
    if all(_is_number(f) for f in fields):
        # No header: user, item, rating[, timestamp] like u.data.
        if len(fields) not in (3, 4):
            raise RatingsError(
                src.display,
                f"cannot tell the columns: no header and {len(fields)} fields",
                line=1,
                hint="add a header line naming the user, item and rating columns",
            )
        ts = 3 if len(fields) == 4 else None
        lay = _Layout(sep, sep, len(fields), False, 0, 1, 2, ts, False, True, sep_name)
        return lay, FORMAT_CSV
    names = [_norm(f) for f in fields]

    def find(options: set[str]) -> int | None:
        for j, n in enumerate(names):
            if n in options:
                return j
        return None

    u, i, r, t = find(_USER_NAMES), find(_ITEM_NAMES), find(_RATING_NAMES), find(_TIME_NAMES)
    if u is None or i is None or r is None:
        missing = [w for w, j in (("user", u), ("item", i), ("rating", r)) if j is None]
        raise RatingsError(
            src.display,
            f"unknown column layout: no {', '.join(missing)} column among "
            + ", ".join(repr(f) for f in fields),
            line=1,
            hint="name the columns user, item, rating (and optionally timestamp) in the header",
        )
    lay = _Layout(sep, sep, len(fields), True, u, i, r, t, False, True, sep_name)
    fmt = FORMAT_CSV
    if src.name.lower() == "ratings.csv" and names[:3] == ["userid", "movieid", "rating"]:
        fmt = FORMAT_ML_LATEST
    return lay, fmt


def _split_quoted(line: str, sep: str) -> list[str]:
    if '"' not in line:
        return line.split(sep)
    return next(csv.reader([line], delimiter=sep))


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None", int]


def _read_ratings(src: _Source, lay: _Layout, data: bytes | None) -> _Arrays:
    """Fast pandas read with fixed dtypes; on any failure, find and report the first bad line."""
    target: object = io.BytesIO(data) if data is not None else src
    got, err = _parse(target, lay, skip_header=lay.header)
    if got is None:
        _raise_first_bad_line(src, lay, err)
    return got  # type: ignore[return-value]


def _parse(target: object, lay: _Layout, skip_header: bool) -> tuple[_Arrays | None, str]:
    """Parse and validate ``target`` (a source or a bytes buffer): (arrays, "") or (None, why)."""
    names = [f"c{j}" for j in range(lay.ncols)]
    nu, ni, nr = names[lay.user], names[lay.item], names[lay.rating]
    nt = names[lay.timestamp] if lay.timestamp is not None else None

    def read(id_type: object) -> pd.DataFrame:
        dtype: dict[str, object] = {n: str for n in names}
        dtype.update({nu: id_type, ni: id_type, nr: np.float32})
        if nt is not None:
            dtype[nt] = np.int64
        kw = dict(
            sep=lay.sep,
            header=None,
            names=names,
            skiprows=1 if skip_header else 0,
            dtype=dtype,
            na_filter=False,
            engine="c",
            encoding="utf-8",
            skip_blank_lines=True,
        )
        if not lay.quoted:
            kw["quoting"] = csv.QUOTE_NONE
        if isinstance(target, io.BytesIO):
            target.seek(0)
            return pd.read_csv(target, **kw)
        if isinstance(target, _FileSource):
            return pd.read_csv(target.path, **kw)
        assert isinstance(target, _Source)
        with target.open() as fh:
            return pd.read_csv(fh, **kw)

    # IDs as int32 first (half the memory on big files), int64 when they overflow, and for
    # generic files strings when they are not all whole numbers.
    df = None
    err: Exception | None = None
    id_type: object = np.int32
    while True:
        try:
            df = read(id_type)
            break
        except (ValueError, OverflowError, csv.Error) as e:
            err = e
            if id_type is np.int32 and "int32" in str(e):
                id_type = np.int64
            elif id_type is not str and not lay.int_ids:
                id_type = str
            else:
                break
    if df is None:
        return None, str(err)
    if not isinstance(df.index, pd.RangeIndex):
        return None, "rows have more fields than the header"

    n = len(df)
    values = df[nr].to_numpy(dtype=np.float32)
    users = _id_column(df[nu])
    items = _id_column(df[ni])
    ts = df[nt].to_numpy(dtype=np.int64) if nt is not None else None
    del df
    if not bool(((values >= MIN_RATING) & (values <= MAX_RATING)).all()):
        return None, "a rating is outside the 0-10 scale"
    for col in (users, items):
        if col.dtype == object and n and bool((col == "").any()):
            return None, "an ID is empty"
    return (users, items, values, ts, n), ""


def _id_column(s: pd.Series) -> np.ndarray:
    if s.dtype.kind in "iu":
        return s.to_numpy()
    s = s.astype(str).str.strip()
    try:
        return s.astype(np.int64).to_numpy()
    except (ValueError, OverflowError, TypeError):
        return s.to_numpy(dtype=object)


# --------------------------------------------------------------------------- line scanner
#: Lines per block when hunting for a bad line: blocks that parse are skipped at pandas speed.
_SCAN_BLOCK = 200_000


def _raise_first_bad_line(src: _Source, lay: _Layout, fallback: str) -> None:
    """Find the first bad line of ``src`` and raise a RatingsError naming it.

    The file is cut into blocks of lines; each block goes through the same pandas parse and
    checks as the whole file, and only a block that fails is scanned line by line.
    """
    block: list[bytes] = []
    first = 1  # line number of block[0]
    with src.open() as fh:
        for raw in fh:
            block.append(raw)
            if len(block) >= _SCAN_BLOCK:
                _check_block(src, lay, block, first)
                first += len(block)
                block = []
    if block:
        _check_block(src, lay, block, first)
    raise RatingsError(src.display, f"cannot read the ratings: {fallback}", hint=_FIX_ROW)


def _check_block(src: _Source, lay: _Layout, block: list[bytes], first: int) -> None:
    skip_header = lay.header and first == 1
    buf = b"".join(block)
    if lay.split != lay.sep:
        buf = buf.replace(lay.split.encode(), lay.sep.encode())
    if buf.strip() and not (skip_header and len(block) == 1):
        got, _ = _parse(io.BytesIO(buf), lay, skip_header)
        if got is not None:
            return
    found = _scan_lines(src.display, lay, block, first)
    if found is not None:
        raise found


def _scan_lines(disp: str, lay: _Layout, lines: list[bytes], first: int) -> RatingsError | None:
    """The first bad line among ``lines`` (numbered from ``first``), checked one by one."""
    expect = "user, movie, rating" + (", timestamp" if lay.timestamp is not None else "")
    for lineno, raw in enumerate(lines, start=first):
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return RatingsError(
                disp,
                "this line is not valid UTF-8 text",
                line=lineno,
                hint="save the file as UTF-8 text",
            )
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        if lay.header and lineno == 1:
            continue
        if lay.quoted and '"' in text:
            try:
                fields = next(csv.reader([text], delimiter=lay.split))
            except csv.Error as e:
                return RatingsError(disp, f"cannot split this line ({e})", lineno, _FIX_ROW)
        else:
            fields = text.split(lay.split)
        if len(fields) > lay.ncols or len(fields) < lay.needed:
            sep = f" separated by {lay.sep_name}" if lay.sep_name else ""
            return RatingsError(
                disp,
                f"expected {lay.ncols} fields{sep} ({expect}), found {len(fields)}",
                lineno,
                _FIX_ROW,
            )
        for what, j in (("user", lay.user), ("movie", lay.item)):
            v = fields[j].strip()
            if not v:
                return RatingsError(disp, f"the {what} ID is empty", lineno, _FIX_ROW)
            if lay.int_ids and not _is_int(v):
                return RatingsError(
                    disp,
                    f"the {what} ID {v!r} is not a whole number",
                    lineno,
                    "MovieLens files use numeric IDs; " + _FIX_ROW,
                )
        rv = fields[lay.rating].strip()
        try:
            rating = float(rv)
        except ValueError:
            return RatingsError(
                disp,
                f"the rating {rv!r} is not a number",
                lineno,
                "ratings are numbers such as 4 or 3.5; " + _FIX_ROW,
            )
        if math.isnan(rating) or not (MIN_RATING <= rating <= MAX_RATING):
            return RatingsError(
                disp,
                f"the rating {rv} is outside the 0-10 scale",
                lineno,
                "ratings are numbers such as 4 or 3.5; " + _FIX_ROW,
            )
        if lay.timestamp is not None:
            tv = fields[lay.timestamp].strip()
            if not _is_int(tv):
                return RatingsError(
                    disp,
                    f"the timestamp {tv!r} is not a whole number of seconds",
                    lineno,
                    "timestamps are Unix times such as 874965758; " + _FIX_ROW,
                )
    return None


_INT = re.compile(r"^[+-]?\d+(\.0*)?$")


def _is_int(s: str) -> bool:
    return bool(_INT.match(s))


# --------------------------------------------------------------------------- movies
def _read_movies(src: _Source, kind: str) -> tuple[pd.DataFrame | None, str]:
    """Movie metadata beside the ratings file: (frame indexed by movie ID, how it was read)."""
    if kind == "ml100k" or src.name.lower() in ("u.data",):
        s = src.sibling("u.item")
        if s is not None:
            return _read_u_item(s, src.sibling("u.genre")), "u.item"
    if kind == "dat":
        s = src.sibling("movies.dat")
        if s is not None:
            return _read_movies_dat(s)
    s = src.sibling("movies.csv")
    if s is not None and s.display != src.display:
        return _read_movies_csv(s), "csv"
    if kind == "delimited":
        s = src.sibling("u.item")
        if s is not None:
            return _read_u_item(s, src.sibling("u.genre")), "u.item"
    return None, ""


def _movie_df(ids: list, titles: list[str], genres: list[str]) -> pd.DataFrame:
    titles = [t.strip() for t in titles]
    years = [parse_year(t) for t in titles]
    df = pd.DataFrame(
        {
            "title": titles,
            "year": pd.array(years, dtype="Int64"),
            "genres": genres,
        },
        index=_id_index(ids),
    )
    return df[~df.index.duplicated(keep="first")]


def _id_index(ids: list) -> pd.Index:
    try:
        return pd.Index(np.asarray([int(str(i).strip()) for i in ids], dtype=np.int64))
    except ValueError:
        return pd.Index([str(i).strip() for i in ids], dtype=object)


def _read_u_item(src: _Source, genre_src: _Source | None) -> pd.DataFrame:
    names = list(ML100K_GENRES)
    if genre_src is not None:
        gmap: dict[int, str] = {}
        for line in genre_src.read_bytes().decode("latin-1").splitlines():
            parts = line.strip().split("|")
            if len(parts) == 2 and parts[1].strip().isdigit():
                gmap[int(parts[1])] = parts[0].strip()
        if gmap:
            names = [gmap.get(k, "") for k in range(max(gmap) + 1)]
    ids, titles, genres, dates = [], [], [], []
    for line in src.read_bytes().decode("latin-1").splitlines():
        parts = line.rstrip("\r\n").split("|")
        if len(parts) < 5 or not parts[0].strip().isdigit():
            continue
        flags = parts[5:]
        g = [
            names[k]
            for k, f in enumerate(flags)
            if f.strip() == "1" and k < len(names) and names[k] and names[k] != "unknown"
        ]
        ids.append(parts[0])
        titles.append(parts[1])
        genres.append("|".join(g))
        m = re.search(r"(\d{4})\s*$", parts[2])
        dates.append(int(m.group(1)) if m else None)
    df = _movie_df(ids, titles, genres)
    # Titles without a year: take it from the release date ("01-Jan-1995").
    miss = df["year"].isna().to_numpy()
    if miss.any():
        by_id = dict(zip(_id_index(ids), dates))
        year = df["year"].copy()
        year[miss] = pd.array([by_id.get(i) for i in df.index[miss]], dtype="Int64")
        df["year"] = year
    return df


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_movies_dat(src: _Source) -> tuple[pd.DataFrame, str]:
    raw = src.read_bytes()
    try:
        text, how = raw.decode("utf-8"), "dat-utf8"
    except UnicodeDecodeError:
        text, how = raw.decode("latin-1"), "dat-latin1"
    ids, titles, genres = [], [], []
    for line in text.splitlines():
        parts = line.split("::")
        if len(parts) < 2 or not parts[0].strip():
            continue
        ids.append(parts[0])
        if len(parts) >= 3:
            titles.append("::".join(parts[1:-1]))
            genres.append(_clean_genres(parts[-1]))
        else:
            titles.append(parts[1])
            genres.append("")
    try:
        return _movie_df(ids, titles, genres), how
    except ValueError:
        return _movie_df([], [], []), how


def _clean_genres(g: str) -> str:
    g = g.strip()
    if g in ("(no genres listed)", ""):
        return ""
    return "|".join(x.strip() for x in g.split("|") if x.strip())


def _read_movies_csv(src: _Source) -> pd.DataFrame | None:
    text = _decode(src.read_bytes())
    sep = "\t" if "\t" in text.split("\n", 1)[0] else ","
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, on_bad_lines="skip"
        )
    except (ValueError, csv.Error):
        return None
    cols = {_norm(c): c for c in df.columns}
    idc = next((cols[n] for n in cols if n in _ITEM_NAMES), None)
    tc = next((cols[n] for n in ("title", "name", "movietitle", "moviename") if n in cols), None)
    gc = next((cols[n] for n in ("genres", "genre") if n in cols), None)
    if idc is None or tc is None:
        return None
    ids = df[idc].tolist()
    titles = df[tc].tolist()
    genres = [_clean_genres(g) for g in df[gc].tolist()] if gc else [""] * len(df)
    return _movie_df(ids, titles, genres)


def _match_index_dtype(movies: pd.DataFrame, items: np.ndarray) -> pd.DataFrame | None:
    """Make the movies index the same kind (int or str) as the ratings' item IDs."""
    int_items = items.dtype.kind in "iu"
    int_index = movies.index.dtype.kind in "iu"
    if int_items != int_index:
        if int_items:
            return None  # int ratings IDs, string movie IDs: the files do not belong together
        movies = movies.copy()
        movies.index = pd.Index([str(i) for i in movies.index], dtype=object)
    # Metadata that shares no movie with the ratings is for some other dataset: ignore it.
    sample = pd.unique(items[:2000])
    if len(sample) and not bool(movies.index.isin(sample).any()):
        return None
    return movies


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
