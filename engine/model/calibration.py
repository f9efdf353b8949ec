"""P(like) calibration: named features of a (person, movie) pair and the logistic layer over them.

The RBM gives a like log-odds ``z`` for a movie a person has not rated; the number shown to
people is ``P(like) = sigmoid(Σ_f w_f · feature_f + w_bias)`` over the features of
:data:`FEATURES`, each with a name (the weights are a ``{name: weight}`` dict, ``"bias"`` the
intercept). The weights are fitted on validation pairs the RBM did not train on (see
:mod:`engine.training.calibrate`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: pseudo-counts of the smoothed like rates (person, movie)
PERSON_PRIOR, MOVIE_PRIOR = 3.0, 10.0
#: pseudo-count (in ratings at the movies' mean) of a person's smoothed rating bias
PERSON_RATING_PRIOR = 5.0
#: pseudo-mass (in partner weights) of the partners' smoothed like log-odds
PARTNER_PRIOR = 0.1

#: The calibration's features, in the order of :func:`like_features`' columns.
FEATURES = (
    "rbm",  # the RBM's like log-odds z
    "person",  # the smoothed like log-odds of the person's ratings
    "movie",  # the smoothed like log-odds of the movie's ratings
    "movie_rating",  # the movie's smoothed mean rating minus the overall mean (rating units)
    "rbm*log_person_n",  # z · log(1 + the person's ratings): trust grows with what is known
    "rbm*log_movie_n",  # z · log(1 + the movie's ratings)
    "person_rating",  # the person's rating bias (stars only; 0 for thumbs)
    "seen",  # the hidden units' share of the movie's seen log-odds: tastes pointing at it
    "partners",  # the like log-odds of the person's thumbs on the movie's partners (weighed)
)
#: The intercept's name in a weights dict.
BIAS = "bias"


def identity() -> dict[str, float]:
    """Weights that leave the RBM's log-odds as they are: P(like) = sigmoid(z)."""
    weights = dict.fromkeys(FEATURES, 0.0)
    weights["rbm"] = 1.0
    weights[BIAS] = 0.0
    return weights


def check(weights: Mapping[str, float]) -> dict[str, float]:
    """``weights`` as a plain dict in :data:`FEATURES` order; raises ValueError when a name is
    missing or unknown or a weight is not a finite number."""
    names = (*FEATURES, BIAS)
    if set(weights) != set(names):
        missing = sorted(set(names) - set(weights))
        extra = sorted(set(weights) - set(names))
        raise ValueError(f"calibration weights: missing {missing}, unknown {extra}")
    out = {}
    for n in names:
        w = weights[n]
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not np.isfinite(w):
            raise ValueError(f"calibration weight {n!r} is not a finite number")
        out[n] = float(w)
    return out


def prior_like_share(likes: np.ndarray, counts: np.ndarray) -> float:
    """The overall like share (the smoothing prior)."""
    return float(np.clip(likes.sum() / max(1, counts.sum()), 0.01, 0.99))


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


def smoothed_log_odds(likes, n, pseudo: float, prior: float) -> np.ndarray:
    """``float64``: the log-odds of like rates ``likes / n``, smoothed by ``pseudo`` ratings
    at the like share ``prior`` (arrays of one shape, or broadcasting)."""
    likes = np.asarray(likes, np.float64)
    n = np.asarray(n, np.float64)
    return np.log((likes + pseudo * prior) / (n - likes + pseudo * (1 - prior)))


