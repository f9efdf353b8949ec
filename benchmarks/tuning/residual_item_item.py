"""Would the movie-to-movie part do better fitted to what the hidden units miss? (Not adopted.)

    python benchmarks/tuning/residual_item_item.py --seeds 0,1,2

For each seed, one model is trained (default settings) on the top-N carve of ``carves.py``
(``ml100k-msr/train.csv`` with 25% of each movie's rows held out; no test file is read). On
the carve's training people, two dense movie-to-movie matrices are fitted with the engine's
penalty (150 + 2 per rater) and a zero diagonal (Steck's closed form):

- ``ease``: the ridge regression of each movie's seen indicator on the others' (what the
  engine's sparse part approximates with 200 partners a movie);
- ``residual``: the same regression of the indicator minus the hidden units' P(seen) (each
  rated movie's P(seen) given the person's other ratings), so that the part learns only what
  the hidden units miss.

Each is added to the hidden units' seen log-odds as the engine adds its part,
``scale · (50 / ratings)^0.5 · Σ w``, at several scales, and ranked; the trained model's own
ranking (hidden units + its sparse part) and the hidden units alone are printed beside them
(nDCG@10 and P@10, mean over the seeds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import carves  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from engine.metrics import ranking_metrics  # noqa: E402
from engine.model.inference import hidden_input, item_item_input  # noqa: E402
from engine.recommender import _user_visible  # noqa: E402

SCALES = (3, 6, 10, 15, 20)


def closed_form(X, target, lam):
    """``B (N, N)`` minimising ``|target - X B|² + Σ_j lam_j |B_j|²`` with ``diag(B) = 0``."""
    P = torch.linalg.inv((X.T @ X).double() + torch.diag(lam))
    C = P @ (X.T.double() @ target.double())
    return (C - P * (torch.diagonal(C) / torch.diagonal(P))[None, :]).float()


def ranker(model, known, va, row, item):
    """A function of ``(U, N)`` scores (the carve's training people, ``known``'s order) to
    their ``(nDCG@10, P@10)`` on the held-out part ``va``, each person's rated movies
    (``row``, ``item``) left out of the ranking."""
    rel = carves._relevant(va)
    ids = known.user_ids
    people = [u for u in range(len(ids)) if ids[u] in rel]

    def rank(scores) -> tuple[float, float]:
        s = scores.clone()
        s[row, item] = -float("inf")
        top = torch.topk(s, carves.K, 1).indices.numpy()
        m = ranking_metrics(
            [model.item_ids[top[u]].tolist() for u in people], [rel[ids[u]] for u in people], 10
        )
        return m["ndcg@10"], m["precision@10"]

    return rank


def carve_model(seed: int) -> dict:
    """A default model trained on the top-N carve of ``seed``, and what the scripts that fit
    dense movie-to-movie parts beside it read: the carve's training people ``known`` and
    their ratings ``lm``, the held-out part ``va``, the hidden input ``x (U, H)``, the hidden
    units' seen log-odds ``seen (U, N)``, the ratings' ``row`` and visible unit ``col`` and
    the seen indicators ``X (U, N)``."""
    tr, va = carves.carve_topn(seed)
    model = carves.train_model(tr, seed, {})
    known = carves._compact_users(tr)
    lm = _user_visible(model, known, False)
    users = np.arange(lm.n_users)
    with torch.no_grad():
        x = hidden_input(model.rbm, lm, users)
        seen, _ = model.rbm.conditionals(x)
        row, col = (torch.from_numpy(a) for a in lm.rows(users))
        X = torch.zeros(lm.n_users, model.n_items)
        X[row, col // 2] = 1.0
    return dict(model=model, known=known, va=va, lm=lm, x=x, seen=seen, row=row, col=col, X=X)


def score_seed(seed: int) -> dict[str, tuple[float, float]]:
    c = carve_model(seed)
    model, known, lm, x, seen, row, col, X = (
        c[k] for k in ("model", "known", "lm", "x", "seen", "row", "col", "X")
    )
    N, rbm, item = model.n_items, model.rbm, col // 2
    users = np.arange(lm.n_users)
    with torch.no_grad():
        # each rated movie's seen log-odds given the person's other ratings
        x_rest = x[row] - rbm.W[col]
        sc = rbm.keep * F.softplus(x_rest[:, None, :] + rbm.W.view(N, 2, -1)[item]).sum(2)
        sc = sc + rbm.b.view(N, 2)[item]
        left_out = torch.logaddexp(sc[:, 0], sc[:, 1]) - rbm.keep * F.softplus(x_rest).sum(1)
        seen_all = seen.clone()
        seen_all[row, item] = left_out
        factor = (50.0 / X.sum(1, keepdim=True).clamp(min=1)) ** 0.5
        lam = 150 + 2 * X.sum(0).double()
        parts = {
            "ease": closed_form(X, X, lam),
            "residual": closed_form(X, X - torch.sigmoid(seen_all), lam),
        }
        own = seen + item_item_input(rbm, lm, users)
    rank = ranker(model, known, c["va"], row, item)
    out = {"the model (hidden + sparse part)": rank(own), "hidden units alone": rank(seen)}
    for name, B in parts.items():
        for s in SCALES:
            out[f"{name}, scale {s}"] = rank(seen + s * factor * (X @ B))
    return out


def report(score_seed) -> None:
    """Run ``score_seed(seed) -> {variant: (nDCG@10, P@10)}`` for the seeds of ``--seeds``
    and print every figure and the means over the seeds."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows: dict[str, list] = {}
    for seed in map(int, a.seeds.split(",")):
        for name, v in score_seed(seed).items():
            rows.setdefault(name, []).append(v)
            print(seed, name, f"{v[0]:.4f} {v[1]:.4f}", flush=True)
    print("mean over the seeds: nDCG@10, P@10")
    for name, v in rows.items():
        m = np.mean(v, 0)
        print(f"{name:34s} {m[0]:.4f} {m[1]:.4f}")


if __name__ == "__main__":
    report(score_seed)
