"""Where rbm-tui and EASE differ on a validation carve: hits by movie popularity and activity.

    python benchmarks/tuning/gap_mls16.py --dataset mls16 --seed 0
    python benchmarks/tuning/gap_mls16.py --dataset mls16 --set item_item_l2=300

Carve: 25% of each movie's rows of the dataset's ``*-msr/train.csv`` held out
(:func:`carves.carve_topn`; no test file is read). On the carve's training part it trains
rbm-tui (defaults, ``--set`` overrides) and fits EASE (Steck 2019, closed form, binary
interactions, ``--lam``), ranks every movie a person has no training row on and prints, for
the whole model, its hidden units alone, its movie-to-movie part alone and EASE: nDCG@10,
P@10, the hits by the movie's raters in the carve (bucket) and by the person's number of
ratings (thirds), the mean raters per recommended movie and the distinct movies recommended.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import carves  # noqa: E402
import torch  # noqa: E402
from run_benchmarks import item_item_alone  # noqa: E402
from tune import parse_setting  # noqa: E402

from engine.metrics import ranking_metrics  # noqa: E402
from engine.recommender import recommend_all  # noqa: E402

BUCKETS = (1, 5, 20, 50, 100, 10**9)  # raters in the carve's training part: [1,5), [5,20) ...


def ease_recs(tr, users: np.ndarray, lam: float, k: int = 10) -> dict:
    """``{user index: [item index, ...]}``: EASE's top ``k`` of each person of ``users``."""
    x = np.zeros((tr.n_users, tr.n_items), np.float64)
    x[tr.users, tr.items] = 1.0
    g = x.T @ x + lam * np.eye(tr.n_items)
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    score = x[users] @ b
    score[x[users] > 0] = -np.inf
    top = np.argsort(-score, axis=1, kind="stable")[:, :k]
    return {int(u): top[j].tolist() for j, u in enumerate(users)}


def breakdown(name: str, recs: dict, rel: dict, pop: np.ndarray, third: dict) -> str:
    """One line of figures of ``recs`` (``{user index: [item index]}``) against ``rel``."""
    users = sorted(rel)
    m = ranking_metrics([recs[u] for u in users], [rel[u] for u in users], 10)
    by_pop = np.zeros(len(BUCKETS) - 1, int)
    by_third = np.zeros(3, int)
    for u in users:
        for i in recs[u]:
            if i in rel[u]:
                by_pop[np.searchsorted(BUCKETS, max(pop[i], 1), "right") - 1] += 1
                by_third[third[u]] += 1
    flat = np.concatenate([recs[u] for u in users])
    return (
        f"| {name} | {m['ndcg@10']:.4f} | {m['precision@10']:.4f} | "
        + " | ".join(map(str, by_pop)) + " | " + " | ".join(map(str, by_third))
        + f" | {pop[flat].mean():.0f} | {len(np.unique(flat))} |"
    )  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="mls16", choices=sorted(carves.TOPN_TRAIN))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lam", type=float, default=300.0)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    tr, va = carves.carve_topn(a.seed, a.dataset)
    model = carves.train_model(tr, a.seed, dict(parse_setting(s) for s in a.set))
    col = model.map_items(tr.item_ids)  # carve index -> model index
    back = {int(c): i for i, c in enumerate(col) if c >= 0}
    pop = np.bincount(tr.items, minlength=tr.n_items)
    rel: dict = {}
    for u, i in zip(va.users.tolist(), va.items.tolist()):
        rel.setdefault(u, set()).add(i)
    counts = np.bincount(tr.users, minlength=tr.n_users)
    cuts = np.quantile(counts[sorted(rel)], [1 / 3, 2 / 3])
    third = {u: int(np.searchsorted(cuts, counts[u], "right")) for u in rel}
    print(f"{a.dataset} carve seed {a.seed}: {len(rel)} people; thirds by ratings cut at {cuts}")
    buckets = " | ".join(f"{lo}-{hi - 1}" for lo, hi in zip(BUCKETS, BUCKETS[1:]))
    print(f"| ranking | nDCG@10 | P@10 | hits by raters {buckets} | hits by activity third "
          "low | mid | high | mean raters of recs | distinct recs |")  # fmt: skip
    uid = {u: tr.user_ids[u] for u in rel}

    def as_index(by_id: dict) -> dict:
        return {u: [back[int(j)] for j in model.map_items(np.array(by_id[uid[u]]))] for u in rel}

    print(breakdown("rbm-tui", as_index(recommend_all(model, tr, 10, users=list(uid.values()))),
                    rel, pop, third))  # fmt: skip
    part, model.rbm.item_item = model.rbm.item_item, None
    print(breakdown("hidden units alone", as_index(recommend_all(
        model, tr, 10, users=list(uid.values()))), rel, pop, third))  # fmt: skip
    model.rbm.item_item = part
    print(f"movie-to-movie part alone: {item_item_alone(model, tr, va)}")
    print(breakdown(f"EASE λ={a.lam:g}", ease_recs(tr, np.array(sorted(rel)), a.lam), rel, pop,
                    third))  # fmt: skip
    share = np.bincount(np.searchsorted(BUCKETS, np.maximum(pop[va.items], 1), "right") - 1)
    print(f"held-out rows by raters bucket: {share.tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
