"""How far better P(like) could lift the browser's ranking (section 1b): a ceiling.

    python benchmarks/ceiling_1b.py [--seeds 0,1,2,3,4] [--carve]

Section 1b counts a test movie as relevant when it was rated >= 3, so a top-10 slot given to a
movie the person rated 1 or 2 is lost. P(like), the match's second factor, is what can keep
such movies out. This script measures how much that can be worth at most: for each seed it
trains the default model on ``ml100k-msr/train.csv`` and ranks every person's unrated movies
(top 40) two ways, by the seen log-odds (``--by seen``, the top-N ranking) and as the browser
ranks (``--by liked``, the match), then scores each list as it is and with a perfect oracle
that removes the movies the person rated 1 or 2 in ``test.csv`` before taking the top 10. It
prints 1b nDCG@10 of each, and how many such movies a top 10 holds on average.

Nothing is chosen from these figures (no setting reads them); with ``--carve`` the same is
measured on the top-N validation carve of ``train.csv`` (``tuning/carves.py``), which reads no
test file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks" / "tuning"))

DATA = REPO.parent / "shared" / "data" / "benchmarks" / "ml100k-msr"


def _split(carve: bool, seed: int):
    """``(training ratings, held-out ratings)`` of ``seed``."""
    from engine.data.loaders import load_ratings

    if carve:
        import carves

        train, held = carves.carve_topn(seed)
        return carves._compact_users(train), held
    return load_ratings(DATA / "train.csv"), load_ratings(DATA / "test.csv")


def measure(carve: bool, seed: int) -> dict[str, float]:
    import numpy as np

    from engine.metrics import ranking_metrics
    from engine.recommender import recommend_all
    from engine.settings import TrainConfig
    from engine.training.loop import train

    known, held = _split(carve, seed)
    model = train(known, TrainConfig(seed=seed, device="cpu", threads=1)).model
    liked: dict = {}
    disliked: dict = {}
    rows = zip(held.user_ids[held.users].tolist(), held.item_ids[held.items].tolist(), held.values)
    for u, i, v in rows:
        (liked if v >= 3 else disliked).setdefault(u, set()).add(i)
    people = [u for u in liked if u in known.user_index]
    relevant = [liked[u] for u in people]
    out: dict[str, float] = {}
    for by in ("seen", "liked"):
        recs = recommend_all(model, known, 40, users=people, by=by)
        top = [recs[u][:10] for u in people]
        cleaned = [[i for i in recs[u] if i not in disliked.get(u, ())][:10] for u in people]
        out[f"{by}"] = ranking_metrics(top, relevant, 10)["ndcg@10"]
        out[f"{by} + oracle"] = ranking_metrics(cleaned, relevant, 10)["ndcg@10"]
        out[f"{by}: movies rated 1-2 in a top 10"] = float(
            np.mean([sum(i in disliked.get(u, ()) for i in t) for u, t in zip(people, top)])
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--carve", action="store_true", help="on the validation carve instead")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    rows: dict[str, list[float]] = {}
    for seed in map(int, args.seeds.split(",")):
        for name, value in measure(args.carve, seed).items():
            rows.setdefault(name, []).append(value)
        print(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in rows.items()), flush=True)
    where = "top-N carve of train.csv" if args.carve else "ml100k-msr test.csv"
    print(f"\n1b nDCG@10 on {where}, mean (min-max) over seeds {args.seeds}:")
    for name, v in rows.items():
        print(f"  {name:34s} {statistics.mean(v):.4f} ({min(v):.4f}-{max(v):.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
