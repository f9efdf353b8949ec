"""Validation during training: the held-out split, and the scores early stopping watches.

:func:`split_validation` holds out a share of each person's ratings; :func:`validate` scores
the model on them each epoch: the AUC and log-loss of the like log-odds, and nDCG@10 of the
held-out movies among each sampled person's unseen movies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from engine.data.likes import LikeMatrix
from engine.metrics import auc, ranking_metrics
from engine.model.inference import hidden_input, pair_logits


def split_validation(
    lm: LikeMatrix, fraction: float, seed: int
) -> tuple[LikeMatrix, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``fraction`` of each user's ratings (users with >= 5 ratings).

    Returns the training LikeMatrix and the held-out ``(users, items, liked)`` arrays.
    """
    rng = np.random.default_rng(seed)
    keep = np.ones(len(lm.cols), dtype=bool)
    lens = np.diff(lm.indptr)
    # a random key per rating, ranked within each user: the lowest ``n_val`` go to validation
    key = rng.random(len(lm.cols))
    users = np.repeat(np.arange(lm.n_users), lens)
    # sorted by user, then key (one float sort: 10× faster than lexsort on 25M ratings; the
    # sum keeps 30+ bits of the key, so a tie with another of the person's keys is rare)
    order = np.argsort(users + key, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(lm.indptr[:-1], lens)
    n_val = np.where(lens >= 5, np.floor(lens * fraction + 0.5), 0).astype(np.int64)
    val = rank < n_val[users]
    keep[val] = False
    counts = np.bincount(users[keep], minlength=lm.n_users)
    indptr = np.zeros(lm.n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    values = None if lm.values is None else lm.values[keep]
    share = None if lm.like_share is None else lm.like_share[keep]
    train = LikeMatrix(indptr, lm.cols[keep], lm.n_users, lm.n_items, values, share)
    vcols = lm.cols[val]
    return train, users[val], vcols // 2, (vcols % 2).astype(bool)


#: At most this many held-out pairs are scored for the AUC and log-loss (a seeded sample, the
#: same every epoch): 25M ratings hold out 2.5M, whose scoring took 10 s an epoch.
MAX_PAIRS = 200_000


def validate(rbm, train: LikeMatrix, vu, vi, vy, device, max_users: int = 600) -> dict:
    """``{auc, logloss, ndcg@10}`` of the held-out pairs ``(vu, vi, vy)`` (people, movies,
    liked), each person's profile taken from ``train``: the AUC and log-loss over at most
    :data:`MAX_PAIRS` pairs, nDCG@10 over at most ``max_users`` people (seeded samples).
    Empty when there is nothing held out."""
    import torch

    if len(vu) == 0:
        return {}
    out: dict[str, float] = {}
    users = np.unique(vu)
    with torch.no_grad():
        pick: slice | np.ndarray = slice(None)
        if len(vu) > MAX_PAIRS:
            pick = np.sort(np.random.default_rng(1).choice(len(vu), MAX_PAIRS, replace=False))
        like_logit = pair_logits(rbm, train, vu[pick], vi[pick], device)
        y = vy[pick]
        p = 1 / (1 + np.exp(-like_logit))
        out["auc"] = auc(y, like_logit)
        eps = 1e-7
        out["logloss"] = float(-np.mean(y * np.log(p + eps) + (~y) * np.log(1 - p + eps)))
        # top-N on held-out movies (any rating is relevant), on up to max_users users
        rng = np.random.default_rng(0)
        sample = users if len(users) <= max_users else rng.choice(users, max_users, replace=False)
        sample = np.sort(sample)
        order = np.argsort(vu, kind="stable")
        starts = np.searchsorted(vu[order], sample)
        ends = np.searchsorted(vu[order], sample, side="right")
        k = min(10, rbm.n_items)
        recs, rel = [], []
        for s in range(0, len(sample), 256):
            us = sample[s : s + 256]
            seen_logit, _ = rbm.mean_field_conditionals(hidden_input(rbm, train, us))
            row, col = train.rows(us)
            seen_logit[
                torch.from_numpy(row).to(device), torch.from_numpy(col // 2).to(device)
            ] = -math.inf
            recs.extend(torch.topk(seen_logit, k, dim=1).indices.cpu().numpy().tolist())
        for a, b in zip(starts, ends):
            rel.append(set(vi[order[a:b]].tolist()))
        out["ndcg@10"] = ranking_metrics(recs, rel, k=10)["ndcg@10"]
    return out


#: What the score of each ``monitor`` setting adds up (how the score is explained to people).
MONITORED = {"auc": "AUC", "ndcg": "nDCG@10", "both": "AUC + nDCG@10"}


def monitored_score(val: Mapping[str, float] | None, monitor: str = "both") -> float | None:
    """The score early stopping watches, from an epoch's validation metrics: the AUC, nDCG@10
    or their sum (``monitor``: ``auc``, ``ndcg`` or ``both``); None without validation."""
    if not isinstance(val, Mapping):
        return None
    auc_, ndcg = _number(val.get("auc")), _number(val.get("ndcg@10"))
    if auc_ is None or ndcg is None:  # absent, or not a number (null in a model file)
        return None
    return {"auc": auc_, "ndcg": ndcg}.get(monitor, auc_ + ndcg)


def _number(v: object) -> float | None:
    """``v`` as a float when it is a number (NaN included), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)