def movie_terms(
    movie_likes: np.ndarray,
    movie_n: np.ndarray,
    movie_rating_sum: np.ndarray,
    prior: float,
    mean_rating: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the features take from the movie alone, ``float64 (M,)`` each: its
    ``"movie"`` feature (smoothed like log-odds), its ``"movie_rating"`` feature and
    ``log(1 + its ratings)``, the factor of ``"rbm*log_movie_n"``. Arguments as in
    :func:`like_features`."""
    movie_mean = movie_mean_ratings(movie_rating_sum, movie_n, mean_rating)
    return (
        smoothed_log_odds(movie_likes, movie_n, MOVIE_PRIOR, prior),
        movie_mean - mean_rating,
        np.log1p(np.asarray(movie_n, np.float64)),
    )


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
    seen: np.ndarray | float = 0.0,
    partners: np.ndarray | float = 0.0,
) -> np.ndarray:
    """``(P, len(FEATURES))`` features of P pairs (every array ``(P,)``; the two star
    features may be scalars), columns in :data:`FEATURES` order. ``like_logit``: the RBM's
    like log-odds; ``person_likes``/``person_n``: the person's likes and ratings;
    ``movie_likes``/``movie_n``/``movie_rating_sum``: the movie's likes, ratings and rating
    sum in the training data; ``prior``: :func:`prior_like_share`; ``mean_rating``: the mean
    of every training rating; ``person_bias``: :func:`person_rating_bias` (0 without stars);
    ``seen``: :func:`engine.model.inference.pair_seen` of the pairs; ``partners``:
    :func:`partner_odds` of the pairs (0 without a movie-to-movie part)."""
    z = np.asarray(like_logit, np.float64)
    person_n = np.asarray(person_n, np.float64)
    movie, movie_rating, log_movie_n = movie_terms(
        movie_likes, movie_n, movie_rating_sum, prior, mean_rating
    )
    return np.column_stack(
        [
            z,
            smoothed_log_odds(person_likes, person_n, PERSON_PRIOR, prior),
            movie,
            movie_rating,
            z * np.log1p(person_n),
            z * log_movie_n,
            np.broadcast_to(np.asarray(person_bias, np.float64), z.shape),
            np.broadcast_to(np.asarray(seen, np.float64), z.shape),
            np.broadcast_to(np.asarray(partners, np.float64), z.shape),
        ]
    )


def linear_logit(
    weights: Mapping[str, float],
    like_logit,
    person_likes,
    person_n,
    movie_terms: tuple[np.ndarray, np.ndarray, np.ndarray],
    prior: float,
    person_bias=0.0,
    seen=0.0,
    partners=0.0,
) -> np.ndarray:
    """``Σ_f w_f · feature_f + bias``: the same as ``like_features(...) @ w + bias``, without
    building the features, so that a person's scalars stay scalars (a fold-in of 87,000
    movies: a few passes over them instead of a ``(P, 9)`` array). ``movie_terms``:
    :func:`movie_terms` of the pairs' movies; the other arguments as in
    :func:`like_features`, arrays that broadcast against ``like_logit``. ``float64``."""
    z = np.asarray(like_logit, np.float64)
    person_n = np.asarray(person_n, np.float64)
    movie, movie_rating, log_movie_n = movie_terms
    w = weights
    slope = w["rbm"] + w["rbm*log_person_n"] * np.log1p(person_n)
    slope = slope + w["rbm*log_movie_n"] * log_movie_n
    out = z * slope
    out += w["movie"] * movie + w["movie_rating"] * movie_rating
    person = w["person"] * smoothed_log_odds(person_likes, person_n, PERSON_PRIOR, prior)
    out += person + w[BIAS]
    for name, value in (("person_rating", person_bias), ("seen", seen), ("partners", partners)):
        if w[name]:
            out += w[name] * np.asarray(value, np.float64)
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``float64`` 1 / (1 + e^-z), ``z`` clipped to ±30 (the calibration's probabilities)."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def partner_odds(liked_mass, disliked_mass, prior: float) -> np.ndarray:
    """``float64``: the smoothed like log-odds of a person's thumbs on a movie's partners,
    ``log((L + a·prior) / (D + a·(1 - prior)))``, ``L``/``D`` the movie's positive
    movie-to-movie weights summed over the partners the person liked/disliked
    (:meth:`engine.model.itemitem.ItemItem.like_mass`), ``a`` = :data:`PARTNER_PRIOR`,
    ``prior``: :func:`prior_like_share`. Movies whose partners the person has not rated get
    the prior's log-odds. Arrays of one shape (or broadcasting)."""
    L = np.asarray(liked_mass, np.float64)
    D = np.asarray(disliked_mass, np.float64)
    return np.log((L + PARTNER_PRIOR * prior) / (D + PARTNER_PRIOR * (1.0 - prior)))


