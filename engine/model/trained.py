"""A trained model: the RBM plus everything needed to use it without the training data.

A :class:`Model` keeps the RBM weights, the original movie IDs of its visible units, the like
threshold, the P(like) calibration, each movie's like/rating counts (for the "rate these first"
list), the hyperparameters, the training history and metrics, and a fingerprint of the dataset.
Save and load it with :mod:`engine.model.storage`.
"""

from __future__ import annotations

import hashlib
import platform
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.data.ratings import Ratings
from engine.errors import ModelError
from engine.model import calibration as cal

if TYPE_CHECKING:
    from engine.model.rbm import RBM
    from engine.settings import TrainConfig


def title_hashes(item_ids, titles: list[str]) -> np.ndarray:
    """``int64 (n,)`` a hash of each movie's title (lower case, spaces collapsed), 0 where the
    title is unknown (just the movie's ID)."""
    out = np.zeros(len(titles), dtype=np.int64)
    for k, (i, t) in enumerate(zip(np.asarray(item_ids).tolist(), titles)):
        if t and t != str(i):
            d = hashlib.blake2b(" ".join(t.lower().split()).encode(), digest_size=8).digest()
            out[k] = int.from_bytes(d, "little", signed=True) or 1
    return out


def dataset_fingerprint(r: Ratings) -> str:
    """A short hash of the ratings' users, movies, values and the movies' titles (same data,
    same fingerprint; a catalogue whose titles changed is other data: a model of it would
    be refused there, see :meth:`Model.check_fits`)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(np.ascontiguousarray(r.item_ids).astype(str).tobytes())
    h.update(title_hashes(r.item_ids, r.title_list()).tobytes())
    h.update(np.int64(r.n_users).tobytes())
    for arr in (r.users, r.items, r.values):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


@dataclass
class Model:
    """A trained recommender.

    Attributes:
        rbm: the :class:`engine.model.rbm.RBM`.
        item_ids: ``(n_items,)`` original movie ID of each visible unit.
        like_threshold: rating at or above which a rating is a like.
        calibration: ``{feature name: weight}`` of :mod:`engine.model.calibration` (the
            intercept named ``"bias"``): P(like) = sigmoid(w · features + bias); fitted on
            the validation split.
        match_calibration: the weights of the P(like) that the browser's match weighs
            (:data:`engine.recommender.LIKE_WEIGHT`): fitted on the same pairs without the
            partners feature, whose movie-to-movie evidence the match's seen part already
            has; None: ``calibration`` (older files).
        item_counts: ``int64 (n_items,)`` ratings per movie in the training data.
        item_likes: ``int64 (n_items,)`` likes per movie in the training data.
        item_rating_sums: ``float64 (n_items,)`` sum of each movie's ratings there.
        title_hashes: ``int64 (n_items,)`` :func:`title_hashes` of the training data's titles
            (0: unknown), or None (an older file): what :meth:`check_fits` compares.
        config: the hyperparameters (a :class:`engine.settings.TrainConfig` as a dict).
        meta: free-form metadata: dataset name/fingerprint/sizes, metrics, history, versions.
    """

    rbm: RBM
    item_ids: np.ndarray
    like_threshold: float
    calibration: dict[str, float]
    item_counts: np.ndarray
    item_likes: np.ndarray
    item_rating_sums: np.ndarray
    config: dict
    meta: dict = field(default_factory=dict)
    title_hashes: np.ndarray | None = None
    match_calibration: dict[str, float] | None = None
    #: the last ratings :meth:`check_fits` accepted (weakly) and its answer
    _fitted: tuple[weakref.ref, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __getstate__(self) -> dict:
        """For pickle (a process pool): the kept answer of :meth:`check_fits` is a weak
        reference, which does not travel."""
        return {**self.__dict__, "_fitted": None}

    def __post_init__(self) -> None:
        self.calibration = cal.check(self.calibration)
        if self.match_calibration is not None:
            self.match_calibration = cal.check(self.match_calibration)

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
        seen=0.0,
        partners=0.0,
        *,
        match: bool = False,
    ) -> np.ndarray:
        """Calibrated P(like) from the RBM's like log-odds of movies ``items`` (model indices)
        for people with ``person_likes`` likes out of ``person_n`` ratings and rating bias
        ``person_bias`` (:func:`engine.model.calibration.person_rating_bias`; 0 when only
        thumbs are known) and the hidden units' seen log-odds of the movies ``seen``
        (:func:`engine.model.inference.pair_seen`, or :meth:`seen_feature`) and the
        partners feature ``partners`` (:meth:`partner_feature`; 0 without a movie-to-movie
        part). The arguments broadcast against ``like_logit``'s shape; the result has that
        shape. ``match``: the P(like) the match weighs (:attr:`match_calibration`)."""
        weights = self.calibration
        if match and self.match_calibration is not None:
            weights = self.match_calibration
        return self._probabilities(
            [weights], like_logit, person_likes, person_n, items, person_bias, seen, partners
        )[0]

    def p_like_and_match(self, *args) -> tuple[np.ndarray, np.ndarray]:
        """``(P(like), the match's P(like))`` of :meth:`p_like`'s arguments."""
        if self.match_calibration is None:
            shown = self._probabilities([self.calibration], *args)[0]
            return shown, shown
        shown, match = self._probabilities([self.calibration, self.match_calibration], *args)
        return shown, match

    def _probabilities(
        self,
        weight_sets,
        like_logit,
        person_likes,
        person_n,
        items,
        person_bias=0.0,
        seen=0.0,
        partners=0.0,
    ) -> list[np.ndarray]:
        """:meth:`p_like` under each of ``weight_sets``, each of ``like_logit``'s shape."""
        like_logit = np.asarray(like_logit, np.float64)
        shape = like_logit.shape
        prior, every = self._movie_terms()
        terms = tuple(t[np.asarray(items)] for t in every)
        out = []
        for weights in weight_sets:
            z = cal.linear_logit(
                weights, like_logit, person_likes, person_n, terms, prior, person_bias, seen,
                partners,
            )  # fmt: skip
            p = cal.sigmoid(z)
            out.append(p if p.shape == shape else np.broadcast_to(p, shape).copy())
        return out

    def _movie_terms(self) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(the like share prior, :func:`engine.model.calibration.movie_terms` of every
        movie)``, kept until the movie statistics are replaced."""
        stats = (self.item_likes, self.item_counts, self.item_rating_sums)
        cached = getattr(self, "_terms_cache", None)
        if cached is None or any(a is not b for a, b in zip(cached[0], stats)):
            prior = cal.prior_like_share(self.item_likes, self.item_counts)
            terms = cal.movie_terms(*stats, prior, self.mean_rating())
            cached = (stats, (prior, terms))
            self._terms_cache = cached
        return cached[1]

    def partner_feature(self, liked_mass, disliked_mass) -> np.ndarray:
        """The calibration's ``partners`` feature (:func:`engine.model.calibration.partner_odds`)
        from a person's liked and disliked partner mass of movies
        (:meth:`engine.model.itemitem.ItemItem.like_mass`; tensors or arrays of one shape):
        a numpy float64 array of that shape."""
        L, D = (np.asarray(m.double().cpu().numpy() if hasattr(m, "cpu") else m, np.float64)
                for m in (liked_mass, disliked_mass))  # fmt: skip
        return cal.partner_odds(L, D, self._movie_terms()[0])

    def seen_feature(self, seen_logit, items=None):
        """The calibration's ``seen`` feature from the RBM's exact seen log-odds ``seen_logit``
        (``(..., M)`` of movies ``items``, all movies when None; no movie-to-movie term): the
        log-odds minus each movie's own bias part. A numpy float64 array of that shape."""
        own = self.rbm.seen_bias()
        if items is not None:
            own = own[items]
        return (seen_logit - own).double().cpu().numpy()

    def movie_means(self) -> np.ndarray:
        """``float64 (n_items,)`` each movie's smoothed mean rating
        (:func:`engine.model.calibration.movie_mean_ratings`)."""
        return cal.movie_mean_ratings(self.item_rating_sums, self.item_counts, self.mean_rating())

    def mean_rating(self) -> float:
        """Mean of every rating in the training data (0 when unknown)."""
        n = float(self.item_counts.sum())
        return float(self.item_rating_sums.sum()) / n if n else 0.0

    def dataset_label(self) -> str:
        """The dataset the model was trained on, for people: its name, or its file's."""
        ds = self.meta.get("dataset") or {}
        name = ds.get("name") or Path(str(ds.get("source") or "").rstrip("/\\")).name
        return str(name) if name else "another dataset"

    def check_fits(
        self, ratings: Ratings, data: str | None = None, model: str | None = None
    ) -> int:
        """Refuse to score ``ratings`` (the dataset ``data``, default its source; ``model``
        names this model) when it is another catalogue: none of its movies known to the model,
        or the movies it shares with the training data by ID mostly under other titles (raises
        :class:`~engine.errors.ModelError`, one line naming both). Returns how many of its
        movies the model does not know (they get no score). The answer for the last
        ``ratings`` checked is kept: the engine's entry points check every call."""
        fitted = self._fitted
        if fitted is not None and fitted[0]() is ratings:
            return fitted[1]
        data = data or ratings.source
        hint = f"train a model on it: rbm-tui train {data}" if data else "train one on them"
        named = f"the model {model}" if model else "the model"
        missing = self._unknown_movies(ratings, data or "the ratings given", named, hint)
        self._fitted = (weakref.ref(ratings), missing)
        return missing

    def _unknown_movies(self, ratings: Ratings, data: str, model: str, hint: str) -> int:
        """:meth:`check_fits` without the kept answer (``hint``: what to do instead)."""
        trained = self.dataset_label()
        to_model = self.map_items(ratings.item_ids)
        known = to_model >= 0
        if not known.any():
            raise ModelError(
                f"{model} (trained on {trained}) knows none of the movies of {data}; " + hint
            )
        if self.title_hashes is not None:
            ours = title_hashes(ratings.item_ids, ratings.title_list())
            theirs = np.where(known, self.title_hashes[np.maximum(to_model, 0)], 0)
            both = (ours != 0) & (theirs != 0)
            differ = both & (ours != theirs)
            if both.sum() >= 5 and differ.sum() > 0.2 * both.sum():
                j = int(np.nonzero(differ)[0][0])
                raise ModelError(
                    f"{model} was trained on {trained}, another catalogue than "
                    f"{data}: {int(differ.sum()):,} of the {int(both.sum()):,} movies they share "
                    f"by ID have other titles (movie {ratings.item_ids[j]} is "
                    f"{ratings.title_list()[j]!r} in {data}); " + hint
                )
        return int((~known).sum())

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
        cls,
        *,
        rbm: RBM,
        ratings: Ratings,
        config: TrainConfig,
        calibration: dict[str, float],
        history: list,
        best_epoch: int,
        reliability: list[list[float]] | None = None,
        match_calibration: dict[str, float] | None = None,
        chosen: dict[str, int] | None = None,
    ) -> Model:
        """The model a training run kept: ``rbm`` trained on ``ratings`` with ``config``,
        its calibration weights, the epochs' :class:`~engine.training.loop.EpochReport`
        ``history``, the calibration picture ``reliability`` and what training ``chosen``
        for the data's shape (``batch_size``: people; ``negative_movies``: movies per update;
        ``replicas``: RBMs joined)."""
        counts, likes, sums = _movie_stats(ratings, config.like_threshold)
        return cls(
            rbm=rbm,
            item_ids=np.asarray(ratings.item_ids),
            like_threshold=float(config.like_threshold),
            calibration=calibration,
            match_calibration=match_calibration,
            item_counts=counts,
            item_likes=likes,
            item_rating_sums=sums,
            config=config.to_dict(),
            meta=_training_meta(ratings, history, best_epoch, reliability, chosen or {}),
            title_hashes=title_hashes(ratings.item_ids, ratings.title_list()),
        )


def _movie_stats(ratings: Ratings, like_threshold: float) -> tuple[np.ndarray, ...]:
    """``(ratings int64, likes int64, sum of the ratings float64)`` of each movie, ``(N,)``."""
    liked = ratings.liked(like_threshold)
    counts = ratings.item_counts().astype(np.int64)
    likes = np.bincount(ratings.items[liked], minlength=ratings.n_items).astype(np.int64)
    sums = np.bincount(ratings.items, weights=ratings.values, minlength=ratings.n_items)
    return counts, likes, sums.astype(np.float64)


def _training_meta(
    ratings: Ratings, history: list, best_epoch: int, reliability: list[list[float]] | None,
    chosen: dict[str, int],
) -> dict:  # fmt: skip
    """The metadata of a trained model: the dataset, the epochs, the best epoch's validation
    figures, the calibration picture, the settings chosen for the data and the versions that
    trained it."""
    import torch

    from engine import __version__

    return {
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
                "refit": h.refit,
            }
            for h in history
        ],
        "val_metrics": next((h.val for h in history if h.epoch == best_epoch), {}),
        "reliability": reliability or [],
        "chosen": dict(chosen),
        "versions": {
            "rbm_tui": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
