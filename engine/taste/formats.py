"""The rating exports rbm-tui reads, sniffed from the header, parsed into :class:`TasteRow`.

- ``imdb``: IMDb's ratings export (``Const`` = ``tt`` id, ``Your Rating`` 1-10, ``Date Rated``,
  ``Title``, ``Original Title``, ``URL``, ``Title Type``, ``IMDb Rating``, ``Runtime (mins)``,
  ``Year``, ``Genres``, ``Num Votes``, ``Release Date``, ``Directors``; the pre-2017 export's
  ``const`` / ``You rated`` too);
- ``letterboxd``: Letterboxd's ``ratings.csv`` (``Date``, ``Name``, ``Year``,
  ``Letterboxd URI``, ``Rating`` 0.5-5; ``diary.csv`` and ``reviews.csv`` too, unrated rows
  skipped);
- ``movielens``: MovieLens.org's export (``movie_id``, ``imdb_id``, ``tmdb_id``, ``rating``
  0.5-5, ``average_rating``, ``title`` as MovieLens writes it);
- ``rbm-tui``: rbm-tui's own thumbs export (``user,item,rating``: item = the dataset's movie
  ID, 5 a like, 1 a dislike; or its table ``movieId,title,liked,rating,updated``), one
  person: any file with a movie ID and a rating column, of one user at most.

Anything else, or a bad value, raises :class:`~engine.errors.RatingsError` naming the file and
the line; nothing is read past it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.columns import ITEM_NAMES, RATING_NAMES, USER_NAMES, normalise, shown
from engine.data.sources import check_readable
from engine.errors import RatingsError
from engine.taste.titles import split_movielens

#: Files larger than this are not a person's ratings export.
MAX_BYTES = 64 * 1024 * 1024
_TT = re.compile(r"^(?:tt)?0*(\d{1,10})$", re.IGNORECASE)
_NOT_FILMS = ("series", "episode", "game", "podcast", "musicvideo")


@dataclass(frozen=True)
class Format:
    """One export format: its name, what to call it, its rating scale and default threshold."""

    name: str
    label: str
    low: float
    high: float
    threshold: float


FORMATS = {
    "imdb": Format("imdb", "IMDb ratings export", 1, 10, 6),
    "letterboxd": Format("letterboxd", "Letterboxd ratings export", 0.5, 5, 3),
    "movielens": Format("movielens", "MovieLens.org ratings export", 0.5, 5, 3),
    "rbm-tui": Format("rbm-tui", "rbm-tui thumbs export", 0.5, 5, 3),
}


@dataclass
class TasteRow:
    """One rated film of an export. ``line`` is the file's line (1 = the header);
    ``imdb``/``tmdb`` are numeric ids (``tt0133093`` -> 133093); ``item`` the dataset's own
    movie ID (rbm-tui exports); ``film`` False for TV series, episodes, games."""

    line: int
    rating: float
    title: str = ""
    original_title: str = ""
    year: int | None = None
    imdb: int | None = None
    tmdb: int | None = None
    item: str | None = None
    film: bool = True
    raw: dict[str, str] = field(default_factory=dict)


@dataclass
class Parsed:
    """A parsed export: its format, its header as written, its rated rows, unrated rows."""

    format: Format
    header: list[str]
    rows: list[TasteRow]
    unrated: int = 0


def read_text(path: Path) -> str:
    """The file's text (UTF-8, a BOM dropped; else Windows-1252/Latin-1)."""
    check_readable(path)
    if path.is_dir():
        raise RatingsError(path, "a folder, not a ratings export", hint="pass the CSV file")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RatingsError(path, f"larger than {MAX_BYTES >> 20} MB: not a ratings export")
        raw = path.read_bytes()
    except OSError as e:
        raise RatingsError(path, f"cannot read it: {e.strerror or e}") from None
    if b"\x00" in raw:
        raise RatingsError(path, "it holds NUL bytes: not a CSV ratings export")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def sniff(path: Path, header: list[str]) -> Format:
    """The format whose columns ``header`` holds; :class:`RatingsError` for anything else."""
    cols = {normalise(c) for c in header}
    if "const" in cols and cols & {"yourrating", "yourated"}:
        return FORMATS["imdb"]
    if {"name", "letterboxduri"} <= cols:
        if "rating" not in cols:
            raise RatingsError(
                path,
                "a Letterboxd export without ratings (watched or watchlist)",
                line=1,
                hint="export your data and pick ratings.csv",
            )
        return FORMATS["letterboxd"]
    if "const" in cols:
        raise RatingsError(
            path,
            "an IMDb list without ratings (a watchlist or a list)",
            line=1,
            hint="export 'Your ratings' from IMDb instead",
        )
    if {"movieid", "imdbid", "rating"} <= cols:
        return FORMATS["movielens"]
    if cols & ITEM_NAMES and cols & RATING_NAMES:  # a person column is optional
        return FORMATS["rbm-tui"]
    raise RatingsError(
        path,
        f"not a ratings export rbm-tui knows (header {shown(','.join(header), 60)})",
        line=1,
        hint="use IMDb's ratings.csv, Letterboxd's ratings.csv, MovieLens's export "
        "or an rbm-tui thumbs export",
    )


