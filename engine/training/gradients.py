"""The statistics of one contrastive-divergence mini-batch: the gradients of the RBM's terms.

The update of a mini-batch sums two terms (see :mod:`engine.training.loop`):

- the *joint* CD-k term, whose negative phase resamples every movie's state (unseen,
  disliked, liked): it teaches the model which movies a person picks (top-N);
- the *like* term: the exact gradient of log P(like | seen, the person's other ratings) of
  every seen movie, hidden units summed out (a discriminative RBM term, as in Larochelle &
  Bengio 2008's hybrid RBMs): it teaches P(like | seen), the number shown to people. It
  costs ratings × like units, like one CD step, and has no sampling noise. A conditional
  CD-k term (negative phase keeps the seen movies and resamples only like vs dislike) can
  be used instead or as well (``like_weight``; off by default).

A share of the hidden units (``like_hidden``) learns from the like term(s) only, the rest
from the joint term. Both terms cost ratings × hidden units per person except the joint
term's visible sampling, which is dense over the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.likes import LikeMatrix, soft_entries
from engine.settings import TrainConfig


@dataclass
class BatchStatistics:
    """One mini-batch's sums: the gradients (positive minus negative phase, summed over the
    batch), its number of people, and the like/dislike reconstruction error of its ratings."""

    gW: object  # (2N, H) tensor
    gb: object  # (2N,) tensor
    gc: object  # (H,) tensor
    people: int  # in the whole (global) batch
    error_sum: float
    error_count: int


class Uniforms:
    """Seeded uniform draws in [0, 1), float32: numpy's PCG64 on the CPU (about 1.5× faster
    than torch's generator there), torch's generator on CUDA."""

    def __init__(self, seed: int, device: str) -> None:
        import torch

        self.device = device
        if device == "cpu":
            self.rng = np.random.default_rng([seed, 0x5EED])
        else:
            self.gen = torch.Generator(device=device)
            self.gen.manual_seed(seed)

    def __call__(self, shape: tuple[int, ...]):
        import torch

        if self.device == "cpu":
            return torch.from_numpy(self.rng.random(shape, dtype=np.float32))
        return torch.rand(shape, generator=self.gen, device=self.device)


class CDStep:
    """Computes :class:`BatchStatistics` of mini-batches for one training run.

    Holds what stays the same across batches: the term weights per hidden unit, the random
    number stream, the persistent chain (when ``cfg.persistent``), whether the joint term's
    dense product may run in bfloat16. ``dist`` is the data-parallel hook of
    :func:`engine.training.loop.train` (None: one process).
    """

    def __init__(self, rbm, cfg: TrainConfig, device: str, dist=None, *, low_precision: bool):
        import torch

        self.rbm, self.cfg, self.device, self.dist = rbm, cfg, device, dist
        # hidden units [0, n_like) learn only from the like term(s), the rest only from the
        # joint term (when like_hidden > 0; otherwise every unit learns from both)
        n_like = rbm.like_units
        like_mask = torch.ones(cfg.n_hidden, device=device)
        joint_mask = torch.ones(cfg.n_hidden, device=device)
        if n_like > 0:
            like_mask[n_like:] = 0.0
            joint_mask[:n_like] = 0.0
        # statistics are summed over the batch, hidden units weighted per term
        self.w_like = cfg.like_weight * like_mask if cfg.like_weight > 0 else None
        self.w_joint = cfg.joint_weight * joint_mask if cfg.joint_weight > 0 else None
        self.w_pos = sum(w for w in (self.w_like, self.w_joint) if w is not None)
        self.n_terms = cfg.like_weight + cfg.joint_weight  # the data's share in the biases
        self.n_exact = n_like if n_like > 0 else cfg.n_hidden  # units of the exact like term
        self.low_precision = low_precision
        self.draw = Uniforms(cfg.seed, device)
        self.persistent_h = None
        self.persistent_n = 0

    def uniform(self, rows: int, cols: int):
        """This process's rows of a ``(rows, cols)`` uniform draw (all rows when alone): every
        rank draws the whole batch's numbers, so ranks together equal one process."""
        u = self.draw((rows, cols))
        dist = self.dist
        return u if dist is None else u[dist.rank :: dist.world_size]

    def bernoulli(self, p, rows: int):
        return (self.uniform(rows, p.shape[1]) < p).to(p.dtype)

    def statistics(self, data: LikeMatrix, users: np.ndarray, k: int) -> BatchStatistics:
        """The sums of the global mini-batch ``users`` (rows of ``data``) with CD-``k``."""
        import torch

        rbm, cfg, device, dist = self.rbm, self.cfg, self.device, self.dist
        w_like, w_joint, n_exact = self.w_like, self.w_joint, self.n_exact
        draw, uniform, bernoulli = self.draw, self.uniform, self.bernoulli
        n_glob = len(users)
        mine = None  # this rank's positions among the global batch's ratings
        if dist is not None:
            mine, n_glob_ratings = _rank_positions(data, users, dist)
            mine = mine.to(device)
            users = users[dist.rank :: dist.world_size]
        n = len(users)
        row_np, col_np, share_np = data.rows_and_shares(users)
        rows = torch.from_numpy(row_np).to(device)
        cols0 = torch.from_numpy(col_np).to(device)
        items = cols0 // 2
        if share_np is None:  # the data: hard units, or both units weighted
            prow, punit, pval = rows, cols0, None
        else:
            prow_np, punit_np, pval_np = soft_entries(row_np, col_np, share_np)
            prow = torch.from_numpy(prow_np).to(device)
            punit = torch.from_numpy(punit_np).to(device)
            pval = torch.from_numpy(pval_np).to(device)
        x0 = rbm.sparse_hidden_input(prow, punit, n, pval)
        ph0 = torch.sigmoid(x0)
        if cfg.dropout > 0:  # the same units are dropped in both phases
            hmask = (uniform(n_glob, cfg.n_hidden) >= cfg.dropout).to(ph0.dtype)
            ph0 = ph0 * hmask
        else:
            hmask = None
        h0 = bernoulli(ph0, n_glob)
        # W's statistics: sums over ratings of (unit, hidden probabilities · weight),
        # gathered as (units, rows, per-row values) and summed by one sparse product
        terms = [(punit, prow, ph0 * self.w_pos, pval)]
        gb = self.n_terms * torch.bincount(punit, pval, minlength=2 * data.n_items).to(ph0.dtype)
        gc = self.w_pos * ph0.sum(0)
        # the seen movies' like vs dislike: reconstruction error (the training loss)
        w_diff = rbm.W.index_select(0, 2 * items + 1) - rbm.W.index_select(0, 2 * items)
        b_diff = rbm.b[2 * items + 1] - rbm.b[2 * items]
        liked0 = (cols0 % 2).to(ph0.dtype)
        p_like = torch.sigmoid((h0.index_select(0, rows) * w_diff).sum(1) + b_diff)
        err_sum = float((p_like - liked0).abs().sum())
        err_n = len(cols0)
        # conditional CD term: like vs dislike of the seen movies (sparse: only those)
        if w_like is not None:
            h = h0
            for step in range(k):
                if step > 0:
                    p_like = torch.sigmoid((h.index_select(0, rows) * w_diff).sum(1) + b_diff)
                if mine is None:  # one uniform per rating of the batch
                    u = draw((len(items),))
                else:
                    u = draw((n_glob_ratings,))[mine]
                colsk = 2 * items + (u < p_like).long()
                phk = torch.sigmoid(rbm.sparse_hidden_input(rows, colsk, n))
                if hmask is not None:
                    phk = phk * hmask
                h = bernoulli(phk, n_glob)
            terms.append((colsk, rows, phk * -w_like, None))
            gb -= cfg.like_weight * torch.bincount(colsk, minlength=2 * data.n_items)
            gc -= w_like * phk.sum(0)
        if cfg.like_exact_weight > 0:  # exact like log-likelihood of the seen movies
            target = liked0 if share_np is None else torch.from_numpy(share_np).to(device)
            exact = like_likelihood_grad(
                w_diff[:, :n_exact],
                b_diff,
                x0[:, :n_exact],
                rows,
                items,
                target,
                None if hmask is None else hmask[:, :n_exact],
                cfg.like_exact_weight,
                2 * data.n_items,
            )
            gb += exact[1]
            gc[:n_exact] += exact[2]
        else:
            exact = None
        # joint term: which movies are seen at all (dense over the catalogue)
        if w_joint is not None:
            if cfg.persistent:
                if self.persistent_h is None or self.persistent_n != n_glob:
                    self.persistent_h, self.persistent_n = h0.clone(), n_glob
                h = self.persistent_h
            else:
                h = h0
            W_lp = rbm.W.to(torch.bfloat16) if self.low_precision else None
            for _ in range(k):
                # the sample is sparse: (row, unit) of its seen movies
                rows_k, cols_k = rbm.sample_visible(
                    h, noise=uniform(n_glob, data.n_items), weights=W_lp
                )
                phk = torch.sigmoid(rbm.sparse_hidden_input(rows_k, cols_k, n))
                if hmask is not None:
                    phk = phk * hmask
                h = bernoulli(phk, n_glob)
            if cfg.persistent:
                self.persistent_h = h
            terms.append((cols_k, rows_k, phk * -w_joint, None))
            gb -= cfg.joint_weight * torch.bincount(cols_k, minlength=2 * data.n_items)
            gc -= w_joint * phk.sum(0)
        gW = unit_sums(terms, 2 * data.n_items)
        if exact is not None:
            gW[:, :n_exact] += exact[0]
        return BatchStatistics(gW, gb, gc, n_glob, err_sum, err_n)


