"""EASE (lambda=300) and popularity on the research carves (reference figures)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine.evaluate import ranking_metrics  # noqa: E402


def ease_scores(tr, lam=300.0, likes_only=False):
    keep = tr.values >= 3 if likes_only else np.ones(tr.n_ratings, bool)
    X = torch.zeros(tr.n_users, tr.n_items)
    X[torch.from_numpy(tr.users[keep].astype(np.int64)), torch.from_numpy(tr.items[keep].astype(np.int64))] = 1
    G = X.T @ X
    G.diagonal().add_(lam)
    P = torch.linalg.inv(G)
    B = -P / P.diagonal()[None, :]
    B.fill_diagonal_(0)
    return X @ B


def rank(S, tr, vu, vi, pop=None):
    S = S.clone()
    S[torch.from_numpy(tr.users.astype(np.int64)), torch.from_numpy(tr.items.astype(np.int64))] = -np.inf
    users = np.unique(vu)
    top = torch.topk(S[torch.from_numpy(users)], 10, 1).indices.numpy()
    rel = [set(vi[vu == u].tolist()) for u in users]
    return ranking_metrics(top.tolist(), rel)


def main():
    torch.set_num_threads(1)
    out = {"ease": [], "pop": [], "ease_1b": [], "new_ease_likes": [], "new_pop": []}
    for seed in range(5):
        tr, va = harness.carve_topn(seed)
        S = ease_scores(tr)
        out["ease"].append(rank(S, tr, va.users, va.items)["ndcg@10"])
        lk = va.values >= 3
        out["ease_1b"].append(rank(S, tr, va.users[lk], va.items[lk])["ndcg@10"])
        pop = torch.from_numpy(np.bincount(tr.items, minlength=tr.n_items).astype(np.float32))
        out["pop"].append(rank(pop[None].expand(tr.n_users, -1), tr, va.users, va.items)["ndcg@10"])
        tr, th, te = harness.carve_new(seed)
        # EASE fitted on the training people, folded in with the held-out people's likes
        keep = th.values >= 3
        X = torch.zeros(th.n_users, th.n_items)
        X[torch.from_numpy(th.users[keep].astype(np.int64)), torch.from_numpy(th.items[keep].astype(np.int64))] = 1
        G = torch.zeros(tr.n_items, tr.n_items)
        Xt = torch.zeros(tr.n_users, tr.n_items)
        Xt[torch.from_numpy(tr.users.astype(np.int64)), torch.from_numpy(tr.items.astype(np.int64))] = 1
        G = Xt.T @ Xt
        G.diagonal().add_(300.0)
        P = torch.linalg.inv(G)
        B = -P / P.diagonal()[None, :]
        B.fill_diagonal_(0)
        S = X @ B
        lk = te.values >= 3
        S[torch.from_numpy(th.users.astype(np.int64)), torch.from_numpy(th.items.astype(np.int64))] = -np.inf
        users = np.unique(th.users)
        top = torch.topk(S[torch.from_numpy(users)], 10, 1).indices.numpy()
        rel = [set(te.items[lk][te.users[lk] == u].tolist()) for u in users]
        out["new_ease_likes"].append(ranking_metrics(top.tolist(), rel)["ndcg@10"])
        popn = torch.from_numpy(np.bincount(tr.items, minlength=tr.n_items).astype(np.float32))
        S = popn[None].expand(th.n_users, -1).clone()
        S[torch.from_numpy(th.users.astype(np.int64)), torch.from_numpy(th.items.astype(np.int64))] = -np.inf
        top = torch.topk(S[torch.from_numpy(users)], 10, 1).indices.numpy()
        out["new_pop"].append(ranking_metrics(top.tolist(), rel)["ndcg@10"])
    for k, v in out.items():
        print(f"{k}: {np.mean(v):.4f} ± {np.std(v):.4f}  {np.round(v, 4).tolist()}")


if __name__ == "__main__":
    main()
