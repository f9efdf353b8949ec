"""Bring your own taste: a person's ratings exported from IMDb, Letterboxd or MovieLens.org
(or rbm-tui itself) turned into thumbs on a dataset's movies.

>>> from engine.taste import import_file, read_links
>>> data_path = engine.catalogue.resolve("ml-latest-small")   # a folder, zip or ratings file
>>> ratings = engine.load_ratings(data_path)
>>> result = import_file("ratings.csv", ratings, links=read_links(data_path))
>>> result.thumbs      # {movie ID: True for a like, False for a dislike}
>>> result.summary()   # one line: format, threshold, matched, unmatched (and where listed)
>>> result.to_json("Anna")  # {"rows", "matched", "unmatched", "unmatched_file", "profile"}

Modules: :mod:`~engine.taste.formats` (sniff and parse), :mod:`~engine.taste.titles` (title
keys), :mod:`~engine.taste.match` (rows to movies), :mod:`~engine.taste.links`
(``links.csv``), :mod:`~engine.taste.report` (the result and the unmatched file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import RatingsError, SettingError
from engine.taste.formats import FORMATS, Format, TasteRow, parse
from engine.taste.links import read_links
from engine.taste.match import Matcher
from engine.taste.report import ImportResult, Unmatched, write_unmatched

if TYPE_CHECKING:
    import pandas as pd

    from engine.data.ratings import Ratings

__all__ = [
    "FORMATS",
    "Format",
    "ImportResult",
    "Imported",
    "Matcher",
    "import_file",
    "import_thumbs",
    "read_links",
]


def movies_frame(movies: pd.DataFrame | Ratings) -> pd.DataFrame:
    """``movies`` indexed by the dataset's movie ID: a :class:`Ratings`' ``movies`` (one row
    per movie index) gets its ``item_ids`` as index; a frame is taken as it is."""
    if hasattr(movies, "item_ids"):
        frame = movies.movies
        return frame.set_axis(list(movies.item_ids[: len(frame)]))
    return movies


def check_threshold(fmt: Format, threshold: float | None, path: Path | None = None) -> float:
    """``threshold`` (the format's default when None), refused outside the format's scale."""
    if threshold is None:
        return fmt.threshold
    if not fmt.low <= threshold <= fmt.high:
        raise SettingError(
            f"{'' if path is None else f'{path}: '}like threshold {threshold:g} is outside "
            f"the {fmt.label}'s scale "
            f"({fmt.low:g}-{fmt.high:g}); the default is {fmt.threshold:g}"
        )
    return float(threshold)


def import_file(
    path: str | Path,
    movies: pd.DataFrame | Ratings,
    links: pd.DataFrame | None = None,
    threshold: float | None = None,
    *,
    unmatched_dir: Path | None = None,
    tag: str = "",
) -> ImportResult:
    """Read one person's ratings export and match it to a dataset's movies.

    Args:
        path: an IMDb, Letterboxd, MovieLens.org or rbm-tui export (CSV; sniffed from the
            header).
        movies: the dataset's :class:`Ratings`, or a frame indexed by its movie ID with
            ``title`` (MovieLens's form, ``"Matrix, The (1999)"``) and ``year`` (Int64).
        links: the dataset's ``links.csv`` (:func:`read_links`), or None: titles only.
        threshold: a rating at or above it is a like, on the file's own scale (IMDb 1-10,
            the others 0.5-5); None: the format's default (IMDb 6, the others 3).
        unmatched_dir: where to write ``<format>-<name>[-<tag>]-unmatched.csv`` (default
            ``<data dir>/imports``).
        tag: what tells this import's list of unmatched rows from another's of a file of
            the same name (the callers: the dataset and the profile).

    Returns an :class:`ImportResult`; nothing else is written. Raises
    :class:`~engine.errors.RatingsError` (file, line, problem) for an unreadable or foreign
    file and :class:`~engine.errors.SettingError` for a threshold outside the scale.
    """
    path = Path(path)
    parsed = parse(path)
    result = ImportResult(path, parsed.format, check_threshold(parsed.format, threshold, path))
    result.rows, result.unrated = len(parsed.rows), parsed.unrated
    matcher = Matcher(movies_frame(movies), links)
    for row in parsed.rows:
        m = matcher.match(row)
        if m.item is None:
            result.unmatched_rows.append(Unmatched(row, m.how))
            continue
        result.matched += 1
        result.methods[m.how] = result.methods.get(m.how, 0) + 1
        result.thumbs[m.item] = row.rating >= result.threshold
    _check_ids(path, parsed.rows, result.unmatched_rows)
    if result.unmatched_rows:
        result.unmatched_file = write_unmatched(
            path, parsed.format, parsed.header, result.unmatched_rows, unmatched_dir, tag
        )
    return result


@dataclass
class Imported:
    """An import written to the ratings store: the export's :class:`ImportResult`, the
    thumbs ``written``, ``kept`` (given by hand: not replaced) and ``unchanged``, and the
    ``profile`` they went to."""

    result: ImportResult
    written: int
    kept: int
    unchanged: int
    profile: str


def import_thumbs(
    path: str | Path,
    ratings: pd.DataFrame | Ratings,
    links: pd.DataFrame | None,
    store: Any,
    key: str,
    profile: str,
    threshold: float | None = None,
    *,
    replace: bool = False,
    create: bool = False,
) -> Imported:
    """Read and match ``path`` (:func:`import_file`), then write its thumbs to ``profile`` on
    dataset ``key`` of ``store`` (an :class:`engine.userstore.UserStore`) in one transaction,
    one undo step. ``replace``: over thumbs given by hand too; ``create``: make the profile
    when it is missing (a new person). Nothing is written when the file is unreadable or
    foreign."""
    result = import_file(path, ratings, links, threshold, tag=f"{key}-{profile}")
    if create:
        profile = store.ensure_profile(profile)
    done = store.import_items(key, profile, result.thumbs.items(), replace=replace)
    return Imported(result, done.written, done.kept, done.unchanged, profile)


def _check_ids(path: Path, rows: list[TasteRow], unmatched: list[Unmatched]) -> None:
    """Refuse a file of bare movie IDs (no titles) most of which the dataset lacks: it was
    made from another dataset, and the IDs it shares mean other movies there."""
    bare = sum(r.item is not None and not r.title for r in rows)
    lost = sum(u.row.item is not None and not u.row.title for u in unmatched)
    if bare and 2 * lost > bare:
        raise RatingsError(
            path,
            f"{lost:,} of its {bare:,} movie IDs are not in this dataset: it was made from "
            "another one, whose IDs mean other movies here",
            hint="import it into the dataset it came from; an export with titles crosses datasets",
        )
