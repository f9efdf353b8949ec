"""A trained model: the RBM plus everything needed to use it without the training data.

A :class:`Model` keeps the RBM weights, the original movie IDs of its visible units, the like
threshold, the P(like) calibration, each movie's like/rating counts (for the "rate these first"
list), the hyperparameters, the training history and metrics, and a fingerprint of the dataset.
Save and load it with :mod:`engine.storage`.
"""

from __future__ import annotations

import hashlib
import platform
import time
from dataclasses import dataclass, field

import numpy as np

from engine.ratings import Ratings

#: pseudo-counts of the smoothed like rates (person, movie)
PERSON_PRIOR, MOVIE_PRIOR = 3.0, 10.0
#: pseudo-count (in ratings at the movies' mean) of a person's smoothed rating bias
PERSON_RATING_PRIOR = 5.0


def prior_like_share(likes: np.ndarray, counts: np.ndarray) -> float:
    """The overall like share (the smoothing prior)."""
    return float(np.clip(likes.sum() / max(1, counts.sum()), 0.01, 0.99))


#: names of the calibration weights, in the order of :func:`like_features`' columns, then
#: the intercept
CALIBRATION_NAMES = (
    "rbm",
    "person",
    "movie",
    "movie_rating",
    "rbm*log_person_n",
    "rbm*log_movie_n",
    "person_rating",
    "neighbours",
    "bias",
)


def movie_mean_ratings(
    rating_sums: np.ndarray, counts: np.ndarray, mean_rating: float
) -> np.ndarray:
    """``float64`` smoothed mean rating of each movie (``MOVIE_PRIOR`` pseudo-ratings at
    ``mean_rating``), from its ratings' sum and count (arrays of one shape)."""
    return (np.asarray(rating_sums, np.float64) + MOVIE_PRIOR * mean_rating) / (
        np.asarray(counts, np.float64) + MOVIE_PRIOR
    )


def person_rating_bias(
    owners: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    movie_means: np.ndarray,
    n_people: int,
) -> np.ndarray:
    """``float64 (n_people,)`` each person's rating bias: the sum over their ratings of
    (rating - the movie's smoothed mean ``movie_means[item]``), divided by their number of
    ratings plus :data:`PERSON_RATING_PRIOR` (rating units; 0 for a person with no ratings).
    ``owners``, ``items``, ``values``: one entry per rating."""
    resid = np.asarray(values, np.float64) - np.asarray(movie_means, np.float64)[items]
    sums = np.bincount(owners, weights=resid, minlength=n_people)
    return sums / (np.bincount(owners, minlength=n_people) + PERSON_RATING_PRIOR)


def like_features(
    like_logit: np.ndarray,
    person_likes: np.ndarray,
    person_n: np.ndarray,
    movie_likes: np.ndarray,
    movie_n: np.ndarray,
    movie_rating_sum: np.ndarray,
    prior: float,
    mean_rating: float,
    person_bias: np.ndarray | float = 0.0,
    neighbours: np.ndarray | float = 0.0,
) -> np.ndarray:
    """``(P, 8)`` calibration features of P pairs (every array ``(P,)``):

    0. the RBM's like log-odds ``z``;
    1. the smoothed like log-odds of the person's ratings;
    2. the smoothed like log-odds of the movie's ratings;
    3. the movie's smoothed mean rating minus ``mean_rating`` (rating units);
    4. ``z · log(1 + person_n)`` and 5. ``z · log(1 + movie_n)``: how much to trust the RBM
       grows with what it has seen of the person and of the movie;
    6. the person's rating bias (:func:`person_rating_bias`, rating units; a scalar
       broadcasts): how far above or below the movies' means they rate. People known only
       by thumbs have none (0);
    7. the movie's neighbours' residual stars (:mod:`engine.neighbours`; 0 without stars).
    """
    z = np.asarray(like_logit, np.float64)
    person_n = np.asarray(person_n, np.float64)
    movie_n = np.asarray(movie_n, np.float64)

    def smoothed(likes, n, m):
        likes = np.asarray(likes, np.float64)
        return np.log((likes + m * prior) / (n - likes + m * (1 - prior)))

    movie_mean = movie_mean_ratings(movie_rating_sum, movie_n, mean_rating)
    return np.column_stack(
        [
            z,
            smoothed(person_likes, person_n, PERSON_PRIOR),
            smoothed(movie_likes, movie_n, MOVIE_PRIOR),
            movie_mean - mean_rating,
            z * np.log1p(person_n),
            z * np.log1p(movie_n),
            np.broadcast_to(np.asarray(person_bias, np.float64), z.shape),
            np.broadcast_to(np.asarray(neighbours, np.float64), z.shape),
        ]
    )


def pad_calibration(weights) -> tuple[float, ...]:
    """The calibration weights as a full tuple. Older files hold fewer: 4 (rbm, person,
    movie, bias) from before the movie-rating and trust features, 7 from before the person's
    rating bias, 8 from before the neighbours; the missing weights are 0."""
    w = [float(x) for x in weights]
    if len(w) == 4:
        w = w[:3] + [0.0, 0.0, 0.0] + w[3:]
    if len(w) == 7:
        w = w[:6] + [0.0] + w[6:]
    if len(w) == 8:
        w = w[:7] + [0.0] + w[7:]
    if len(w) != len(CALIBRATION_NAMES):
        raise ValueError(f"{len(w)} calibration weights, expected {len(CALIBRATION_NAMES)}")
    return tuple(w)


