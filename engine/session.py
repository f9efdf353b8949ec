"""A person's session with one dataset: their thumbs, saved as they press keys, and what the
active model makes of them.

The browser asks a :class:`Session` and draws: :meth:`Session.rate` writes the thumb to the
person's ratings store (one SQLite transaction) and folds the thumbs in again; :attr:`p_like`
is P(like) for every movie of the dataset; :meth:`Session.recommendations` is the list to show,
each pick with the rated movie that pushed it up most. Movies are addressed by *dataset index*
(``0..ratings.n_items-1``); the session keeps the map to the model's indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import checks
from engine.data.ratings import Ratings
from engine.errors import RbmTuiError
from engine.explanations import explain_many
from engine.recommender import fold_in, popularity, recommend


@dataclass(frozen=True)
class Pick:
    """One movie of the recommendations list.

    ``index``: its dataset index; ``p_like``: P(like) for the person (for a popular pick
    without a model, the share of its raters who liked it). A personal pick has ``match``
    (the chance they pick it, weighed by P(like)), the number personal lists are sorted by,
    and names the liked movie that pushed it up most (``because``, a dataset index; a
    dislike is never a reason); a popular pick says how many people rated it (``raters``)
    and the share who liked it (``liked_share``).
    """

    index: int
    p_like: float
    because: int | None = None
    raters: int = 0
    liked_share: float = 0.0
    match: float = float("nan")


@dataclass(frozen=True)
class Recommendations:
    """What to show: ``personal`` picks (from the person's thumbs) or popular, well-liked movies
    to rate first; ``rated`` is how many of the person's thumbs the model knows."""

    picks: list[Pick]
    personal: bool
    rated: int = 0


class Session:
    """The person's thumbs and marks on ``ratings`` (a dataset), kept in ``store`` under ``key``
    (an :class:`engine.userstore.UserStore`; None keeps them in memory) for ``profile`` (None:
    the store's active profile), scored by ``model`` (an
    :class:`engine.model.trained.Model`, or None).

    Movies marked seen or not interested (:attr:`marks`) never appear in the
    recommendations; :attr:`watchlist` is the set of movies the person wants to watch.
    """

    def __init__(
        self, ratings: Ratings, store=None, key: str | None = None, model=None, profile=None
    ) -> None:
        self.ratings = ratings
        self.store = store
        self.key = key
        if store is not None and profile is None:
            profile = store.active_profile()
        self.profile: str = profile or "me"
        self.thumbs: dict[object, bool] = {}
        self.marks: dict[object, str] = {}
        self.watchlist: set[object] = set()
        #: Counts the times :meth:`refresh` read changes made elsewhere.
        self.revision = 0
        self._store_version = self._data_version()
        self._load()
        self._item_index = ratings.item_index
        self._counts = ratings.item_counts()
        self._likes = ratings.item_like_counts()
        self.model: Any = None  # engine.model.trained.Model
        #: ``float64 (n_items,)`` by dataset index, NaN for movies the model lacks (None
        #: without a model): P(like) once watched, and the match
        #: (:attr:`engine.recommender.Scores.match`).
        self.p_like: np.ndarray | None = None
        self.match: np.ndarray | None = None
        self._scores: Any = None  # engine.recommender.Scores
        self.set_model(model)

    def _load(self) -> None:
        """Read the profile's thumbs, marks and watchlist from the store."""
        if self.store is None:
            return
        self.thumbs = dict(self.store.ratings(self.key, self.profile))
        self.marks = self.store.marks(self.key, self.profile)
        self.watchlist = set(self.store.watchlist(self.key, self.profile))

    def _data_version(self) -> int:
        if self.store is None:
            return 0
        try:
            return int(self.store.data_version())
        except (RbmTuiError, AttributeError):
            return 0

    def refresh(self) -> bool:
        """Read the thumbs again when another process (the command line, a second app)
        changed the store since they were read; whether they changed. A profile renamed or
        deleted there gives way to the store's active one."""
        version = self._data_version()
        if self.store is None or version == self._store_version:
            return False
        self._store_version = version
        before = (self.profile, self.thumbs, self.marks, self.watchlist)
        try:
            if self.profile not in self.store.profile_counts():
                self.profile = self.store.active_profile()
            self._load()
        except RbmTuiError:
            return False
        if (self.profile, self.thumbs, self.marks, self.watchlist) == before:
            return False
        self._rescore()
        self.revision += 1
        return True

    def switch_profile(self, name: str) -> None:
        """Make ``name`` the store's active profile and show its thumbs."""
        if self.store is not None:
            self.store.switch_profile(name)
        self.profile = name
        self._load()
        self._rescore()

    # ------------------------------------------------------------------ model
    def set_model(self, model) -> None:
        """Score with ``model`` (None: no scores) and fold the thumbs in. A model of another
        catalogue raises :class:`~engine.errors.ModelError` and leaves the session as it was
        (:meth:`engine.model.trained.Model.check_fits`)."""
        if model is not None:
            model.check_fits(self.ratings)
        self.model = model
        if model is not None:
            to_model = model.map_items(self.ratings.item_ids)  # dataset -> model index, -1
            ok = to_model >= 0
            to_data = np.full(model.n_items, -1, dtype=np.int64)
            to_data[to_model[ok]] = np.nonzero(ok)[0]
            self._to_model, self._to_data, self._known = to_model, to_data, ok
        self._rescore()

    # ----------------------------------------------------------------- thumbs
    def item_id(self, index: int) -> object:
        """The original movie ID of dataset index ``index`` (a Python scalar); a
        :class:`~engine.errors.MovieIndexError` outside the dataset."""
        index = checks.movie_index(index, self.ratings.n_items, "index", "the dataset's")
        v = self.ratings.item_ids[index]
        return v.item() if hasattr(v, "item") else v

    def thumb(self, index: int) -> bool | None:
        """The person's thumb on movie ``index``: True (like), False (dislike) or None."""
        return self.thumbs.get(self.item_id(index))

    def thumb_indices(self) -> tuple[list[int], list[int]]:
        """Dataset indices of the person's likes and dislikes (movies of this dataset only)."""
        likes: list[int] = []
        dislikes: list[int] = []
        for item_id, liked in self.thumbs.items():
            i = self._item_index.get(item_id)
            if i is not None:
                (likes if liked else dislikes).append(i)
        return likes, dislikes

    def rate(self, index: int, liked: bool | None):
        """Set the thumb on movie ``index`` (None clears it): saved in the store first (one
        transaction), then folded in. Returns the store's ``Change`` (None without a store)."""
        change = None
        item_id = self.item_id(index)
        if self.store is not None:
            change = self.store.set(self.key, item_id, liked, self.profile)
        self.marks.pop(item_id, None)
        self._set(item_id, liked)
        return change

    def mark(self, index: int, mark: str | None):
        """Mark movie ``index`` ``"seen"`` (no opinion) or ``"not_interested"`` (it replaces
        a thumb), or clear it (None); returns the store's ``Change`` (None without one)."""
        change = None
        item_id = self.item_id(index)
        if self.store is not None:
            change = self.store.mark(self.key, item_id, mark, self.profile)
        if mark is None:
            self.marks.pop(item_id, None)
        else:
            self.marks[item_id] = mark
        self._set(item_id, None)
        return change

    def set_watch(self, index: int, on: bool):
        """Put movie ``index`` on the watchlist or take it off."""
        change = None
        item_id = self.item_id(index)
        if self.store is not None:
            change = self.store.set_watch(self.key, item_id, on, self.profile)
        (self.watchlist.add if on else self.watchlist.discard)(item_id)
        return change

    def clear_all(self) -> int:
        """Clear every thumb (one undo step); returns how many were cleared."""
        n = len(self.thumbs)
        if self.store is not None:
            n = self.store.clear_all(self.key, self.profile)
        self.thumbs.clear()
        self._rescore()
        return n

    def undo(self):
        """Undo the last step in the store (a thumb, a mark, clear all, an import); returns
        its first ``Change`` (None: nothing to undo) after folding the thumbs in again."""
        if self.store is None:
            return None
        changes = self.store.undo_step(self.key, self.profile)
        if not changes:
            return None
        self._load()
        self._rescore()
        return changes[-1]

    def _set(self, item_id: object, liked: bool | None) -> None:
        if liked is None:
            self.thumbs.pop(item_id, None)
        else:
            self.thumbs[item_id] = liked
        self._rescore()

    def _unmarked(self, candidates: np.ndarray | None) -> np.ndarray | None:
        """``candidates`` (a bool mask over the dataset, None: all) less the marked movies."""
        marked = [i for i in map(self._item_index.get, self.marks) if i is not None]
        if not marked:
            return candidates
        keep = np.ones(self.ratings.n_items, bool)
        if candidates is not None:
            keep &= np.asarray(candidates, bool)
        keep[marked] = False
        return keep

    # ----------------------------------------------------------------- scores
    def _model_thumbs(self) -> tuple[list[int], list[int]]:
        likes, dislikes = self.thumb_indices()
        m = self._to_model
        return [int(m[i]) for i in likes if m[i] >= 0], [int(m[i]) for i in dislikes if m[i] >= 0]

    def _rescore(self) -> None:
        model = self.model
        if model is None:
            self.p_like, self.match, self._scores = None, None, None
            return
        self._scores = fold_in(model, *self._model_thumbs())
        known = self._to_model[self._known]
        p = np.full(self.ratings.n_items, np.nan)
        p[self._known] = self._scores.p_like[known]
        match = np.full(self.ratings.n_items, np.nan)
        match[self._known] = self._scores.match[known]
        self.p_like, self.match = p, match

    def recommendations(self, n: int, candidates: np.ndarray | None = None) -> Recommendations:
        """The ``n`` movies to show, best first, among ``candidates`` (a bool mask over the
        dataset's movies, e.g. a genre; None: all): personal picks when the person has thumbs
        the model knows, else popular, well-liked movies to rate first. Movies marked seen or
        not interested are left out."""
        n = checks.count(n, "n")
        candidates = self._unmarked(candidates)
        model = self.model
        if model is None:
            return Recommendations(self._popular_from_data(n, candidates), personal=False)
        cand = self._to_data >= 0
        if candidates is not None:
            cand &= np.asarray(candidates, bool)[np.maximum(self._to_data, 0)]
        m_likes, m_dislikes = self._model_thumbs()
        if not (m_likes or m_dislikes):
            return Recommendations(self._popular_from_model(n, cand), personal=False)
        recs = recommend(
            model, m_likes, m_dislikes, n, by="liked", scores=self._scores, candidates=cand
        )
        reasons = explain_many(model, m_likes, m_dislikes, [r.item for r in recs], n=3)
        picks = [
            Pick(
                int(self._to_data[rec.item]),
                rec.p_like,
                self._liked_reason(why),
                match=rec.match,
            )
            for rec, why in zip(recs, reasons)
        ]
        return Recommendations(picks, personal=True, rated=len(m_likes) + len(m_dislikes))

    def reason(self, index: int) -> int | None:
        """The liked movie (dataset index) that pushes movie ``index`` up most for this
        person, or None (no model, no likes, nothing pushes it up)."""
        if self.model is None or not self._known[index]:
            return None
        m_likes, m_dislikes = self._model_thumbs()
        if not m_likes:
            return None
        item = int(self._to_model[index])
        return self._liked_reason(explain_many(self.model, m_likes, m_dislikes, [item], n=3)[0])

    def _liked_reason(self, reasons) -> int | None:
        """The first liked movie among ``reasons`` (dataset index), or None."""
        for why in reasons:
            if why.liked and self._to_data[why.item] >= 0:
                return int(self._to_data[why.item])
        return None

    def _popular_from_model(self, n: int, cand: np.ndarray) -> list[Pick]:
        model = self.model
        score, _ = popularity(model.item_counts, model.item_likes)
        score[~cand] = -np.inf
        picks = []
        for i in np.argsort(-score, kind="stable")[:n]:
            if not np.isfinite(score[i]):
                break
            raters = int(model.item_counts[i])
            share = model.item_likes[i] / raters if raters else 0.0
            j = int(self._to_data[i])
            picks.append(Pick(j, float(self._scores.p_like[i]), raters=raters, liked_share=share))
        return picks

    def _popular_from_data(self, n: int, candidates: np.ndarray | None) -> list[Pick]:
        score, _ = popularity(self._counts, self._likes)
        if candidates is not None:
            score[~np.asarray(candidates, bool)] = -np.inf
        likes, dislikes = self.thumb_indices()
        if likes or dislikes:
            score[likes + dislikes] = -np.inf
        picks = []
        for i in np.argsort(-score, kind="stable")[:n]:
            if not np.isfinite(score[i]):
                break
            raters = int(self._counts[i])
            share = float(self._likes[i] / raters) if raters else 0.0
            picks.append(Pick(int(i), share, raters=raters, liked_share=share))
        return picks
