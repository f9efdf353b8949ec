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
- ``rbm-tui``: rbm-tui's own thumbs export (``user,item,rating,title``: item = the dataset's
  movie ID, 5 a like, 1 a dislike, the title as MovieLens writes it; or its table
  ``movieId,title,liked,rating,updated``), one person: any file with a movie ID and a rating
  column, of one user at most; a title, where there is one, checks the ID.

Anything else, or a bad value, raises :class:`~engine.errors.RatingsError` naming the file and
the line; nothing is read past it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.data.columns import ITEM_NAMES, RATING_NAMES, USER_NAMES, normalise, shown
from engine.data.sources import check_readable
from engine.errors import RatingsError
from engine.taste.titles import split_movielens

#: Files larger than this are not a person's ratings export.
MAX_BYTES = 64 * 1024 * 1024
_TT = re.compile(r"^(?:tt)?0*(\d{1,10})$", re.IGNORECASE)
_NOT_FILMS = ("series", "episode", "game", "podcast", "musicvideo")
#: How a zip starts: its first file, or the end record of an empty one.
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")


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
    movie ID (rbm-tui exports); ``film`` False for TV series, episodes, games; ``person`` the
    user column of an rbm-tui export."""

    line: int
    rating: float
    title: str = ""
    original_title: str = ""
    year: int | None = None
    imdb: int | None = None
    tmdb: int | None = None
    item: str | None = None
    film: bool = True
    person: str = ""
    raw: dict[str, str] = field(default_factory=dict)


@dataclass
class Parsed:
    """A parsed export: its format, its header as written, its rated rows, unrated rows."""

    format: Format
    header: list[str]
    rows: list[TasteRow]
    unrated: int = 0


def read_text(path: Path) -> tuple[str, Path]:
    """The export's text and the path its messages name. Letterboxd's export as downloaded
    (a zip) is read from its ``ratings.csv``, named ``<zip>/ratings.csv``. UTF-8 (a BOM
    dropped), UTF-16 with its BOM (Excel's "Unicode text"), else Windows-1252/Latin-1."""
    raw = _read_bytes(path)
    if raw[:4] in _ZIP_STARTS:
        path, raw = _from_zip(path, raw)
    return _decode(path, raw), path


def _read_bytes(path: Path) -> bytes:
    check_readable(path)
    if path.is_dir():
        raise RatingsError(path, "a folder, not a ratings export", hint="pass the CSV file")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RatingsError(path, f"larger than {MAX_BYTES >> 20} MB: not a ratings export")
        return path.read_bytes()
    except OSError as e:
        raise RatingsError(path, f"cannot read it: {e.strerror or e}") from None


def _from_zip(path: Path, raw: bytes) -> tuple[Path, bytes]:
    """The ``ratings.csv`` nearest the top of a zip (else its only CSV file) and its bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            csvs = [i for i in z.infolist() if i.filename.lower().endswith(".csv")]
            named = [i for i in csvs if i.filename.lower().rsplit("/", 1)[-1] == "ratings.csv"]
            pick = min(named or (csvs if len(csvs) == 1 else []), key=_depth, default=None)
            if pick is None:
                raise RatingsError(
                    path,
                    f"a zip without ratings.csv ({len(csvs)} CSV files in it)",
                    hint="Letterboxd's export zip holds ratings.csv; or pass the CSV file",
                )
            if pick.file_size > MAX_BYTES:
                raise RatingsError(path / pick.filename, "too large to be a ratings export")
            return path / pick.filename, z.read(pick)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as e:
        raise RatingsError(path, f"a damaged or locked zip ({e})") from None


def _depth(info: zipfile.ZipInfo) -> tuple[int, str]:
    return info.filename.count("/"), info.filename


def _decode(path: Path, raw: bytes) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise RatingsError(path, "broken UTF-16 text", hint="save it as UTF-8 CSV") from None
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


def header_of(text: str) -> tuple[str, list[str]]:
    """The delimiter and the stripped header cells of an export's text (its first line that
    is not blank); ``[]`` when there is none."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delim = _delimiter(first)
    return delim, [h.strip() for h in next(csv.reader([first], delimiter=delim), [])]


