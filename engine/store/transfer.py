"""Writing a profile's thumbs to CSV files (atomically: temporary file + rename)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from engine import files
from engine.settings import LIKE_THRESHOLD

#: The ratings a thumb is written as: a like is 5 stars, a dislike 1.
LIKE_RATING, DISLIKE_RATING = 5, 1
#: The header of :func:`write_ratings` (a ratings file every loader reads).
RATINGS_HEADER = ("user", "item", "rating")

Titles = Mapping[object, str] | Callable[[object], str | None] | None


def _write(path: str | Path, rows: Iterable[Iterable[object]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    files.write_bytes(target, buf.getvalue().encode("utf-8"))


def thumb_stars(like_threshold: float = LIKE_THRESHOLD) -> tuple[float, float]:
    """``(like, dislike)``: the ratings a thumb is written as for data whose likes start at
    ``like_threshold``: 5 and 1 stars on MovieLens' scales, the threshold itself for a like
    above 5 (6 on a 1-10 scale: a 5 would read as a dislike there), half of it for a dislike
    at 1 or below."""
    like = max(float(LIKE_RATING), like_threshold)
    dislike = float(DISLIKE_RATING) if DISLIKE_RATING < like_threshold else like_threshold / 2
    return like, dislike


def ratings_rows(
    user: str,
    thumbs: Iterable[tuple[object, bool]],
    titles: Titles = None,
    like_threshold: float = LIKE_THRESHOLD,
) -> list[tuple]:
    """The header and ``user,item,rating`` rows of ``thumbs`` (:func:`thumb_stars` of
    ``like_threshold``: 5 a like, 1 a dislike on MovieLens' scales), and a ``title`` column
    when ``titles`` is given (it lets an import into another dataset, whose IDs mean other
    movies, match by title)."""
    like, dislike = (_whole(v) for v in thumb_stars(like_threshold))
    if titles is None:
        return [RATINGS_HEADER, *((user, i, like if up else dislike) for i, up in thumbs)]
    header = (*RATINGS_HEADER, "title")
    return [header, *((user, i, like if up else dislike, _title(titles, i)) for i, up in thumbs)]


def _whole(v: float) -> float | int:
    """``5`` rather than ``5.0`` in the file."""
    return int(v) if float(v).is_integer() else v


def write_ratings(
    path: str | Path,
    user: str,
    thumbs: Iterable[tuple[object, bool]],
    titles: Titles = None,
    like_threshold: float = LIKE_THRESHOLD,
) -> int:
    """Write :func:`ratings_rows` to ``path``; returns how many thumbs."""
    rows = ratings_rows(user, thumbs, titles, like_threshold)
    _write(path, rows)
    return len(rows) - 1


def write_table(path: str | Path, items: list, titles: Titles = None) -> int:
    """Write ``movieId, title, liked, rating, updated`` rows of ``RatedItem`` s (the app's
    export: titles and times for people); returns how many."""
    rows: list[Iterable[object]] = [("movieId", "title", "liked", "rating", "updated")]
    for r in items:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.updated))
        stars = LIKE_RATING if r.liked else DISLIKE_RATING
        rows.append((r.item_id, _title(titles, r.item_id), int(r.liked), stars, stamp))
    _write(path, rows)
    return len(items)


def _title(titles: Titles, item_id: object) -> str:
    if titles is None:
        return ""
    if callable(titles):
        return titles(item_id) or ""
    return str(titles.get(item_id, "") or "")
