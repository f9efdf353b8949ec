"""Ranking-time variants of a trained model on the carves of both datasets, one training each.

    python benchmarks/tuning/rank_grid.py --seeds 0,1,2,3,4 --pop 0,0.1,0.2 --which topn,new
    python benchmarks/tuning/rank_grid.py --variant ii=1 --variant ii=2,gamma=0.25

For each dataset (``ml100k``, ``mls16``) and seed the model is trained once on the top-N carve
(and once on the new-people carve with ``--which new``) at the defaults plus ``--set``; every
variant then only changes how the trained model ranks. A variant is ``KEY=VALUE[,KEY=VALUE]``:

- ``pop=B`` subtracts ``B · log(1 + raters)`` (the movie's raters in the training data) from
  every seen log-odds (``--pop B1,B2`` is short for one variant ``pop=B`` each);
- ``ii=S`` multiplies the movie-to-movie weights by ``S`` (as ``item_item_weight`` × S would);
- ``gamma=G`` sets the exponent of the part's per-person factor (``item_item_gamma``);
- ``like=P`` sets the power of P(like) in the match (:data:`engine.recommender.LIKE_WEIGHT`),
  which the rankings by liked (``1b``, ``new``) use.

Prints, per variant, mean (min-max) over the seeds of nDCG@10: the whole model's seen ranking
(``full``), the hidden units alone (``hid``), the ranking by liked (``1b``) and new people
(``new``). No test file is read (:mod:`carves`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]

import carves  # noqa: E402
import torch  # noqa: E402
from tune import parse_setting  # noqa: E402

from engine import recommender  # noqa: E402

_ORIGINAL = recommender._batch_scores
_LIKE_WEIGHT = recommender.LIKE_WEIGHT
_OFFSET: dict[str, torch.Tensor | None] = {"pop": None}


def _with_offset(model, lm, users, exact, ii_lm=None):
    seen, like, feature = _ORIGINAL(model, lm, users, exact, ii_lm)
    off = _OFFSET["pop"]
    return (seen if off is None else seen + off), like, feature


recommender._batch_scores = _with_offset


def parse_variant(text: str) -> dict[str, float]:
    """``"ii=2,gamma=0.25"`` -> ``{"ii": 2.0, "gamma": 0.25}`` (``"base"``: no change)."""
    if text == "base":
        return {}
    out = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key not in ("pop", "ii", "gamma", "like"):
            raise SystemExit(f"rank_grid: unknown variant key {key!r} (pop, ii, gamma, like)")
        out[key] = float(value)
    return out


def _apply(model, variant: dict[str, float]):
    """Set ``variant`` on ``model``; returns the function that undoes it."""
    beta = variant.get("pop", 0.0)
    counts = torch.from_numpy(np.log1p(model.item_counts.astype(np.float32)))
    _OFFSET["pop"] = None if beta == 0 else (-beta * counts).to(model.device)
    recommender.LIKE_WEIGHT = variant.get("like", _LIKE_WEIGHT)
    ii = model.rbm.item_item
    weights, gamma = (None, None) if ii is None else (ii.weights, ii.gamma)
    if ii is not None:
        ii.weights, ii._matrix = weights * variant.get("ii", 1.0), None
        ii.gamma = variant.get("gamma", gamma)

    def undo() -> None:
        _OFFSET["pop"], recommender.LIKE_WEIGHT = None, _LIKE_WEIGHT
        if ii is not None:
            ii.weights, ii.gamma, ii._matrix = weights, gamma, None

    return undo


def _each_variant(model, variants: list[dict], score) -> list[dict]:
    out = []
    for v in variants:
        undo = _apply(model, v)
        try:
            out.append(score())
        finally:
            undo()
    return out


def score_topn(dataset: str, seed: int, variants: list[dict], base: dict) -> list[dict]:
    tr, va = carves.carve_topn(seed, dataset)
    model = carves.train_model(tr, seed, base)

    def score() -> dict:
        m = carves.topn_eval(model, tr, va)
        return {k: m[f"{k}_ndcg@10"] for k in ("full", "hid", "1b")}

    return _each_variant(model, variants, score)


def score_new(dataset: str, seed: int, variants: list[dict], base: dict) -> list[dict]:
    tr, th, te = carves.carve_new(seed, dataset=dataset)
    model = carves.train_model(tr, seed, base)
    return _each_variant(
        model, variants, lambda: {"new": carves.new_eval(model, th, te)["ndcg@10"]}
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--data", default="ml100k,mls16")
    ap.add_argument("--which", default="topn")
    ap.add_argument("--pop", default="", help="short for --variant pop=B for each B")
    ap.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE[,...]")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    names = [f"pop={b}" for b in a.pop.split(",") if b] + a.variant or ["base"]
    variants = [parse_variant(n) for n in names]
    base = dict(parse_setting(s) for s in a.set)
    for dataset in a.data.split(","):
        rows: list[list[dict]] = []
        for s in map(int, a.seeds.split(",")):
            per: list[dict] = [{} for _ in variants]
            if "topn" in a.which:
                for d, m in zip(per, score_topn(dataset, s, variants, base)):
                    d.update(m)
            if "new" in a.which:
                for d, m in zip(per, score_new(dataset, s, variants, base)):
                    d.update(m)
            rows.append(per)
            print(f"{dataset} seed {s}: " + " | ".join(
                f"{n} " + " ".join(f"{k} {v:.4f}" for k, v in d.items())
                for n, d in zip(names, per)), flush=True)  # fmt: skip
        for j, name in enumerate(names):
            keys = rows[0][j].keys()
            parts = []
            for k in keys:
                v = np.array([r[j][k] for r in rows])
                parts.append(f"{k} {v.mean():.4f} ({v.min():.4f}-{v.max():.4f})")
            print(f"{dataset} {name}: " + "  ".join(parts), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
