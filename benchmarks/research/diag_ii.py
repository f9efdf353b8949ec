"""Item-item variants on a trained prototype: top-N carve (full) and new-user carve (1c).

    python benchmarks/research/diag_ii.py SEEDS [Cfg FIELD=VALUE ...]
"""
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import itemitem  # noqa: E402
import numpy as np  # noqa: E402
import proto  # noqa: E402
import run_proto  # noqa: E402
import torch  # noqa: E402

from engine.trainer import LikeMatrix  # noqa: E402

VARIANTS = {
    "ease_dense": dict(method="ease_topk", k=10**9),
    "ease_top100": dict(method="ease_topk", k=100),
    "ease_top50": dict(method="ease_topk", k=50),
    "local100": dict(method="local", k=100),
    "local50": dict(method="local", k=50),
    "local50_n05": dict(method="local", k=50, norm=0.5),
    "knn50": dict(method="knn", k=50),
}
SCALES = {"knn50": (1, 3, 10)}


def main():
    torch.set_num_threads(1)
    seeds = [int(x) for x in sys.argv[1].split(",")]
    sets = dict(run_proto.parse(s) for s in sys.argv[2:])
    res = {}
    for seed in seeds:
        for carve in ("topn", "new"):
            if carve == "topn":
                tr, va = harness.carve_topn(seed)
            else:
                tr, th, te = harness.carve_new(seed)
            p = proto.train(tr, proto.Cfg(**{**sets, "seed": seed}))
            lm = LikeMatrix.from_ratings(tr)
            G = itemitem.dense_gram(lm)
            for name, kw in VARIANTS.items():
                L = itemitem.fit(lm, G=G, **kw)
                for a, g in itertools.product(SCALES.get(name, (5, 10, 20)), (0.0, 0.5)):
                    p.rbm.lateral = a * L
                    p.ii_gamma, p.ii_dref = g, 50.0
                    if carve == "topn":
                        m = harness.topn_eval(p, tr, va)["ndcg@10"]
                    else:
                        m = harness.new_eval(p, tr, th, te)["ndcg@10"]
                    res.setdefault((carve, name, a, g), []).append(m)
            p.rbm.lateral = None
    for key, v in sorted(res.items()):
        print(f"{key[0]:5s} {key[1]:14s} a={key[2]:<3} g={key[3]:<4} {np.mean(v):.4f}  {np.round(v, 4).tolist()}")


if __name__ == "__main__":
    main()
