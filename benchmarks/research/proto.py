"""Prototype trainer for the research experiments: the three-state RBM of ``engine.rbm``
trained by CD-k with a choice of joint term, like term, schedules and item-item part.

Joint term ("which movies a person picks"):

- ``bernoulli``: today's: the negative phase resamples every movie's state independently;
- ``multinomial``: a person's D rated movies are D draws (without replacement: Gumbel
  top-D) from the softmax over movies of ``logaddexp(b_j0 + W_j0·h, b_j1 + W_j1·h)``, each
  drawn movie's state from its two-state conditional (replicated-softmax visible layer). Over
  a candidate set for big catalogues (``candidates`` > 0): a batch-shared head of the most
  popular movies plus tail movies drawn with probability q ∝ popularity^alpha, weighted
  exp(logit)/q (sampled softmax / sampling-importance-resampling).

Like term: the exact discriminative gradient of log P(like | seen, rest) (engine.trainer's
``_like_likelihood_grad``) on the first ``like_units`` share of hidden units (``like_only``:
those units learn from it alone, else all units learn from both terms with the like term
on ``like_share_all`` of them).

After training: P(like) calibrated for the thumbs path (no stars) on a held-out share of
each person's ratings, then ``refit`` epochs on all ratings; an item-item part (dense EASE as
today, or sparse top-k) fitted last.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.model import like_features, prior_like_share  # noqa: E402
from engine.rbm import logaddexp_pair  # noqa: E402
from engine.trainer import (  # noqa: E402
    LikeMatrix,
    _like_likelihood_grad,
    _unit_sums,
    fit_logistic,
    pair_logits,
    soft_entries,
    soft_like_targets,
    split_validation,
)


@dataclass
class Cfg:
    n_hidden: int = 200
    epochs: int = 30  # main epochs (on the training part)
    refit: int = 0  # further epochs on all ratings after calibration
    batch: int = 64
    lr: float = 0.01
    lr_decay: float = 0.0  # lr / (1 + decay · epoch)
    lr_final: float = 1.0  # linear decay of lr to lr·lr_final over all epochs
    momentum: float = 0.9
    opt: str = "adam"  # joint units' optimiser: "sgd" (momentum) | "adam"
    like_opt: str = "sgd"  # like units' optimiser (when like_only)
    like_lr: float = 0.08
    like_wd: float = 1e-4
    beta2: float = 0.999
    wd: float = 1e-4
    cd_k: int = 1
    neg_from: str = "sample"  # reconstruction from sampled h0 or its probabilities
    persistent: bool = False  # per-person persistent chains (PCD)
    newton: int = 6
    joint: str = "multinomial"  # "multinomial" | "bernoulli" | "none"
    joint_weight: float = 1.0
    replacement: bool = False  # multinomial draws with replacement (inverse CDF)
    soft_neg_state: bool = False  # negative phase: drawn movie's state as soft p(like)
    expected_bias: bool = False  # negative bias statistics as expectations (multinomial)
    candidates: int = 0  # > 0: sampled softmax over this many candidates (head + tail)
    head: float = 0.5  # share of candidates taken from the most popular movies
    alpha: float = 0.75  # tail proposal q ∝ count^alpha
    tie_decay: float = 0.0  # decay of joint units' like-minus-dislike weights (× lr)
    tie_joint: bool = False  # joint units: W[j, dislike] = W[j, like] (seen only)
    sub_p: float = 0.0  # share of people per batch trained on a random sub-profile
    sub_min: float = 0.05  # its kept share is uniform in [sub_min, 1]
    d_power: float = 0.0  # joint statistics of a person weighted by D^-d_power
    c_scaled: bool = False  # replicated softmax: hidden biases × profile size
    like_units: float = 0.25  # share of hidden units with the like term
    like_only: bool = True  # like units learn from the like term only
    like_weight: float = 1.6
    dropout: float = 0.4
    soft_labels: float = 1.5  # like term's soft targets
    soft_joint: float = -1.0  # joint term's soft data (-1: as soft_labels, 0: hard)
    average: float = 0.995  # EMA decay of the weights (0: off)
    val_fraction: float = 0.1
    init_std: float = 0.01
    bf16: bool = False
    seed: int = 0
    # item-item part
    ii: str = "none"  # "none" | "dense" | "topk"
    ii_scale: float = 10.0
    ii_l2: float = 150.0
    ii_l2_pop: float = 2.0
    ii_k: int = 100
    ii_hubs: int = 8192
    ii_norm: float = 0.5
    ii_gamma: float = 0.5  # item-item term × (50 / profile size)^gamma
    # calibration
    merge_at: float = 0.0  # > 0: calibrate at this share of the epochs, then add the held-out ratings
    calib_on: str = "heldout"  # "heldout" (val_fraction split) | "train" (leave-one-out pairs)
    calib_pairs: int = 100_000
    seen_feature: bool = False  # calibration also uses the hidden units' seen log-odds share
    calib: str = "features"  # "features" | "platt"
    gain: bool = True
    log: bool = False
    extra: dict = field(default_factory=dict)


class Predictor:
    def __init__(self, rbm, w, item_likes, item_n, item_sums, mu, ii=None):
        self.rbm = rbm
        self.w = np.asarray(w, np.float64)
        self.item_likes, self.item_n, self.item_sums = item_likes, item_n, item_sums
        self.prior = prior_like_share(item_likes, item_n)
        self.mu = mu
        self.ii = ii  # (indices (N, k), weights (N, k)) sparse item-item, or None
        self.seen_extra = self._ii_term if ii is not None else None
        self.info: dict = {}

    def _ii_term(self, rows, items, n):
        import torch

        idx, wts = self.ii
        N = self.rbm.n_items
        out = torch.zeros(n * N, dtype=torch.float32)
        r = torch.from_numpy(rows)
        it = torch.from_numpy(items)
        tgt = (r[:, None] * N + idx[it]).reshape(-1)
        out.index_add_(0, tgt, wts[it].reshape(-1))
        return out.view(n, N)

    def p_like(self, like_logit, person_likes, person_n, items, seen_rel=None):
        z = np.asarray(like_logit, np.float64)
        shape = z.shape

        def flat(a):
            return np.broadcast_to(np.asarray(a), shape).ravel()

        items = flat(items)
        X = like_features(
            z.ravel(), flat(person_likes), flat(person_n), self.item_likes[items],
            self.item_n[items], self.item_sums[items], self.prior, self.mu,
        )[:, :6]
        if len(self.w) == 8:
            X = np.column_stack([X, flat(0.0 if seen_rel is None else seen_rel)])
        s = (X @ self.w[:-1] + self.w[-1]).reshape(shape)
        return 1.0 / (1.0 + np.exp(-np.clip(s, -30, 30)))


def like_grad(delta, b_diff, x, rows, items, p, hmask, weight: float, n_units: int):
    """Gradient of ``weight · Σ_r log P(like_r | seen_r, v_-r)`` (soft targets ``p``) with
    the hidden units summed out exactly (the discriminative RBM's gradient), for ``L`` of the
    hidden units. ``rows, items, p``: ``(R,)`` owner, movie and like target of each rating;
    ``delta (R, L)``: ``W[2j+1] - W[2j]`` of its movie ``j`` in those units' columns and
    ``b_diff (R,)`` the same of the visible biases; ``x (n, L)``: the batch's hidden input
    ``c + vW`` from its soft data; ``hmask (n, L)``: its dropout mask, or None. ``v_-r`` is
    the person's data without rating ``r``, so the liked (disliked) state's hidden input is
    ``x + (1-p)·delta`` (``x - p·delta``).

    Returns ``(gW (n_units, L), gb (n_units,), gc (L,))``: the gradients of W's columns of
    those units and of the visible and hidden biases, sums over the batch, in the direction
    that raises the likelihood.
    """
    import torch

    liked, disliked = 2 * items + 1, 2 * items
    # inputs at most 40 (σ(-a) stays a normal float32 below), a dropped unit's -10⁴ (it then
    # adds nothing to any sum below)
    x = x.clamp(max=40.0)
    if hmask is not None:
        x = x.masked_fill(hmask == 0, -1e4)
    xr = x.index_select(0, rows)
    # 1 - sigmoid of the unit's input with the movie liked (a) and disliked (d)
    na = torch.sigmoid(torch.addcmul(xr, (1.0 - p)[:, None], delta).neg_())
    nd = torch.sigmoid(torch.addcmul(xr, -p[:, None], delta).neg_())
    # softplus(a) - softplus(d) = log(σ(-d) / σ(-a))
    z = b_diff + torch.log(nd / na).sum(1)  # like log-odds
    e = weight * (p - torch.sigmoid(z))  # (R,) d log-likelihood / d z
    g = (nd - na).mul_(e[:, None])  # (R, L) d / d x_-r: e · (σ(a) - σ(d))
    G = torch.zeros(x.shape, dtype=x.dtype, device=x.device).index_add_(0, rows, g)
    back = G.index_select(0, rows).sub_(g)  # through the person's other ratings' inputs
    # liked unit: e·σ(a) + p·back; disliked unit: -e·σ(d) + (1-p)·back
    v1 = torch.addcmul(back * p[:, None], e[:, None], 1.0 - na)
    v0 = torch.addcmul(back.mul_((1.0 - p)[:, None]), -e[:, None], 1.0 - nd)
    gW = torch.zeros(n_units, x.shape[1], dtype=x.dtype, device=x.device)
    gW.index_add_(0, liked, v1).index_add_(0, disliked, v0)
    gb = torch.zeros(n_units, dtype=x.dtype, device=x.device)
    gb.index_add_(0, liked, e).index_add_(0, disliked, -e)
    return gW, gb, G.sum(0), G


def seen_rel_pairs(rbm, lm, vu, vi):
    """``(P,)`` the hidden units' share of movie ``vi[p]``'s seen log-odds for person
    ``vu[p]`` (the seen log-odds minus the movie's own bias part)."""
    import torch
    import torch.nn.functional as F

    from engine.rbm import logaddexp_pair

    users, pos = np.unique(vu, return_inverse=True)
    out = []
    with torch.no_grad():
        x = torch.cat([lm.hidden_input(rbm, users[s:s + 4096]) for s in range(0, len(users), 4096)])
        base = rbm.keep * F.softplus(x).sum(1)
        bj = logaddexp_pair(rbm.b.view(-1, 2))
        for s in range(0, len(vu), 65536):
            p = torch.from_numpy(pos[s:s + 65536])
            it = torch.from_numpy(np.asarray(vi[s:s + 65536], np.int64))
            sc = rbm.pair_scores(x[p], it)
            out.append((logaddexp_pair(sc) - base[p] - bj[it]).double().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def make_rbm(N, H, seed, init_std, c_scaled):
    """An engine RBM; with ``c_scaled`` the hidden biases count once per rating of the
    profile (replicated softmax: ``x = D·c + vW``), plus ``c_offset`` (1 at use: the next
    pick's conditional, 0 in training)."""
    from engine.rbm import RBM

    class RSM(RBM):
        c_offset = 1.0

        def sparse_hidden_input(self, rows, cols, n, weights=None):
            import torch.nn.functional as F
            import torch

            offsets = torch.searchsorted(rows, torch.arange(n, device=rows.device))
            s = F.embedding_bag(cols, self.W, offsets, mode="sum", per_sample_weights=weights)
            D = torch.bincount(rows, weights, minlength=n).float() if weights is not None else torch.bincount(rows, minlength=n).float()
            return s + (D + self.c_offset)[:, None] * self.c

    if not c_scaled:
        return RBM(N, H, seed=seed, init_std=init_std)
    return RSM(N, H, seed=seed, init_std=init_std)


def _gumbel_topd(logit, D, gen):
    """Indices ``(rows, cols)`` of D[r] draws without replacement per row of ``logit``."""
    import torch

    u = torch.rand(logit.shape, generator=gen).clamp_(1e-12, 1.0)
    g = logit - torch.log(-torch.log(u))
    dmax = int(D.max())
    top = torch.topk(g, dmax, dim=1).indices
    keep = torch.arange(dmax)[None, :] < D[:, None]
    rows = torch.arange(len(D))[:, None].expand(-1, dmax)[keep]
    return rows, top[keep]


def _cdf_draws(logit, D, gen):
    import torch

    p = torch.softmax(logit, 1)
    cdf = p.cumsum(1)
    rows = torch.repeat_interleave(torch.arange(len(D)), D)
    u = torch.rand(len(rows), generator=gen) * cdf[:, -1][rows]
    cols = torch.searchsorted(cdf[rows], u[:, None]).squeeze(1).clamp_(max=logit.shape[1] - 1)
    return rows, cols


def train(ratings, cfg: Cfg) -> Predictor:
    import torch

    from engine import lateral as lat
    from engine.rbm import RBM, init_biases

    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    full = LikeMatrix.from_ratings(ratings, 3.0, cfg.soft_labels)
    if cfg.val_fraction > 0:
        lm, vu, vi, vy = split_validation(full, cfg.val_fraction, cfg.seed)
    else:
        lm, vu, vi, vy = full, None, None, None
    def attach(m):
        if cfg.soft_joint >= 0 and cfg.soft_joint != cfg.soft_labels:
            m.share_joint = (soft_like_targets(m.values, 3.0, cfg.soft_joint)
                             if cfg.soft_joint > 0 else False)
        return m

    lm = attach(lm)
    N, H = ratings.n_items, cfg.n_hidden
    rbm = make_rbm(N, H, cfg.seed, cfg.init_std, cfg.c_scaled)
    rbm.c_offset = 0.0
    rbm.keep = 1.0 - cfg.dropout
    counts = np.bincount(lm.cols, minlength=2 * N).reshape(-1, 2).astype(np.float32)
    init_biases(rbm, torch.from_numpy(counts.sum(1)), torch.from_numpy(counts[:, 1].copy()),
                lm.n_users)
    if cfg.joint in ("multinomial", "offset", "meanfield"):
        # softmax biases: log of each unit's share of all ratings (smoothed)
        rbm.b = torch.from_numpy(np.log(counts.reshape(-1) + 0.5)).float()
        rbm.b -= rbm.b.max()
    n_like = int(round(cfg.like_units * H))
    if cfg.tie_joint:
        Wv = rbm.W.view(N, 2, H)[:, :, (n_like if cfg.like_only else 0):]
        Wv.copy_(Wv.mean(1, keepdim=True).expand_as(Wv))
    rbm.like_units = n_like if cfg.like_only else 0
    jmask = torch.ones(H)
    if cfg.like_only and n_like:
        jmask[:n_like] = 0.0
    w_joint = cfg.joint_weight * jmask
    # positive-phase weights per hidden unit: joint units get the joint term's data stats
    dW = torch.zeros_like(rbm.W)
    db = torch.zeros_like(rbm.b)
    dc = torch.zeros_like(rbm.c)
    vW, vb, vc = torch.zeros_like(rbm.W), torch.zeros_like(rbm.b), torch.zeros_like(rbm.c)
    n_step = [0]
    shadow = None
    n_upd = 0
    if cfg.average > 0:
        shadow = {k: v.clone() for k, v in rbm.state_dict().items()}
    item_pop = np.bincount(lm.cols // 2, minlength=N).astype(np.float64)
    total_epochs = cfg.epochs + cfg.refit

    state = {}
    chains = torch.zeros(ratings.n_users, H)
    chain_init = torch.zeros(ratings.n_users, dtype=torch.bool)

    def _step(name, p, g, kind, lr, wd):
        """One optimiser step on parameter view ``p`` with ascent direction ``g``."""
        if name not in state:
            state[name] = (torch.zeros_like(g), torch.zeros_like(g))
        m1, m2 = state[name]
        if kind == "adam":
            t = n_step[0]
            m1.mul_(cfg.momentum).add_(g, alpha=1 - cfg.momentum)
            m2.mul_(cfg.beta2).addcmul_(g, g, value=1 - cfg.beta2)
            upd = (m1 / (1 - cfg.momentum ** t)) / ((m2 / (1 - cfg.beta2 ** t)).sqrt_() + 1e-8)
            p.add_(upd, alpha=lr)
            if wd:
                p.mul_(1 - lr * wd)
        else:
            m1.mul_(cfg.momentum).add_(g, alpha=lr)
            if wd:
                m1.add_(p, alpha=-lr * wd)
            p.add_(m1)

    def lr_scale(e):
        frac = e / max(1, total_epochs - 1)
        return 1.0 / (1 + cfg.lr_decay * e) * (1 - (1 - cfg.lr_final) * frac)

    def lr_at(e):  # e: 0-based over all epochs
        frac = e / max(1, total_epochs - 1)
        return cfg.lr / (1 + cfg.lr_decay * e) * (1 - (1 - cfg.lr_final) * frac)

    def candidates_for():
        """Batch-shared candidate movies and their log-weight corrections (log 1/(M q))."""
        C = min(cfg.candidates, N)
        n_head = int(C * cfg.head)
        order = np.argsort(-item_pop, kind="stable")
        head = order[:n_head]
        tail = order[n_head:]
        q = (item_pop[tail] + 1.0) ** cfg.alpha
        q /= q.sum()
        m = C - n_head
        pick = rng.choice(len(tail), size=m, replace=True, p=q)
        cand = np.concatenate([head, tail[pick]])
        corr = np.concatenate([np.zeros(n_head), -np.log(m * q[pick])])
        return torch.from_numpy(cand), torch.from_numpy(corr).float()

    head_cache = {}

    def epoch_run(data: LikeMatrix, e: int):
        nonlocal n_upd
        lr = lr_at(e)
        users_all = np.nonzero(np.diff(data.indptr) > 0)[0]
        perm = rng.permutation(users_all)
        nb = max(1, math.ceil(len(perm) / cfg.batch))
        for bi in range(nb):
            users = perm[bi * cfg.batch : (bi + 1) * cfg.batch]
            n = len(users)
            row_np, pos_np = data._positions(users)
            if cfg.sub_p > 0:
                # sub-profiles: some people keep only a random share of their ratings
                lens = np.bincount(row_np, minlength=len(users))
                frac = np.where(rng.random(len(users)) < cfg.sub_p,
                                rng.uniform(cfg.sub_min, 1.0, len(users)), 1.0)
                keepr = rng.random(len(row_np)) < frac[row_np]
                row_np, pos_np = row_np[keepr], pos_np[keepr]
            col_np = data.cols[pos_np]
            share_np = None if data.like_share is None else data.like_share[pos_np]
            sj = getattr(data, "share_joint", None)
            sharej_np = share_np if sj is None else (None if sj is False else sj[pos_np])
            rows = torch.from_numpy(row_np)
            cols0 = torch.from_numpy(col_np)
            items = cols0 // 2
            if sharej_np is None:
                prow, punit, pval = rows, cols0, None
            else:
                a, b_, c_ = soft_entries(row_np, col_np, sharej_np)
                prow, punit, pval = torch.from_numpy(a), torch.from_numpy(b_), torch.from_numpy(c_)
            x0 = rbm.sparse_hidden_input(prow, punit, n, pval)
            ph0 = torch.sigmoid(x0)
            if cfg.dropout > 0:
                hmask = (torch.rand(n, H, generator=gen) >= cfg.dropout).float()
                ph0 = ph0 * hmask
            else:
                hmask = None
            gW_terms = []
            gW_dense = None
            if cfg.c_scaled:
                cw = torch.bincount(rows, minlength=n).float()[:, None]
            else:
                cw = 1.0
            if cfg.d_power:
                pw = torch.bincount(rows, minlength=n).float().clamp_min(1.0) ** -cfg.d_power
                pw = pw * (1.0 / pw.mean())
                wj = w_joint[None, :] * pw[:, None]
            else:
                wj = w_joint
            gb = torch.zeros(2 * N)
            gc = torch.zeros(H)
            if cfg.joint != "none":
                gW_terms.append((punit, prow, ph0 * wj, pval))
                bw = pval if not cfg.d_power else (pw[prow] if pval is None else pval * pw[prow])
                gb += cfg.joint_weight * torch.bincount(punit, bw, minlength=2 * N).float()
                gc += (ph0 * wj * cw).sum(0)
                if cfg.neg_from == "prob":
                    h = ph0.clone()
                else:
                    h = (torch.rand(n, H, generator=gen) < ph0).float()
                if cfg.persistent:
                    ub = torch.from_numpy(users)
                    have = chain_init[ub]
                    h[have] = chains[ub[have]]
                D = torch.bincount(rows, minlength=n)
                for step in range(cfg.cd_k):
                    if cfg.joint == "bernoulli":
                        rk, ck = rbm.sample_visible(h, generator=gen)
                        nval = None
                    elif cfg.joint in ("offset", "meanfield"):
                        cand = None
                        lg = torch.addmm(rbm.b, h, rbm.W.T).view(n, N, 2)
                        ml = torch.logaddexp(lg[..., 0], lg[..., 1])
                        Df = D.float().clamp(max=N - 1)
                        tau = torch.log(Df) - torch.logsumexp(ml, 1)
                        for _ in range(cfg.newton):
                            pi = torch.sigmoid(ml + tau[:, None])
                            f = pi.sum(1) - Df
                            fp = (pi * (1 - pi)).sum(1).clamp_min(1e-6)
                            tau = tau - f / fp
                        pi = torch.sigmoid(ml + tau[:, None])
                        pstate = torch.sigmoid(lg[..., 1] - lg[..., 0])
                        if cfg.joint == "meanfield":
                            vneg = torch.stack((pi * (1 - pstate), pi * pstate), 2).view(n, 2 * N)
                            phk = torch.sigmoid(torch.addmm(rbm.c, vneg, rbm.W))
                            if hmask is not None:
                                phk = phk * hmask
                            h = (torch.rand(n, H, generator=gen) < phk).float()
                            continue
                        take = torch.rand(n, N, generator=gen) < pi
                        rk, mk = take.nonzero(as_tuple=True)
                        liked = (torch.rand(len(rk), generator=gen) < pstate[rk, mk]).long()
                        ck = 2 * mk + liked
                        nval = None
                    else:
                        if cfg.candidates and cfg.candidates < N:
                            cand, corr = candidates_for()
                            Wc = rbm.W.view(N, 2, H)[cand].reshape(-1, H)
                            bc = rbm.b.view(N, 2)[cand].reshape(-1)
                            lg = torch.addmm(bc, h, Wc.T).view(n, len(cand), 2)
                            ml = logaddexp_pair(lg) + corr
                        else:
                            cand = None
                            if cfg.bf16:
                                prod = torch.mm(h.bfloat16(), rbm.W.bfloat16().T).float()
                                lg = (prod + rbm.b).view(n, N, 2)
                            else:
                                lg = torch.addmm(rbm.b, h, rbm.W.T).view(n, N, 2)
                            ml = logaddexp_pair(lg)
                        if cfg.replacement:
                            rk, mk = _cdf_draws(ml, D, gen)
                        else:
                            rk, mk = _gumbel_topd(ml, torch.minimum(D, torch.tensor(ml.shape[1])), gen)
                        pl = torch.sigmoid(lg[rk, mk, 1] - lg[rk, mk, 0])
                        movie = mk if cand is None else cand[mk]
                        if cfg.soft_neg_state:
                            rk = rk.repeat_interleave(2)
                            ck = torch.stack((2 * movie, 2 * movie + 1), 1).reshape(-1)
                            nval = torch.stack((1 - pl, pl), 1).reshape(-1)
                        else:
                            liked = (torch.rand(len(pl), generator=gen) < pl).long()
                            ck = 2 * movie + liked
                            nval = None
                    phk = torch.sigmoid(rbm.sparse_hidden_input(rk, ck, n, nval))
                    if hmask is not None:
                        phk = phk * hmask
                    h = (torch.rand(n, H, generator=gen) < phk).float()
                if cfg.persistent:
                    chains[ub] = h
                    chain_init[ub] = True
                neg = phk * -wj
                if cfg.joint == "meanfield":
                    gW_dense = -(vneg.T @ (phk * w_joint))
                    gb -= cfg.joint_weight * vneg.sum(0)
                    gc -= (phk * w_joint * cw).sum(0)
                else:
                    gW_terms.append((ck, rk, neg, nval))
                if cfg.joint == "meanfield":
                    pass
                elif cfg.expected_bias and cfg.joint == "multinomial" and cand is None:
                    # expected counts of the last reconstruction's distribution
                    p = torch.softmax(lg.reshape(n, -1), 1) * D[:, None].float()
                    gb -= cfg.joint_weight * p.sum(0)
                else:
                    bw = nval if not cfg.d_power else (pw[rk] if nval is None else nval * pw[rk])
                    gb -= cfg.joint_weight * torch.bincount(ck, bw, minlength=2 * N).float()
                if cfg.joint != "meanfield":
                    gc -= -(neg * cw).sum(0)
            exact = None
            if cfg.like_weight > 0 and n_like:
                Wl = rbm.W[:, :n_like]
                w_diff = Wl.index_select(0, 2 * items + 1) - Wl.index_select(0, 2 * items)
                b_diff = rbm.b[2 * items + 1] - rbm.b[2 * items]
                target = (cols0 % 2).float() if share_np is None else torch.from_numpy(share_np)
                exact = like_grad(
                    w_diff, b_diff, x0[:, :n_like], rows, items, target,
                    None if hmask is None else hmask[:, :n_like], cfg.like_weight, 2 * N,
                )
                gb += exact[1]
                gc[:n_like] += exact[2] if not cfg.c_scaled else (exact[3] * cw).sum(0)
            gW = _unit_sums(gW_terms, 2 * N) if gW_terms else torch.zeros_like(rbm.W)
            if gW_dense is not None:
                gW += gW_dense
            if exact is not None:
                gW[:, :n_like] += exact[0]
            gb_like = torch.zeros(2 * N) if exact is None else exact[1]
            if exact is not None:
                gb -= gb_like  # gb holds the joint term's part only from here
            L = n_like if cfg.like_only else 0
            sc = lr_scale(e)
            n_step[0] += 1
            _step("Wj", rbm.W[:, L:], gW[:, L:] / n, cfg.opt, cfg.lr * sc, cfg.wd)
            _step("bj", rbm.b, gb / n, cfg.opt, cfg.lr * sc, 0.0)
            _step("cj", rbm.c[L:], gc[L:] / n, cfg.opt, cfg.lr * sc, 0.0)
            if L:
                _step("Wl", rbm.W[:, :L], gW[:, :L] / n, cfg.like_opt, cfg.like_lr * sc, cfg.like_wd)
                _step("cl", rbm.c[:L], gc[:L] / n, cfg.like_opt, cfg.like_lr * sc, 0.0)
            if exact is not None:
                lo, llr = (cfg.like_opt, cfg.like_lr) if L else (cfg.opt, cfg.lr)
                _step("bl", rbm.b, gb_like / n, lo, llr * sc, 0.0)
            if cfg.tie_decay:
                Lt = n_like if cfg.like_only else 0
                Wv = rbm.W.view(N, 2, H)[:, :, Lt:]
                d = (Wv[:, 1] - Wv[:, 0]) * (0.5 * cfg.tie_decay * cfg.lr * sc)
                Wv[:, 1] -= d
                Wv[:, 0] += d
            if cfg.tie_joint:
                Lt = n_like if cfg.like_only else 0
                Wv = rbm.W.view(N, 2, H)[:, :, Lt:]
                Wv.copy_(Wv.mean(1, keepdim=True).expand_as(Wv))
            if shadow is not None:
                n_upd += 1
                w = max(1.0 - cfg.average, 1.0 / (1.0 + n_upd))
                shadow["W"].lerp_(rbm.W, w)
                shadow["b"].lerp_(rbm.b, w)
                shadow["c"].lerp_(rbm.c, w)

    def use_shadow():
        if shadow is None:
            return rbm
        m = make_rbm(N, H, None, cfg.init_std, cfg.c_scaled)
        m.load_state_dict(shadow)
        m.keep = rbm.keep
        m.like_units = rbm.like_units
        return m

    times = {}
    def calibrate(model, vu, vi, vy):
        """(w, gain, mu) of the thumbs-path P(like) calibration."""
        i_likes, i_n = lm.movie_counts()
        i_sums = lm.movie_rating_sums()
        mu = float(i_sums.sum() / max(1, i_n.sum()))
        w = np.r_[1.0, np.zeros(6)]
        gain = 1.0
        t0 = time.perf_counter()
        if cfg.calib_on == "train":
            # leave-one-out pairs of the training ratings: each rating's like log-odds from the
            # person's other ratings, person and movie statistics without it
            pos = np.sort(rng.choice(len(lm.cols), min(cfg.calib_pairs, len(lm.cols)), replace=False))
            own = lm.owners()[pos]
            vi = (lm.cols[pos] // 2).astype(np.int64)
            yl = (lm.cols[pos] % 2).astype(np.int64)
            vy = yl.astype(bool)
            users, inv = np.unique(own, return_inverse=True)
            with torch.no_grad():
                xu = torch.cat([lm.hidden_input(model, users[s:s + 4096]) for s in range(0, len(users), 4096)])
                xr = xu[torch.from_numpy(inv)] - model.W[torch.from_numpy(lm.cols[pos])]
                zz = model.pair_like_logits(xr, torch.arange(len(pos)), torch.from_numpy(vi), parts=True)
            z, z_like = zz.double().numpy().T
            u_likes0, u_n0 = lm.person_counts()
            pl_, pn_ = u_likes0[own] - yl, u_n0[own] - 1
            ml_, mn_ = i_likes[vi] - yl, i_n[vi] - 1
            ms_ = i_sums[vi] - lm.values[pos]
            vu = own

            def feats(zz):
                return like_features(zz, pl_, pn_, ml_, mn_, ms_, prior_like_share(i_likes, i_n), mu)[:, :6]
        if vu is not None and len(vu):
            u_likes, u_n = lm.person_counts()
            if cfg.calib_on != "train":
                with torch.no_grad():
                    z, z_like = pair_logits(model, lm, vu, vi, "cpu", parts=True).T

                def feats(zz):
                    return like_features(zz, u_likes[vu], u_n[vu], i_likes[vi], i_n[vi], i_sums[vi],
                                         prior_like_share(i_likes, i_n), mu)[:, :6]
            if cfg.calib == "platt":
                a, b = fit_logistic(z[:, None], vy)
                w = np.r_[a, np.zeros(5), b]
            else:
                if cfg.gain and model.like_units:
                    X = feats(z)
                    ww = fit_logistic(np.column_stack([X, z_like]), vy)
                    slope = ww[0] + ww[4] * np.log1p(u_n[vu]).mean() + ww[5] * np.log1p(i_n[vi]).mean()
                    if slope > 1e-3:
                        gain = float(np.clip((slope + ww[-2]) / slope, 0.25, 4.0))
                X = feats(z + (gain - 1.0) * z_like)
                if cfg.seen_feature:
                    X = np.column_stack([X, seen_rel_pairs(model, lm, vu, vi)])
                w = fit_logistic(X, vy)
        return w, gain, mu

    t0 = time.perf_counter()
    calibrated = None
    merge_e = int(round(cfg.merge_at * cfg.epochs)) if cfg.merge_at > 0 and vu is not None else -1
    with torch.no_grad():
        for e in range(cfg.epochs):
            if e == merge_e:
                tc = time.perf_counter()
                calibrated = calibrate(use_shadow(), vu, vi, vy)
                times["calib"] = time.perf_counter() - tc
                lm = attach(LikeMatrix.from_ratings(ratings, 3.0, cfg.soft_labels))
            epoch_run(lm, e)
            if cfg.log:
                print(f"epoch {e + 1} {time.perf_counter() - t0:.1f} s", flush=True)
    times["main"] = time.perf_counter() - t0
    model = use_shadow()
    t0 = time.perf_counter()
    if calibrated is None:
        calibrated = calibrate(model, vu, vi, vy)
        times["calib"] = time.perf_counter() - t0
    w, gain, mu = calibrated
    t0 = time.perf_counter()
    if cfg.refit and vu is not None:
        full_lm = attach(LikeMatrix.from_ratings(ratings, 3.0, cfg.soft_labels))
        if shadow is not None:
            rbm.load_state_dict({k: v.clone() for k, v in shadow.items()})
            n_upd = 0
        state.clear()
        n_step[0] = 0
        with torch.no_grad():
            for j in range(cfg.refit):
                epoch_run(full_lm, cfg.epochs + j)
        model = use_shadow()
    times["refit"] = time.perf_counter() - t0
    model.like_gain = gain
    model.c_offset = 1.0
    # item-item part, on every training rating
    t0 = time.perf_counter()
    ii = None
    allm = LikeMatrix.from_ratings(ratings, 3.0)
    if cfg.ii == "dense":
        model.lateral = cfg.ii_scale * lat.fit_lateral(allm, cfg.ii_l2, cfg.ii_l2_pop)
    elif cfg.ii == "hub":
        import itemitem

        part, wts = itemitem.fit_hub_local(allm, k=cfg.ii_k, hubs=cfg.ii_hubs, l2=cfg.ii_l2,
                                           l2_pop=cfg.ii_l2_pop, norm=cfg.ii_norm)
        model.lateral = cfg.ii_scale * itemitem.partners_to_dense(part, wts, N)
    times["ii"] = time.perf_counter() - t0
    f_likes = np.bincount(ratings.items[ratings.values >= 3], minlength=N)
    f_n = np.bincount(ratings.items, minlength=N)
    f_sums = np.bincount(ratings.items, weights=ratings.values, minlength=N)
    pred = Predictor(model, w, f_likes, f_n, f_sums, mu, ii)
    times["total"] = time.perf_counter() - t_start
    pred.ii_gamma, pred.ii_dref = cfg.ii_gamma, 50.0
    pred.info = {"times": times, "gain": gain, "calib": w.tolist()}
    return pred
