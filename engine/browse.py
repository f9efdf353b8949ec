"""Browse's query: which movies of a dataset to list, and in what order.

A :class:`Catalogue` holds what browsing needs of a dataset's movies (titles, years, genres,
raters), built once per dataset; :func:`select` answers a :class:`Query` (a title search, a
genre, "only my ratings" and a sort) with the dataset indices to list, in order. Each sort's
order is computed once (the score sorts once per set of scores) and a query only filters
it, so a keystroke costs a few vectorised passes over the movies, not a sort.

The scores are named as the app shows them: *match* (the chance the person picks the movie,
weighed by P(like): what recommendations are ranked by) and *P(like)* (the chance they like
it once they watch it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.taste.titles import ARTICLES, fold

if TYPE_CHECKING:
    import pandas as pd

#: The sorts, in the order the sort key cycles through them.
SORTS = ("popular", "match", "p_like", "title", "year")
#: How each sort is named on screen (the score sorts name the column they sort by).
SORT_LABELS = {
    "popular": "most rated",
    "match": "match",
    "p_like": "P(like)",
    "title": "title",
    "year": "newest",
}
_YEAR_SUFFIX = re.compile(r"\s*\(\d{4}(?:\s*[-–]\s*\d{0,4})?\)\s*$")


_NON_WORD = re.compile(r"[\W_]+")
#: ``"matrix, the (1999)"`` -> ``"the matrix (1999)"``: the article before the first "(".
_TRAILING = re.compile(
    r"^(?P<name>[^(]+?),\s*(?P<art>(?:"
    + "|".join(sorted(ARTICLES, key=len, reverse=True))
    + r")'?)(?=\s*(?:\(|$))"
)


def words(text: str) -> str:
    """``text`` as searches compare it: lower case, accents dropped, words of letters and
    digits one space apart (``"Léon: The  Pro"`` -> ``"leon the pro"``)."""
    return _NON_WORD.sub(" ", fold(text)).strip()


def search_keys(titles_lower: pd.Series) -> pd.Series:
    """What a search looks in, per title (lower case, MovieLens's form): the title with its
    trailing article in front, then as written, each in :func:`words`, ``|`` between."""
    folded = titles_lower.map(lambda t: t if t.isascii() else fold(t))
    moved = folded.str.replace(_TRAILING, r"\g<art> \g<name>", regex=True)
    spaced = {"pat": _NON_WORD, "repl": " ", "regex": True}
    return moved.str.replace(**spaced).str.strip() + "|" + folded.str.replace(**spaced).str.strip()


@dataclass(frozen=True)
class Query:
    """What to list: titles containing ``text`` (any case), of ``genre`` ("" for all), only
    the movies the person rated (``mine``), ordered by ``sort`` (one of :data:`SORTS`)."""

    text: str = ""
    genre: str = ""
    sort: str = "popular"
    mine: bool = False


class Catalogue:
    """A dataset's movies as Browse lists them; ``movies`` is ``Ratings.movies`` (columns
    ``title``, ``year``, ``genres``), ``counts`` the raters of each movie."""

    def __init__(self, movies, counts: np.ndarray, like_counts: np.ndarray) -> None:
        self.n = len(movies)
        self.counts = np.asarray(counts)
        self.like_counts = np.asarray(like_counts)
        self.full_titles: list[str] = movies["title"].astype(str).tolist()
        self.titles = [_YEAR_SUFFIX.sub("", t) or t for t in self.full_titles]
        self.titles_lower = movies["title"].astype(str).str.lower()
        self.year_values = movies["year"].astype("Float64").fillna(-1).to_numpy(np.int64)
        self.years = ["" if y < 0 else str(y) for y in self.year_values.tolist()]
        self.genre_lists: list[str] = movies["genres"].fillna("").astype(str).tolist()
        self.genres = sorted({g for gs in set(self.genre_lists) for g in gs.split("|") if g})
        self._piped = "|" + movies["genres"].fillna("").astype(str) + "|"
        self._genre_masks: dict[str, np.ndarray] = {}
        self._search: tuple[str, np.ndarray] = ("", np.ones(self.n, bool))
        self._search_keys: pd.Series | None = None  # built on the first search
        self._orders = {
            "popular": np.lexsort((np.arange(self.n), -self.counts)),
            "title": np.argsort(self.titles_lower.to_numpy(dtype=object), kind="stable"),
            "year": np.lexsort((-self.counts, -self.year_values)),
        }
        self._score_orders: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: What the catalogue was built from (the caller's to set: a Ratings, say).
        self.ratings: object = None

    def genre_mask(self, genre: str) -> np.ndarray:
        """``bool (n,)``: the movies of ``genre`` (all for "")."""
        if not genre:
            return np.ones(self.n, bool)
        mask = self._genre_masks.get(genre)
        if mask is None:
            mask = self._piped.str.contains(f"|{genre}|", regex=False).to_numpy(bool)
            self._genre_masks[genre] = mask
        return mask

    def search_mask(self, text: str) -> np.ndarray:
        """``bool (n,)``: the movies whose title contains ``text`` as people type it: case,
        accents and punctuation aside, and MovieLens's trailing article read in front
        (``the matrix`` finds "Matrix, The (1999)", ``leon`` "Léon", ``wall-e`` "WALL·E").
        Typing on (the text grows) searches only the previous matches."""
        text = words(text)
        last_text, last = self._search
        if text == last_text:
            return last
        keys = self._keys()
        if not text:
            mask = np.ones(self.n, bool)
        elif last_text and text.startswith(last_text):
            mask = last.copy()
            idx = np.flatnonzero(last)
            mask[idx] = keys.iloc[idx].str.contains(text, regex=False).to_numpy()
        else:
            mask = keys.str.contains(text, regex=False).to_numpy(bool)
        self._search = (text, mask)
        return mask

    def prepare_search(self) -> None:
        """Build what searches look in now (a thread may, ahead of the first search)."""
        self._keys()

    def _keys(self) -> pd.Series:
        keys = self._search_keys
        if keys is None:  # two threads at once build it twice, never half
            keys = self._search_keys = search_keys(self.titles_lower)
        return keys

    def order(self, sort: str, scores: np.ndarray | None = None) -> np.ndarray:
        """All dataset indices in ``sort`` order; the score sorts (``match``, ``p_like``)
        take ``scores`` (``(n,)``, NaN last, ties by raters) and fall back to most rated."""
        if sort in self._orders:
            return self._orders[sort]
        if scores is None:
            return self._orders["popular"]
        cached = self._score_orders.get(sort)
        if cached is None or cached[0] is not scores:  # (kept: an id could be reused)
            s = np.nan_to_num(np.asarray(scores, float), nan=-1.0)
            cached = (scores, np.lexsort((-self.counts, -s)))
            self._score_orders[sort] = cached
        return cached[1]


def select(cat: Catalogue, query: Query, scores: np.ndarray | None = None, mine=()) -> np.ndarray:
    """The dataset indices that answer ``query``, in its order: ``scores`` are those of a
    score sort (the match or P(like), by dataset index); ``mine`` the indices the person
    rated (used when ``query.mine``)."""
    mask = cat.search_mask(query.text)
    if query.genre:
        mask = mask & cat.genre_mask(query.genre)
    if query.mine:
        rated = np.zeros(cat.n, bool)
        rated[np.asarray(list(mine), dtype=np.int64)] = True
        mask = mask & rated
    order = cat.order(query.sort, scores)
    return order[mask[order]]


def next_sort(sort: str, have_scores: bool) -> str:
    """The sort after ``sort`` in :data:`SORTS` (the score sorts skipped without scores)."""
    i = SORTS.index(sort)
    for step in range(1, len(SORTS) + 1):
        nxt = SORTS[(i + step) % len(SORTS)]
        if have_scores or nxt not in ("match", "p_like"):
            return nxt
    return sort
