"""Would the movie-to-movie part rank better if a liked and a disliked movie were different
inputs? (Not adopted.)

    python benchmarks/tuning/two_channel_item_item.py --seeds 0,1,2

For each seed, one model is trained (default settings) on the top-N carve of ``carves.py``
(``ml100k-msr/train.csv`` with 25% of each movie's rows held out; no test file is read). On
the carve's training people, dense movie-to-movie matrices are fitted in closed form (Steck's
estimator with the engine's penalty, 150 + 2 per rater) to predict each movie's seen
indicator:

- ``ease``: from the other movies' seen indicators (one input per movie, zero diagonal);
- ``2ch-chan``: from two inputs per movie, liked and disliked, each input's penalty from its
  own count of raters; both of the target's own inputs constrained to zero;
- ``2ch-movie``: the same, each input's penalty from its movie's raters.

Each is added to the hidden units' seen log-odds as the engine adds its part,
``scale · (50 / ratings)^0.5 · Σ w``, at several scales, and ranked alone; the trained model's
own ranking (hidden units + its sparse part) and the hidden units alone are printed beside
them (nDCG@10 and P@10, mean over the seeds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from residual_item_item import carve_model, closed_form, ranker, report  # noqa: E402

from engine.model.inference import item_item_input  # noqa: E402

SCALES = (4, 6, 8, 10)


def closed_form_two(Z, X, lam):
    """``B (2N, N)`` minimising ``|X - Z B|² + Σ_i lam_i |B_i|²`` with ``B[j, j] = B[N + j,
    j] = 0`` (``Z = [liked, disliked]``, ``(U, 2N)``): the unconstrained solution minus its
    projection on the two constraints of each column (a 2 × 2 solve per movie)."""
    N = X.shape[1]
    P = torch.linalg.inv((Z.T @ Z).double() + torch.diag(lam))
    C = P @ (Z.T.double() @ X.double())
    j = torch.arange(N)
    a11, a12, a22 = P[j, j], P[j, N + j], P[N + j, N + j]
    c1, c2 = C[j, j], C[N + j, j]
    det = a11 * a22 - a12 * a12
    x1 = (a22 * c1 - a12 * c2) / det
    x2 = (a11 * c2 - a12 * c1) / det
    return (C - P[:, :N] * x1[None, :] - P[:, N:] * x2[None, :]).float()


def score_seed(seed: int) -> dict[str, tuple[float, float]]:
    c = carve_model(seed)
    model, lm, seen, row, col, X = (c[k] for k in ("model", "lm", "seen", "row", "col", "X"))
    item, liked = col // 2, (col % 2).bool()
    with torch.no_grad():
        X1 = torch.zeros_like(X)
        X1[row[liked], item[liked]] = 1.0
        Z = torch.cat([X1, X - X1], 1)
        factor = (50.0 / X.sum(1, keepdim=True).clamp(min=1)) ** 0.5
        lam = 150 + 2 * X.sum(0).double()
        lam_chan = torch.cat([150 + 2 * X1.sum(0).double(), 150 + 2 * (X - X1).sum(0).double()])
        parts = {
            "ease": X @ closed_form(X, X, lam),
            "2ch-chan": Z @ closed_form_two(Z, X, lam_chan),
            "2ch-movie": Z @ closed_form_two(Z, X, torch.cat([lam, lam])),
        }
        own = seen + item_item_input(model.rbm, lm, np.arange(lm.n_users))
    rank = ranker(model, c["known"], c["va"], row, item)
    out = {"the model (hidden + sparse part)": rank(own), "hidden units alone": rank(seen)}
    for name, term in parts.items():
        out[f"{name} alone"] = rank(term)
        for s in SCALES:
            out[f"{name}, scale {s}"] = rank(seen + s * factor * term)
    return out


if __name__ == "__main__":
    report(score_seed)
