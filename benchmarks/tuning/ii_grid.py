"""The movie-to-movie part's settings on the top-N carves of both datasets, one training each.

    python benchmarks/tuning/ii_grid.py --seeds 0,1,2,3,4 --grid item_item_weight=5,10,20

The hidden units do not depend on the movie-to-movie part (it is fitted after the epochs), so
for each dataset (``ml100k``, ``mls16``) and seed the model is trained once on the top-N carve
of ``*-msr/train.csv`` (:func:`carves.carve_topn`; no test file is read) and the part is refitted
for every combination of ``--grid`` (``NAME=V1,V2,...``, repeatable). Prints nDCG@10 and P@10
ranking by seen log-odds (section 1's ranking) per combination: the mean over the seeds and
the spread (min-max) of the seeds' figures, for each dataset.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]

import carves  # noqa: E402
import torch  # noqa: E402
from tune import parse_setting  # noqa: E402

from engine.data.likes import LikeMatrix  # noqa: E402
from engine.model import itemitem  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402


def combos(grid: list[str]) -> list[dict]:
    """Every combination of the ``NAME=V1,V2`` values of ``grid``."""
    axes = []
    for g in grid:
        name, _, values = g.partition("=")
        axes.append([parse_setting(f"{name}={v}") for v in values.split(",")])
    return [dict(c) for c in itertools.product(*axes)]


def score_seed(dataset: str, seed: int, variants: list[dict], base: dict) -> list[tuple]:
    """``[(nDCG@10, P@10), ...]`` of the model as trained (its ``item_item_weight`` chosen by
    training when ``item_item_auto`` is on) and of each variant on the carve of ``seed``."""
    tr, va = carves.carve_topn(seed, dataset)
    t0 = time.perf_counter()
    model = carves.train_model(tr, seed, base)
    m = carves.topn_eval_seen(model, tr, va)
    print(f"{dataset} seed {seed}: trained in {time.perf_counter() - t0:.0f} s, item_item_weight"
          f" {model.config['item_item_weight']:g}", flush=True)  # fmt: skip
    full = LikeMatrix.from_ratings(tr, model.like_threshold)
    out, fitted = [(m["ndcg@10"], m["precision@10"])], {}
    for v in variants:
        cfg = TrainConfig(**{**base, **v})
        # the weights scale with item_item_weight: one fit per other setting
        key = tuple(sorted((k, x) for k, x in v.items() if k != "item_item_weight"))
        if key not in fitted:
            fitted[key] = itemitem.fit(full, TrainConfig(**{**base, **v, "item_item_weight": 1}))
        one = fitted[key]
        model.rbm.item_item = itemitem.ItemItem(
            one.partners, one.weights * cfg.item_item_weight, cfg.item_item_gamma
        )
        m = carves.topn_eval_seen(model, tr, va)
        out.append((m["ndcg@10"], m["precision@10"]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--data", default="ml100k,mls16")
    ap.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    variants = combos(a.grid)
    base = dict(parse_setting(s) for s in a.set)
    for dataset in a.data.split(","):
        per_seed = []
        for s in map(int, a.seeds.split(",")):
            per_seed.append(score_seed(dataset, s, variants, base))
            print(f"{dataset} seed {s}: " + ", ".join(f"{n:.4f}" for n, _ in per_seed[-1]),
                  flush=True)  # fmt: skip
        fig = np.array(per_seed)  # (seeds, variants, 2)
        for j, v in enumerate([{"as trained": 1}, *variants]):
            n, p = fig[:, j, 0], fig[:, j, 1]
            print(f"{dataset} {v}: nDCG@10 {n.mean():.4f} ({n.min():.4f}-"
                  f"{n.max():.4f}) P@10 {p.mean():.4f} ({p.min():.4f}-{p.max():.4f})",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
