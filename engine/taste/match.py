"""Matching the rows of an export to a dataset's movies: by id where it can, else by title.

Order: the IMDb id, then the TMDb id (both through the dataset's ``links.csv``), then the
dataset's own movie ID (rbm-tui exports; taken only when the row's title, if it has one, is
that movie's: another dataset's IDs mean other movies), then the title and year:

1. a row's title (or original title) has the same key (:func:`~engine.taste.titles.title_key`)
   as a movie's main or alternative title, same year; failing that, a year off by one when one
   movie only is that close;
2. failing that, a title in parts (``"Star Wars: Episode IV - A New Hope"``) whose series name
   or subtitle is the other's whole title, or two titles with one subtitle of two words or
   more (``"Star Wars: The Force Awakens"``), same year only.

A wrong match is worse than none: two different movies that fit equally leave the row
unmatched, a movie whose IMDb/TMDb id differs from the row's is never taken, a row without a
year or of a TV series is matched by id only. The same film listed twice under one title and
year and genres (ML-100K has a few) goes to the first of them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine._lazy import lazy_module
from engine.taste.formats import TasteRow
from engine.taste.titles import in_parts, short_keys, split_movielens, tail_keys, title_key

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: How a row matched (the keys of ``ImportResult.methods``).
METHODS = ("imdb", "tmdb", "item", "title", "title, year ±1", "title in parts")


@dataclass
class Match:
    """A row's movie (the dataset's movie ID, or None) and how it matched or why not."""

    item: object
    how: str


def _id_map(values: pd.Series) -> dict[int, object]:
    out: dict[int, object] = {}
    for movie, v in values.dropna().items():
        out.setdefault(int(v), movie)
    return out


class Matcher:
    """The lookups of one dataset. ``movies``: a frame indexed by the dataset's movie ID with
    ``title`` (MovieLens's form, year included) and ``year`` (may be NA); ``links``: a frame
    indexed by the same IDs with ``imdb``/``tmdb`` (see :func:`engine.taste.links.read_links`),
    or None."""

    def __init__(self, movies: pd.DataFrame, links: pd.DataFrame | None = None) -> None:
        self.by_item = {str(i): i for i in movies.index}
        self.imdb_of: dict[object, int] = {}
        self.tmdb_of: dict[object, int] = {}
        self.by_imdb: dict[int, object] = {}
        self.by_tmdb: dict[int, object] = {}
        if links is not None:
            known = links[links.index.isin(movies.index)]
            self.by_imdb, self.by_tmdb = _id_map(known["imdb"]), _id_map(known["tmdb"])
            self.imdb_of = {m: i for i, m in self.by_imdb.items()}
            self.tmdb_of = {m: i for i, m in self.by_tmdb.items()}
        self.movies = movies
        self.full: dict[str, list[tuple[int, object]]] = defaultdict(list)
        self.short: dict[str, list[tuple[int, object]]] = defaultdict(list)
        self.tails: dict[str, list[tuple[int, object]]] = defaultdict(list)
        self.main_key: dict[object, str] = {}
        self.names_of: dict[object, list[str]] = {}
        self.genres_of: dict[object, str] = {}
        self._titles_built = False

    def _build_titles(self) -> None:
        """The title lookups, built on the first row that needs them (an export matched by
        id never does)."""
        self._titles_built = True
        movies = self.movies
        genres = movies["genres"] if "genres" in movies else pd.Series("", index=movies.index)
        self.genres_of = dict(zip(movies.index, genres.astype(str)))
        years: list[int | None] = [None] * len(movies)
        if "year" in movies:
            found = movies["year"].to_numpy(dtype="float64", na_value=float("nan")).tolist()
            years = [None if y != y else int(y) for y in found]
        for movie, title, year in zip(movies.index, movies["title"].astype(str), years):
            self._add(movie, title, year)

    def _add(self, movie: object, title: str, year: int | None) -> None:
        names, in_title = split_movielens(title)
        year = year if year is not None else in_title
        if year is None or not names:
            return
        self.names_of[movie] = names
        for name in names:
            key = title_key(name)
            self.main_key.setdefault(movie, key)
            if key:
                self.full[key].append((year, movie))
            if in_parts(name):
                for k in short_keys(name):
                    self.short[k].append((year, movie))
                for k in tail_keys(name):
                    self.tails[k].append((year, movie))

    def _strict(self, movie: object) -> set[str]:
        """A movie's title keys with their article (for a year ±1)."""
        return {title_key(n, article=True) for n in self.names_of[movie]}

    def match(self, row: TasteRow) -> Match:
        """The dataset's movie for ``row``, or ``Match(None, reason)``."""
        for how, found in (
            ("imdb", self.by_imdb.get(row.imdb) if row.imdb is not None else None),
            ("tmdb", self.by_tmdb.get(row.tmdb) if row.tmdb is not None else None),
            ("item", self._by_item(row)),
        ):
            if found is not None:
                return Match(found, how)
        if row.item is not None and not row.title:
            return Match(None, "no movie of this ID in the dataset")
        if not row.film:
            return Match(None, "not a film (a series, an episode or a game)")
        if not (row.title or row.original_title):
            return Match(None, "no title, and no id the dataset knows")
        if row.year is None:
            return Match(None, "no year to tell versions of a title apart")
        return self._by_title(row, row.year)

    def _by_item(self, row: TasteRow) -> object | None:
        """The movie of the row's dataset ID, unless the row's title names another film (an
        export of another dataset, whose IDs mean other movies)."""
        movie = self.by_item.get(row.item) if row.item is not None else None
        if movie is None or not row.title:
            return movie
        names, year = split_movielens(str(self.movies.at[movie, "title"]))
        same_year = year is None or row.year is None or abs(year - row.year) <= 1
        ours = {title_key(n) for n in names}
        return (
            movie
            if same_year and ours & {title_key(row.title), title_key(row.original_title)}
            else None
        )

    def _by_title(self, row: TasteRow, year: int) -> Match:
        if not self._titles_built:
            self._build_titles()
        titles = [t for t in (row.title, row.original_title) if t]
        titles += [n for t in titles if "(" in t for n in split_movielens(t)[0]]
        keys = {k for k in map(title_key, titles) if k}
        cands = self._fits(row, [c for k in keys for c in self.full.get(k, ())])
        strict = {title_key(t, article=True) for t in titles}
        found = self._pick(cands, year, near=strict)
        if found.item is not None or found.how.startswith("ambiguous"):
            return found
        parts = {k for t in titles for k in short_keys(t)}
        loose = [c for k in keys for c in self.short.get(k, ())]
        loose += [c for k in parts for c in self.full.get(k, ())]
        loose += [c for t in titles for k in tail_keys(t) for c in self.tails.get(k, ())]
        found = self._pick(self._fits(row, loose), year, near=None)
        if found.item is not None:
            return Match(found.item, "title in parts")
        return found

    def _fits(self, row: TasteRow, cands: list[tuple[int, object]]) -> list[tuple[int, object]]:
        """Candidates whose ids do not contradict the row's (another film of the same name)."""
        return [
            (y, m)
            for y, m in cands
            if (row.imdb is None or self.imdb_of.get(m, row.imdb) == row.imdb)
            and (row.tmdb is None or self.tmdb_of.get(m, row.tmdb) == row.tmdb)
        ]

    def _one_film(self, movies: list[object]) -> bool:
        """Whether these movies are one film listed twice: one title, the same genres, no two
        IMDb ids (two "War of the Worlds (2005)" of other genres are two films)."""
        return all(
            len({of.get(m) for m in movies}) == 1
            for of in (self.main_key, self.genres_of, self.imdb_of)
        )

    def _pick(self, cands: list[tuple[int, object]], year: int, near: set[str] | None) -> Match:
        """The one movie of ``year`` among ``cands``; with ``near`` (the row's keys with their
        article), else the one movie of a year next to it whose title is that exactly."""
        exact = list(dict.fromkeys(m for y, m in cands if y == year))
        if not exact and near is not None:
            close = list(dict.fromkeys(m for y, m in cands if abs(y - year) == 1))
            if len(close) == 1 and self._strict(close[0]) & near:
                return Match(close[0], "title, year ±1")
            if len(close) > 1:
                return Match(None, f"ambiguous: {len(close)} movies of a year next to {year}")
        if len(exact) == 1 or (exact and self._one_film(exact)):
            return Match(exact[0], "title")
        if exact:
            return Match(None, f"ambiguous: {len(exact)} movies of this title in {year}")
        return Match(None, "no movie of this title and year in the dataset")
