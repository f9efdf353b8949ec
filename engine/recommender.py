"""Using a trained model: fold-in of a person's thumbs, top-N, explanations, batch scoring.

Fold-in needs no retraining: a person's likes and dislikes set their visible units, the
hidden units are summed out exactly, and every movie gets

- ``p_like``: calibrated P(like | they watch it), the percentage shown to people;
- ``seen_logit``: log-odds that they would pick it at all (used to rank recommendations),
  with the sparse movie-to-movie term when the model has one (:mod:`engine.model.itemitem`).

The browser's ranking ("liked", the *match*: the chance to watch a movie, weighed by the
chance to like it) takes the movie-to-movie term from the person's liked movies only, so that
a dislike never pulls up the movies that go with it (on validation carves this ranks as well
or slightly better).

Movies are addressed by *model index* (``0..model.n_items-1``) in the per-person API, and by
original IDs in the batch API (:func:`recommend_all`, :func:`predict_pairs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from engine import checks
from engine.data.likes import LikeMatrix
from engine.data.ratings import Ratings
from engine.errors import UsageError
from engine.known import known_matrix as _user_visible
from engine.known import likes_only as _likes
from engine.known import person_stats as _people
from engine.model.inference import (
    hidden_input,
    item_item_input,
    like_offset,
    pair_logits,
    pair_partner_mass,
    pair_seen,
)
from engine.model.trained import Model
from engine.popular import Recommendation, popular
from engine.popular import popularity as popularity  # the session's import

if TYPE_CHECKING:
    import torch

#: Above this many (movies × hidden units) fold-in uses the one-pass mean-field conditionals.
#: Latest-small's two joined replicas (9,742 movies × 500 units) are scored exactly: a thumb
#: costs about 19 ms there on one core, against 1.4 ms by mean field, and new people known by
#: 10 thumbs rank better (mls16 new-people carve, seed 0: nDCG@10 0.536 against 0.531).
EXACT_LIMIT = 5_000_000

#: The power of P(like) in the match, σ(seen log-odds) · P(like)^LIKE_WEIGHT. Chosen on the
#: validation carves of both datasets (``benchmarks/tuning/rank_grid.py --variant like=P``,
#: seeds 0-4): 0.25 ranks better than the plain product (1) and than 0.5 for people known by
#: 10 thumbs and for the 1b carve alike; a person's P(like) from a few thumbs is a noisy guess,
#: and picking is the stronger signal (0.125: level, docs/quality-mls16.md, round 5).
LIKE_WEIGHT = 0.25


@dataclass
class Scores:
    """Fold-in result for one person; all arrays ``(n_items,)``."""

    p_like: np.ndarray  # float64, calibrated P(like | seen), in (0, 1)
    seen_logit: np.ndarray  # float64, log-odds of picking the movie
    rated: np.ndarray  # bool, the movies the person rated
    #: float64, the seen log-odds with the movie-to-movie term of the liked movies only (the
    #: ``"liked"`` ranking's); None: the same as ``seen_logit``
    seen_from_likes: np.ndarray | None = None
    #: float64, the P(like) the match weighs (:attr:`Model.match_calibration
    #: <engine.model.trained.Model.match_calibration>`); None: the same as ``p_like``
    p_match: np.ndarray | None = None

    @cached_property
    def match(self) -> np.ndarray:
        """``float64 (n_items,)`` in (0, 1): the match, σ(seen log-odds) · P(like)^
        :data:`LIKE_WEIGHT`, the number the browser's recommendations show and are sorted by
        (``exp`` of the ``"liked"`` ranking score)."""
        return np.exp(self.rank_score("liked"))

    def rank_score(self, by: str = "seen") -> np.ndarray:
        """The ranking score: ``"seen"`` (would pick it) or ``"liked"`` (would pick and like)."""
        if checks.ranking(by) == "liked":
            seen = self.seen_logit if self.seen_from_likes is None else self.seen_from_likes
            return liked_rank(seen, self.p_like if self.p_match is None else self.p_match)
        return self.seen_logit


def liked_rank(seen_logit, p_like):
    """log σ(seen log-odds) + :data:`LIKE_WEIGHT` · log P(like): the ``"liked"`` ranking
    score (the log of the match), from numpy arrays or torch tensors of the same shape."""
    if isinstance(seen_logit, np.ndarray):  # log σ(s) = min(s, 0) - log(1 + e^-|s|)
        tail = np.exp(-np.abs(seen_logit))
        np.log1p(tail, out=tail)
        return np.minimum(seen_logit, 0.0) - tail + LIKE_WEIGHT * np.log(p_like)
    import torch.nn.functional as F

    return -F.softplus(-seen_logit) + LIKE_WEIGHT * p_like.log()


def _use_exact(model: Model, exact: bool | None) -> bool:
    if exact is not None:
        return exact
    return model.n_items * model.rbm.n_hidden <= EXACT_LIMIT


def _profile(model: Model, likes: Iterable[int], dislikes: Iterable[int]):
    """``(x (1, H) hidden input, likes, dislikes)`` of a person's thumbs, summed from the
    rows of W they switch on (no dense visible vector)."""
    import torch

    lk, dk = checks.thumbs(likes, dislikes, model.n_items)
    units = torch.from_numpy(np.concatenate([2 * dk, 2 * lk + 1])).to(model.device)
    rbm = model.rbm
    x = rbm.c + rbm.W.index_select(0, units).sum(0)
    return x[None, :], lk, dk


def fold_in(
    model: Model,
    likes: Iterable[int] = (),
    dislikes: Iterable[int] = (),
    *,
    exact: bool | None = None,
    stars: Mapping[int, float] | None = None,
) -> Scores:
    """Scores for every movie from a person's likes and dislikes (model indices).

    ``exact`` sums the hidden units out exactly; None chooses exact for catalogues up to
    :data:`EXACT_LIMIT` movies × hidden units and the mean-field pass above.
    ``stars``: the person's star ratings (model index -> rating, on the training data's
    scale) when known, as for a person from a ratings file: P(like) then also uses their
    rating bias where the model's calibration weighs it (models trained today weigh it 0:
    they are calibrated for people known by thumbs).
    """
    import torch

    with torch.no_grad():
        x, lk, dk = _profile(model, likes, dislikes)
        offset = model.rbm.like_offset([len(lk)], [len(lk) + len(dk)])
        if _use_exact(model, exact):
            seen, like = model.rbm.conditionals(x, offset=offset)
        else:
            seen, like = model.rbm.mean_field_conditionals(x, offset)
        seen_feature = model.seen_feature(seen[0])
        both = np.concatenate([lk, dk])
        liked = np.arange(len(both)) < len(lk)
        partners = _partner_feature(model, np.zeros(len(both), np.int64), both, liked, 1)
        seen, from_likes = _with_item_item(model, seen, lk, dk)
    rated = np.zeros(model.n_items, dtype=bool)
    rated[lk] = True
    rated[dk] = True
    n_items = np.arange(model.n_items)
    bias = _star_bias(model, stars)
    args = (
        like[0].double().cpu().numpy(), len(lk), len(lk) + len(dk), n_items, bias,
        seen_feature, partners if np.isscalar(partners) else partners[0],
    )  # fmt: skip
    shown, for_match = model.p_like_and_match(*args)
    return Scores(
        p_like=shown,
        seen_logit=seen[0].double().cpu().numpy(),
        rated=rated,
        seen_from_likes=from_likes,
        p_match=None if model.match_calibration is None else for_match,
    )


def _with_item_item(
    model: Model, seen: torch.Tensor, lk: np.ndarray, dk: np.ndarray
) -> tuple[torch.Tensor, np.ndarray | None]:
    """``(seen (1, N), seen from the likes (N,) float64 or None)``: the hidden units' seen
    log-odds ``seen (1, N)`` plus the movie-to-movie term of the rated movies ``lk``, ``dk``
    (likes, dislikes), and plus the term of the likes only (the ``"liked"`` ranking's); as
    they are, and None, without a movie-to-movie part or thumbs."""
    import torch

    ii, dev = model.rbm.item_item, model.device
    if ii is None or not len(lk) + len(dk):
        return seen, None
    rated_idx = torch.from_numpy(np.concatenate([lk, dk])).to(dev)
    rows = torch.zeros(len(rated_idx), dtype=torch.long, device=dev)
    with_all = seen + ii.seen_term(rows, rated_idx, 1)
    liked_idx = torch.from_numpy(lk).to(dev)
    rows = torch.zeros(len(lk), dtype=torch.long, device=dev)
    from_likes = (seen + ii.seen_term(rows, liked_idx, 1))[0]
    return with_all, from_likes.double().cpu().numpy()


def _partner_feature(model: Model, rows: np.ndarray, items: np.ndarray, liked, n: int):
    """The calibration's partners feature of ``n`` people for every movie, ``(n, N)``
    float64, from their rated movies ``items`` (model indices, person ``rows[t]``), liked
    where the bool mask ``liked`` is. 0.0 without a movie-to-movie part."""
    import torch

    ii = model.rbm.item_item
    if ii is None:
        return 0.0
    liked = np.asarray(liked, bool)
    dev = model.device
    with torch.no_grad():
        L, D = ii.like_mass(
            torch.from_numpy(np.asarray(rows, np.int64)).to(dev),
            torch.from_numpy(np.asarray(items, np.int64)).to(dev),
            torch.from_numpy(liked).to(dev),
            n,
        )
    return model.partner_feature(L, D)


def _star_bias(model: Model, stars: Mapping[int, float] | None) -> float:
    """One person's rating bias from their stars (0 without)."""
    if not stars:
        return 0.0
    items = checks.movie_indices(stars.keys(), model.n_items, "stars")
    values = np.fromiter(stars.values(), np.float64)
    order = np.argsort(items, kind="stable")
    items, values = items[order], values[order]
    cols = 2 * items + (values >= model.like_threshold)
    lm = LikeMatrix(np.array([0, len(items)]), cols, 1, model.n_items, values)
    return float(_people(model, lm)[2][0])


def recommend(
    model: Model,
    likes: Iterable[int] = (),
    dislikes: Iterable[int] = (),
    n: int = 10,
    *,
    by: str = "seen",
    filter_already_rated: bool = True,
    candidates: np.ndarray | None = None,
    scores: Scores | None = None,
) -> list[Recommendation]:
    """The top ``n`` movies for a person, best first.

    Args:
        likes, dislikes: model indices (``0 .. model.n_items - 1``; :meth:`Model.map_items
            <engine.model.trained.Model.map_items>` turns movie IDs into them) of the
            person's thumbs up / down.
        n: how many movies, at least 0.
        by: ``"seen"`` ranks by how likely they are to pick the movie, ``"liked"`` by how
            likely they are to pick it and like it.
        filter_already_rated: leave out movies the person rated.
        candidates: optional bool mask ``(n_items,)`` of movies allowed (e.g. a genre filter).
        scores: a :func:`fold_in` result to reuse (skips the fold-in).

    Returns:
        Up to ``n`` :class:`~engine.popular.Recommendation`, best first. Their ``score`` is
        the ranking score: the seen log-odds (``"seen"``) or the log of the match
        (``"liked"``). With no thumbs (and no ``scores``) the picks are popular, well-liked
        movies (:func:`~engine.popular.popular`): ``score`` is then the popularity score and
        ``match`` NaN, ``p_like`` still the calibrated P(like) of a person known by nothing.
    """
    n, by = checks.count(n, "n"), checks.ranking(by)
    if candidates is not None:
        candidates = np.asarray(candidates, dtype=bool)
        if candidates.shape != (model.n_items,):
            raise UsageError(
                f"candidates: a bool mask of {model.n_items} movies, not {candidates.shape}"
            )
    if scores is None:
        lk, dk = checks.thumbs(likes, dislikes, model.n_items)
        if not len(lk) + len(dk):
            return _popular_picks(model, n, candidates)
        scores = fold_in(model, lk, dk)
    sc = scores
    rank = sc.rank_score(by).copy()
    if filter_already_rated:
        rank[sc.rated] = -np.inf
    if candidates is not None:
        rank[~candidates] = -np.inf
    n = min(n, int(np.isfinite(rank).sum()))
    if n <= 0:
        return []
    top = np.argpartition(-rank, n - 1)[:n]
    top = top[np.argsort(-rank[top], kind="stable")]
    match = sc.match
    return [
        Recommendation(
            int(i), model.item_ids[i], float(rank[i]), float(sc.p_like[i]), float(match[i])
        )
        for i in top
    ]


def _popular_picks(model: Model, n: int, candidates: np.ndarray | None) -> list[Recommendation]:
    """:func:`~engine.popular.popular` among ``candidates`` (a bool mask or None), with the
    calibrated P(like) of a person known by no thumbs."""
    exclude = () if candidates is None else np.nonzero(~candidates)[0]
    picks = popular(model, n, exclude)
    p_like = fold_in(model).p_like
    for pick in picks:
        pick.p_like = float(p_like[pick.item])
    return picks


# ------------------------------------------------------------------------- batch
def _batch_scores(model: Model, lm, users: np.ndarray, exact: bool | None, ii_lm=None):
    """``(seen log-odds, like log-odds, the calibration's seen feature)`` of ``users`` for
    every movie: two ``(len(users), N)`` tensors and a numpy array. ``ii_lm``: the people's
    movies the movie-to-movie term comes from (default ``lm``; the ``"liked"`` ranking passes
    their likes, :func:`_likes`)."""
    import torch

    with torch.no_grad():
        x = hidden_input(model.rbm, lm, users)
        offset = like_offset(model.rbm, lm, users)
        if _use_exact(model, exact):
            seen, like = model.rbm.conditionals(x, offset=offset)
        else:
            seen, like = model.rbm.mean_field_conditionals(x, offset)
        feature = model.seen_feature(seen)
        extra = item_item_input(model.rbm, lm if ii_lm is None else ii_lm, users)
        return (seen if extra is None else seen + extra), like, feature


def recommend_all(
    model: Model,
    known: Ratings,
    k: int = 10,
    *,
    users: Sequence | None = None,
    by: str = "seen",
    exact: bool | None = None,
    with_scores: bool = False,
    batch_size: int = 256,
    thumbs_only: bool = False,
    catalogue: Ratings | None = None,
) -> dict:
    """Top-``k`` movies (original IDs, best first) for each user of ``known`` (or ``users``,
    original IDs), excluding the movies the user rated in ``known``.

    Returns ``{user_id: [item_id, ...]}``, or with ``with_scores`` ``{user_id: [(item_id,
    score, p_like), ...]}`` (``score`` as :attr:`Recommendation.score
    <engine.popular.Recommendation.score>`). ``k`` is at least 1. Users unknown to ``known``
    raise :class:`~engine.errors.UnknownIdError` (a KeyError), and ratings of another
    catalogue a :class:`~engine.errors.ModelError` (:meth:`Model.check_fits
    <engine.model.trained.Model.check_fits>`, on ``catalogue``, default ``known``: a
    profile's few thumbs name too few movies to tell, their dataset does). ``thumbs_only``:
    each user known by likes and dislikes alone (no star values), as in the browser.
    """
    k, by = checks.count(k, "k", least=1), checks.ranking(by)
    batch_size = checks.count(batch_size, "batch_size", least=1)
    model.check_fits(known if catalogue is None else catalogue)
    lm = _user_visible(model, known, thumbs_only)
    if users is None:
        uidx = np.arange(known.n_users)
    else:
        uidx = np.fromiter((known.lookup_user(u) for u in users), np.int64)
    ask = _Ask(by, exact, with_scores, None, None)
    if (by == "liked" or with_scores) and len(uidx):
        ask.people = _people(model, lm)  # (likes, ratings, bias) of every person
    if by == "liked" and model.rbm.item_item is not None:
        ask.ii_lm = _likes(lm)
    out: dict = {}
    for s in range(0, len(uidx), batch_size):
        us = uidx[s : s + batch_size]
        rank, p_all = _rank_batch(model, lm, us, ask)
        _top_k(out, model, known.user_ids[us], rank, p_all, k)
    return out


@dataclass
class _Ask:
    """What :func:`recommend_all` asks of every batch of people."""

    by: str  # the ranking, "seen" or "liked"
    exact: bool | None  # the conditionals (see fold_in)
    with_scores: bool  # P(like) of the top movies too
    people: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # :func:`_people`, when needed
    ii_lm: LikeMatrix | None  # the movies the movie-to-movie term comes from (None: all)


def _rank_batch(model: Model, lm: LikeMatrix, us: np.ndarray, ask: _Ask):
    """``(rank (n, N) tensor, P(like) (n, N) float64 or None)`` of the people ``us`` (rows of
    ``lm``): the ranking score of every movie, -inf for the movies they rated; P(like) with
    ``ask.with_scores``."""
    import torch

    seen, like, feature = _batch_scores(model, lm, us, ask.exact, ask.ii_lm)
    row, col = lm.rows(us)
    p_all = p_match = None
    if ask.people is not None:
        pl, pn, pb = (a[us, None] for a in ask.people)
        cols = np.arange(model.n_items)[None, :]
        partners = 0.0
        match_weights = model.match_calibration or model.calibration
        if ask.with_scores or match_weights["partners"]:  # (the match's weighs it 0)
            partners = _partner_feature(model, row, col // 2, col % 2 == 1, len(us))
        args = (like.double().cpu().numpy(), pl, pn, cols, pb, feature, partners)
        if ask.with_scores and ask.by == "liked":
            p_all, p_match = model.p_like_and_match(*args)
        elif ask.with_scores:
            p_all = model.p_like(*args)
        else:
            p_match = model.p_like(*args, match=True)
    rank = seen
    if ask.by == "liked":
        rank = liked_rank(seen, torch.from_numpy(p_match).to(seen.dtype).to(seen.device))
    dev = rank.device
    rank[torch.from_numpy(row).to(dev), torch.from_numpy(col // 2).to(dev)] = -float("inf")
    return rank, p_all


def _top_k(out: dict, model: Model, user_ids: np.ndarray, rank, p_all, k: int) -> None:
    """Add each person's top ``k`` movies by ``rank (n, N)`` to ``out`` (with their scores
    and P(like) when ``p_all (n, N)`` is given), keyed by ``user_ids (n,)``."""
    import torch

    found = torch.topk(rank, min(k, model.n_items), dim=1)
    vals, top = found.values.cpu().numpy(), found.indices.cpu().numpy()
    p = None if p_all is None else np.take_along_axis(p_all, top, axis=1)
    for r, uid in enumerate(user_ids):
        ok = np.isfinite(vals[r])
        ids = model.item_ids[top[r][ok]]
        if p is None:
            out[uid] = ids.tolist()
        else:
            out[uid] = list(zip(ids.tolist(), vals[r][ok].tolist(), p[r][ok].tolist()))


def predict_pairs(
    model: Model,
    known: Ratings,
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    *,
    thumbs_only: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated P(like) for each (user, item) pair of original IDs, ``known`` giving each
    user's ratings.

    Returns ``(p_like float64 (n,), ok bool (n,))``; ``ok`` is False where the user is not
    in ``known`` or the movie is unknown to the model (``p_like`` is NaN there).
    ``thumbs_only``: each user known by likes and dislikes alone (no star values), as in the
    browser. Ratings of another catalogue raise a :class:`~engine.errors.ModelError`.
    """
    import torch

    if np.shape(user_ids) != np.shape(item_ids) or np.ndim(user_ids) != 1:
        raise UsageError(
            f"user_ids {np.shape(user_ids)} and item_ids {np.shape(item_ids)}: "
            "give two 1-D arrays of the same length, one pair per position"
        )
    model.check_fits(known)
    lm = _user_visible(model, known, thumbs_only)
    uidx = np.fromiter(
        (known.user_index.get(u, -1) for u in np.asarray(user_ids).tolist()), np.int64
    )
    if (uidx < 0).any():
        missing = uidx < 0
        s_index = {str(k): v for k, v in known.user_index.items()}
        uidx[missing] = np.fromiter(
            (s_index.get(str(u), -1) for u in np.asarray(user_ids)[missing].tolist()), np.int64
        )
    iidx = model.map_items(np.asarray(item_ids))
    ok = (uidx >= 0) & (iidx >= 0)
    p = np.full(len(uidx), np.nan)
    if not ok.any():
        return p, ok
    with torch.no_grad():
        logits = pair_logits(model.rbm, lm, uidx[ok], iidx[ok], model.device)
        seen = pair_seen(model.rbm, lm, uidx[ok], iidx[ok])
    partners: float | np.ndarray = 0.0
    if model.rbm.item_item is not None:
        mass = pair_partner_mass(model.rbm, lm, uidx[ok], iidx[ok])
        partners = model.partner_feature(mass[:, 0], mass[:, 1])
    pl, pn, pb = (a[uidx[ok]] for a in _people(model, lm))
    p[ok] = model.p_like(logits, pl, pn, iidx[ok], pb, seen, partners)
    return p, ok