def parse(path: str | Path) -> Parsed:
    """Read and parse one export; raises :class:`RatingsError` (file, line, problem)."""
    path = Path(path)
    text = read_text(path)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    try:
        header = next((r for r in reader if any(c.strip() for c in r)), None)
    except csv.Error as e:
        raise RatingsError(path, f"not a CSV file ({e})", line=reader.line_num) from None
    if header is None:
        raise RatingsError(path, "the file is empty", hint="export your ratings again")
    header = [h.strip() for h in header]
    fmt = sniff(path, header)
    keys = [normalise(h) for h in header]
    parsed = Parsed(fmt, header, [])
    _read_rows(path, reader, keys, header, parsed)
    if fmt.name == "rbm-tui":
        _one_person(path, parsed.rows)
    return parsed


def _read_rows(path: Path, reader, keys: list[str], header: list[str], out: Parsed) -> None:
    row_of = _PARSERS[out.format.name]
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            raw = dict(zip(header, cells))
            vals = {k: c.strip() for k, c in zip(keys, cells)}
            row = row_of(_Cells(path, reader.line_num, vals, out.format))
            if row is None:
                out.unrated += 1
                continue
            row.raw = raw
            out.rows.append(row)
    except csv.Error as e:
        raise RatingsError(path, f"bad CSV ({e})", line=reader.line_num) from None


@dataclass
class _Cells:
    """One data line's cells by normalised column name, with checked conversions."""

    path: Path
    line: int
    vals: dict[str, str]
    fmt: Format

    def get(self, *names: str) -> str:
        return next((self.vals[n] for n in names if self.vals.get(n)), "")

    def fail(self, problem: str) -> RatingsError:
        return RatingsError(self.path, problem, line=self.line, hint="fix or delete this line")

    def rating(self, *names: str) -> float | None:
        text = self.get(*names)
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.fail(f"the rating {shown(text)} is not a number") from None
        f = self.fmt
        if not f.low <= value <= f.high:
            raise self.fail(f"the rating {text} is outside {f.label}'s {f.low:g}-{f.high:g}")
        return value

    def year(self, *names: str) -> int | None:
        text = self.get(*names)[:4]
        if not text:
            return None
        if not text.isdigit():
            raise self.fail(f"the year {shown(self.get(*names))} is not a year")
        return int(text)

    def ident(self, *names: str) -> int | None:
        text = self.get(*names)
        if text.endswith(".0"):
            text = text[:-2]
        m = _TT.match(text)
        return int(m.group(1)) if m else None


def _imdb(c: _Cells) -> TasteRow | None:
    rating = c.rating("yourrating", "yourated")
    if rating is None:
        return None
    kind = normalise(c.get("titletype"))
    return TasteRow(
        c.line,
        rating,
        title=c.get("title"),
        original_title=c.get("originaltitle"),
        year=c.year("year"),
        imdb=c.ident("const"),
        film=not any(w in kind for w in _NOT_FILMS),
    )


def _letterboxd(c: _Cells) -> TasteRow | None:
    rating = c.rating("rating")
    if rating is None:
        return None
    return TasteRow(c.line, rating, title=c.get("name"), year=c.year("year"))


def _movielens(c: _Cells) -> TasteRow | None:
    rating = c.rating("rating")
    if rating is None:
        return None
    names, year = split_movielens(c.get("title"))
    return TasteRow(
        c.line,
        rating,
        title=names[0] if names else "",
        original_title=names[1] if len(names) > 1 else "",
        year=year,
        imdb=c.ident("imdbid"),
        tmdb=c.ident("tmdbid"),
    )


def _rbm_tui(c: _Cells) -> TasteRow | None:
    rating = c.rating(*sorted(RATING_NAMES))
    item = c.get(*sorted(ITEM_NAMES))
    if rating is None or not item:
        raise c.fail("a row without a movie or a rating")
    row = TasteRow(c.line, rating, item=item)
    row.title = c.get(*sorted(USER_NAMES))  # the person, checked by _one_person
    return row


def _one_person(path: Path, rows: list[TasteRow]) -> None:
    people = {r.title for r in rows}
    if len(people) > 1:
        raise RatingsError(
            path,
            f"it holds the ratings of {len(people):,} people, not one person's thumbs",
            hint="import a dataset with 'rbm-tui datasets import' instead",
        )
    for r in rows:
        r.title = ""


_PARSERS: dict[str, Callable[[_Cells], TasteRow | None]] = {
    "imdb": _imdb,
    "letterboxd": _letterboxd,
    "movielens": _movielens,
    "rbm-tui": _rbm_tui,
}
