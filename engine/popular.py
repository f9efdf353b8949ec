"""Popular, well-liked movies: what a person with no thumbs yet is asked to rate first, and
the :class:`Recommendation` record every ranking returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.model.trained import Model


@dataclass
class Recommendation:
    item: int  # model index
    item_id: object  # original movie ID
    score: float  # the ranking score (higher is better)
    p_like: float  # calibrated P(like)
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
    """Popular, well-liked movies to rate first (:func:`popularity`)."""
    score, rate = popularity(model.item_counts, model.item_likes)
    excl = np.fromiter(exclude, np.int64)
    if len(excl):
        score[excl] = -np.inf
    n = min(n, int(np.isfinite(score).sum()))
    top = np.argsort(-score, kind="stable")[:n]
    return [Recommendation(int(i), model.item_ids[i], float(score[i]), float(rate[i])) for i in top]
