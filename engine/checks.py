"""Checks of the arguments the Python API takes: movie indices, counts and rankings.

The command line and the app check what a person types before it reaches the engine; these
checks are for a program that calls the engine directly, so that a wrong argument raises an
:class:`~engine.errors.UsageError` naming it, never a bare numpy or torch error or a quietly
wrong answer (a string ``"50"`` read as the movie indices 5 and 0).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

from engine.errors import MovieIndexError, UsageError

#: The rankings a person's movies can be sorted by (:meth:`engine.recommender.Scores.rank_score`).
RANKINGS = ("seen", "liked")


def ranking(by: object) -> str:
    """``by`` when it names a ranking, ``"seen"`` or ``"liked"``; else UsageError."""
    if by not in RANKINGS:
        raise UsageError(f"by={by!r}: rank by 'seen' or 'liked'")
    return str(by)


def count(value: object, name: str, least: int = 0) -> int:
    """``value`` as an int when it is a whole number ≥ ``least`` (not a bool); else UsageError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise UsageError(f"{name}={value!r}: give a whole number of at least {least}")
    return int(value)


def movie_index(value: object, n_items: int, name: str, within: str = "this model's") -> int:
    """``value`` as an int when it is a movie index ``0 .. n_items - 1`` of ``within``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise UsageError(f"{name}={value!r}: give a movie index (a whole number)")
    index = int(value)
    if not 0 <= index < n_items:
        raise MovieIndexError(f"{name}: movie index {index} is outside {within} 0..{n_items - 1}")
    return index


def movie_indices(
    values: Iterable[object], n_items: int, name: str, *, distinct: bool = True
) -> np.ndarray:
    """``int64 (k,)``: the model indices of ``values``, each once in its first place (with
    ``distinct``) or all as given.

    Raises UsageError for a string or anything but whole numbers (``True``, ``1.5``: a movie
    ID is turned into an index by :meth:`engine.model.trained.Model.map_items`), and
    MovieIndexError for an index outside ``0 .. n_items - 1``."""
    if isinstance(values, (str, bytes)):
        raise UsageError(f"{name}={values!r}: give a list of model indices, not a string")
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        idx = values.astype(np.int64).ravel()
    else:
        idx = _whole_numbers(list(values), name)
    bad = idx[(idx < 0) | (idx >= n_items)]
    if len(bad):
        raise MovieIndexError(
            f"{name}: movie index {int(bad[0])} is outside this model's 0..{n_items - 1}"
        )
    if not distinct:
        return idx
    _, first = np.unique(idx, return_index=True)
    return idx[np.sort(first)]


def _whole_numbers(values: list, name: str) -> np.ndarray:
    """``int64 (k,)`` of ``values`` when each is a whole number (not a bool); else UsageError."""
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise UsageError(
                f"{name}: {v!r} is not a model index (a whole number); "
                "model.map_items turns movie IDs into indices"
            )
    return np.array(values, dtype=np.int64).reshape(-1)


def thumbs(likes: Iterable[object], dislikes: Iterable[object], n_items: int):
    """``(likes, dislikes)`` int64 arrays of distinct model indices (:func:`movie_indices`);
    UsageError when a movie is both liked and disliked."""
    lk = movie_indices(likes, n_items, "likes")
    dk = movie_indices(dislikes, n_items, "dislikes")
    both = np.intersect1d(lk, dk)
    if len(both):
        raise UsageError(f"movie index {int(both[0])} is both liked and disliked")
    return lk, dk
