"""Does the movie-to-movie part help the browser's ranking more from likes alone?

The "liked" ranking (the browser's match) adds the item-item part of the seen log-odds from
every rated movie; a dislike then pulls up the movies that go with it. This compares, on the
validation carves of ``carves.py`` (1b on the msr train carve, new people on the newusers
carve), the item-item input from all rated movies against likes only, same models.

    python benchmarks/tuning/liked_item_item.py --seeds 0,1,2
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

import engine.recommender as rec  # noqa: E402


def likes_only(lm):
    """The LikeMatrix's liked units only (rows kept in order)."""
    from engine.data.likes import LikeMatrix

    keep = (lm.cols % 2) == 1
    owners = lm.owners()[keep]
    indptr = np.zeros(lm.n_users + 1, np.int64)
    np.cumsum(np.bincount(owners, minlength=lm.n_users), out=indptr[1:])
    return LikeMatrix(indptr, lm.cols[keep], lm.n_users, lm.n_items)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    a = ap.parse_args()
    torch.set_num_threads(1)
    original = rec.item_item_input
    rows = {"all": [], "likes": []}
    for seed in map(int, a.seeds.split(",")):
        score = carves.browser_scorer(seed, {})
        for name in rows:
            if name == "likes":
                rec.item_item_input = lambda rbm, lm, users: original(rbm, likes_only(lm), users)
            try:
                r1, r2 = score()
            finally:
                rec.item_item_input = original
            rows[name].append((r1["1b_ndcg@10"], r1["full_ndcg@10"], r2["ndcg@10"]))
            print(seed, name, rows[name][-1], flush=True)
    for name, v in rows.items():
        m = np.asarray(v)
        print(
            f"{name}: 1b nDCG {m[:, 0].mean():.4f}  full {m[:, 1].mean():.4f}  "
            f"new {m[:, 2].mean():.4f}"
        )


if __name__ == "__main__":
    main()