def unit_sums(terms: list, n_units: int):
    """``(n_units, H)`` sums ``Σ_t weight[t] · onehot(units[t]) ⊗ values[rows[t]]`` over every
    ``(units, rows, values, weight)`` term (``values (B_i, H)``; ``weight`` None: all 1), as
    one sparse × dense product (about 3× faster on the CPU than scattering gathered rows)."""
    import torch

    units, rows, values, weights, offset = [], [], [], [], 0
    for u, r, v, w in terms:
        units.append(u)
        rows.append(r + offset)
        values.append(v)
        weights.append(torch.ones(len(u), dtype=v.dtype, device=v.device) if w is None else w)
        offset += v.shape[0]
    index = torch.stack((torch.cat(units), torch.cat(rows)))
    onehot = torch.sparse_coo_tensor(
        index, torch.cat(weights), (n_units, offset), check_invariants=False
    )
    return torch.sparse.mm(onehot, torch.cat(values))


def _rank_positions(lm: LikeMatrix, users: np.ndarray, dist) -> tuple[object, int]:
    """Where this rank's ratings sit among all ratings of the global batch ``users`` (in
    :meth:`LikeMatrix.rows` order): ``(positions (n,) tensor, number of global ratings)``."""
    import torch

    lens = np.diff(lm.indptr)[users]
    starts = np.cumsum(lens) - lens
    sel = np.arange(dist.rank, len(users), dist.world_size)
    ls, ss = lens[sel], starts[sel]
    pos = np.arange(ls.sum()) - np.repeat(np.cumsum(ls) - ls, ls) + np.repeat(ss, ls)
    return torch.from_numpy(pos), int(lens.sum())


def like_likelihood_grad(delta, b_diff, x, rows, items, p, hmask, weight: float, n_units: int):
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
    return gW, gb, G.sum(0)
