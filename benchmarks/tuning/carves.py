"""Validation carves of the benchmarks' own training files, and their metrics.

Only the training side of each benchmark is read (``ml100k-msr/train.csv``,
``ml-100k/u1.base``, ``ml100k-newusers/train.csv``); no test file (``test.csv``,
``u1.test``, ``thumbs.csv``) is ever opened, so settings chosen here are not fitted to the
benchmark's test rows. Every carve is a deterministic function of ``seed``.

- ``topn``: ``ml100k-msr/train.csv``, 25% of each movie's rows held out (the environment
  variable ``CARVE_HOLDOUT`` sets another share; stratified per movie, like the benchmark's
  own split: :func:`engine.data.splits.stratified_item_holdout`, seed ``1000 + seed``).
  Three sections, each ranking every movie a person has no carve-training row on:

  - ``full``: by seen log-odds (``recommend_all(by="seen")``), every held-out row relevant;
  - ``hid``: the same with the movie-to-movie part switched off (``rbm.item_item = None``),
    the hidden units alone;
  - ``1b``: by liked (``recommend_all(by="liked")``), relevant = held-out rows rated >= 3.

- ``like``: ``ml-100k/u1.base``, a random 20% of its rows held out. Calibrated P(like) of the
  held-out pairs, each person known by the thumbs of their carve-training rows only
  (``predict_pairs(..., thumbs_only=True)``): AUC, accuracy, per-user error, ECE;
  ``own_auc``, the AUC of the RBM's own like log-odds as trained (no calibration: what the
  benchmark's "own log-odds + Platt" row measures); and ``raw_auc``, the same with the like
  units' gain that the calibration fits beside its other features.
- ``new``: ``ml100k-newusers/train.csv``, 150 people with >= 20 ratings held out; the model
  trains on the others. Each held-out person is known by 10 random thumbs (rating >= 3 up);
  the rest of their rows, on movies the remaining people rated, is their test. Rank every
  movie not in their thumbs by liked (``thumbs_only``), relevant = test rows rated >= 3.

The carves use the engine's public modules: :mod:`engine.data.loaders`, :mod:`engine.data.splits`,
:mod:`engine.training.loop`, :mod:`engine.recommender`, :mod:`engine.metrics`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.data.loaders import load_ratings  # noqa: E402
from engine.data.ratings import Ratings  # noqa: E402
from engine.data.splits import stratified_item_holdout  # noqa: E402
from engine.metrics import auc, like_metrics, ranking_metrics  # noqa: E402
from engine.recommender import predict_pairs, recommend_all  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402

DATA = Path("/work/shared/data")
#: each dataset's top-N and new-people training files (``carve_topn``, ``carve_new``)
TOPN_TRAIN = {d: DATA / "benchmarks" / f"{d}-msr" / "train.csv" for d in ("ml100k", "mls16")}
NEW_TRAIN = {d: DATA / "benchmarks" / f"{d}-newusers" / "train.csv" for d in ("ml100k", "mls16")}
U1_BASE = DATA / "ml-100k" / "u1.base"

#: Ratings at or above this are likes (the benchmarks' threshold).
LIKE = 3.0
K = 10

_CACHE: dict[str, Ratings] = {}


def _load(path: Path) -> Ratings:
    """The ratings of one training file (parsed once per process; the parse cache on disk is
    not used, so nothing is written)."""
    key = str(path)
    if key not in _CACHE:
        if "test" in path.name or path.name == "thumbs.csv":
            raise ValueError(f"refusing to read a test file: {path}")
        _CACHE[key] = load_ratings(path, cache=False)
    return _CACHE[key]


def u1_base() -> Ratings:
    return _load(U1_BASE)


def newusers_train(dataset: str = "ml100k") -> Ratings:
    return _load(NEW_TRAIN[dataset])


# --------------------------------------------------------------------------- carves
#: The share of each movie's rows the top-N carve holds out (environment ``CARVE_HOLDOUT``).
TOPN_HOLDOUT = float(os.environ.get("CARVE_HOLDOUT", "0.25"))


def carve_topn(seed: int, dataset: str = "ml100k") -> tuple[Ratings, Ratings]:
    """``(train, val)``: 25% (``TOPN_HOLDOUT``) of each movie's rows of the dataset's msr
    ``train.csv`` (``ml100k`` or ``mls16``) held out."""
    return stratified_item_holdout(_load(TOPN_TRAIN[dataset]), TOPN_HOLDOUT, seed=1000 + seed)


def carve_like(seed: int) -> tuple[Ratings, Ratings]:
    """``(train, val)``: a random 20% of ``u1.base``'s rows held out."""
    r = u1_base()
    held = np.random.default_rng([seed, 0x11E]).random(r.n_ratings) < 0.2
    return r.subset(~held), r.subset(held)


