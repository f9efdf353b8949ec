"""Parsing a ratings file into arrays: layout sniffing, the fast pandas read, and the
line-by-line hunt for the first bad line.

The fast path is pandas' C parser with fixed dtypes. When it fails, or when validation finds a
bad value, a slower scan finds the first bad line so that the
:class:`~engine.errors.RatingsError` can name the file, the 1-based line number, the problem
and the fix.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine._lazy import lazy_module
from engine.data.columns import (
    FIX_ROW,
    ITEM_NAMES,
    RATING_NAMES,
    TIME_NAMES,
    USER_NAMES,
    is_int,
    is_number,
    normalise,
    shown,
)
from engine.data.sources import FileSource, Source
from engine.errors import RatingsError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

FORMAT_ML100K = "movielens-100k"
FORMAT_ML1M = "movielens-1m"
FORMAT_ML10M = "movielens-10m"
FORMAT_ML_LATEST = "movielens-latest"
FORMAT_CSV = "csv"

#: Ratings must lie in this range (inclusive); anything else is a broken file.
MIN_RATING, MAX_RATING = 0.0, 10.0


@dataclass
class Layout:
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


def _decode_first_line(src: Source) -> str | None:
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


def _unix_times(src: Source, sep: str, column: int) -> bool:
    """Whether the first data line's field ``column`` is a whole number of seconds (or the
    file has no data line yet): a Unix time, as rbm-tui reads timestamps."""
    lines = [x for x in src.head(1 << 16).splitlines() if x.strip()]
    if len(lines) < 2:
        return True
    fields = _split_quoted(lines[1].decode("utf-8", "replace"), sep)
    return column >= len(fields) or is_int(fields[column].strip())


def sniff_layout(src: Source) -> tuple[Layout, str]:
    first = _decode_first_line(src)
    if first is None:
        raise RatingsError(src.display, "the file is empty", hint="pick the ratings file itself")
    counts = {d: _split_quoted(first, d) for d in (",", ";", "\t")}
    sep = max(counts, key=lambda d: len(counts[d]))
    fields = counts[sep]
    sep_name = {",": "commas", ";": "semicolons", "\t": "tabs"}[sep]
    if all(is_number(f) for f in fields):
        # No header: user, item, rating[, timestamp] like u.data.
        if len(fields) not in (3, 4):
            raise RatingsError(
                src.display,
                f"cannot tell the columns: no header and {len(fields)} fields",
                line=1,
                hint="add a header line naming the user, item and rating columns",
            )
        ts = 3 if len(fields) == 4 else None
        lay = Layout(sep, sep, len(fields), False, 0, 1, 2, ts, False, True, sep_name)
        return lay, FORMAT_CSV
    names = [normalise(f) for f in fields]

    def find(options: Collection[str]) -> int | None:
        for j, n in enumerate(names):
            if n in options:
                return j
        return None

    u, i, r, t = find(USER_NAMES), find(ITEM_NAMES), find(RATING_NAMES), find(TIME_NAMES)
    if t is not None and not _unix_times(src, sep, t):
        t = None  # a time column of dates ("datetime"): optional, so left out, not refused
    if u is None or i is None or r is None:
        missing = [w for w, j in (("user", u), ("item", i), ("rating", r)) if j is None]
        raise RatingsError(
            src.display,
            f"unknown column layout: no {', '.join(missing)} column among "
            + ", ".join(repr(f) for f in fields),
            line=1,
            hint="name the columns user, item, rating (and optionally timestamp) in the header",
        )
    lay = Layout(sep, sep, len(fields), True, u, i, r, t, False, True, sep_name)
    fmt = FORMAT_CSV
    if src.name.lower() == "ratings.csv" and names[:3] == ["userid", "movieid", "rating"]:
        fmt = FORMAT_ML_LATEST
    return lay, fmt


def _split_quoted(line: str, sep: str) -> list[str]:
    if '"' not in line:
        return line.split(sep)
    return next(csv.reader([line], delimiter=sep))


_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None", int]


def read_ratings(src: Source, lay: Layout, data: bytes | None) -> _Arrays:
    """Fast pandas read with fixed dtypes; on any failure, find and report the first bad line."""
    target: object = io.BytesIO(data) if data is not None else src
    got, err = _parse(target, lay, skip_header=lay.header)
    if got is None:
        _raise_first_bad_line(src, lay, err)
    return got  # type: ignore[return-value]


def _parse(target: object, lay: Layout, skip_header: bool) -> tuple[_Arrays | None, str]:
    """Parse and validate ``target`` (a source or a bytes buffer): (arrays, "") or (None, why)."""
    df, why = _read_frame(target, lay, skip_header)
    if df is None:
        return None, why
    if not isinstance(df.index, pd.RangeIndex):
        return None, "rows have more fields than the header"
    return _frame_arrays(df, lay)


def _read_frame(target: object, lay: Layout, skip_header: bool) -> tuple[pd.DataFrame | None, str]:
    """The file as a frame of columns ``c0, c1, ...``: (frame, "") or (None, why).

    IDs are read as int32 first (half the memory on big files), int64 when they overflow, and
    for generic files as strings when they are not all whole numbers."""
    id_type = _first_id_type()
    while True:
        try:
            return _read_csv(target, lay, skip_header, id_type), ""
        except RatingsError:  # the source itself cannot be read (a damaged zip)
            raise
        except (ValueError, OverflowError, csv.Error) as e:
            if id_type is np.int32 and "int32" in str(e):
                id_type = np.int64
            elif id_type is not str and not lay.int_ids:
                id_type = str
            else:
                return None, str(e)


def _first_id_type() -> object:
    """int32 where pandas refuses an ID that overflows it (pandas 3 on); pandas 2 wraps such
    an ID around silently (3000000000 read as -1294967296), so IDs start as int64 there."""
    return np.int32 if int(pd.__version__.split(".")[0]) >= 3 else np.int64


def _read_csv(target: object, lay: Layout, skip_header: bool, id_type: object) -> pd.DataFrame:
    """One pandas read of ``target`` with IDs of ``id_type``; numeric warnings (an overflow
    on ``1e308``) are silenced: the checks after it report the bad value on one line."""
    names = [f"c{j}" for j in range(lay.ncols)]
    dtype: dict[str, object] = {n: str for n in names}
    dtype.update(
        {names[lay.user]: id_type, names[lay.item]: id_type, names[lay.rating]: np.float32}
    )
    if lay.timestamp is not None:
        dtype[names[lay.timestamp]] = np.int64
    kw: dict[str, object] = dict(
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
    with np.errstate(all="ignore"):
        if isinstance(target, io.BytesIO):
            target.seek(0)
            return pd.read_csv(target, **kw)
        if isinstance(target, FileSource):
            return pd.read_csv(target.path, **kw)
        assert isinstance(target, Source)
        with target.open() as fh:
            return pd.read_csv(fh, **kw)


def _frame_arrays(df: pd.DataFrame, lay: Layout) -> tuple[_Arrays | None, str]:
    """The checked columns of ``df``: (arrays, "") or (None, why) when a value is bad."""
    n = len(df)
    values = df.iloc[:, lay.rating].to_numpy(dtype=np.float32)
    users = _id_column(df.iloc[:, lay.user])
    items = _id_column(df.iloc[:, lay.item])
    ts = df.iloc[:, lay.timestamp].to_numpy(dtype=np.int64) if lay.timestamp is not None else None
    del df
    with np.errstate(invalid="ignore"):
        in_range = bool(((values >= MIN_RATING) & (values <= MAX_RATING)).all())
    if not in_range:
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
#: ...and bytes per block at most, so that a block of long lines stays small in memory.
_SCAN_BYTES = 16 << 20


def _raise_first_bad_line(src: Source, lay: Layout, fallback: str) -> None:
    """Find the first bad line of ``src`` and raise a RatingsError naming it.

    The file is cut into blocks of lines; each block goes through the same pandas parse and
    checks as the whole file, and only a block that fails is scanned line by line.
    """
    block: list[bytes] = []
    size = 0
    first = 1  # line number of block[0]
    with src.open() as fh:
        for raw in fh:
            block.append(raw)
            size += len(raw)
            if len(block) >= _SCAN_BLOCK or size >= _SCAN_BYTES:
                _check_block(src, lay, block, first)
                first += len(block)
                block, size = [], 0
    if block:
        _check_block(src, lay, block, first)
    raise RatingsError(src.display, f"cannot read the ratings: {fallback}", hint=FIX_ROW)


def _check_block(src: Source, lay: Layout, block: list[bytes], first: int) -> None:
    skip_header = lay.header and first == 1
    buf = b"".join(block)
    if lay.split != lay.sep:
        buf = buf.replace(lay.split.encode(), lay.sep.encode())
    if buf.strip() and not (skip_header and len(block) == 1):
        got, _ = _parse(io.BytesIO(buf), lay, skip_header)
        if got is not None:
            return
    del buf
    found = _scan_lines(src.display, lay, block, first)
    if found is not None:
        raise found


def _scan_lines(disp: str, lay: Layout, lines: list[bytes], first: int) -> RatingsError | None:
    """The first bad line among ``lines`` (numbered from ``first``), checked one by one."""
    for lineno, raw in enumerate(lines, start=first):
        fields = _line_fields(disp, lay, raw, lineno)
        if isinstance(fields, RatingsError):
            return fields
        if fields is not None:
            found = _check_fields(disp, lay, fields, lineno)
            if found is not None:
                return found
    return None


def _line_fields(
    disp: str, lay: Layout, raw: bytes, lineno: int
) -> list[str] | RatingsError | None:
    """The fields of one line, None for a line to skip (blank, the header), or the error."""
    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        hint = "save the file as UTF-8 text"
        return RatingsError(disp, "this line is not valid UTF-8 text", line=lineno, hint=hint)
    if not text.strip() or (lay.header and lineno == 1):
        return None
    if not (lay.quoted and '"' in text):
        return text.split(lay.split)
    try:
        return next(csv.reader([text], delimiter=lay.split))
    except csv.Error as e:
        return RatingsError(disp, f"cannot split this line ({e})", lineno, FIX_ROW)


def _check_fields(disp: str, lay: Layout, fields: list[str], lineno: int) -> RatingsError | None:
    """The first problem of one line's fields: their count, the IDs, the rating, the time."""
    if len(fields) > lay.ncols or len(fields) < lay.needed:
        expect = "user, movie, rating" + (", timestamp" if lay.timestamp is not None else "")
        sep = f" separated by {lay.sep_name}" if lay.sep_name else ""
        problem = f"expected {lay.ncols} fields{sep} ({expect}), found {len(fields)}"
        return RatingsError(disp, problem, lineno, FIX_ROW)
    for what, j in (("user", lay.user), ("movie", lay.item)):
        found = _check_id(disp, lay, what, fields[j].strip(), lineno)
        if found is not None:
            return found
    found = _check_rating(disp, fields[lay.rating].strip(), lineno)
    if found is None and lay.timestamp is not None:
        tv = fields[lay.timestamp].strip()
        if not is_int(tv):
            return RatingsError(
                disp,
                f"the timestamp {shown(tv)} is not a whole number of seconds",
                lineno,
                "timestamps are Unix times such as 874965758; " + FIX_ROW,
            )
    return found


def _check_id(disp: str, lay: Layout, what: str, v: str, lineno: int) -> RatingsError | None:
    if not v:
        return RatingsError(disp, f"the {what} ID is empty", lineno, FIX_ROW)
    if lay.int_ids and not is_int(v):
        return RatingsError(
            disp,
            f"the {what} ID {shown(v)} is not a whole number",
            lineno,
            "MovieLens files use numeric IDs; " + FIX_ROW,
        )
    return None


def _check_rating(disp: str, rv: str, lineno: int) -> RatingsError | None:
    hint = "ratings are numbers such as 4 or 3.5; " + FIX_ROW
    try:
        rating = float(rv)
    except ValueError:
        return RatingsError(disp, f"the rating {shown(rv)} is not a number", lineno, hint)
    if math.isnan(rating) or not (MIN_RATING <= rating <= MAX_RATING):
        return RatingsError(disp, f"the rating {shown(rv)} is outside the 0-10 scale", lineno, hint)
    return None
