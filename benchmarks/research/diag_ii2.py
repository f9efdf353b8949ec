"""Item-item grid on trained prototypes (fast: base scores once, lateral added densely).

    python benchmarks/research/diag_ii2.py SEEDS [Cfg FIELD=VALUE ...]
Prints top-N full nDCG@10 (topn carve) and 1c nDCG@10 (new carve) per (variant, a, g).
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

from engine.evaluate import ranking_metrics  # noqa: E402
from engine.trainer import LikeMatrix  # noqa: E402

VARIANTS = {
    "dense": dict(method="ease_topk", k=10**9),
    "loc50_n05": dict(method="local", k=50, norm=0.5),
    "loc50_n1": dict(method="local", k=50, norm=1.0),
    "loc100_n05": dict(method="local", k=100, norm=0.5),
    "loc50_n05_l50": dict(method="local", k=50, norm=0.5, l2=50.0),
    "loc50_n05_l300": dict(method="local", k=50, norm=0.5, l2=300.0),
    "loc50_n05_p0": dict(method="local", k=50, norm=0.5, l2_pop=0.0, l2=300.0),
    "loc50_n05_p5": dict(method="local", k=50, norm=0.5, l2_pop=5.0),
}
AS = (5, 10, 20, 40)
GS = (0.0, 0.5, 1.0)


def base_scores(p, lm, users, by):
    seen, like = harness.scores_for(p, lm, users) if False else (None, None)
    import torch as T
    with T.no_grad():
        x = lm.hidden_input(p.rbm, users)
        seen, like = p.rbm.conditionals(x)
    S = seen.double()
    if by == "liked":
        likes, n = lm.person_counts()
        items = np.arange(lm.n_items)[None, :]
        S = S + torch.from_numpy(np.log(p.p_like(like.double().numpy(), likes[users, None], n[users, None], items)))
    return S


def main():
    torch.set_num_threads(1)
    seeds = [int(x) for x in sys.argv[1].split(",")]
    sets = dict(run_proto.parse(s) for s in sys.argv[2:])
    res = {}
    for seed in seeds:
        for carve in ("topn", "new"):
            if carve == "topn":
                tr, va = harness.carve_topn(seed)
                prof = tr
                rel_r = va
                by = "seen"
            else:
                tr, th, te = harness.carve_new(seed)
                prof = th
                rel_r = te.subset(te.values >= 3)
                by = "liked"
            p = proto.train(tr, proto.Cfg(**{**sets, "seed": seed, "ii": "none"}))
            lm_tr = LikeMatrix.from_ratings(tr)
            lmp = LikeMatrix.from_ratings(prof)
            users = np.unique(rel_r.users)
            users = users[np.diff(lmp.indptr)[users] > 0]
            S0 = base_scores(p, lmp, users, by)
            row, col = lmp.rows(users)
            Xp = torch.zeros(len(users), lm_tr.n_items)
            Xp[torch.from_numpy(row), torch.from_numpy(col // 2)] = 1.0
            D = Xp.sum(1, keepdim=True).clamp_min(1.0)
            mask = Xp > 0
            rel = [set(rel_r.items[rel_r.users == u].tolist()) for u in users]
            G = itemitem.dense_gram(lm_tr)
            for name, kw in VARIANTS.items():
                L = itemitem.fit(lm_tr, G=G, **kw)
                XL = (Xp @ L).double()
                for a, g in itertools.product(AS, GS):
                    S = S0 + a * XL * (50.0 / D.double()) ** g
                    S[mask] = -np.inf
                    top = torch.topk(S, 10, 1).indices.numpy()
                    res.setdefault((carve, name, a, g), []).append(ranking_metrics(top.tolist(), rel)["ndcg@10"])
    keys = sorted({(k[1], k[2], k[3]) for k in res})
    print("variant          a   g    topn    new")
    for k in keys:
        t = np.mean(res[("topn",) + k])
        nw = np.mean(res[("new",) + k])
        print(f"{k[0]:16s} {k[1]:<3} {k[2]:<4} {t:.4f}  {nw:.4f}")


if __name__ == "__main__":
    main()
