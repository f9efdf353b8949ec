"""The movie-to-movie part's fit alone on a big ratings file: seconds and peak memory.

    python benchmarks/bench_itemitem.py RATINGS [--threads 2]

Loads RATINGS (e.g. the 25M-shaped file ``bench_scale.py`` generates under
``benchmarks/out/synthetic-25M/ratings.csv``), then fits :mod:`engine.model.itemitem` with the
default settings on every rating, as the end of a training does, and prints the load and fit
times, the partners' shape and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ratings", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import torch

    from engine.data.likes import LikeMatrix
    from engine.data.loaders import load_ratings
    from engine.model import itemitem
    from engine.settings import TrainConfig

    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    r = load_ratings(a.ratings)
    lm = LikeMatrix.from_ratings(r)
    t1 = time.perf_counter()
    ii = itemitem.fit(lm, TrainConfig())
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(
        f"{r.n_users:,} people, {r.n_items:,} movies, {r.n_ratings:,} ratings: "
        f"load {t1 - t0:.1f} s, item-item fit {t2 - t1:.1f} s, "
        f"partners {tuple(ii.partners.shape)}, "
        f"peak RSS {peak:.2f} GB ({a.threads} threads)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
