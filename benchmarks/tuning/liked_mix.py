"""How much should P(like) weigh in the browser's ranking?

The "liked" ranking scores a movie by log σ(seen log-odds) + alpha · log P(like)
(``engine.recommender.LIKE_WEIGHT``; 1: log P(watch and like); 0: rank by the seen log-odds
of the likes alone) and scores, on the validation carves of ``carves.py``,
1b (the msr train carve, liked held-out rows relevant) and new people (the newusers carve,
10 thumbs each). One model per seed and carve; every alpha ranks with the same models.
``--partners on,off`` also ranks with the match's P(like) left without the calibration's
partners feature (the person's thumbs on each movie's movie-to-movie partners).

    python benchmarks/tuning/liked_mix.py --seeds 0,1,2 --alphas 0,0.5,1,1.5,2
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--alphas", default="0,0.5,1,1.5,2")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument(
        "--partners", default="on", help="on,off: the match's P(like) with/without that feature"
    )
    a = ap.parse_args()
    torch.set_num_threads(1)
    overrides = dict(carves_setting(s) for s in a.set)
    alphas = [float(x) for x in a.alphas.split(",")]
    original = rec.LIKE_WEIGHT
    modes = a.partners.split(",")
    rows = {(al, mode): [] for mode in modes for al in alphas}
    original_feature = rec._partner_feature
    for seed in map(int, a.seeds.split(",")):
        score = carves.browser_scorer(seed, overrides)
        for mode in modes:
            for al in alphas:
                rec.LIKE_WEIGHT = al
                if mode == "off":  # the match's P(like) without the partners feature
                    rec._partner_feature = lambda *args, **kw: 0.0
                try:
                    r1, r2 = score()
                finally:
                    rec.LIKE_WEIGHT = original
                    rec._partner_feature = original_feature
                got = rows[(al, mode)]
                got.append((r1["1b_ndcg@10"], r1["1b_precision@10"], r2["ndcg@10"]))
                print(seed, al, mode, " ".join(f"{v:.4f}" for v in got[-1]), flush=True)
    for (al, mode), v in rows.items():
        m = np.asarray(v)
        print(
            f"alpha {al:g} partners {mode}: 1b nDCG {m[:, 0].mean():.4f}±{m[:, 0].std():.4f}  "
            f"1b P {m[:, 1].mean():.4f}  new nDCG {m[:, 2].mean():.4f}±{m[:, 2].std():.4f}"
        )


def carves_setting(text: str):
    from tune import parse_setting

    return parse_setting(text)


if __name__ == "__main__":
    main()
