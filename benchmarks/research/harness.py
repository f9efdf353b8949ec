"""Validation carves and metrics for the research experiments (never reads a test file).

Carves (seeded by ``seed``):

- ``topn``: ``ml100k-msr/train.csv``, 25% of each movie's rows held out (stratified per item,
  like the benchmark's own split). Section 1 ranks every movie not in the carve's training
  rows, every held-out row relevant; section 1b ranks "by liked" (seen log-odds + log
  P(like)), relevant = held-out rows rated >= 3.
- ``like``: ``ml-100k/u1.base``, a random 20% of its rows held out. P(like) of the held-out
  pairs, each person known by the thumbs of their carve-training rows only (no stars).
- ``new``: ``ml100k-newusers/train.csv``, 150 people with >= 20 ratings held out; each is
  known by 10 random thumbs, the rest of their rows (on movies the remaining people know)
  is their test. Rank every movie not in their thumbs, by liked; relevant = rated >= 3.

A *predictor* is an object with:

- ``rbm``: an :class:`engine.rbm.RBM` (with ``lateral`` dense ``(N, N)`` or None and
  ``like_gain``), used for the exact conditionals;
- ``p_like(like_logit, person_likes, person_n, items)``: calibrated P(like) (thumbs path);
- optionally ``seen_extra(rows, items, n)``: an extra ``(n, N)`` seen log-odds term (sparse
  item-item part) instead of ``rbm.lateral``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from engine.evaluate import auc, like_metrics, ranking_metrics  # noqa: E402
from engine.ratings import from_arrays  # noqa: E402
from engine.splits import stratified_item_holdout  # noqa: E402
from engine.trainer import LikeMatrix  # noqa: E402

DATA = Path("/work/shared/data")
_CACHE: dict = {}


def _read(path: Path, sep: str = ",", header="infer"):
    key = (str(path), sep)
    if key not in _CACHE:
        if header is None:
            df = pd.read_csv(path, sep=sep, header=None, names=["user", "item", "rating", "ts"])
        else:
            df = pd.read_csv(path, sep=sep)
            df.columns = ["user", "item", "rating", "ts"]
        _CACHE[key] = from_arrays(
            df.user.to_numpy(), df.item.to_numpy(), df.rating.to_numpy(), df.ts.to_numpy()
        )
    return _CACHE[key]


def msr_train():
    return _read(DATA / "benchmarks/ml100k-msr/train.csv")


def u1_base():
    return _read(DATA / "ml-100k/u1.base", sep="\t", header=None)


def newusers_train():
    return _read(DATA / "benchmarks/ml100k-newusers/train.csv")


# ------------------------------------------------------------------------- carves
def carve_topn(seed: int):
    """``(train Ratings, val Ratings)``: 25% of each movie's rows of msr train.csv held out."""
    return stratified_item_holdout(msr_train(), 0.25, seed=1000 + seed)


def carve_like(seed: int):
    """``(train, val)``: a random 20% of u1.base's rows held out."""
    r = u1_base()
    held = np.random.default_rng([seed, 0x11E]).random(r.n_ratings) < 0.2
    return r.subset(~held), r.subset(held)


def carve_new(seed: int, n_people: int = 150, n_thumbs: int = 10):
    """``(train, thumbs, test)``: 150 people with >= 20 ratings held out of newusers'
    train.csv; 10 random rows of each are their thumbs, the rest (on movies the remaining
    people rated) their test."""
    r = newusers_train()
    rng = np.random.default_rng([seed, 0xC1])
    counts = np.bincount(r.users, minlength=r.n_users)
    eligible = np.flatnonzero(counts >= 20)
    held = np.sort(rng.choice(eligible, n_people, replace=False))
    is_held = np.isin(r.users, held)
    train = r.subset(~is_held)
    known_items = np.zeros(r.n_items, bool)
    known_items[train.items] = True
    idx = np.flatnonzero(is_held)
    key = rng.random(len(idx))
    order = np.lexsort((key, r.users[idx]))
    idx = idx[order]
    u = r.users[idx]
    first = np.r_[True, u[1:] != u[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(u)), 0))
    rank = np.arange(len(u)) - start
    thumbs = r.subset(idx[rank < n_thumbs])
    rest = idx[rank >= n_thumbs]
    test = r.subset(rest[known_items[r.items[rest]]])
    return train, thumbs, test


# ------------------------------------------------------------------------ scoring
def _lm(r, n_items=None) -> LikeMatrix:
    lm = LikeMatrix.from_ratings(r)
    return lm


