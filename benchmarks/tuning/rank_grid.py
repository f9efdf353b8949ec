"""Ranking-time variants of a trained model on the carves of both datasets, one training each.

    python benchmarks/tuning/rank_grid.py --seeds 0,1,2,3,4 --pop 0,0.1,0.2 --which topn,new

For each dataset (``ml100k``, ``mls16``) and seed the model is trained once on the top-N carve
(and once on the new-people carve with ``--which new``) at the defaults plus ``--set``; every
variant then only changes how the trained model ranks: ``--pop B`` subtracts ``B · log(1 +
raters)`` (the movie's raters in the training data) from every seen log-odds. Prints, per
variant, mean (min-max) over the seeds of nDCG@10: the whole model's seen ranking (``full``),
the hidden units alone (``hid``), the ranking by liked (``1b``) and new people (``new``),
plus the mean raters of a recommended movie. No test file is read (:mod:`carves`).
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
_OFFSET: dict[str, torch.Tensor | None] = {"pop": None}


def _with_offset(model, lm, users, exact, ii_lm=None):
    seen, like, feature = _ORIGINAL(model, lm, users, exact, ii_lm)
    off = _OFFSET["pop"]
    return (seen if off is None else seen + off), like, feature


recommender._batch_scores = _with_offset


def _set_pop(model, beta: float) -> None:
    counts = torch.from_numpy(np.log1p(model.item_counts.astype(np.float32)))
    _OFFSET["pop"] = None if beta == 0 else (-beta * counts).to(model.device)


def score_topn(dataset: str, seed: int, pops: list[float], base: dict) -> list[dict]:
    tr, va = carves.carve_topn(seed, dataset)
    model = carves.train_model(tr, seed, base)
    out = []
    for b in pops:
        _set_pop(model, b)
        m = carves.topn_eval(model, tr, va)
        out.append({k: m[f"{k}_ndcg@10"] for k in ("full", "hid", "1b")})
    _set_pop(model, 0)
    return out


def score_new(dataset: str, seed: int, pops: list[float], base: dict) -> list[dict]:
    tr, th, te = carves.carve_new(seed, dataset=dataset)
    model = carves.train_model(tr, seed, base)
    out = []
    for b in pops:
        _set_pop(model, b)
        out.append({"new": carves.new_eval(model, th, te)["ndcg@10"]})
    _set_pop(model, 0)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--data", default="ml100k,mls16")
    ap.add_argument("--which", default="topn")
    ap.add_argument("--pop", default="0,0.1,0.2,0.3")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    pops = [float(x) for x in a.pop.split(",")]
    base = dict(parse_setting(s) for s in a.set)
    for dataset in a.data.split(","):
        rows: list[list[dict]] = []
        for s in map(int, a.seeds.split(",")):
            per = [{} for _ in pops]
            if "topn" in a.which:
                for d, m in zip(per, score_topn(dataset, s, pops, base)):
                    d.update(m)
            if "new" in a.which:
                for d, m in zip(per, score_new(dataset, s, pops, base)):
                    d.update(m)
            rows.append(per)
            print(f"{dataset} seed {s}: " + " | ".join(
                f"pop {b:g} " + " ".join(f"{k} {v:.4f}" for k, v in d.items())
                for b, d in zip(pops, per)), flush=True)  # fmt: skip
        for j, b in enumerate(pops):
            keys = rows[0][j].keys()
            parts = []
            for k in keys:
                v = np.array([r[j][k] for r in rows])
                parts.append(f"{k} {v.mean():.4f} ({v.min():.4f}-{v.max():.4f})")
            print(f"{dataset} pop {b:g}: " + "  ".join(parts), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
