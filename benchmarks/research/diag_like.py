"""Like/dislike diagnostics on the u1.base carve: how much each feature adds (in-sample
logistic fits on the held-out pairs, a handful of weights)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import numpy as np  # noqa: E402
import proto  # noqa: E402
import run_proto  # noqa: E402
import torch  # noqa: E402

from engine.evaluate import auc  # noqa: E402
from engine.model import like_features, prior_like_share  # noqa: E402
from engine.trainer import LikeMatrix, fit_logistic, pair_logits  # noqa: E402


def main():
    torch.set_num_threads(1)
    seeds = [int(x) for x in sys.argv[1].split(",")]
    sets = dict(run_proto.parse(s) for s in sys.argv[2:])
    res = {}
    for seed in seeds:
        tr, va = harness.carve_like(seed)
        p = proto.train(tr, proto.Cfg(**{**sets, "seed": seed}))
        lm = LikeMatrix.from_ratings(tr)
        vu, vi = va.users.astype(np.int64), va.items.astype(np.int64)
        y = va.values >= 3
        ul, un = lm.person_counts()
        il, inn = lm.movie_counts()
        isum = lm.movie_rating_sums()
        mu = isum.sum() / inn.sum()
        with torch.no_grad():
            p.rbm.like_gain = 1.0
            zz = pair_logits(p.rbm, lm, vu, vi, "cpu", parts=True)
        z, zl = zz[:, 0], zz[:, 1]
        import torch.nn.functional as F
        from engine.rbm import logaddexp_pair
        with torch.no_grad():
            users, pos = np.unique(vu, return_inverse=True)
            xh = lm.hidden_input(p.rbm, users)
            sc = p.rbm.pair_scores(xh[torch.from_numpy(pos)], torch.from_numpy(vi))
            seen = (logaddexp_pair(sc) - p.rbm.keep * F.softplus(xh[torch.from_numpy(pos)]).sum(1)).double().numpy()
        bj = p.rbm.b.view(-1, 2)
        seen_rel = seen - np.logaddexp(bj[vi, 0].numpy(), bj[vi, 1].numpy())
        X = like_features(z, ul[vu], un[vu], il[vi], inn[vi], isum[vi], prior_like_share(il, inn), mu)[:, :6]
        def fitauc(cols):
            w = fit_logistic(cols, y)
            return auc(y, cols @ w[:-1] + w[-1])
        out = {
            "raw z": auc(y, z),
            "like units only": auc(y, zl),
            "joint units only": auc(y, z - zl),
            "bias (person, movie, mean)": fitauc(X[:, 1:4]),
            "bias + z": fitauc(X[:, :4]),
            "all 6": fitauc(X),
            "all 6 + zl": fitauc(np.column_stack([X, zl])),
        }
        lnp, lnm = np.log1p(un[vu]), np.log1p(inn[vi])
        base = np.column_stack([X, zl])
        extra = {
            "+ p*m": X[:, 1] * X[:, 2],
            "+ logs": np.column_stack([lnp, lnm]),
            "+ z^2": z ** 2,
            "+ p*mean": X[:, 1] * X[:, 3],
            "+ p*logn": X[:, 1] * lnp,
            "+ zl*logs": np.column_stack([zl * lnp, zl * lnm]),
            "+ seen": seen,
            "+ seen_rel": seen_rel,
        }
        for k, v in extra.items():
            out[k] = fitauc(np.column_stack([base, v]))
        out["+ all extra"] = fitauc(np.column_stack([base] + list(extra.values())))
        for k, v in out.items():
            res.setdefault(k, []).append(v)
    for k, v in res.items():
        print(f"{k:28s} {np.mean(v):.4f}  {np.round(v, 4).tolist()}")


if __name__ == "__main__":
    main()