def _plike(pred, like, likes, n, users, items, seen_h):
    if len(getattr(pred, "w", ())) == 8:
        import torch

        from engine.rbm import logaddexp_pair

        sr = (seen_h - logaddexp_pair(pred.rbm.b.view(-1, 2))[None, :]).double().numpy()
        return pred.p_like(like.double().numpy(), likes[users, None], n[users, None], items, sr)
    return pred.p_like(like.double().numpy(), likes[users, None], n[users, None], items)


def scores_for(pred, lm: LikeMatrix, users: np.ndarray, exact: bool = True):
    """``(seen (B, N), like_logit (B, N))`` torch tensors for ``users`` of ``lm``."""
    import torch

    rbm = pred.rbm
    with torch.no_grad():
        x = lm.hidden_input(rbm, users)
        seen, like = rbm.conditionals(x) if exact else rbm.mean_field_conditionals(x)
        pred._seen_h = seen
        row, col = lm.rows(users)
        extra = getattr(pred, "seen_extra", None)
        if extra is not None:
            add = extra(row, col // 2, len(users))
            if add is not None:
                seen = seen + add
        elif rbm.lateral is not None:
            add = rbm.lateral_input(torch.from_numpy(row), torch.from_numpy(col // 2), len(users))
            gamma = getattr(pred, "ii_gamma", 0.0)
            if gamma:
                D = np.bincount(row, minlength=len(users)).clip(1)
                add = add * torch.from_numpy((pred.ii_dref / D) ** gamma).float()[:, None]
            seen = seen + add
    return seen, like


def topn_eval(pred, train, val, by: str = "seen", liked_only: bool = False, k: int = 10,
              hidden_only: bool = False) -> dict:
    """Ranking metrics of ``pred`` with ``train`` the people's profiles and ``val`` the
    relevant rows (``liked_only``: only those rated >= 3)."""
    import torch

    lm = LikeMatrix.from_ratings(train)
    vu, vi = val.users, val.items
    if liked_only:
        keep = val.values >= 3
        vu, vi = vu[keep], vi[keep]
    users = np.unique(vu)
    likes, n = lm.person_counts()
    order = np.argsort(vu, kind="stable")
    st = np.searchsorted(vu[order], users)
    en = np.searchsorted(vu[order], users, side="right")
    recs = []
    saved = pred.rbm.lateral
    saved_extra = getattr(pred, "seen_extra", None)
    if hidden_only:
        pred.rbm.lateral = None
        if saved_extra is not None:
            pred.seen_extra = None
    try:
        for s in range(0, len(users), 256):
            us = users[s : s + 256]
            seen, like = scores_for(pred, lm, us)
            if by == "liked":
                items = np.arange(lm.n_items)[None, :]
                p = _plike(pred, like, likes, n, us, items, pred._seen_h)
                rank = seen.double() + torch.from_numpy(np.log(p))
            else:
                rank = seen.double()
            row, col = lm.rows(us)
            rank[torch.from_numpy(row), torch.from_numpy(col // 2)] = -np.inf
            recs.extend(torch.topk(rank, k, dim=1).indices.numpy().tolist())
    finally:
        pred.rbm.lateral = saved
        if saved_extra is not None:
            pred.seen_extra = saved_extra
    rel = [set(vi[order[a:b]].tolist()) for a, b in zip(st, en)]
    return ranking_metrics(recs, rel, k)


def like_eval(pred, train, val) -> dict:
    """Thumbs-only P(like) metrics on the held-out pairs ``val`` (profiles from ``train``),
    plus ``raw_auc``: the AUC of the RBM's own like log-odds (gain 1: Platt scaling alone)
    and ``gain_auc`` (with the like units' fitted gain)."""
    import torch

    from engine.trainer import pair_logits

    lm = LikeMatrix.from_ratings(train)
    vu, vi = val.users.astype(np.int64), val.items.astype(np.int64)
    y = val.values >= 3
    likes, n = lm.person_counts()
    rbm = pred.rbm
    gain = rbm.like_gain
    with torch.no_grad():
        rbm.like_gain = 1.0
        z_raw = pair_logits(rbm, lm, vu, vi, "cpu")
        rbm.like_gain = gain
        z = pair_logits(rbm, lm, vu, vi, "cpu") if gain != 1.0 else z_raw
    if len(getattr(pred, "w", ())) == 8:
        import proto

        sr = proto.seen_rel_pairs(rbm, lm, vu, vi)
        p = pred.p_like(z, likes[vu], n[vu], vi, sr)
    else:
        p = pred.p_like(z, likes[vu], n[vu], vi)
    out = like_metrics(vu, y, p)
    out["raw_auc"] = auc(y, z_raw)
    out["gain_auc"] = auc(y, z)
    return out


def new_eval(pred, train, thumbs, test, k: int = 10) -> dict:
    """Section 1c on a carve: fold in each held-out person's thumbs, rank by liked."""
    import torch

    # the thumbs as a LikeMatrix over the held-out people (rows: their user indices)
    lm = LikeMatrix.from_ratings(thumbs)
    keep = test.values >= 3
    tu, ti = test.users[keep], test.items[keep]
    users = np.unique(thumbs.users)
    likes, n = lm.person_counts()
    recs, rel = [], []
    for s in range(0, len(users), 256):
        us = users[s : s + 256]
        seen, like = scores_for(pred, lm, us)
        items = np.arange(lm.n_items)[None, :]
        p = _plike(pred, like, likes, n, us, items, pred._seen_h)
        rank = seen.double() + torch.from_numpy(np.log(p))
        row, col = lm.rows(us)
        rank[torch.from_numpy(row), torch.from_numpy(col // 2)] = -np.inf
        recs.extend(torch.topk(rank, k, dim=1).indices.numpy().tolist())
    for u in users:
        rel.append(set(ti[tu == u].tolist()))
    return ranking_metrics(recs, rel, k)


# ----------------------------------------------------------------------- predictor
class EnginePredictor:
    """Wraps an :class:`engine.model.Model` for the thumbs path (stars features 0)."""

    def __init__(self, model):
        self.model = model
        self.rbm = model.rbm

    def p_like(self, like_logit, person_likes, person_n, items):
        return self.model.p_like(like_logit, person_likes, person_n, items, 0.0, 0.0)


def run_all(train_fn, seed: int, which=("topn", "like", "new"), log=print) -> dict:
    """Train with ``train_fn(ratings, seed) -> predictor`` on each carve of ``seed`` and
    return every metric (with training seconds)."""
    out = {}
    if "topn" in which:
        tr, va = carve_topn(seed)
        t0 = time.perf_counter()
        pred = train_fn(tr, seed)
        out["topn_s"] = time.perf_counter() - t0
        m = topn_eval(pred, tr, va)
        out.update({f"full_{k}": v for k, v in m.items() if k != "users"})
        m = topn_eval(pred, tr, va, hidden_only=True)
        out.update({f"hid_{k}": v for k, v in m.items() if k != "users"})
        m = topn_eval(pred, tr, va, by="liked", liked_only=True)
        out.update({f"1b_{k}": v for k, v in m.items() if k != "users"})
        log(f"  seed {seed} topn: nDCG {out['full_ndcg@10']:.4f} P {out['full_precision@10']:.4f}"
            f" MAP {out['full_map']:.4f} R {out['full_recall@10']:.4f} | hid nDCG "
            f"{out['hid_ndcg@10']:.4f} P {out['hid_precision@10']:.4f} | 1b nDCG "
            f"{out['1b_ndcg@10']:.4f} ({out['topn_s']:.1f} s)")
    if "like" in which:
        tr, va = carve_like(seed)
        t0 = time.perf_counter()
        pred = train_fn(tr, seed)
        out["like_s"] = time.perf_counter() - t0
        m = like_eval(pred, tr, va)
        out.update({f"like_{k}": v for k, v in m.items()})
        log(f"  seed {seed} like: AUC {m['auc']:.4f} acc {m['accuracy']:.4f} pue "
            f"{m['per_user_error']:.4f} ECE {m['ece']:.4f} raw AUC {m['raw_auc']:.4f} gain AUC "
            f"{m['gain_auc']:.4f} ({out['like_s']:.1f} s)")
    if "new" in which:
        tr, th, te = carve_new(seed)
        t0 = time.perf_counter()
        pred = train_fn(tr, seed)
        out["new_s"] = time.perf_counter() - t0
        m = new_eval(pred, tr, th, te)
        out.update({f"new_{k}": v for k, v in m.items() if k != "users"})
        log(f"  seed {seed} new: nDCG {m['ndcg@10']:.4f} P {m['precision@10']:.4f} "
            f"({out['new_s']:.1f} s)")
    return out


KEYS = [
    "full_ndcg@10", "full_precision@10", "full_map", "full_recall@10", "hid_ndcg@10",
    "hid_precision@10", "1b_ndcg@10", "new_ndcg@10", "like_auc", "like_accuracy",
    "like_per_user_error", "like_ece", "like_raw_auc", "like_gain_auc", "topn_s", "like_s",
]


def summarize(rows: list[dict], name: str = "") -> str:
    keys = [k for k in KEYS if all(k in r for r in rows)]
    parts = []
    for k in keys:
        v = np.array([r[k] for r in rows])
        parts.append(f"{k} {v.mean():.4f}±{v.std():.4f}")
    return f"{name} [{len(rows)} seeds] " + "  ".join(parts)
