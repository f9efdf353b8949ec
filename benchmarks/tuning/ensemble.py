"""Would a product of independently trained RBMs rank better than one? (Not adopted.)

    python benchmarks/tuning/ensemble.py --seeds 0,1,2,3,4 [--members 2] [--set n_hidden=125]
                                         [--test] [--foldin]

For each seed, ``--members`` models are trained on the top-N carve of ``carves.py``
(``ml100k-msr/train.csv`` with 25% of each movie's rows held out; no test file is read), the
first with the seed itself and the others with ``seed + 1000·m``. Their product is again an
RBM: the hidden layers side by side, the visible biases averaged and each hidden unit's
weight in the free energy divided by the number of members, so its seen log-odds are the
mean of the members' (the movie-to-movie part and the P(like) calibration are the first
member's). Prints the first member alone and the product: nDCG@10 and P@10 ranked by seen
log-odds with and without the movie-to-movie part, and 1b nDCG@10 (the browser's ranking;
approximate for the product, whose calibration was fitted on the first member).

Training costs ``--members`` times one model's, which is why it was weighed against members
of a smaller size as well (``--set n_hidden=125``: the same cost as one default model).

``--test`` reports what the product would deliver on the benchmark itself: the members train
on the whole ``ml100k-msr/train.csv`` and are scored on ``test.csv`` (section 1's and 1b's
protocols). It is the one mode of this folder that opens a test file; it chooses nothing (no
setting reads its figures) and answers only "would a product of RBMs meet the bars?".
``--foldin`` also times a fold-in (``benchmarks/bench_foldin.py``'s trial: 30 thumbs in,
P(like) for every movie and the top 20 out, one thread) of the first seed's first member and
of its product, alternating, six rounds of 100 trials, and prints each round's p95 in ms.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import carves  # noqa: E402
import torch  # noqa: E402
from tune import parse_setting  # noqa: E402

COLUMNS = ("full_ndcg@10", "full_precision@10", "hid_ndcg@10", "hid_precision@10", "1b_ndcg@10")


def product(models):
    """A copy of ``models[0]`` whose RBM is the product of the members' RBMs."""
    first = models[0]
    out, rbm = copy.copy(first), copy.copy(first.rbm)
    rbm.W = torch.cat([m.rbm.W for m in models], 1).contiguous()
    rbm.c = torch.cat([m.rbm.c for m in models]).contiguous()
    rbm.b = sum(m.rbm.b for m in models) / len(models)
    rbm.n_hidden = rbm.W.shape[1]
    rbm.keep = first.rbm.keep / len(models)
    out.rbm = rbm
    return out


def _test_split():
    """``(train.csv, test.csv)`` of ml100k-msr, read without the carves' test-file guard."""
    from engine.data.loaders import load_ratings

    msr = carves.MSR_TRAIN.parent
    return load_ratings(msr / "train.csv", cache=False), load_ratings(msr / "test.csv", cache=False)


def _time_foldins(one, prod) -> None:
    """p95 fold-in time (ms) of ``one`` and ``prod``, alternating, six rounds."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench_foldin import measure

    p95 = {"one model": [], "product": []}
    for rnd in range(6):
        for name, model in (("one model", one), ("product", prod)):
            p95[name].append(float(np.percentile(measure(model, 100, seed=rnd), 95)))
    for name, v in p95.items():
        rounds = " ".join(f"{x:.2f}" for x in v)
        print(f"fold-in p95 ms, {name}: {rounds} (median {np.median(v):.2f})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--members", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--test", action="store_true", help="train.csv against test.csv (reporting)")
    ap.add_argument("--foldin", action="store_true", help="time the fold-ins (first seed)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    overrides = dict(parse_setting(s) for s in a.set)
    rows: dict[str, list] = {"one model": [], "product": []}
    test = _test_split() if a.test else None  # the same split for every seed: read once
    seeds = [int(s) for s in a.seeds.split(",")]
    for seed in seeds:
        tr, va = test or carves.carve_topn(seed)
        models = [carves.train_model(tr, seed + 1000 * m, overrides) for m in range(a.members)]
        prod = product(models)
        for name, model in (("one model", models[0]), ("product", prod)):
            r = carves.topn_eval(model, tr, va)
            rows[name].append([r[k] for k in COLUMNS])
            print(seed, name, " ".join(f"{v:.4f}" for v in rows[name][-1]), flush=True)
        if a.foldin and seed == seeds[0]:
            _time_foldins(models[0], prod)
    print("mean over the seeds:", " / ".join(COLUMNS))
    for name, v in rows.items():
        m = np.asarray(v)
        print(f"{name:10s}", " ".join(f"{x:.4f}" for x in m.mean(0)))


if __name__ == "__main__":
    main()
