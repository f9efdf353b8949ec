"""Fitting the P(like) calibration on the validation pairs, after the main epochs.

The weights of :mod:`engine.model.calibration` are fitted by logistic regression on held-out
(person, movie, liked) pairs the RBM did not train on. First the like units' share of the
log-odds gets a gain of its own (they learn from another objective than the other units);
then the named weights are fitted on the log-odds with that gain. The features are the ones a
person known by thumbs alone has (the browser's case): the stars feature gets weight 0.

Two steps, because the movie-to-movie part is fitted last, on every rating: :func:`prepare`
takes the RBM's features of the pairs right after the first epochs (weights that have not seen
the pairs); :func:`finish` adds the partners feature once the movie-to-movie part exists (each
person still known by their training ratings only) and fits the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.data.likes import LikeMatrix
from engine.model import calibration as cal
from engine.model.inference import pair_logits, pair_seen
from engine.settings import TrainConfig


@dataclass
class Calibration:
    """What the calibration fitted: the named weights and the like units' gain
    (:attr:`engine.model.rbm.RBM.like_gain`)."""

    weights: dict[str, float]
    like_gain: float = 1.0
    #: the weights of the match's P(like): fitted without the partners feature (the match's
    #: seen part has the movie-to-movie evidence already); None: ``weights``
    match_weights: dict[str, float] | None = None
    #: the calibration picture on the validation pairs (:func:`engine.metrics.reliability`)
    reliability: list[list[float]] | None = None


@dataclass
class Pending:
    """The validation pairs' features before the partners feature (:func:`prepare`)."""

    X: np.ndarray  # (P, len(FEATURES)) float64, the partners column 0
    vu: np.ndarray  # (P,) people (rows of the training ratings)
    vi: np.ndarray  # (P,) movies
    vy: np.ndarray  # (P,) liked
    like_gain: float
    blend: bool  # cfg.blend_biases


def prepare(rbm, lm: LikeMatrix, vu, vi, vy, cfg: TrainConfig, device) -> Pending:
    """The RBM's part of the calibration of the validation pairs ``(vu, vi, vy)`` (people,
    movies, liked; ``(P,)`` each), with the people's and movies' statistics of the training
    part ``lm``: the like units' gain and every feature but the partners one."""
    import torch

    if len(vu) > cfg.calibration_pairs:  # a few weights: a seeded sample is plenty, and lighter
        rng = np.random.default_rng([cfg.seed, 0xCA1])  # its own: ranks' streams stay equal
        pick = np.sort(rng.choice(len(vu), cfg.calibration_pairs, replace=False))
        vu, vi, vy = vu[pick], vi[pick], vy[pick]
    with torch.no_grad():
        z, z_like = pair_logits(rbm, lm, vu, vi, device, parts=True).T
    u_likes, u_n = lm.person_counts()
    i_likes, i_n = lm.movie_counts()
    i_sums = lm.movie_rating_sums()
    mu = float(i_sums.sum() / max(1, i_n.sum()))
    seen = pair_seen(rbm, lm, vu, vi)
    prior = cal.prior_like_share(i_likes, i_n)

    def features(logit, with_seen=True):
        return cal.like_features(
            logit, u_likes[vu], u_n[vu], i_likes[vi], i_n[vi], i_sums[vi], prior, mu, 0.0,
            seen if with_seen else 0.0,
        )  # fmt: skip

    gain = 1.0
    if rbm.like_units and cfg.blend_biases:
        X = np.column_stack([features(z, with_seen=False), z_like])
        w = _named(cal.fit_logistic(X, vy), (*cal.FEATURES, "like_units"))
        # the log-odds' weight where the average pair is (it grows with the counts)
        slope = (
            w["rbm"]
            + w["rbm*log_person_n"] * np.log1p(u_n[vu]).mean()
            + w["rbm*log_movie_n"] * np.log1p(i_n[vi]).mean()
        )
        if slope > 1e-3:
            gain = float(np.clip((slope + w["like_units"]) / slope, 0.25, 4.0))
    X = features(z + (gain - 1.0) * z_like)
    return Pending(X, vu, vi, vy, gain, cfg.blend_biases)


def finish(pending: Pending, partners: np.ndarray | None = None) -> Calibration:
    """The calibration fitted on the pending pairs, with their partners feature
    (:func:`engine.model.calibration.partner_odds`; None: no movie-to-movie part, weight
    0)."""
    X = pending.X
    if not enough_pairs(pending.vy):
        return Calibration(cal.identity(), 1.0)
    if partners is not None:
        X = X.copy()
        X[:, cal.FEATURES.index("partners")] = partners
    vy, gain = pending.vy, pending.like_gain
    if pending.blend:  # a column of zeros (stars, or no partners) gets weight 0
        w = cal.fit_logistic(X, vy)
        match = None
        if partners is not None:
            match = _named(cal.fit_logistic(pending.X, vy), cal.FEATURES)
        return Calibration(
            _named(w, cal.FEATURES), gain, reliability=_picture(X, w, vy), match_weights=match
        )
    w = cal.fit_logistic(X[:, :1], vy)
    weights = cal.identity()
    weights["rbm"], weights[cal.BIAS] = float(w[0]), float(w[1])
    return Calibration(weights, gain, reliability=_picture(X[:, :1], w, vy))


#: The fewest validation pairs, and of each class, that a calibration is fitted on: with
#: fewer (a dataset of a few people) a fitted intercept runs off towards ±infinity and every
#: movie shows P(like) 0% or 100%; the RBM's own log-odds are used as they are instead.
MIN_PAIRS, MIN_OF_EACH = 50, 10


def enough_pairs(liked: np.ndarray) -> bool:
    """Whether the validation pairs with labels ``liked (P,)`` can fit a calibration."""
    n_liked = int(np.count_nonzero(liked))
    return len(liked) >= MIN_PAIRS and min(n_liked, len(liked) - n_liked) >= MIN_OF_EACH


def _named(w: np.ndarray, names: tuple[str, ...]) -> dict[str, float]:
    return dict(zip((*names, cal.BIAS), (float(x) for x in w)))


def _picture(X: np.ndarray, w: np.ndarray, y: np.ndarray) -> list[list[float]]:
    """The reliability table of the calibrated P(like) of the pairs ``X`` (features, with
    the fitted weights ``w``, bias last) against their labels ``y``."""
    p = 1.0 / (1.0 + np.exp(-np.clip(X @ w[:-1] + w[-1], -30, 30)))
    table = np.nan_to_num(metrics.reliability(y, p))  # an empty band: zeros (JSON has no NaN)
    return [[round(float(v), 6) for v in row] for row in table]