def sniff_file(path: str | Path, head_bytes: int = 64 * 1024) -> Format:
    """The format of the export at ``path`` from its first ``head_bytes`` (a zip: its
    ratings.csv); raises :class:`RatingsError` (file, line, problem)."""
    path = Path(path)
    check_readable(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(head_bytes)
    except OSError as e:  # a folder too
        raise RatingsError(path, f"cannot read it: {e.strerror or e}") from None
    if head[:4] in _ZIP_STARTS:
        text, path = read_text(path)
    else:
        text = _decode(path, head)
    header = header_of(text)[1]
    if not header:
        raise RatingsError(path, "the file is empty", hint="export your ratings again")
    return sniff(path, header)


def parse(path: str | Path) -> Parsed:
    """Read and parse one export; raises :class:`RatingsError` (file, line, problem)."""
    text, path = read_text(Path(path))
    delim, first = header_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
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
    _read_rows(path, reader, keys, header, parsed, decimal_comma=delim != ",")
    if fmt.name == "rbm-tui":
        _one_person(path, parsed.rows)
    return parsed


def _read_rows(
    path: Path, reader, keys: list[str], header: list[str], out: Parsed, decimal_comma: bool
) -> None:
    """Parse the data records; a record's line is the one it starts on (a Letterboxd review
    may span several)."""
    row_of = _PARSERS[out.format.name]
    end = reader.line_num
    records = iter(reader)
    while True:
        start = end + 1
        try:
            cells = next(records, None)
        except csv.Error as e:
            raise RatingsError(path, _csv_problem(e), line=start, hint=_QUOTE_HINT) from None
        if cells is None:
            return
        end = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise RatingsError(
                path,
                f"{len(cells)} cells where the header has {len(header)}",
                line=start,
                hint=_QUOTE_HINT,
            )
        vals = {k: c.strip() for k, c in zip(keys, cells)}
        row = row_of(_Cells(path, start, vals, out.format, decimal_comma))
        if row is None:
            out.unrated += 1
            continue
        row.raw = dict(zip(header, cells))
        out.rows.append(row)


_QUOTE_HINT = "a stray quote or separator? fix or delete this line"


def _csv_problem(e: csv.Error) -> str:
    if "unexpected end of data" in str(e):
        return "a quote opened here is never closed"
    return f"bad CSV ({e})"


@dataclass
class _Cells:
    """One data line's cells by normalised column name, with checked conversions."""

    path: Path
    line: int
    vals: dict[str, str]
    fmt: Format
    decimal_comma: bool = False

    def get(self, *names: str) -> str:
        """The first of these columns that has a value; a value over several lines (a title
        whose quote swallowed the next rows) is refused."""
        text = next((self.vals[n] for n in names if self.vals.get(n)), "")
        if "\n" in text or "\r" in text:
            raise self.fail(f"{shown(text)} runs over several lines: a stray quote?")
        return text

    def fail(self, problem: str) -> RatingsError:
        return RatingsError(self.path, problem, line=self.line, hint="fix or delete this line")

    def rating(self, *names: str) -> float | None:
        text = self.get(*names)
        if not text:
            return None
        if self.decimal_comma and text.count(",") == 1:
            text = text.replace(",", ".")  # a semicolon-separated sheet's 4,5
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


def _titled(c: _Cells, rating: float, **ids: Any) -> TasteRow:
    """A row whose ``title`` column is written as MovieLens writes titles (names, year)."""
    names, year = split_movielens(c.get("title"))
    main, original = (names + ["", ""])[:2]
    return TasteRow(c.line, rating, title=main, original_title=original, year=year, **ids)


def _movielens(c: _Cells) -> TasteRow | None:
    rating = c.rating("rating")
    if rating is None:
        return None
    return _titled(c, rating, imdb=c.ident("imdbid"), tmdb=c.ident("tmdbid"))


def _rbm_tui(c: _Cells) -> TasteRow | None:
    rating = c.rating(*sorted(RATING_NAMES))
    item = c.get(*sorted(ITEM_NAMES))
    if rating is None or not item:
        raise c.fail("a row without a movie or a rating")
    return _titled(c, rating, item=item, person=c.get(*sorted(USER_NAMES)))


def _one_person(path: Path, rows: list[TasteRow]) -> None:
    people = {r.person for r in rows}
    if len(people) > 1:
        raise RatingsError(
            path,
            f"it holds the ratings of {len(people):,} people, not one person's thumbs",
            hint="import a dataset with 'rbm-tui datasets import' instead",
        )


_PARSERS: dict[str, Callable[[_Cells], TasteRow | None]] = {
    "imdb": _imdb,
    "letterboxd": _letterboxd,
    "movielens": _movielens,
    "rbm-tui": _rbm_tui,
}
