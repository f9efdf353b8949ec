"""Why a movie is recommended: the person's rated movies that pushed it up most.

The effect of rated movie ``i`` on ``item`` is the exact change in the item's ranking score
(log-odds of picking and liking it, or of picking it with ``by="seen"``) when ``i`` is taken
out of the profile, the person's overall like rate held fixed. The profile's hidden inputs,
with and without each rated movie, are computed once for all the items asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine import checks
from engine.model.trained import Model
from engine.recommender import _profile, liked_rank

if TYPE_CHECKING:
    import torch

    from engine.model.itemitem import ItemItem


@dataclass
class Reason:
    item: int  # model index of the rated movie
    item_id: object
    liked: bool  # the person's thumb on it
    effect: float  # change of the movie's ranking score (log-odds) due to this rating


@dataclass
class Profile:
    """A person's thumbs as the explanations use them: ``R`` rated movies, likes first."""

    likes: np.ndarray  # (R_like,) int64 model indices
    dislikes: np.ndarray  # (R_dislike,) int64
    xs: torch.Tensor  # (1 + R, H): the hidden input, then without each rated movie in turn
    offset: torch.Tensor | None  # (1 + R,) the person's own like term, held fixed; or None
    base: torch.Tensor  # (1 + R,) the hidden units' part of the seen log-odds' normaliser
    own: torch.Tensor  # (N,) each movie's seen bias
    factor: float  # the movie-to-movie term's weight for this person, (D_REF / D)^γ

    @property
    def rated(self) -> np.ndarray:
        """``(R,)`` the rated movies, likes first."""
        return np.concatenate([self.likes, self.dislikes])


def explain(
    model: Model,
    likes: Sequence[int],
    dislikes: Sequence[int],
    item: int,
    n: int = 3,
    *,
    by: str = "liked",
) -> list[Reason]:
    """The person's rated movies that pushed ``item`` up most (largest positive effect first).

    The effect of rated movie ``i`` is the exact change in the item's score (log-odds of
    picking and liking it, or of picking it with ``by="seen"``) when ``i`` is taken out of
    the profile, the person's overall like rate held fixed. Only positive effects are
    returned.
    """
    return explain_many(model, likes, dislikes, [item], n, by=by)[0]


def explain_many(
    model: Model,
    likes: Sequence[int],
    dislikes: Sequence[int],
    items: Sequence[int],
    n: int = 3,
    *,
    by: str = "liked",
) -> list[list[Reason]]:
    """:func:`explain` for each of ``items`` (model indices), the profile's hidden inputs
    (with and without each rated movie) computed once for all of them."""
    import torch

    n, by = checks.count(n, "n"), checks.ranking(by)
    asked = checks.movie_indices(items, model.n_items, "items", distinct=False)
    with torch.no_grad():
        profile = _leave_one_out(model, likes, dislikes, by)
    if profile is None:
        return [[] for _ in asked]
    out = []
    for item in asked:
        score = _scores(model, profile, int(item), by)
        effect = score[0] - score[1:]
        out.append(_top_reasons(model, profile, effect, n))
    return out


def _leave_one_out(
    model: Model, likes: Sequence[int], dislikes: Sequence[int], by: str
) -> Profile | None:
    """The person's :class:`Profile` (None without thumbs)."""
    import torch
    import torch.nn.functional as F

    rbm = model.rbm
    x, lk, dk = _profile(model, likes, dislikes)  # x: (1, H)
    if not len(lk) + len(dk):
        return None
    units = np.concatenate([2 * lk + 1, 2 * dk])
    xs = torch.cat([x, x - rbm.W[torch.from_numpy(units).to(rbm.device)]])  # (1+R, H)
    offset = rbm.like_offset([len(lk)], [len(lk) + len(dk)])
    if offset is not None:
        offset = offset.expand(len(xs))
    factor = 1.0
    ii = rbm.item_item
    if ii is not None and ii.gamma:
        from engine.model.itemitem import D_REF

        # as the rankings weigh it: over the movies the term comes from
        n_from = len(lk) + len(dk) if by == "seen" else max(1, len(lk))
        factor = (D_REF / n_from) ** ii.gamma
    base = rbm.keep * F.softplus(xs).sum(1)
    return Profile(lk, dk, xs, offset, base, rbm.seen_bias(), factor)


