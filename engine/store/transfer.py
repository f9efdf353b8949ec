"""Writing a profile's thumbs to CSV files (atomically: temporary file + rename)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from engine import files

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


def ratings_rows(
    user: str, thumbs: Iterable[tuple[object, bool]], titles: Titles = None
) -> list[tuple]:
    """The header and ``user,item,rating`` rows (5 a like, 1 a dislike) of ``thumbs``, and a
    ``title`` column when ``titles`` is given (it lets an import into another dataset, whose
    IDs mean other movies, match by title)."""
    if titles is None:
        return [RATINGS_HEADER, *((user, i, _stars(liked)) for i, liked in thumbs)]
    header = (*RATINGS_HEADER, "title")
    return [header, *((user, i, _stars(liked), _title(titles, i)) for i, liked in thumbs)]


def _stars(liked: bool) -> int:
    return LIKE_RATING if liked else DISLIKE_RATING


def write_ratings(
    path: str | Path, user: str, thumbs: Iterable[tuple[object, bool]], titles: Titles = None
) -> int:
    """Write :func:`ratings_rows` to ``path``; returns how many thumbs."""
    rows = ratings_rows(user, thumbs, titles)
    _write(path, rows)
    return len(rows) - 1


def write_table(path: str | Path, items: list, titles: Titles = None) -> int:
    """Write ``movieId, title, liked, rating, updated`` rows of ``RatedItem`` s (the app's
    export: titles and times for people); returns how many."""
    rows: list[Iterable[object]] = [("movieId", "title", "liked", "rating", "updated")]
    for r in items:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.updated))
        rows.append((r.item_id, _title(titles, r.item_id), int(r.liked), _stars(r.liked), stamp))
    _write(path, rows)
    return len(items)


def _title(titles: Titles, item_id: object) -> str:
    if titles is None:
        return ""
    if callable(titles):
        return titles(item_id) or ""
    return str(titles.get(item_id, "") or "")