def carve_new(
    seed: int, n_people: int = 150, n_thumbs: int = 10, dataset: str = "ml100k"
) -> tuple[Ratings, Ratings, Ratings]:
    """``(train, thumbs, test)``: ``n_people`` people with >= 20 ratings held out of
    newusers' ``train.csv``; ``n_thumbs`` random rows of each are their thumbs, the rest (on
    movies the remaining people rated) their test."""
    r = newusers_train(dataset)
    rng = np.random.default_rng([seed, 0xC1])
    counts = np.bincount(r.users, minlength=r.n_users)
    eligible = np.flatnonzero(counts >= 20)
    held = np.sort(rng.choice(eligible, n_people, replace=False))
    is_held = np.isin(r.users, held)
    train_part = r.subset(~is_held)
    known_items = np.zeros(r.n_items, bool)
    known_items[train_part.items] = True
    idx = np.flatnonzero(is_held)
    key = rng.random(len(idx))
    idx = idx[np.lexsort((key, r.users[idx]))]  # by person, random order within
    u = r.users[idx]
    first = np.r_[True, u[1:] != u[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(u)), 0))
    rank = np.arange(len(u)) - start
    thumbs = r.subset(idx[rank < n_thumbs])
    rest = idx[rank >= n_thumbs]
    test = r.subset(rest[known_items[r.items[rest]]])
    return train_part, thumbs, test


# --------------------------------------------------------------------------- metrics
def _compact_users(r: Ratings) -> Ratings:
    """``r`` with only the people who have rows in it (same movie index space).

    ``recommend_all``/``predict_pairs`` build each person's row of thumbs with
    ``np.add.reduceat`` over the per-user offsets, which raises IndexError when the last
    users of the index space have no rows (as for the held-out people's thumbs, a subset
    of the whole file's users); re-indexing the people avoids it and changes no score.
    """
    keep, users = np.unique(r.users, return_inverse=True)
    return Ratings(
        users=users.astype(np.int32),
        items=r.items,
        values=r.values,
        timestamps=r.timestamps,
        user_ids=r.user_ids[keep],
        item_ids=r.item_ids,
        movies=r.movies,
        source=r.source,
    )


def _relevant(val: Ratings, liked_only: bool = False) -> dict:
    """``{user_id: {item_id, ...}}`` of the rows of ``val`` (only likes with ``liked_only``)."""
    keep = val.values >= LIKE if liked_only else np.ones(val.n_ratings, bool)
    out: dict = {}
    for u, i in zip(val.user_ids[val.users[keep]].tolist(), val.item_ids[val.items[keep]].tolist()):
        out.setdefault(u, set()).add(i)
    return out


def _ranking(recs: dict, relevant: dict) -> dict:
    users = list(relevant)
    return ranking_metrics([recs.get(u, []) for u in users], [relevant[u] for u in users], K)


def topn_eval(model, train_part: Ratings, val: Ratings) -> dict[str, float]:
    """``full_*``, ``hid_*`` and ``1b_*`` ranking metrics (see the module doc)."""
    train_part = _compact_users(train_part)
    rel_all = _relevant(val)
    rel_liked = _relevant(val, liked_only=True)
    users = sorted(rel_all)
    out: dict[str, float] = {}
    recs = recommend_all(model, train_part, K, users=users, by="seen")
    out.update({f"full_{k}": v for k, v in _ranking(recs, rel_all).items()})
    saved = model.rbm.item_item
    model.rbm.item_item = None
    try:
        recs = recommend_all(model, train_part, K, users=users, by="seen")
    finally:
        model.rbm.item_item = saved
    out.update({f"hid_{k}": v for k, v in _ranking(recs, rel_all).items()})
    users_liked = sorted(rel_liked)
    recs = recommend_all(model, train_part, K, users=users_liked, by="liked")
    out.update({f"1b_{k}": v for k, v in _ranking(recs, rel_liked).items()})
    return out


def topn_eval_seen(model, train_part: Ratings, val: Ratings) -> dict[str, float]:
    """Ranking metrics by seen log-odds, every held-out row relevant (``topn_eval``'s
    ``full``)."""
    train_part = _compact_users(train_part)
    rel = _relevant(val)
    return _ranking(recommend_all(model, train_part, K, users=sorted(rel), by="seen"), rel)


def like_eval(model, train_part: Ratings, val: Ratings) -> dict[str, float]:
    """Thumbs-only P(like) metrics on the held-out pairs (profiles from ``train_part``)."""
    train_part = _compact_users(train_part)
    uids = val.user_ids[val.users]
    iids = val.item_ids[val.items]
    p, ok = predict_pairs(model, train_part, uids, iids, thumbs_only=True)
    y = val.values >= LIKE
    out = like_metrics(val.users[ok], y[ok], p[ok])
    out["pairs_skipped"] = int((~ok).sum())
    own = _own_logits(model, train_part, uids[ok], iids[ok])
    out["raw_auc"] = auc(y[ok], own[:, 0] + (model.rbm.like_gain - 1.0) * own[:, 1])
    out["own_auc"] = auc(y[ok], own[:, 0])
    return out


