"""The per-person sparse form of the ratings that training and scoring read.

A :class:`LikeMatrix` holds, for each person, the visible units their ratings switch on:
``col = 2·movie + liked`` (the disliked and liked states of each movie's three-state unit;
"unseen" is the zero reference). Rows are people, never a people × movies array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.ratings import Ratings
from engine.settings import LIKE_THRESHOLD


@dataclass
class LikeMatrix:
    """Per-user sparse visible vectors: user ``u``'s active units are
    ``cols[indptr[u]:indptr[u+1]]`` with ``col = 2·item + liked``."""

    indptr: np.ndarray  # int64 (n_users+1,)
    cols: np.ndarray  # int64 (nnz,)
    n_users: int
    n_items: int
    values: np.ndarray | None = None  # float (nnz,): the ratings behind ``cols``, if known
    #: float32 (nnz,): soft like target of each rating (see :func:`soft_like_targets`);
    #: None: the ratings are hard likes / dislikes
    like_share: np.ndarray | None = None

    @classmethod
    def from_ratings(
        cls, r: Ratings, threshold: float = LIKE_THRESHOLD, soft_labels: float = 0.0
    ) -> LikeMatrix:
        indptr, items, values = r.by_user()
        cols = 2 * items.astype(np.int64) + (values >= threshold)
        share = soft_like_targets(values, threshold, soft_labels) if soft_labels > 0 else None
        return cls(indptr, cols, r.n_users, r.n_items, values, share)

    def _positions(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts, ends = self.indptr[users], self.indptr[users + 1]
        lens = ends - starts
        row = np.repeat(np.arange(len(users)), lens)
        offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        return row, np.repeat(starts, lens) + offs

    def rows(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(row, col)`` coordinates of the active units of ``users`` (row = position)."""
        row, pos = self._positions(users)
        return row, self.cols[pos]

    def rows_and_shares(
        self, users: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`rows` and the soft like target of each of those ratings (None: hard)."""
        row, pos = self._positions(users)
        share = None if self.like_share is None else self.like_share[pos]
        return row, self.cols[pos], share

    def entries(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(row, unit, value)`` of the visible data of ``users``: the hard one-hot units
        (``value`` None) or, with soft targets, both units of every rating, the liked one with
        value ``like_share`` and the disliked one with the rest (rows stay ascending)."""
        return soft_entries(*self.rows_and_shares(users))

    def person_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(likes, ratings)``: ``int64 (n_users,)`` counts of each person."""
        liked = (self.cols % 2).astype(bool)
        return np.bincount(self.owners()[liked], minlength=self.n_users), np.diff(self.indptr)

    def owners(self) -> np.ndarray:
        """``int64 (nnz,)`` the user of each entry of ``cols``."""
        return np.repeat(np.arange(self.n_users), np.diff(self.indptr))

    def movie_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(likes, ratings)``: ``int64 (n_items,)`` counts of each movie."""
        liked = (self.cols % 2).astype(bool)
        items = self.cols // 2
        return (
            np.bincount(items[liked], minlength=self.n_items),
            np.bincount(items, minlength=self.n_items),
        )

    def movie_rating_sums(self) -> np.ndarray:
        """``float64 (n_items,)`` sum of each movie's ratings (zeros when unknown)."""
        if self.values is None:
            return np.zeros(self.n_items)
        return np.bincount(self.cols // 2, weights=self.values, minlength=self.n_items)


def soft_entries(
    row: np.ndarray, col: np.ndarray, share: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Hard ``(row, col)`` data as ``(row, unit, value)``: unchanged when ``share`` is None,
    else both units of every rating, the liked one valued ``share``, the other the rest."""
    if share is None:
        return row, col, None
    base = col - col % 2
    unit = np.stack((base, base + 1), 1).ravel()
    value = np.stack((1.0 - share, share), 1).ravel().astype(np.float32)
    return np.repeat(row, 2), unit, value


def soft_like_targets(values: np.ndarray, threshold: float, sharpness: float) -> np.ndarray:
    """``float32`` soft like target of each rating: ``sigmoid(sharpness · (r - m))`` with
    ``m`` halfway between ``threshold`` and the highest rating below it (2.5 for whole stars
    and a threshold of 3), so every like stays above 1/2 and every dislike below; a 5 is a
    surer like than a 3. ``sharpness`` is per rating unit."""
    values = np.asarray(values, np.float64)
    below = values[values < threshold]
    m = (threshold + (below.max() if len(below) else threshold - 1.0)) / 2.0
    return (1.0 / (1.0 + np.exp(-sharpness * (values - m)))).astype(np.float32)