def probability(weights: Mapping[str, float], X: np.ndarray) -> np.ndarray:
    """``sigmoid(X · w + bias)`` for features ``X (P, len(FEATURES))``: ``float64 (P,)``."""
    w = np.fromiter((weights[n] for n in FEATURES), np.float64, len(FEATURES))
    return sigmoid(X @ w + weights[BIAS])


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weights ``(d+1,)`` (last: intercept) of an L2-regularised logistic regression of
    ``y`` on ``X (n, d)``, fitted by Newton's method (the first weight starts at 1), each
    step halved until the penalised log-loss falls (a full Newton step can overshoot when
    the features are large, and then diverges)."""
    Xb = np.hstack([X.astype(np.float64), np.ones((len(X), 1))])
    yf = y.astype(np.float64)
    w = np.zeros(Xb.shape[1])
    w[0] = 1.0
    reg = l2 * len(yf) * np.eye(Xb.shape[1])
    reg[-1, -1] = 0.0

    def loss(w: np.ndarray) -> float:
        s = Xb @ w
        return float((np.logaddexp(0.0, s) - yf * s).sum() + 0.5 * w @ reg @ w)

    f = loss(w)
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(Xb @ w, -30, 30)))
        g = Xb.T @ (p - yf) + reg @ w
        Hm = (Xb * (p * (1 - p))[:, None]).T @ Xb + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(Hm, g)
        t = 1.0
        f_new = loss(w - step)
        while not f_new <= f and t > 1e-6:  # a NaN loss halves too
            t *= 0.5
            f_new = loss(w - t * step)
        if not f_new <= f:
            break  # no step lowers the loss: w is as good as it gets
        w, f = w - t * step, f_new
        if np.abs(t * step).max() < 1e-8:
            break
    if not np.all(np.isfinite(w)):
        w = np.zeros(Xb.shape[1])
        w[0] = 1.0
    return w


def from_positional(weights) -> dict[str, float]:
    """Named weights from the positional list of version-1 model files: 4 weights (rbm,
    person, movie, bias) from before the movie-rating and trust features, 7 from before the
    person's rating bias, 8 from before the neighbours, 9 with the neighbours feature (a
    feature of those versions, no longer computed: its weight is dropped); the missing
    weights are 0. Raises ValueError for any other count."""
    w = [float(x) for x in weights]
    if len(w) == 4:
        w = w[:3] + [0.0, 0.0, 0.0] + w[3:]
    if len(w) == 7:
        w = w[:6] + [0.0] + w[6:]
    if len(w) == 9:
        w = w[:7] + w[8:]
    if len(w) != 8:
        raise ValueError(f"{len(weights)} calibration weights, expected 9")
    return upgrade(
        dict(
            zip(
                (
                    "rbm",
                    "person",
                    "movie",
                    "movie_rating",
                    "rbm*log_person_n",
                    "rbm*log_movie_n",
                    "person_rating",
                    BIAS,
                ),
                w,
            )
        )
    )


def upgrade(weights: Mapping[str, float]) -> dict[str, float]:
    """Named weights of an older model file in today's :data:`FEATURES`: the neighbours
    feature (model format 2) is dropped, the seen feature (format 3) and the partners
    feature (format 4) get weight 0."""
    out = {k: v for k, v in weights.items() if k != "neighbours"}
    out.setdefault("seen", 0.0)
    out.setdefault("partners", 0.0)
    return out