def _own_logits(model, known: Ratings, uids, iids) -> np.ndarray:
    """The RBM's own like log-odds of the pairs (no calibration; what the benchmark's "own
    log-odds with Platt" row ranks by), each person known by thumbs: ``(P, 2)``, the log-odds
    without the like units' gain and the like units' share (:func:`pair_logits`)."""
    import torch

    from engine.model.inference import pair_logits
    from engine.recommender import _user_visible

    lm = _user_visible(model, known, True)
    uidx = np.fromiter((known.user_index[u] for u in uids.tolist()), np.int64, len(uids))
    with torch.no_grad():
        return pair_logits(model.rbm, lm, uidx, model.map_items(iids), "cpu", parts=True)


def new_eval(model, thumbs: Ratings, test: Ratings) -> dict[str, float]:
    """Ranking metrics of the held-out people, each known by their thumbs alone."""
    thumbs = _compact_users(thumbs)
    rel = _relevant(test, liked_only=True)
    users = np.unique(thumbs.user_ids[thumbs.users]).tolist()
    recs = recommend_all(model, thumbs, K, users=users, by="liked", thumbs_only=True)
    return _ranking(recs, rel)


# --------------------------------------------------------------------------- driver
def train_model(ratings: Ratings, seed: int, overrides: dict):
    """The model trained on ``ratings`` with the defaults, ``overrides`` applied, on the CPU
    with one thread."""
    cfg = TrainConfig(**{"seed": seed, "device": "cpu", "threads": 1, **overrides})
    return train(ratings, cfg).model


def run_seed(
    seed: int,
    overrides: dict,
    which=("topn", "like", "new"),
    log: Callable[[str], None] = print,
    dataset: str = "ml100k",
) -> dict[str, float]:
    """Train on each carve of ``seed`` with ``overrides`` and return every metric (with the
    training seconds per carve); ``dataset`` picks the topn and new carves' files (``like``
    is ML-100K's u1.base whatever it is)."""
    out: dict[str, float] = {}
    if "topn" in which:
        tr, va = carve_topn(seed, dataset)
        t0 = time.perf_counter()
        model = train_model(tr, seed, overrides)
        out["topn_s"] = time.perf_counter() - t0
        out.update(topn_eval(model, tr, va))
        log(
            f"  seed {seed} topn: nDCG {out['full_ndcg@10']:.4f} P {out['full_precision@10']:.4f}"
            f" MAP {out['full_map']:.4f} R {out['full_recall@10']:.4f} | hid nDCG "
            f"{out['hid_ndcg@10']:.4f} P {out['hid_precision@10']:.4f} | 1b nDCG "
            f"{out['1b_ndcg@10']:.4f} P {out['1b_precision@10']:.4f} ({out['topn_s']:.1f} s)"
        )
    if "like" in which:
        tr, va = carve_like(seed)
        t0 = time.perf_counter()
        model = train_model(tr, seed, overrides)
        out["like_s"] = time.perf_counter() - t0
        m = like_eval(model, tr, va)
        out.update({f"like_{k}": v for k, v in m.items()})
        log(
            f"  seed {seed} like: AUC {m['auc']:.4f} acc {m['accuracy']:.4f} pue "
            f"{m['per_user_error']:.4f} ECE {m['ece']:.4f} own AUC {m['own_auc']:.4f}"
            f" ({out['like_s']:.1f} s)"
        )
    if "new" in which:
        tr, th, te = carve_new(seed, dataset=dataset)
        t0 = time.perf_counter()
        model = train_model(tr, seed, overrides)
        out["new_s"] = time.perf_counter() - t0
        m = new_eval(model, th, te)
        out.update({f"new_{k}": v for k, v in m.items()})
        log(
            f"  seed {seed} new: nDCG {m['ndcg@10']:.4f} P {m['precision@10']:.4f} "
            f"({out['new_s']:.1f} s)"
        )
    return out


#: The metrics summarised, in order.
KEYS = [
    "full_ndcg@10", "full_precision@10", "full_map", "full_recall@10",
    "hid_ndcg@10", "hid_precision@10",
    "1b_ndcg@10", "1b_precision@10",
    "new_ndcg@10", "new_precision@10",
    "like_auc", "like_accuracy", "like_per_user_error", "like_ece",
    "like_own_auc", "like_raw_auc",
    "topn_s", "like_s", "new_s",
]  # fmt: skip


def summarize(rows: list[dict], name: str = "") -> str:
    """One line: ``name [n seeds] key mean (min-max) ...`` over the seeds."""
    keys = [k for k in KEYS if rows and all(k in r for r in rows)]
    parts = []
    for k in keys:
        v = np.array([r[k] for r in rows], dtype=np.float64)
        parts.append(f"{k} {v.mean():.4f} ({v.min():.4f}-{v.max():.4f})")
    return f"{name} [{len(rows)} seeds] " + "  ".join(parts)
