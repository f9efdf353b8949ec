"""Section 1c diagnostics on the carve: one model per seed, several rankings."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import numpy as np  # noqa: E402
import proto  # noqa: E402
import run_proto  # noqa: E402
import torch  # noqa: E402

from engine import lateral as lat  # noqa: E402
from engine.evaluate import ranking_metrics  # noqa: E402
from engine.trainer import LikeMatrix  # noqa: E402


def main():
    torch.set_num_threads(1)
    sets = dict(run_proto.parse(s) for s in sys.argv[2:])
    seeds = [int(x) for x in sys.argv[1].split(",")]
    res = {}
    for seed in seeds:
        tr, th, te = harness.carve_new(seed)
        p = proto.train(tr, proto.Cfg(**{**sets, "seed": seed}))
        rbm = p.rbm
        B = lat.fit_lateral(LikeMatrix.from_ratings(tr), 150.0, 2.0)
        lm = LikeMatrix.from_ratings(th)
        users = np.unique(th.users)
        likes, n = lm.person_counts()
        keep = te.values >= 3
        rel = [set(te.items[keep][te.users[keep] == u].tolist()) for u in users]
        with torch.no_grad():
            x = lm.hidden_input(rbm, users)
            seen, like = rbm.conditionals(x)
            row, col = lm.rows(users)
            L = lat.torch.zeros(1) if False else None
            lateral = torch.zeros(len(users), rbm.n_items)
            lateral_l = torch.zeros(len(users), rbm.n_items)
            r_t, i_t = torch.from_numpy(row), torch.from_numpy(col // 2)
            lateral.index_put_((r_t,), B[i_t], accumulate=True)
            lk = torch.from_numpy(col % 2 == 1)
            lateral_l.index_put_((r_t[lk],), B[i_t[lk]], accumulate=True)
        items = np.arange(rbm.n_items)[None]
        pl = torch.from_numpy(np.log(p.p_like(like.double().numpy(), likes[users, None], n[users, None], items)))
        pop = torch.from_numpy(np.log(np.bincount(tr.items, minlength=tr.n_items) + 1.0))
        variants = {
            "seen": seen.double(),
            "liked": seen.double() + pl,
            "liked+lat10": seen.double() + pl + 10 * lateral,
            "liked+latlikes10": seen.double() + pl + 10 * lateral_l,
            "ease_likes": lateral_l.double(),
            "pl_only": pl,
        }
        for a in (5, 20, 40):
            variants[f"liked+lat{a}"] = seen.double() + pl + a * lateral
        for hs in (0.5, 0.75):
            base = seen.double() - torch.from_numpy(np.logaddexp(rbm.b.view(-1, 2)[:, 0].numpy(), rbm.b.view(-1, 2)[:, 1].numpy())).double()
            bb = seen.double() - base
            variants[f"hid*{hs}+lat10"] = bb + hs * base + pl + 10 * lateral
        variants["lat10+pl+bias"] = (seen.double() - base) + pl + 10 * lateral
        for name, S in variants.items():
            S = S.clone()
            S[r_t, i_t] = -np.inf
            top = torch.topk(S, 10, 1).indices.numpy()
            res.setdefault(name, []).append(ranking_metrics(top.tolist(), rel)["ndcg@10"])
    for k, v in res.items():
        print(f"{k:20s} {np.mean(v):.4f}  {np.round(v, 4).tolist()}")


if __name__ == "__main__":
    main()
