"""Watch together on ``mls16-newusers``: one list for two people against each one's own list.

    python benchmarks/bench_together.py [--seeds 0,1,2,3,4] [--powers=-1,-4,-inf]

For each seed: a model trained on ``train.csv`` with the defaults of ``rbm-tui train`` (one
torch thread); the held-out people of ``thumbs.csv`` (10 thumbs each, like = rating >= 3) put
in pairs at random (seeded); each person folded in on their own thumbs. Per pair, the
together list (:func:`engine.together.rank_together`: the 10 best movies neither rated,
ranked by the soft minimum of their matches) is scored with nDCG@10 against each person's
liked test rows (``test.csv`` rated >= 3) and the two figures averaged; beside it, the same
mean for each person's own list (ranked by their match, as the browser ranks), and for one
person's own list shown to both. Prints a markdown table: mean over seeds (min-max).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "benchmarks" / "mls16-newusers"


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def people(model, thumbs, test) -> dict:
    """``{user: (likes, dislikes, liked test movies)}`` in model indices / original IDs."""
    out: dict = {}
    cols = model.map_items(thumbs.item_ids)
    for u, i, v in zip(thumbs.users.tolist(), thumbs.items.tolist(), thumbs.values.tolist()):
        likes, dislikes, _ = out.setdefault(thumbs.user_ids[u], ([], [], set()))
        if cols[i] >= 0:
            (likes if v >= model.like_threshold else dislikes).append(int(cols[i]))
    for u, i, v in zip(test.users.tolist(), test.items.tolist(), test.values.tolist()):
        if v >= 3 and test.user_ids[u] in out:
            out[test.user_ids[u]][2].add(test.item_ids[i])
    return {u: p for u, p in out.items() if p[2]}


def ndcg(model, top, relevant) -> float:
    from engine.metrics import ranking_metrics

    return ranking_metrics([model.item_ids[top].tolist()], [relevant], 10)["ndcg@10"]


def one_seed(seed: int, powers: list[float], thumbs, test, train) -> dict:
    from engine.recommender import fold_in
    from engine.settings import TrainConfig
    from engine.together import rank_together
    from engine.training.loop import train as fit

    t0 = time.perf_counter()
    model = fit(train, TrainConfig(seed=seed, device="cpu", threads=1)).model
    _log(f"seed {seed}: trained in {time.perf_counter() - t0:.0f} s")
    folk = people(model, thumbs, test)
    scores = {u: fold_in(model, lk, dk) for u, (lk, dk, _) in folk.items()}
    order = sorted(folk, key=str)
    np.random.default_rng(seed).shuffle(order)
    pairs = [order[j : j + 2] for j in range(0, len(order) - 1, 2)]
    own, other, both = [], [], {q: [] for q in powers}
    for pair in pairs:
        rel = [folk[u][2] for u in pair]
        rated = np.logical_or.reduce([scores[u].rated for u in pair])
        match = np.stack([scores[u].match for u in pair])
        p_like = np.stack([scores[u].p_like for u in pair])
        for k, u in enumerate(pair):
            solo = rank_together(match[k : k + 1], p_like[k : k + 1], scores[u].rated, 10)
            own.append(ndcg(model, [p.index for p in solo], rel[k]))
            # one person's own list, watched by both (the other's rated movies left out too)
            solo = rank_together(match[k : k + 1], p_like[k : k + 1], rated, 10)
            other.append(np.mean([ndcg(model, [p.index for p in solo], r) for r in rel]))
        for q in powers:
            top = [p.index for p in rank_together(match, p_like, rated, 10, power=q)]
            both[q].append(np.mean([ndcg(model, top, r) for r in rel]))
    return {"pairs": len(pairs), "own": float(np.mean(own)), "one": float(np.mean(other))} | {
        q: float(np.mean(v)) for q, v in both.items()
    }


def _stat(values) -> str:
    v = np.asarray(values, np.float64)
    return f"{v.mean():.4f} ({v.min():.3f}-{v.max():.3f})" if len(v) > 1 else f"{v[0]:.4f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--powers", default="-1,-inf", help="soft-min exponents to compare")
    a = ap.parse_args(argv)
    import torch

    from engine.data.loaders import load_ratings

    torch.set_num_threads(1)
    seeds = [int(s) for s in a.seeds.split(",")]
    powers = [float(q) for q in a.powers.split(",")]
    thumbs, test = load_ratings(DATA / "thumbs.csv"), load_ratings(DATA / "test.csv")
    train = load_ratings(DATA / "train.csv")
    runs = [one_seed(s, powers, thumbs, test, train) for s in seeds]
    print(f"mls16-newusers, seeds {a.seeds}, {runs[0]['pairs']} pairs of held-out people, ")
    print("10 thumbs each; nDCG@10 against each person's liked test rows, mean over both:\n")
    print("| list | mean nDCG@10 over both people |\n|---|---|")
    print(f"| each person's own list | {_stat([r['own'] for r in runs])} |")
    print(f"| one person's own list for both | {_stat([r['one'] for r in runs])} |")
    for q in powers:
        name = {-1.0: "harmonic mean", -np.inf: "minimum"}.get(q, f"power mean q={q:g}")
        print(f"| together, {name} of the matches | {_stat([r[q] for r in runs])} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
