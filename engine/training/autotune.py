"""Settings training chooses itself on the validation split it already holds out.

The movie-to-movie part (:mod:`engine.model.itemitem`) adds to the hidden units' seen log-odds;
how much it should weigh depends on the data: on ML-100K (1,682 movies, 106 ratings a person)
the two parts carry similar evidence, on a modern catalogue (9,066 movies, most rated by a
handful of people) the movie-to-movie part alone ranks better than the hidden units. So when
``item_item_auto`` is on, after the first epochs (the weights have not seen the validation
ratings) the part is fitted once on the training part with a unit scale and each scale of
:data:`SCALES` × ``item_item_weight`` is scored by the validation nDCG@10 of the ranking by
seen log-odds (the held-out movies relevant), over the people :func:`validate` samples. The best
scale (the smallest among equals) becomes the model's ``item_item_weight``, recorded in its
settings. The choice is a deterministic function of the data and the seed.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from engine.data.likes import LikeMatrix
from engine.metrics import ranking_metrics
from engine.model import itemitem
from engine.model.inference import hidden_input, item_item_input
from engine.settings import TrainConfig

#: The multiples of ``item_item_weight`` tried.
SCALES = (0.5, 1.0, 2.0, 4.0)


def sample_people(vu: np.ndarray, max_users: int) -> np.ndarray:
    """The people whose validation rows score a ranking: all, or a seeded sample of
    ``max_users`` (the sample of :func:`engine.training.validation.validate`)."""
    users = np.unique(vu)
    if len(users) <= max_users:
        return users
    return np.sort(np.random.default_rng(0).choice(users, max_users, replace=False))


def _scores(rbm, lm: LikeMatrix, users: np.ndarray, part):
    """``(seen log-odds of the hidden units, the part's term at unit scale)``, each
    ``(len(users), N)``, the people's rated movies at -inf in the first."""
    import torch

    from engine.recommender import EXACT_LIMIT  # the ranking recommend_all makes

    with torch.no_grad():
        x = hidden_input(rbm, lm, users)
        exact = rbm.n_items * rbm.n_hidden <= EXACT_LIMIT
        seen = (rbm.conditionals(x) if exact else rbm.mean_field_conditionals(x))[0]
        saved, rbm.item_item = rbm.item_item, part.to(rbm.device)
        try:
            extra = item_item_input(rbm, lm, users)
        finally:
            rbm.item_item = saved
        row, col = lm.rows(users)
        seen[torch.from_numpy(row).to(seen.device), torch.from_numpy(col // 2)] = -math.inf
    return seen, extra


def tuned(rbm, lm: LikeMatrix, vu, vi, cfg: TrainConfig) -> TrainConfig:
    """``cfg`` with the settings chosen on the validation split (``item_item_auto``)."""
    if not cfg.item_item_auto:
        return cfg
    return replace(cfg, item_item_weight=choose_item_item_weight(rbm, lm, vu, vi, cfg))


def choose_item_item_weight(rbm, lm: LikeMatrix, vu, vi, cfg: TrainConfig) -> float:
    """The ``item_item_weight`` of :data:`SCALES` × ``cfg.item_item_weight`` whose ranking
    scores the best validation nDCG@10 (see the module doc)."""
    import torch

    if cfg.item_item_weight <= 0 or len(vu) == 0:
        return cfg.item_item_weight
    part = itemitem.fit(lm, replace(cfg, item_item_weight=1.0))
    people = sample_people(vu, cfg.val_users)
    order = np.argsort(vu, kind="stable")
    lo = np.searchsorted(vu[order], people)
    hi = np.searchsorted(vu[order], people, side="right")
    relevant = [set(vi[order[a:b]].tolist()) for a, b in zip(lo, hi)]
    recs: dict[float, list] = {s: [] for s in SCALES}
    for s in range(0, len(people), 256):
        seen, extra = _scores(rbm, lm, people[s : s + 256], part)
        for scale in SCALES:
            w = scale * cfg.item_item_weight
            top = torch.topk(seen + w * extra, min(10, lm.n_items), dim=1).indices
            recs[scale].extend(top.cpu().numpy().tolist())
    ndcg = {s: ranking_metrics(recs[s], relevant, 10)["ndcg@10"] for s in SCALES}
    best = max(SCALES, key=lambda s: (ndcg[s], -s))
    return float(best * cfg.item_item_weight)