def dataset_fingerprint(r: Ratings) -> str:
    """A short hash of the ratings' users, movies and values (same data, same fingerprint)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(np.ascontiguousarray(r.item_ids).astype(str).tobytes())
    h.update(np.int64(r.n_users).tobytes())
    for arr in (r.users, r.items, r.values):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


@dataclass
class Model:
    """A trained recommender.

    Attributes:
        rbm: the :class:`engine.rbm.RBM`.
        item_ids: ``(n_items,)`` original movie ID of each visible unit.
        like_threshold: rating at or above which a rating is a like.
        calibration: weights ``(w_0 … w_5, bias)``: P(like) = sigmoid(w · features + bias)
            with the features of :func:`like_features` (names in :data:`CALIBRATION_NAMES`);
            fitted on the validation split.
        item_counts: ``int64 (n_items,)`` ratings per movie in the training data.
        item_likes: ``int64 (n_items,)`` likes per movie in the training data.
        item_rating_sums: ``float64 (n_items,)`` sum of each movie's ratings there.
        neighbours: ``(items int64 (n_items, k), sims float32 (n_items, k))`` tensors of
            :mod:`engine.neighbours`, or None (catalogue too big, or an older file).
        config: the hyperparameters (a :class:`engine.trainer.TrainConfig` as a dict).
        meta: free-form metadata: dataset name/fingerprint/sizes, metrics, history, versions.
    """

    rbm: object
    item_ids: np.ndarray
    like_threshold: float
    calibration: tuple[float, ...]
    item_counts: np.ndarray
    item_likes: np.ndarray
    item_rating_sums: np.ndarray
    config: dict
    meta: dict = field(default_factory=dict)
    neighbours: tuple | None = None

    def __post_init__(self) -> None:
        self.calibration = pad_calibration(self.calibration)  # older layouts; checks the count

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def device(self):
        return self.rbm.device

    def p_like(
        self,
        like_logit: np.ndarray,
        person_likes,
        person_n,
        items: np.ndarray,
        person_bias=0.0,
        neighbours=0.0,
    ) -> np.ndarray:
        """Calibrated P(like) from the RBM's like log-odds of movies ``items`` (model indices)
        for people with ``person_likes`` likes out of ``person_n`` ratings and rating bias
        ``person_bias`` (:func:`person_rating_bias`; 0 when only thumbs are known) and neighbours
        feature ``neighbours`` (:mod:`engine.neighbours`; 0 likewise). The arguments
        broadcast against ``like_logit``'s shape; the result has that shape."""
        prior = prior_like_share(self.item_likes, self.item_counts)
        like_logit = np.asarray(like_logit, np.float64)
        shape = like_logit.shape

        def flat(a):
            return np.broadcast_to(np.asarray(a), shape).ravel()

        items = flat(items)
        X = like_features(
            like_logit.ravel(),
            flat(person_likes),
            flat(person_n),
            self.item_likes[items],
            self.item_counts[items],
            self.item_rating_sums[items],
            prior,
            self.mean_rating(),
            flat(person_bias),
            flat(neighbours),
        )
        w = np.asarray(self.calibration, np.float64)
        z = (X @ w[:-1] + w[-1]).reshape(shape)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def movie_means(self) -> np.ndarray:
        """``float64 (n_items,)`` each movie's smoothed mean rating (:func:`movie_mean_ratings`)."""
        return movie_mean_ratings(self.item_rating_sums, self.item_counts, self.mean_rating())

    def mean_rating(self) -> float:
        """Mean of every rating in the training data (0 when unknown)."""
        n = float(self.item_counts.sum())
        return float(self.item_rating_sums.sum()) / n if n else 0.0

    def item_index(self) -> dict:
        """Original movie ID -> visible-unit index."""
        cached = self.__dict__.get("_item_index")
        if cached is None:
            cached = {k: i for i, k in enumerate(self.item_ids.tolist())}
            self.__dict__["_item_index"] = cached
        return cached

    def map_items(self, item_ids: np.ndarray) -> np.ndarray:
        """``int64`` visible-unit index of each original movie ID, -1 where unknown to the model.

        IDs are matched as given, then as strings (so "50" matches 50)."""
        idx = self.item_index()
        out = np.fromiter((idx.get(i, -1) for i in np.asarray(item_ids).tolist()), np.int64)
        missing = out < 0
        if missing.any():
            sidx = {str(k): v for k, v in idx.items()}
            ids = np.asarray(item_ids)[missing].tolist()
            out[missing] = np.fromiter((sidx.get(str(i), -1) for i in ids), np.int64)
        return out

    @classmethod
    def from_training(
        cls, *, rbm, ratings: Ratings, config, calibration, history, best_epoch, neighbours=None
    ):
        import torch

        from engine import __version__

        liked = ratings.liked(config.like_threshold)
        meta = {
            "dataset": {
                "source": ratings.source,
                "fingerprint": dataset_fingerprint(ratings),
                "n_users": ratings.n_users,
                "n_items": ratings.n_items,
                "n_ratings": ratings.n_ratings,
            },
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "best_epoch": best_epoch,
            "history": [
                {
                    "epoch": h.epoch,
                    "train_loss": h.train_loss,
                    "val": h.val,
                    "seconds": h.seconds,
                }
                for h in history
            ],
            "val_metrics": next((h.val for h in history if h.epoch == best_epoch), {}),
            "versions": {
                "rbm_tui": __version__,
                "torch": torch.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
        }
        return cls(
            rbm=rbm,
            item_ids=np.asarray(ratings.item_ids),
            like_threshold=float(config.like_threshold),
            calibration=pad_calibration(calibration),
            item_counts=ratings.item_counts().astype(np.int64),
            item_likes=np.bincount(ratings.items[liked], minlength=ratings.n_items).astype(
                np.int64
            ),
            item_rating_sums=np.bincount(
                ratings.items, weights=ratings.values, minlength=ratings.n_items
            ).astype(np.float64),
            config=config.to_dict(),
            meta=meta,
            neighbours=neighbours,
        )
