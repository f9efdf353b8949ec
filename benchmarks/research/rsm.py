"""The recommended design as one lean trainer (the prototype to port), cost ~ ratings × hidden.

Model: engine.rbm's three-state RBM (visible unit per movie: unseen / disliked / liked; binary
hidden units; exact conditionals for ranking and P(like) unchanged). Hidden units come in two
groups: ``L`` *like units* (the first columns) and ``Hj`` *joint units*.

Training, per mini-batch of people (CD-1):

- joint units, a multinomial ("replicated softmax") visible layer: a person's D rated movies
  are D picks. Positive phase: the data (a rating of r stars is the soft pair
  (1 - s(r), s(r)) over (disliked, liked), s(r) = sigmoid(soft_labels · (r - 2.5))). Negative
  phase: h ~ the person's persistent chain (PCD) or P(h | data), then each candidate movie is
  picked with probability sigmoid(logsumexp_s(b_js + W_js·h) + corr_j + τ), τ per person by
  Newton so the expected number of picks is D (a Bernoulli visible layer conditioned on the
  person's activity), its state drawn from its two-state conditional; candidates are every
  movie when N <= ``candidates``, else a batch-shared set: the most rated ``head`` share plus
  tail movies drawn with q ∝ count^alpha, corr = -log(M q) (sampled softmax). The joint units'
  like-minus-dislike weights decay (``tie_decay``): they model which movies are picked and
  leave like vs dislike to the like units.
- like units: the exact gradient of Σ_r log P(like_r | seen_r, rest of the profile), hidden
  units summed out (engine.trainer's discriminative term), soft targets s(r).

Optimisers, all *row-lazy* (only the visible units a batch touches are updated, so the cost per
step follows the batch's ratings and candidates, not the catalogue): Adam for the joint units and
the visible biases' joint part, SGD with momentum for the like units and the biases' like part;
an exponential moving average of the weights (exact under lazy updates: a row's catch-up uses
the number of steps since it last changed). 10% of each person's ratings are held out for the
first ``merge_at`` of the epochs, P(like) is calibrated on them there, then they join training.

After training: P(like) calibration (thumbs path: RBM log-odds, like units' gain, person and
movie like rates, movie mean rating, log-count interactions, the hidden units' seen log-odds);
sparse item-item weights (benchmarks/research/itemitem.py ``fit_hub_local``).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.model import like_features, prior_like_share  # noqa: E402
from engine.rbm import logaddexp_pair  # noqa: E402
from engine.trainer import LikeMatrix, fit_logistic, pair_logits, split_validation  # noqa: E402


@dataclass
class RCfg:
    n_hidden: int = 250
    like_share: float = 0.4  # share of hidden units that are like units
    epochs: int = 30
    batch: int = 64  # people per step, at least (see max_steps)
    max_steps: int = 128  # updates per epoch at most
    lr: float = 0.01  # Adam, joint units and biases' joint part
    like_lr: float = 0.08
    lr_final: float = 1.0  # both learning rates fall linearly to this share by the last epoch  # SGD momentum 0.9, like units and biases' like part
    beta1: float = 0.9
    beta2: float = 0.999
    wd: float = 1e-4  # joint: decoupled (× lr); like: L2 in the SGD step
    like_weight: float = 1.6
    like_cap: int = 16384  # the like term uses at most this many of a batch's ratings
    dropout: float = 0.4
    soft_labels: float = 1.5
    tie_decay: float = 10.0  # × lr, per step, on joint units' like-minus-dislike weights
    persistent: bool = True
    newton: int = 4
    candidates: int = 8192  # exact over all movies up to this many, sampled above
    head: float = 0.5
    alpha: float = 0.75
    average: float = 0.995
    dense_frac: float = 0.5  # a step touching more than this share of rows updates all rows
    val_fraction: float = 0.1
    merge_at: float = 0.3
    calib_pairs: int = 200_000
    seen_feature: bool = True
    calib_user_power: float = 0.0  # calibration pairs weighted by (person's pairs)^-power
    # item-item part
    ii: bool = True
    ii_k: int = 100
    ii_hubs: int = 8192
    ii_l2: float = 150.0
    ii_l2_pop: float = 2.0
    ii_norm: float = 0.5
    ii_scale: float = 10.0
    ii_gamma: float = 0.5
    seed: int = 0
    log: bool = False


class LazyRows:
    """Row-lazy optimiser state and weight average for a ``(rows, cols)`` parameter."""

    def __init__(self, P, kind: str, cfg: RCfg):
        import torch

        self.P, self.kind, self.cfg = P, kind, cfg
        self.m1 = torch.zeros_like(P)
        self.m2 = torch.zeros_like(P) if kind == "adam" else None
        self.avg = P.clone() if cfg.average > 0 else None
        self.last = torch.zeros(P.shape[0], dtype=torch.long)

    def step(self, R, g, lr, wd, t):
        """Ascent step on rows ``R`` (unique) with gradient rows ``g``; ``t`` global step."""
        import torch

        c = self.cfg
        P = self.P
        if c.dense_frac and len(R) > c.dense_frac * P.shape[0]:
            return self._dense_step(R, g, lr, wd, t)
        old = P.index_select(0, R)
        if self.avg is not None:  # catch the average up to just before this step
            lag = (t - 1 - self.last[R]).clamp_min(0).to(P.dtype)
            a = self.avg.index_select(0, R)
            f = c.average ** lag
            a = old + (a - old) * (f[:, None] if P.dim() == 2 else f)
        m1 = self.m1.index_select(0, R)
        if self.kind == "adam":
            m2 = self.m2.index_select(0, R)
            m1.mul_(c.beta1).add_(g, alpha=1 - c.beta1)
            m2.mul_(c.beta2).addcmul_(g, g, value=1 - c.beta2)
            upd = (m1 / (1 - c.beta1**t)).div_((m2 / (1 - c.beta2**t)).sqrt_().add_(1e-8))
            new = old + lr * upd
            if wd:
                new.mul_(1 - lr * wd)
            self.m2.index_copy_(0, R, m2)
        else:
            m1.mul_(0.9).add_(g, alpha=lr)
            if wd:
                m1.add_(old, alpha=-lr * wd)
            new = old + m1
        self.m1.index_copy_(0, R, m1)
        P.index_copy_(0, R, new)
        if self.avg is not None:
            w = max(1.0 - c.average, 1.0 / (1.0 + t))
            self.avg.index_copy_(0, R, a.lerp_(new, w))
            self.last[R] = t

    def _dense_step(self, R, g, lr, wd, t):
        """The same step on every row at once (most rows touched: small catalogues)."""
        import torch

        c = self.cfg
        P = self.P
        if self.avg is not None:  # rows that lag: catch up first (rare here)
            lag = (t - 1 - self.last).clamp_min(0)
            if bool((lag > 0).any()):
                f = (c.average ** lag.to(P.dtype))[:, None]
                self.avg.sub_(P).mul_(f).add_(P)
        G = torch.zeros_like(P).index_copy_(0, R, g)
        if self.kind == "adam":
            self.m1.mul_(c.beta1).add_(G, alpha=1 - c.beta1)
            self.m2.mul_(c.beta2).addcmul_(G, G, value=1 - c.beta2)
            denom = (self.m2 / (1 - c.beta2**t)).sqrt_().add_(1e-8)
            P.addcdiv_(self.m1, denom, value=lr / (1 - c.beta1**t))
            if wd:
                P.mul_(1 - lr * wd)
        else:
            self.m1.mul_(0.9).add_(G, alpha=lr)
            if wd:
                self.m1.add_(P, alpha=-lr * wd)
            P.add_(self.m1)
        if self.avg is not None:
            self.avg.lerp_(P, max(1.0 - c.average, 1.0 / (1.0 + t)))
            self.last.fill_(t)

    def averaged(self, t):
        if self.avg is None:
            return self.P.clone()
        lag = (t - self.last).clamp_min(0).to(self.P.dtype)
        f = self.cfg.average**lag
        return self.P + (self.avg - self.P) * (f[:, None] if self.P.dim() == 2 else f)


def _like_grad(delta, b_diff, x, rows, liked, disliked, p, hmask, weight, n_units):
    """engine.trainer._like_likelihood_grad with the liked / disliked unit indices given
    (local row indices). Returns (gW (n_units, L), gb (n_units,), gc (L,))."""
    import torch

    x = x.clamp(max=40.0)
    if hmask is not None:
        x = x.masked_fill(hmask == 0, -1e4)
    xr = x.index_select(0, rows)
    na = torch.sigmoid(torch.addcmul(xr, (1.0 - p)[:, None], delta).neg_())
    nd = torch.sigmoid(torch.addcmul(xr, -p[:, None], delta).neg_())
    z = b_diff + torch.log(nd / na).sum(1)
    e = weight * (p - torch.sigmoid(z))
    g = (nd - na).mul_(e[:, None])
    G = torch.zeros(x.shape, dtype=x.dtype).index_add_(0, rows, g)
    back = G.index_select(0, rows).sub_(g)
    v1 = torch.addcmul(back * p[:, None], e[:, None], 1.0 - na)
    v0 = torch.addcmul(back.mul_((1.0 - p)[:, None]), -e[:, None], 1.0 - nd)
    gW = torch.zeros(n_units, x.shape[1], dtype=x.dtype)
    gW.index_add_(0, liked, v1).index_add_(0, disliked, v0)
    gb = torch.zeros(n_units, dtype=x.dtype)
    gb.index_add_(0, liked, e).index_add_(0, disliked, -e)
    return gW, gb, G.sum(0)


def fit_logistic_w(X, y, sw, l2: float = 1e-3):
    """fit_logistic with per-pair weights ``sw`` (mean 1)."""
    Xb = np.hstack([X.astype(np.float64), np.ones((len(X), 1))])
    yf = y.astype(np.float64)
    w = np.zeros(Xb.shape[1])
    w[0] = 1.0
    reg = l2 * len(yf) * np.eye(Xb.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(Xb @ w, -30, 30)))
        g = Xb.T @ (sw * (p - yf)) + reg @ w
        Hm = (Xb * (sw * p * (1 - p))[:, None]).T @ Xb + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(Hm, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def train(ratings, cfg: RCfg):
    import torch
    import torch.nn.functional as F

    import itemitem
    import proto
    from engine.rbm import RBM

    t_start = time.perf_counter()
    times = {}
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    N, H = ratings.n_items, cfg.n_hidden
    L = int(round(cfg.like_share * H))
    full = LikeMatrix.from_ratings(ratings, 3.0, cfg.soft_labels)
    if cfg.val_fraction > 0 and cfg.merge_at > 0:
        lm, vu, vi, vy = split_validation(full, cfg.val_fraction, cfg.seed)
    else:
        lm, vu, vi, vy = full, None, None, None
    g0 = torch.Generator().manual_seed(cfg.seed)
    W = torch.randn(2 * N, H, generator=g0) * 0.01
    counts = np.bincount(lm.cols, minlength=2 * N).astype(np.float64)
    b = torch.from_numpy(np.log(counts + 0.5)).float()
    b -= b.max()
    c = torch.zeros(H)
    Wl, Wj = W[:, :L].contiguous(), W[:, L:].contiguous()
    opt_l = LazyRows(Wl, "sgd", cfg)
    opt_j = LazyRows(Wj, "adam", cfg)
    bj_m1, bj_m2 = torch.zeros(2 * N), torch.zeros(2 * N)  # biases: Adam (joint) + SGD (like)
    bl_m = torch.zeros(2 * N)
    b_avg = b.clone()
    b_last = torch.zeros(2 * N, dtype=torch.long)
    cm1, cm2, cl_m = torch.zeros(H - L), torch.zeros(H - L), torch.zeros(L)
    c_avg = c.clone()
    keep = 1.0 - cfg.dropout
    chains = torch.zeros(ratings.n_users, H, dtype=torch.bool) if cfg.persistent else None
    chain_ok = torch.zeros(ratings.n_users, dtype=torch.bool)
    item_pop = np.bincount(lm.cols // 2, minlength=N).astype(np.float64)
    order_pop = np.argsort(-item_pop, kind="stable")
    step = [0]
    # at most ``max_steps`` updates per epoch: big datasets get bigger batches (the cost of a
    # step's optimiser work follows the rows it touches, up to the whole catalogue)
    batch = max(cfg.batch, math.ceil(ratings.n_users / cfg.max_steps))

    tail_q = None

    def candidates():
        nonlocal tail_q
        C = cfg.candidates
        if N <= C:
            return None, None
        n_head = int(C * cfg.head)
        head, tail = order_pop[:n_head], order_pop[n_head:]
        if tail_q is None:
            q = (item_pop[tail] + 1.0) ** cfg.alpha
            tail_q = q / q.sum()
        m = C - n_head
        k = rng.choice(len(tail), size=m, replace=True, p=tail_q)
        corr = np.concatenate([np.zeros(n_head), -np.log(m * tail_q[k])])
        return torch.from_numpy(np.concatenate([head, tail[k]])), torch.from_numpy(corr).float()

    def run_epoch(data, e):
        nonlocal b, c
        users_all = np.nonzero(np.diff(data.indptr) > 0)[0]
        perm = rng.permutation(users_all)
        for bi in range(math.ceil(len(perm) / batch)):
            step[0] += 1
            t = step[0]
            users = perm[bi * batch:(bi + 1) * batch]
            n = len(users)
            row_np, pos_np = data._positions(users)
            col_np = data.cols[pos_np]
            share = torch.from_numpy(data.like_share[pos_np])
            rows = torch.from_numpy(row_np)
            items = torch.from_numpy(col_np // 2)
            # positive (soft) data: both units of every rating
            prow = rows.repeat_interleave(2)
            punit = torch.stack((2 * items, 2 * items + 1), 1).reshape(-1)
            pval = torch.stack((1 - share, share), 1).reshape(-1)
            offs = torch.searchsorted(prow, torch.arange(n))
            xl0 = F.embedding_bag(punit, Wl, offs, mode="sum", per_sample_weights=pval) + c[:L]
            xj0 = F.embedding_bag(punit, Wj, offs, mode="sum", per_sample_weights=pval) + c[L:]
            hmask = (torch.rand(n, H, generator=gen) >= cfg.dropout).float() if cfg.dropout else None
            phj0 = torch.sigmoid(xj0)
            if hmask is not None:
                phj0 = phj0 * hmask[:, L:]
            # negative phase
            if chains is not None:
                ub = torch.from_numpy(users)
                h = (torch.rand(n, H, generator=gen) < torch.sigmoid(torch.cat([xl0, xj0], 1))).float()
                if hmask is not None:
                    h = h * hmask
                have = chain_ok[ub]
                h[have] = chains[ub[have]].float()
            else:
                h = (torch.rand(n, H, generator=gen) < torch.sigmoid(torch.cat([xl0, xj0], 1))).float()
            cand, corr = candidates()
            if cand is None:
                Wc = torch.cat([Wl, Wj], 1)
                bc = b
                M = N
            else:
                units_c = torch.stack((2 * cand, 2 * cand + 1), 1).reshape(-1)
                Wc = torch.cat([Wl.index_select(0, units_c), Wj.index_select(0, units_c)], 1)
                bc = b.index_select(0, units_c)
                M = len(cand)
            lg = torch.addmm(bc, h, Wc.T).view(n, M, 2)
            ml = logaddexp_pair(lg)
            if corr is not None:
                ml = ml + corr
            D = torch.bincount(rows, minlength=n).float().clamp(max=M - 1)
            tau = torch.log(D.clamp_min(1.0)) - torch.logsumexp(ml, 1)
            for _ in range(cfg.newton):
                pi = torch.sigmoid(ml + tau[:, None])
                tau = tau - (pi.sum(1) - D) / (pi * (1 - pi)).sum(1).clamp_min(1e-6)
            pi = torch.sigmoid(ml + tau[:, None])
            rk, mk = (torch.rand(n, M, generator=gen) < pi).nonzero(as_tuple=True)
            liked_k = (torch.rand(len(rk), generator=gen) < torch.sigmoid(lg[rk, mk, 1] - lg[rk, mk, 0])).long()
            movie_k = mk if cand is None else cand[mk]
            nunit = 2 * movie_k + liked_k
            offk = torch.searchsorted(rk, torch.arange(n))
            xk = torch.cat([F.embedding_bag(nunit, Wl, offk, mode="sum"),
                            F.embedding_bag(nunit, Wj, offk, mode="sum")], 1) + c
            phk = torch.sigmoid(xk)
            if hmask is not None:
                phk = phk * hmask
            if chains is not None:
                hk = torch.rand(n, H, generator=gen) < phk
                chains[ub] = hk
                chain_ok[ub] = True
            phjk = phk[:, L:]
            # local rows: every unit this batch touches
            allu = torch.cat([punit, nunit])
            R, inv = torch.unique(allu, return_inverse=True)
            ip, ineg = inv[: len(punit)], inv[len(punit):]
            nR = len(R)
            # joint gradient (local rows), summed over the batch
            idx = torch.stack((torch.cat([ip, ineg]), torch.cat([prow, rk + n])))
            vals = torch.cat([pval, -torch.ones(len(nunit))])
            onehot = torch.sparse_coo_tensor(idx, vals, (nR, 2 * n), check_invariants=False)
            gWj = torch.sparse.mm(onehot, torch.cat([phj0, phjk]))
            gbj = torch.zeros(nR).index_add_(0, ip, pval).index_add_(0, ineg, -torch.ones(len(nunit)))
            gcj = (phj0 - phjk).sum(0)
            # like term (like units), local rows of the rated movies' two units
            liked_l, disliked_l = ip[1::2], ip[0::2]
            rows_l, share_l, lw = rows, share, cfg.like_weight
            if cfg.like_cap and len(rows) > cfg.like_cap:  # a random share of the ratings,
                sel = torch.randperm(len(rows), generator=gen)[: cfg.like_cap].sort().values
                lw = cfg.like_weight * len(rows) / cfg.like_cap  # reweighted: unbiased
                liked_l, disliked_l = liked_l[sel], disliked_l[sel]
                rows_l, share_l = rows[sel], share[sel]
            Wl_R = Wl.index_select(0, R)
            delta = Wl_R.index_select(0, liked_l) - Wl_R.index_select(0, disliked_l)
            bR = b.index_select(0, R)
            b_diff = bR[liked_l] - bR[disliked_l]
            gWl, gbl, gcl = _like_grad(delta, b_diff, xl0, rows_l, liked_l, disliked_l, share_l,
                                       None if hmask is None else hmask[:, :L], lw, nR)
            sc = 1.0 - (1.0 - cfg.lr_final) * e / max(1, cfg.epochs - 1)
            opt_j.step(R, gWj / n, cfg.lr * sc, cfg.wd, t)
            opt_l.step(R, gWl / n, cfg.like_lr * sc, cfg.wd, t)
            # biases (lazy rows): Adam on the joint part, SGD momentum on the like part
            old = bR
            lag = (t - 1 - b_last[R]).clamp_min(0).float()
            a = old + (b_avg.index_select(0, R) - old) * cfg.average ** lag
            gj = gbj / n
            m1 = bj_m1.index_select(0, R).mul_(cfg.beta1).add_(gj, alpha=1 - cfg.beta1)
            m2 = bj_m2.index_select(0, R).mul_(cfg.beta2).addcmul_(gj, gj, value=1 - cfg.beta2)
            ml_ = bl_m.index_select(0, R).mul_(0.9).add_(gbl / n, alpha=cfg.like_lr * sc)
            new = old + cfg.lr * sc * (m1 / (1 - cfg.beta1**t)) / ((m2 / (1 - cfg.beta2**t)).sqrt() + 1e-8) + ml_
            bj_m1.index_copy_(0, R, m1)
            bj_m2.index_copy_(0, R, m2)
            bl_m.index_copy_(0, R, ml_)
            b.index_copy_(0, R, new)
            w_avg = max(1.0 - cfg.average, 1.0 / (1.0 + t))
            b_avg.index_copy_(0, R, a.lerp_(new, w_avg))
            b_last[R] = t
            # hidden biases (dense, small)
            gc_j = gcj / n
            cm1.mul_(cfg.beta1).add_(gc_j, alpha=1 - cfg.beta1)
            cm2.mul_(cfg.beta2).addcmul_(gc_j, gc_j, value=1 - cfg.beta2)
            c[L:] += cfg.lr * sc * (cm1 / (1 - cfg.beta1**t)) / ((cm2 / (1 - cfg.beta2**t)).sqrt() + 1e-8)
            cl_m.mul_(0.9).add_(gcl / n, alpha=cfg.like_lr * sc)
            c[:L] += cl_m
            c_avg.lerp_(c, w_avg)
            # soft tie: joint units' like-minus-dislike weights decay (rows of touched movies)
            if cfg.tie_decay:
                mov = torch.unique(R // 2)
                u2 = torch.stack((2 * mov, 2 * mov + 1), 1).reshape(-1)
                Wm = Wj.index_select(0, u2).view(len(mov), 2, -1)
                d = (Wm[:, 1] - Wm[:, 0]) * (0.5 * cfg.tie_decay * cfg.lr)
                Wm[:, 1] -= d
                Wm[:, 0] += d
                Wj.index_copy_(0, u2, Wm.view(-1, H - L))

    def snapshot():
        t = step[0]
        m = RBM(N, H, seed=None)
        m.W = torch.cat([opt_l.averaged(t), opt_j.averaged(t)], 1).contiguous()
        lag = (t - b_last).clamp_min(0).float()
        m.b = (b + (b_avg - b) * cfg.average ** lag).contiguous()
        m.c = c_avg.clone()
        m.keep = keep
        m.like_units = L
        return m

    def calibrate(model, lm_, vu, vi, vy):
        i_likes, i_n = lm_.movie_counts()
        i_sums = lm_.movie_rating_sums()
        mu = float(i_sums.sum() / max(1, i_n.sum()))
        if len(vu) > cfg.calib_pairs:
            pick = np.sort(rng.choice(len(vu), cfg.calib_pairs, replace=False))
            vu, vi, vy = vu[pick], vi[pick], vy[pick]
        u_likes, u_n = lm_.person_counts()
        with torch.no_grad():
            z, z_like = pair_logits(model, lm_, vu, vi, "cpu", parts=True).T

        def feats(zz):
            return like_features(zz, u_likes[vu], u_n[vu], i_likes[vi], i_n[vi], i_sums[vi],
                                 prior_like_share(i_likes, i_n), mu)[:, :6]

        X = feats(z)
        ww = fit_logistic(np.column_stack([X, z_like]), vy)
        slope = ww[0] + ww[4] * np.log1p(u_n[vu]).mean() + ww[5] * np.log1p(i_n[vi]).mean()
        gain = float(np.clip((slope + ww[-2]) / slope, 0.25, 4.0)) if slope > 1e-3 else 1.0
        X = feats(z + (gain - 1.0) * z_like)
        if cfg.seen_feature:
            X = np.column_stack([X, proto.seen_rel_pairs(model, lm_, vu, vi)])
        if cfg.calib_user_power:
            cnt = np.bincount(vu, minlength=lm_.n_users)[vu].astype(np.float64)
            sw = cnt ** -cfg.calib_user_power
            return fit_logistic_w(X, vy, sw / sw.mean()), gain, mu
        return fit_logistic(X, vy), gain, mu

    t0 = time.perf_counter()
    calibrated = None
    merge_e = int(round(cfg.merge_at * cfg.epochs)) if vu is not None else -1
    with torch.no_grad():
        for e in range(cfg.epochs):
            if e == merge_e:
                tc = time.perf_counter()
                calibrated = calibrate(snapshot(), lm, vu, vi, vy)
                times["calib"] = time.perf_counter() - tc
                lm = full
            te = time.perf_counter()
            run_epoch(lm, e)
            if cfg.log:
                print(f"epoch {e + 1}: {time.perf_counter() - te:.2f} s", flush=True)
    times["main"] = time.perf_counter() - t0 - times.get("calib", 0.0)
    model = snapshot()
    if calibrated is None:  # no held-out split: Platt-free default (log-odds as they are)
        calibrated = (np.r_[1.0, np.zeros(5 + cfg.seen_feature), 0.0], 1.0, 0.0)
    w, gain, mu = calibrated
    model.like_gain = gain
    t0 = time.perf_counter()
    allm = LikeMatrix.from_ratings(ratings, 3.0)
    ii_parts = None
    if cfg.ii:
        ii_parts = itemitem.fit_hub_local(allm, k=cfg.ii_k, hubs=cfg.ii_hubs, l2=cfg.ii_l2,
                                          l2_pop=cfg.ii_l2_pop, norm=cfg.ii_norm)
    times["ii"] = time.perf_counter() - t0
    f_likes = np.bincount(ratings.items[ratings.values >= 3], minlength=N)
    f_n = np.bincount(ratings.items, minlength=N)
    f_sums = np.bincount(ratings.items, weights=ratings.values, minlength=N)
    pred = proto.Predictor(model, w, f_likes, f_n, f_sums, mu)
    if ii_parts is not None and N <= 20000:  # evaluation convenience: dense on small catalogues
        model.lateral = cfg.ii_scale * itemitem.partners_to_dense(*ii_parts, N)
    pred.ii_parts = ii_parts
    pred.ii_gamma, pred.ii_dref = cfg.ii_gamma, 50.0
    times["total"] = time.perf_counter() - t_start
    pred.info = {"times": times, "gain": gain, "calib": np.asarray(w).tolist()}
    return pred
