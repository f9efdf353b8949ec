"""Watch together: one list of movies for two or more people at once.

Each person is known by their own thumbs and folded in on their own (a
:class:`engine.session.Session` per profile, or :func:`engine.recommender.fold_in` per person
in model indices); the list keeps the movies *none* of them has rated or marked (seen, not
interested), and ranks them by a **soft minimum** of the people's matches (the match:
:attr:`engine.recommender.Scores.match`, the chance a person picks a movie weighed by the
chance they like it): the power mean

    M_q(m_1, ..., m_P) = ((m_1^q + ... + m_P^q) / P)^(1/q),  q = :data:`POWER` < 0,

which lies between the least keen person's match (q → -∞, the plain minimum) and the
geometric mean (q → 0); q = -1 is the harmonic mean. A movie one person would likely skip or
dislike has a small match for that person, and the power mean stays close to that small value,
so it does not lead the list however much the others want it. Each pick says whose taste it
came from: the person whose own list ranks it highest (:attr:`TogetherPick.source`).

Nothing here imports Textual; torch only through the sessions' model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import ModelError, UserStoreError

__all__ = ["POWER", "TogetherPick", "excluded_by_anyone", "rank_together", "soft_min", "together"]

#: The exponent q of the power mean the together list is ranked by (q < 0: a soft minimum):
#: -1, the harmonic mean. On ``mls16-newusers`` (``benchmarks/bench_together.py``, seeds 0-4)
#: q = -0.5, -1, -2, -4, -8 and the plain minimum gave a mean nDCG@10 over both people of
#: 0.398, 0.398, 0.397, 0.392, 0.389 and 0.372: the softer the better, down to -1.
POWER = -1.0


@dataclass(frozen=True)
class TogetherPick:
    """One movie of a together list.

    ``index``: the movie (a dataset index with :func:`together`, else the column of the
    arrays given to :func:`rank_together`); ``score``: the together match (:func:`soft_min`
    of the people's matches), in (0, 1), what the list is sorted by; ``match`` and ``p_like``:
    each person's match and P(like), in the people's order; ``source``: the position (in the
    people's order) of the person whose own list ranks the movie highest, whose taste it came
    from; ``because``: that person's liked movie (dataset index) that pushed it up most, or
    None.
    """

    index: int
    score: float
    match: tuple[float, ...]
    p_like: tuple[float, ...]
    source: int
    because: int | None = None


def soft_min(match: np.ndarray, power: float = POWER) -> np.ndarray:
    """The power mean over people (axis 0) of ``match``, ``float64 (P, N)`` in (0, 1], with
    exponent ``power`` (< 0; ``-inf``: the plain minimum); returns ``float64 (N,)``, NaN
    where any person's match is NaN. Never above the largest nor below the smallest match."""
    m = np.asarray(match, np.float64)
    if power == -np.inf:
        return m.min(axis=0)
    if power >= 0:
        raise ValueError("power must be negative (a soft minimum)")
    floor = np.finfo(np.float64).tiny
    return np.mean(np.maximum(m, floor) ** power, axis=0) ** (1.0 / power)


def rank_together(
    match: np.ndarray,
    p_like: np.ndarray,
    excluded: np.ndarray,
    n: int = 10,
    *,
    power: float = POWER,
) -> list[TogetherPick]:
    """The ``n`` best movies for all the people at once, best first.

    Args:
        match: ``float64 (P, N)``: each person's match for every movie, in (0, 1) (NaN: the
            movie cannot be scored, e.g. the model lacks it).
        p_like: ``float64 (P, N)``: each person's P(like), in (0, 1).
        excluded: ``bool (N,)``: movies left out (rated or marked by anyone, filtered out).
        n: how many picks at most.
        power: the soft minimum's exponent (:func:`soft_min`).

    Returns:
        Up to ``n`` :class:`TogetherPick` (``because`` None), sorted by ``score`` descending
        (ties by movie index).
    """
    match = np.atleast_2d(np.asarray(match, np.float64))
    p_like = np.atleast_2d(np.asarray(p_like, np.float64))
    allowed = ~np.asarray(excluded, bool) & ~np.isnan(match).any(axis=0)
    score = np.where(allowed, soft_min(np.where(allowed, match, 1.0), power), -np.inf)
    n = min(n, int(allowed.sum()))
    if n <= 0:
        return []
    top = np.argsort(-score, kind="stable")[:n]
    # each person's rank of every allowed movie in their own list (0: their first pick)
    own = np.where(allowed, match, -np.inf)
    ranks = np.argsort(np.argsort(-own, axis=1, kind="stable"), axis=1, kind="stable")
    return [
        TogetherPick(
            int(i),
            float(score[i]),
            tuple(float(v) for v in match[:, i]),
            tuple(float(v) for v in p_like[:, i]),
            int(np.argmin(ranks[:, i])),
        )
        for i in top
    ]


def excluded_by_anyone(sessions: Sequence) -> np.ndarray:
    """``bool (n_items,)`` by dataset index: the movies any of ``sessions`` (people on the same
    dataset) has a thumb or a mark on."""
    out = np.zeros(sessions[0].ratings.n_items, bool)
    for s in sessions:
        likes, dislikes = s.thumb_indices()
        marked = [i for i in map(s.ratings.item_index.get, s.marks) if i is not None]
        out[likes + dislikes + marked] = True
    return out


def together(
    sessions: Sequence,
    n: int = 10,
    candidates: np.ndarray | None = None,
    *,
    power: float = POWER,
) -> list[TogetherPick]:
    """One list for the people of ``sessions`` (:class:`engine.session.Session` s of the same
    dataset and model, one per person), best first.

    Movies any of them has rated or marked, and those outside ``candidates`` (a bool mask over
    the dataset's movies; None: all), are left out. Each :class:`TogetherPick` is addressed by
    dataset index and names, in ``because``, the liked movie of its ``source`` person that
    pushed it up most.

    Raises:
        UserStoreError: fewer than two people, or people on different datasets.
        ModelError: a session has no model (nothing to rank by).
    """
    if len(sessions) < 2:
        raise UserStoreError("watch together needs two or more people")
    if any(s.ratings is not sessions[0].ratings for s in sessions):
        raise UserStoreError("watch together needs every person on the same dataset")
    if any(s.match is None or s.p_like is None for s in sessions):
        raise ModelError("watch together needs a model: choose or train one first")
    excluded = excluded_by_anyone(sessions)
    if candidates is not None:
        excluded |= ~np.asarray(candidates, bool)
    match = np.stack([s.match for s in sessions])
    p_like = np.stack([s.p_like for s in sessions])
    picks = rank_together(match, p_like, excluded, n, power=power)
    return [
        TogetherPick(
            p.index,
            p.score,
            p.match,
            p.p_like,
            p.source,
            sessions[p.source].reason(p.index),
        )
        for p in picks
    ]
