"""Popular, well-liked movies: what a person with no thumbs yet is asked to rate first, and
the :class:`Recommendation` record every ranking returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine import checks
from engine.model.trained import Model


@dataclass
class Recommendation:
    item: int  # model index
    item_id: object  # original movie ID
    #: the ranking score, higher is better: the seen log-odds (``by="seen"``), the log of the
    #: match (``"liked"``) or the popularity score (:func:`popular`)
    score: float
    p_like: float  # calibrated P(like), in (0, 1)
    match: float = float("nan")  # the match (see Scores.match); NaN for popular picks


def popularity(counts: np.ndarray, likes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(score, like rate)``, each ``float64 (n_items,)``, of movies rated ``counts`` times
    and liked ``likes`` times: the like rate smoothed by 10 ratings at the overall rate, and
    the score that ranks movies to rate first, that rate times log(1 + ratings)."""
    counts = np.asarray(counts, np.float64)
    likes = np.asarray(likes, np.float64)
    prior = likes.sum() / max(1.0, counts.sum())
    rate = (likes + 10 * prior) / (counts + 10)
    return rate * np.log1p(counts), rate


def popular(model: Model, n: int = 10, exclude: Iterable[int] = ()) -> list[Recommendation]:
    """The ``n`` (at least 0) most popular, well-liked movies to rate first (:func:`popularity`),
    leaving out the model indices ``exclude``; each ``p_like`` is the movie's smoothed like
    share (:func:`engine.recommender.recommend` puts the calibrated P(like) in its place)."""
    n = checks.count(n, "n")
    score, rate = popularity(model.item_counts, model.item_likes)
    excl = checks.movie_indices(exclude, model.n_items, "exclude")
    if len(excl):
        score[excl] = -np.inf
    n = min(n, int(np.isfinite(score).sum()))
    top = np.argsort(-score, kind="stable")[:n]
    return [Recommendation(int(i), model.item_ids[i], float(score[i]), float(rate[i])) for i in top]