def _scores(model: Model, profile: Profile, item: int, by: str) -> np.ndarray:
    """``(1 + R,)`` float64: ``item``'s ranking score for the whole profile, then without
    each rated movie in turn."""
    import torch

    rbm, ii = model.rbm, model.rbm.item_item
    with torch.no_grad():
        its = torch.full((len(profile.xs),), item, device=rbm.device)
        # (1+R, 2), (1+R,); the person's own like term held fixed, as their like rate
        sc, like = rbm.pair_scores(profile.xs, its, with_like=True, offset=profile.offset)
        score = (torch.logsumexp(sc, 1) - profile.base).double().cpu().numpy()
        seen_feature = score - float(profile.own[item])
        like_logit = like.double().cpu().numpy()
    mass = None
    if ii is not None:  # each rated movie's direct pull on the seen log-odds
        pulls, mass = _partner_pulls(ii, profile, item, by)
        score = score + pulls.sum() - np.concatenate([[0.0], pulls])
    if by == "seen":
        return score
    # the person's overall like rate is held fixed: the effect is the movie's own pull
    partners = 0.0 if mass is None else _partners_without_each(model, profile, mass)
    nl, nr = len(profile.likes), len(profile.likes) + len(profile.dislikes)
    p = model.p_like(
        like_logit, nl, nr, np.full(len(like_logit), item), 0.0, seen_feature, partners,
        match=True,
    )  # fmt: skip
    return liked_rank(score, p)


def _partner_pulls(
    ii: ItemItem, profile: Profile, item: int, by: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(pulls (R,), mass (R,))``: each rated movie's pull on ``item``'s seen log-odds
    through the movie-to-movie part (the liked movies' only for the browser's ranking), and
    its positive partner weight (for the partners feature)."""
    rated = profile.rated
    part = ii.partners[item].cpu().numpy()
    w_item = ii.weights[item].double().cpu().numpy()
    # a movie's partners are distinct: each rated movie gets at most one weight
    is_partner = part[:, None] == rated[None, :]
    pulls = np.where(is_partner, profile.factor * w_item[:, None], 0.0).sum(0)
    mass = np.where(is_partner, np.maximum(w_item, 0.0)[:, None], 0.0).sum(0)
    if by != "seen":  # the browser's ranking: pulls of the liked movies only
        pulls[len(profile.likes) :] = 0.0
    return pulls, mass


def _partners_without_each(model: Model, profile: Profile, mass: np.ndarray) -> np.ndarray:
    """``(1 + R,)`` the partners feature of the whole profile, then without each rated movie
    in turn (as the scores are), from each rated movie's partner ``mass (R,)``."""
    nl, nd = len(profile.likes), len(profile.dislikes)
    L0, D0 = mass[:nl].sum(), mass[nl:].sum()
    L = np.concatenate([[L0], L0 - mass[:nl], np.full(nd, L0)])
    D = np.concatenate([[D0], np.full(nl, D0), D0 - mass[nl:]])
    return model.partner_feature(L, D)


def _top_reasons(model: Model, profile: Profile, effect: np.ndarray, n: int) -> list[Reason]:
    """The rated movies of the ``n`` largest positive effects ``(R,)``, largest first."""
    rated, n_likes = profile.rated, len(profile.likes)
    reasons = []
    for j in np.argsort(-effect, kind="stable")[:n]:
        if effect[j] <= 0:
            break
        i = int(rated[j])
        reasons.append(Reason(i, model.item_ids[i], bool(j < n_likes), float(effect[j])))
    return reasons
