"""People known by their ratings, in a model's index space: the sparse like/dislike matrix
of a ratings file's people and their counts, as the batch API scores them."""

from __future__ import annotations

import numpy as np

from engine.data.likes import LikeMatrix
from engine.data.ratings import Ratings
from engine.model.calibration import person_rating_bias
from engine.model.trained import Model


def known_matrix(model: Model, known: Ratings, thumbs_only: bool = False) -> LikeMatrix:
    """Per-user visible coordinates of ``known`` in the model's index space; with
    ``thumbs_only`` without the star values (each person known by likes and dislikes alone,
    as the browser knows them)."""
    col_items = model.map_items(known.item_ids)  # dataset item index -> model index
    indptr, items, values = known.by_user()
    mi = col_items[items]
    keep = mi >= 0
    liked = values >= model.like_threshold
    cols = 2 * mi + liked
    owners = np.repeat(np.arange(known.n_users), np.diff(indptr))
    counts = np.bincount(owners[keep], minlength=known.n_users).astype(np.int64)
    new_indptr = np.zeros(known.n_users + 1, np.int64)
    np.cumsum(counts, out=new_indptr[1:])
    stars = None if thumbs_only else values[keep]
    return LikeMatrix(new_indptr, cols[keep], known.n_users, model.n_items, stars)


def person_stats(model: Model, lm: LikeMatrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(likes, ratings, rating bias)`` of every person of ``lm``, each ``(n_users,)``
    (the bias is 0 when the stars are unknown)."""
    likes, n = lm.person_counts()
    if lm.values is None:
        return likes, n, np.zeros(lm.n_users)
    means = model.movie_means()
    bias = person_rating_bias(lm.owners(), lm.cols // 2, lm.values, means, lm.n_users)
    return likes, n, bias


def likes_only(lm: LikeMatrix) -> LikeMatrix:
    """``lm`` with each person's liked movies only."""
    keep = (lm.cols % 2) == 1
    indptr = np.zeros(lm.n_users + 1, np.int64)
    np.cumsum(np.bincount(lm.owners()[keep], minlength=lm.n_users), out=indptr[1:])
    return LikeMatrix(indptr, lm.cols[keep], lm.n_users, lm.n_items)
