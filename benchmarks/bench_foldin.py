"""Fold-in latency: a person's thumbs in, P(like) for every movie and the top 20 out.

    python benchmarks/bench_foldin.py [--trials 300] [--threads N]

Two catalogues, default hidden units: 1,682 movies (a default model trained on ML-100K's
u1.base when ``../shared/data/ml-100k`` is there, else on the bundled demo) and 87,000 movies
(MovieLens 32M's size: an RBM of that shape with random weights and a random movie-to-movie
part of the default size, since the time depends only on the shapes). Each trial folds in a
random profile of 20 likes and 10 dislikes and takes the top 20 unrated movies. Bars
(BENCHMARKS.md): p95 ≤ 5 ms for 1,682 movies, ≤ 50 ms for 87,000.

Measured with one torch thread, as the app runs fold-ins (``rbm_tui.runtime``), and with
torch's default thread count (``--threads N`` picks another count for that second column).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def measure(model, trials: int, seed: int = 0) -> np.ndarray:
    from engine.recommender import fold_in, recommend

    rng = np.random.default_rng(seed)
    times = []
    for t in range(trials + 10):
        rated = rng.choice(model.n_items, 30, replace=False)
        likes, dislikes = rated[:20], rated[20:]
        t0 = time.perf_counter()
        sc = fold_in(model, likes, dislikes)
        recs = recommend(model, likes, dislikes, n=20, scores=sc)
        dt = time.perf_counter() - t0
        assert len(recs) == 20 and len(sc.p_like) == model.n_items
        if t >= 10:  # warm-up
            times.append(dt * 1000)
    return np.asarray(times)


def synthetic_model(n_items: int, n_hidden: int, seed: int = 0):
    from engine.model.calibration import from_positional
    from engine.model.rbm import RBM
    from engine.model.trained import Model
    from engine.settings import TrainConfig

    rng = np.random.default_rng(seed)
    rbm = RBM(n_items, n_hidden, seed=seed, init_std=0.05)
    cfg = TrainConfig(n_hidden=n_hidden)
    rbm.like_units = round(cfg.like_hidden * n_hidden)  # as trained: the like units' gain is on
    rbm.like_gain = 1.5
    # the movie-to-movie part every trained model has: k partners per movie among the hubs
    import torch

    from engine.model.itemitem import ItemItem

    k, hubs = cfg.item_item_k, min(cfg.item_item_hubs, n_items)
    partners = torch.from_numpy(rng.integers(0, hubs, (n_items, k)))
    weights = torch.from_numpy(rng.normal(0, 0.01, (n_items, k)).astype(np.float32))
    rbm.item_item = ItemItem(partners, weights, cfg.item_item_gamma)
    counts = rng.integers(1, 1000, n_items)
    # as trained: the shown P(like) weighs the partners feature, the match's does not
    match = from_positional((1.0, 0.5, 0.5, 0.2, 0.05, 0.05, 0.1, 0.0))
    return Model(
        rbm=rbm,
        item_ids=np.arange(1, n_items + 1),
        like_threshold=3.0,
        calibration={**match, "partners": 0.3},
        match_calibration=match,
        item_counts=counts,
        item_likes=(counts * 0.8).astype(np.int64),
        item_rating_sums=counts * 3.6,
        config=cfg.to_dict(),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    import torch

    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.loop import train

    if args.threads:
        torch.set_num_threads(args.threads)
    ml100k = REPO.parent / "shared" / "data" / "ml-100k" / "u1.base"
    source = ml100k if ml100k.is_file() else REPO / "data" / "demo"
    small = train(load_ratings(source, cache=False)).model
    big = synthetic_model(87_000, TrainConfig().n_hidden)
    default_threads = torch.get_num_threads()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print()
    print(
        f"| catalogue | hidden | 1 thread (the app): median / p95 | {default_threads} threads: "
        "median / p95 | bar (p95) |"
    )
    print("|---|---|---|---|---|")
    for name, model, bar in (
        (f"{small.n_items:,} movies ({source.parent.name}/{source.name})", small, 5),
        ("87,000 movies (random weights)", big, 50),
    ):
        cells = []
        for threads in (1, default_threads):
            torch.set_num_threads(threads)
            ms = measure(model, args.trials)
            cells.append(f"{np.median(ms):.2f} / {np.percentile(ms, 95):.2f} ms")
        print(f"| {name} | {model.rbm.n_hidden} | {cells[0]} | {cells[1]} | ≤ {bar} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
