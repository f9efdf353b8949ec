"""One mini-batch of contrastive divergence, at a cost that follows the ratings.

The hidden units come in two groups (see :class:`engine.model.rbm.RBM`): the first
``like_units`` learn like vs dislike, the rest (the *joint* units) learn which movies a person
picks. A batch's update sums two terms:

- **the joint CD term** (which movies are seen). Positive phase: the person's ratings, a
  rating of r stars being the soft pair (1 - s, s) over (disliked, liked), s = the soft like
  target. Negative phase: the hidden state comes from the person's persistent chain (PCD,
  Tieleman 2008) or from the data; then each *candidate* movie is picked with probability
  ``σ(log(e^{b_j0 + W_j0·h} + e^{b_j1 + W_j1·h}) + corr_j + τ)``, where ``τ`` (per person, a
  few Newton steps) makes the expected number of picks the person's number of ratings ``D``
  (the visible layer conditioned on the person's activity, as in the replicated-softmax model
  of Salakhutdinov & Hinton 2009, whose "which movies" likelihood is multinomial), and a
  picked movie's state (liked or disliked) is drawn from its two-state conditional. The
  candidates are every movie for catalogues up to ``candidates_all`` movies; above, a set of
  ``candidates`` shared by the batch: the most rated ``candidate_head`` share of them plus tail
  movies drawn with
  probability q ∝ ratings^``candidate_alpha``, whose log-weight ``corr = -log(M q)`` corrects
  the sampling (sampled softmax, Jean et al. 2015). So a step costs people × candidates ×
  hidden, never people × catalogue.
- **the like term**: the exact gradient of Σ_r log P(like_r | seen_r, the person's other
  ratings) for the like units, hidden units summed out (a discriminative RBM term, as in
  Larochelle & Bengio 2008), soft targets ``s``; it costs ratings × like units. With
  ``like_rate`` > 0 the like log-odds also take the person's own term
  (:meth:`engine.model.rbm.RBM.like_offset`): one weight times the log-odds of the person's
  like rate without the rating itself; the weight learns from the same gradient (Adam).

The joint units and the visible biases' joint share learn with Adam, the like units with
momentum (:mod:`engine.training.optim`); both update only the rows the batch touched.

Data-parallel training (``dist``): every rank draws the random numbers of the whole global
batch and uses its rows' share; the gradients, the rows touched and the chains' new states are
summed over the ranks, so the update is the single-process one.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from engine.data.likes import LikeMatrix
from engine.settings import TrainConfig
from engine.training.optim import Adam, LazyParam, Momentum


class Uniforms:
    """Seeded uniform draws in [0, 1), float32: numpy's PCG64 on the CPU (faster there than
    torch's generator), torch's generator on CUDA."""

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


class SampledCD:
    """The training state of one run (weights split into like and joint units, optimisers,
    persistent chains, random streams) and its mini-batch step.

    ``rbm`` is the model being trained: its ``W``, ``b`` and ``c`` are read at the start and
    written by :meth:`snapshot`. ``dist``: the data-parallel hook of
    :func:`engine.training.loop.train` (None: one process).
    """

    def __init__(self, rbm, cfg: TrainConfig, device: str, n_users: int, item_pop, dist=None):
        import torch

        self.rbm, self.cfg, self.device, self.dist = rbm, cfg, device, dist
        # once per run, not per batch (the filters are global, and the app trains in a thread)
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
        L = self.L = rbm.like_units
        self.N, self.H = rbm.n_items, rbm.n_hidden
        self.Wl = rbm.W[:, :L].contiguous()
        self.Wj = rbm.W[:, L:].contiguous()
        self.b = rbm.b.clone()
        self.c = rbm.c.clone()
        avg, share = cfg.average, 0.5
        joint = Adam(cfg.learning_rate, cfg.weight_decay)
        like = Momentum(cfg.like_learning_rate, cfg.weight_decay, cfg.momentum)
        self.p_Wl = LazyParam(self.Wl, {"like": like}, avg, share)
        self.p_Wj = LazyParam(self.Wj, {"joint": joint}, avg, share)
        self.p_b = LazyParam(
            self.b, {"joint": Adam(cfg.learning_rate), "like": Momentum(cfg.like_learning_rate)},
            avg, share,
        )  # fmt: skip
        self.p_cl = LazyParam(self.c[:L], {"like": Momentum(cfg.like_learning_rate)}, avg, 2.0)
        self.p_cj = LazyParam(self.c[L:], {"joint": Adam(cfg.learning_rate)}, avg, 2.0)
        self.t = 0  # updates so far
        # the person's own like term (weight, Adam's moments, average, steps; see _rate_step)
        self.rate_w = self.rate_m = self.rate_v = self.rate_avg = 0.0
        self.rate_t = 0
        self.pi: float | None = None  # the training data's like share
        self._buf: dict = {}  # full-size gradient buffers, see _buffer
        self.draw = Uniforms(cfg.seed, device)
        self.rng = np.random.default_rng([cfg.seed, 0xCA4D])  # candidates, like-term subsets
        self.chains = None
        if cfg.persistent:
            self.chains = torch.zeros(n_users, self.H, dtype=torch.bool, device=device)
            self.chain_ok = torch.zeros(n_users, dtype=torch.bool, device=device)
        pop = np.asarray(item_pop, np.float64)
        self.order = np.argsort(-pop, kind="stable")
        n_head = int(cfg.candidates * cfg.candidate_head)
        tail = self.order[n_head:]
        q = (pop[tail] + 1.0) ** cfg.candidate_alpha
        self.tail_q = q / q.sum() if len(tail) else q
        self.n_head = n_head

    # ------------------------------------------------------------------ pieces
    def _buffer(self, name: str, cols: int):
        """A kept ``(2N, cols)`` float tensor for a full-size gradient (contents undefined)."""
        import torch

        if name not in self._buf:
            self._buf[name] = torch.empty(2 * self.N, cols, device=self.device)
        return self._buf[name]

    def uniform(self, rows: int, cols: int):
        """This process's rows of a ``(rows, cols)`` uniform draw (all rows when alone)."""
        u = self.draw((rows, cols))
        return u if self.dist is None else u[self.dist.rank :: self.dist.world_size]

    def candidates(self):
        """``(movies (M,) tensor, log-weight corrections (M,) tensor)``, or ``(None, None)``
        when every movie is a candidate."""
        import torch

        cfg = self.cfg
        if self.N <= max(cfg.candidates_all, cfg.candidates):
            return None, None
        head, tail = self.order[: self.n_head], self.order[self.n_head :]
        m = cfg.candidates - self.n_head
        k = self.rng.choice(len(tail), size=m, replace=True, p=self.tail_q)
        corr = np.concatenate([np.zeros(self.n_head), -np.log(m * self.tail_q[k])])
        movies = torch.from_numpy(np.concatenate([head, tail[k]])).to(self.device)
        return movies, torch.from_numpy(corr).float().to(self.device)

    def _hidden(self, units, rows, n: int, values=None):
        """``(n, H)`` hidden input ``c + vW`` of sparse visible data (rows ascending)."""
        import torch
        import torch.nn.functional as F

        offs = torch.searchsorted(rows, torch.arange(n, device=self.device))

        def bag(W):
            if W.shape[1] == 0:  # no like (or joint) units: embedding_bag fails on an empty
                return W.new_zeros(n, 0)  # weight when torch runs more than one thread
            return F.embedding_bag(units, W, offs, mode="sum", per_sample_weights=values)

        return torch.cat([bag(self.Wl), bag(self.Wj)], 1) + self.c

    # -------------------------------------------------------------------- step
    def step(self, data: LikeMatrix, users: np.ndarray, k: int, scale: float = 1.0):
        """One update on the global mini-batch ``users`` (rows of ``data``) with ``k`` Gibbs
        steps in the negative phase, learning rates times ``scale``. Returns this process's
        ``(error sum, ratings)``: the like term's |target - P(like)| over the batch's ratings."""
        import torch

        from engine.model.rbm import logaddexp_pair

        cfg, dev, dist, L, H, N = self.cfg, self.device, self.dist, self.L, self.H, self.N
        self.t += 1
        t = self.t
        n_glob = len(users)
        if dist is not None:
            mine_users = users[dist.rank :: dist.world_size]
        else:
            mine_users = users
        n = len(mine_users)
        row_np, col_np, share_np = data.rows_and_shares(mine_users)
        rows = torch.from_numpy(row_np).to(dev)
        items = torch.from_numpy(col_np // 2).to(dev)
        if share_np is None:
            share = torch.from_numpy((col_np % 2).astype(np.float32)).to(dev)
        else:
            share = torch.from_numpy(share_np).to(dev)
        # positive (soft) data: both units of every rating, (1 - s, s)
        prow = rows.repeat_interleave(2)
        punit = torch.stack((2 * items, 2 * items + 1), 1).reshape(-1)
        pval = torch.stack((1 - share, share), 1).reshape(-1)
        x0 = self._hidden(punit, prow, n, pval)
        hmask = (self.uniform(n_glob, H) >= cfg.dropout).float() if cfg.dropout else None
        ph0 = torch.sigmoid(x0)
        if hmask is not None:
            ph0 = ph0 * hmask
        # negative phase: from the persistent chains (or the data), k Gibbs steps
        h = (self.uniform(n_glob, H) < ph0).float()
        ub = torch.from_numpy(mine_users).to(dev)
        if self.chains is not None:
            have = self.chain_ok[ub]
            h[have] = self.chains[ub[have]].float()
        cand, corr = self.candidates()
        if cand is None:
            Wlc, Wjc, bc, M = self.Wl, self.Wj, self.b, N
        else:
            units_c = torch.stack((2 * cand, 2 * cand + 1), 1).reshape(-1)
            Wlc, Wjc = self.Wl.index_select(0, units_c), self.Wj.index_select(0, units_c)
            bc, M = self.b.index_select(0, units_c), len(cand)
        D = torch.bincount(rows, minlength=n).float().clamp(max=M - 1)
        for _ in range(k):
            # b + h Wᵀ in two products, one per group of units (no joined copy of W)
            lg = torch.addmm(bc, h[:, :L], Wlc.T).addmm_(h[:, L:], Wjc.T).view(n, M, 2)
            ml = logaddexp_pair(lg)
            if corr is not None:
                ml = ml + corr
            pi = activity(ml, D, cfg.newton_steps)
            u = self.uniform(n_glob, M)
            rk, mk = (u < pi).nonzero(as_tuple=True)
            u_like = u[rk, mk] / pi[rk, mk]  # given u < pi, u / pi is uniform on [0, 1)
            liked_k = (u_like < torch.sigmoid(lg[rk, mk, 1] - lg[rk, mk, 0])).long()
            movie_k = mk if cand is None else cand[mk]
            nunit = 2 * movie_k + liked_k
            phk = torch.sigmoid(self._hidden(nunit, rk, n))
            if hmask is not None:
                phk = phk * hmask
            h = (self.uniform(n_glob, H) < phk).float()
        if self.chains is not None:
            self._keep_chains(users, h)
        phj0, phjk = ph0[:, L:], phk[:, L:]
        # the rows this batch touches, and the joint term's gradient on them: one sort gives
        # the rows R, each entry's row and the CSR layout of the (rows × 2n)
        # matrix whose product with the hidden states is the weights' gradient. When the
        # batch touches most rows the gradients are built over every row (R None: the
        # optimisers' dense step, no scatter into a full-size buffer)
        allu = torch.cat([punit, nunit])
        n_units = 2 * N
        srt, order = _sort_units(allu, n_units)
        R, counts = torch.unique_consecutive(srt, return_counts=True)
        R = R.long()
        if len(R) > self.p_Wj.dense_share * n_units:
            crow = torch.zeros(n_units + 1, dtype=torch.long, device=dev)
            crow[R + 1] = counts
            torch.cumsum(crow, 0, out=crow)
            R, inv, nR = None, allu, n_units
        else:
            nR = len(R)
            inv = torch.empty_like(order)  # each entry's row among R
            inv[order] = torch.repeat_interleave(torch.arange(nR, device=dev), counts)
            crow = torch.zeros(nR + 1, dtype=torch.long, device=dev)
            torch.cumsum(counts, 0, out=crow[1:])
        ip = inv[: len(punit)]
        w = cfg.joint_weight / n_glob  # the gradients are means over the global batch
        vals = torch.cat([pval, -torch.ones(len(nunit), device=dev)]).mul_(w)
        col = torch.cat([prow, rk + n])
        onehot = torch.sparse_csr_tensor(
            crow, col[order], vals[order], (nR, 2 * n), check_invariants=False
        )
        hs = torch.cat([phj0, phjk])
        if R is None:  # into a kept buffer: a fresh full-size result costs 4× the product
            buf = self._buffer("gWj", H - L)
            gWj = torch.addmm(buf, onehot, hs, beta=0, out=buf)
        else:
            gWj = onehot @ hs
        gbj = torch.zeros(nR, device=dev).index_add_(0, inv, vals)
        gcj = (phj0 - phjk).sum(0).mul_(w)
        # the like term on the rated movies' two units (a random share on huge batches)
        liked_l, disliked_l = ip[1::2], ip[0::2]
        rows_l, share_l, lw = rows, share, cfg.like_exact_weight
        n_glob_r = len(rows) if dist is None else None
        if cfg.like_cap and self._global_ratings(data, users, n_glob_r) > cfg.like_cap:
            sel = self._like_subset(data, users, len(rows))
            lw = lw * self._global_ratings(data, users, n_glob_r) / cfg.like_cap
            liked_l, disliked_l, rows_l, share_l = (
                liked_l[sel],
                disliked_l[sel],
                rows[sel],
                share[sel],
            )
        if len(rows_l) > N:  # each movie's liked-minus-disliked rows, then the ratings'
            items_l = items if rows_l is rows else items[sel]
            pair = self.Wl.view(N, 2, L)
            delta = torch.sub(pair[:, 1], pair[:, 0]).index_select(0, items_l)
        else:
            Wl_R = self.Wl if R is None else self.Wl.index_select(0, R)
            delta = Wl_R.index_select(0, liked_l) - Wl_R.index_select(0, disliked_l)
        bR = self.b if R is None else self.b.index_select(0, R)
        b_diff = bR[liked_l] - bR[disliked_l]
        phi = None
        if cfg.like_rate > 0:
            phi = self._rate_feature(data, col_np, rows, n, None if rows_l is rows else sel)
        gWl, gbl, gcl, z = like_likelihood_grad(
            delta, b_diff, x0[:, :L], rows_l, liked_l, disliked_l, share_l,
            None if hmask is None else hmask[:, :L], lw, nR,
            out=self._buffer("gWl", L) if R is None else None,
            offset=None if phi is None else self.rate_w * phi,
        )  # fmt: skip
        # the person's own like term's gradient (a sum, like the others)
        ga = torch.zeros(1, device=dev)
        if phi is not None:
            ga += torch.dot(share_l - torch.sigmoid(z), phi) * lw
        err_sum = float((share_l - torch.sigmoid(z)).abs().sum())
        err_n = len(share_l)
        for g in (gWl, gbl, gcl, ga):
            g.div_(n_glob)
        grads = [gWj, gWl, gbj, gbl, gcj, gcl, ga]
        if dist is not None:
            R, grads = self._reduce(R, grads)
        gWj, gWl, gbj, gbl, gcj, gcl, ga = grads
        if phi is not None:
            self._rate_step(float(ga), scale)
        self.p_Wj.step(R, {"joint": gWj}, t, scale)
        self.p_Wl.step(R, {"like": gWl}, t, scale)
        self.p_b.step(R, {"joint": gbj, "like": gbl}, t, scale)
        self.p_cj.step(None, {"joint": gcj}, t, scale)
        self.p_cl.step(None, {"like": gcl}, t, scale)
        return err_sum, err_n

    def _rate_feature(self, data: LikeMatrix, col_np, rows, n: int, sel):
        """``(R,)`` for each rating of the like term (``sel``: their positions among the
        batch's ratings, None: all): the log-odds of its person's like rate without it,
        smoothed by ``like_rate`` ratings at the data's like share (what
        :meth:`engine.model.rbm.RBM.like_offset` takes at use, from hard likes)."""
        import torch

        from engine.model.rbm import like_rate_log_odds

        if self.pi is None:
            self.pi = float(np.clip(np.mean(data.cols % 2), 0.01, 0.99))
        hard = torch.from_numpy((col_np % 2).astype(np.float32)).to(self.device)
        likes = torch.zeros(n, device=self.device).index_add_(0, rows, hard)
        count = torch.bincount(rows, minlength=n).float()
        if sel is not None:
            rows, hard = rows[sel], hard[sel]
        # the counts are whole numbers: leaving the rating out is exact in float32
        return like_rate_log_odds(
            likes[rows] - hard, count[rows] - 1.0, self.cfg.like_rate, self.pi
        )

    def _rate_step(self, g: float, scale: float) -> None:
        """Adam on the weight of the person's own like term (ascent on its gradient ``g``),
        and the weight's moving average."""
        b1, b2 = 0.9, 0.999
        self.rate_m = b1 * self.rate_m + (1 - b1) * g
        self.rate_v = b2 * self.rate_v + (1 - b2) * g * g
        self.rate_t += 1
        mh = self.rate_m / (1 - b1**self.rate_t)
        vh = self.rate_v / (1 - b2**self.rate_t)
        self.rate_w += self.cfg.learning_rate * scale * mh / (math.sqrt(vh) + 1e-8)
        d = self.cfg.average
        self.rate_avg = d * self.rate_avg + (1 - d) * self.rate_w if d else self.rate_w

    def _global_ratings(self, data, users, known):
        if known is not None:
            return known
        return int((data.indptr[users + 1] - data.indptr[users]).sum())

    def _like_subset(self, data, users, n_mine: int):
        """Positions (among this process's ratings of the batch) of the like term's subset:
        ``like_cap`` ratings of the global batch drawn at random, in order."""
        import torch

        cap = self.cfg.like_cap
        total = self._global_ratings(data, users, None)
        pick = np.sort(self.rng.choice(total, size=cap, replace=False))
        if self.dist is None:
            return torch.from_numpy(pick).to(self.device)
        mine = rank_positions(data, users, self.dist).numpy()  # global position of each of mine
        keep = np.isin(mine, pick, assume_unique=True)
        return torch.from_numpy(np.nonzero(keep)[0]).to(self.device)

    def _keep_chains(self, users: np.ndarray, h) -> None:
        import torch

        dist = self.dist
        if dist is None:
            ub = torch.from_numpy(users).to(self.device)
            self.chains[ub] = h.bool()
            self.chain_ok[ub] = True
            return
        full = torch.zeros(len(users), self.H, device=self.device)
        full[dist.rank :: dist.world_size] = h
        dist.all_reduce([full])
        ub = torch.from_numpy(users).to(self.device)
        self.chains[ub] = full.bool()
        self.chain_ok[ub] = True

    def _reduce(self, R, grads):
        """Sum the ranks' gradients: rows scattered to the whole catalogue, summed, then the
        rows any rank touched. ``R`` None: this rank's gradients cover every row (a rank
        that touched that many makes the step dense on every rank)."""
        import torch

        n_units = 2 * self.N
        touched = torch.zeros(n_units, device=self.device)
        if R is None:
            touched.fill_(1.0)
            dense = list(grads[:4])
        else:
            touched[R] = 1.0
            dense = []
            for g in grads[:4]:
                full = torch.zeros((n_units, *g.shape[1:]), device=self.device)
                full.index_copy_(0, R, g)
                dense.append(full)
        self.dist.all_reduce([touched, *dense, *grads[4:]])
        if bool(touched.all()):
            return None, dense + list(grads[4:])
        R = touched.nonzero(as_tuple=True)[0]
        return R, [d.index_select(0, R) for d in dense] + list(grads[4:])

    # ----------------------------------------------------------------- results
    def snapshot(self, rbm=None):
        """An :class:`~engine.model.rbm.RBM` holding the moving average of the weights (the
        weights themselves when ``average`` is 0): ``rbm`` updated in place, or the trained
        one's."""
        import torch

        rbm = rbm or self.rbm
        t = self.t
        rbm.W = torch.cat([self.p_Wl.averaged(t), self.p_Wj.averaged(t)], 1).contiguous()
        rbm.b = self.p_b.averaged(t).contiguous()
        rbm.c = torch.cat([self.p_cl.averaged(t), self.p_cj.averaged(t)]).contiguous()
        rbm.n_hidden = rbm.W.shape[1]
        d, k = self.cfg.average, self.rate_t
        rbm.rate_weight = self.rate_avg / (1 - d**k) if d and k else self.rate_w
        rbm.rate_prior, rbm.rate_share = self.cfg.like_rate, self.pi or 0.5
        return rbm

    def finite(self) -> bool:
        return all(bool(torch_isfinite(p)) for p in (self.Wl, self.Wj, self.b, self.c))


def _sort_units(units, n_units: int):
    """``(sorted units, the order that sorts them)`` of a 1-D long tensor of unit indices in
    ``[0, n_units)``. On the CPU numpy's sorts: a radix sort when the units fit in int16, else
    an introsort, each several times faster than torch's sort of a few thousand ints."""
    import torch

    if units.device.type != "cpu":
        return torch.sort(units.int())
    a = units.numpy()
    if n_units <= np.iinfo(np.int16).max:
        order = np.argsort(a.astype(np.int16), kind="stable")
    else:
        order = np.argsort(a)
    return torch.from_numpy(a[order]), torch.from_numpy(order)


def activity(
    ml, D, steps: int, tol: float = 0.1, max_steps: int = 30, sample: int = 16,
    wide_bracket: float = 40.0,
):  # fmt: skip
    """``(n, M)`` pick probabilities ``σ(ml + τ)``, with each person's offset ``τ (n,)`` set so
    that the row sums ``s(τ)`` come close to ``D (n,)``. ``ml (n, M)``: each candidate's
    log-odds of being picked before the offset.

    ``s(τ) = Σ σ(ml + τ)`` rises with ``τ``. Newton's steps on ``log s(τ) = log D`` (steps
    of ``log(D / s) · s / Σπ(1-π)``; exact where every π is small) stay inside a bracket: the
    softmax's guess ``log D - logsumexp(ml)`` below (``σ(x) < e^x``) and ``logit(D / M) -
    min(ml)`` above (every π ≥ D / M there), narrowed at every step; a step that would leave
    it bisects it instead. They start from the softmax's guess, or, in a row whose bracket is
    wider than ``wide_bracket``, where the ``D``-th most likely candidate is at even odds:
    ``τ = -`` the ``D / sample``-th largest of every ``sample``-th candidate (a sort of a
    sixteenth of the row, which costs more than the steps it saves on small catalogues).
    Unguarded, a person whose few top candidates are near certain (the tangent then almost
    flat) was thrown to all-or-nothing picks: on the 25M file, from a third into the first
    epoch, people's expected picks were off by a factor of 5-25, and each step's cost with
    them. ``steps`` steps are always taken; more, up to ``max_steps``, while some person's
    expected picks are off by more than ``tol · D``.

    On big data the log-odds spread over hundreds (the 25M file's later epochs), so the
    softmax's guess lies far below the root (about ten steps from it, most of them bisections)
    while the sampled quantile lies within a few; and ``exp`` of inputs below about -87 takes
    a slow path on the CPU (10-25 times slower), hence the clamp in the log-sum-exp."""
    import torch

    Dc = D.clamp_min(1.0)
    M = ml.shape[1]
    top, low = ml.amax(1), ml.amin(1)
    # log-sum-exp with the tiny terms raised to e^-80: a bound no larger, still below the root
    lse = torch.sub(ml, top[:, None]).clamp_(min=-80.0).exp_().sum(1).log_().add_(top)
    logD = torch.log(Dc)
    lo = logD - lse
    hi = torch.logit(Dc / M) - low
    tau = lo
    wide = (hi - lo) > wide_bracket
    if bool(wide.any()):  # those rows start from the sampled quantile (row by row: a rank's
        # share of a batch gets the single process's figures)
        part = ml[:, :: max(1, sample)]
        k = (Dc * (part.shape[1] / M)).long().clamp_(0, part.shape[1] - 1)
        guess = -part.sort(1, descending=True).values.gather(1, k[:, None])[:, 0]
        tau = torch.where(wide, torch.minimum(torch.maximum(guess, lo), hi), lo)
    for i in range(max_steps + 1):
        pi = torch.add(ml, tau[:, None]).sigmoid_()
        s = pi.sum(1)
        if i >= steps and (i == max_steps or bool(((s - D).abs() <= tol * Dc).all())):
            break
        # Σ π(1 - π) = Σ π - Σ π², the sum of squares in one pass
        v = s - torch.linalg.vector_norm(pi, 2, dim=1).square_()
        below = s < D
        lo = torch.where(below, tau, lo)
        hi = torch.where(below, hi, tau)
        new = tau + (logD - s.clamp_min(1e-30).log()) * s / v.clamp_min(1e-6)
        tau = torch.where((new >= lo) & (new <= hi), new, 0.5 * (lo + hi))
    return pi


def torch_isfinite(t) -> bool:
    import torch

    return bool(torch.isfinite(t).all()) if t.numel() else True


def initial_biases(counts: np.ndarray):
    """``(2N,)`` visible biases from the training data's unit counts ``counts (2N,)``: the
    log of each state's count (plus ½), shifted so that the largest is 0."""
    import torch

    b = torch.from_numpy(np.log(np.asarray(counts, np.float64) + 0.5)).float()
    return b - b.max()


def batch_size_for(cfg: TrainConfig, n_users: int) -> int:
    """People per update: ``batch_size``, smaller on small data so that an epoch has at least
    ``min_batches`` updates (never below 8 people), bigger on big data so that it has at most
    ``max_batches`` (an update's cost has a part that follows the rows it touches)."""
    b = max(1, min(cfg.batch_size, max(8, math.ceil(n_users / cfg.min_batches))))
    return max(b, math.ceil(n_users / cfg.max_batches))


def rank_positions(lm: LikeMatrix, users: np.ndarray, dist):
    """``(n,)`` tensor: where this rank's ratings sit among all ratings of the global batch
    ``users`` (in :meth:`LikeMatrix.rows` order)."""
    import torch

    lens = np.diff(lm.indptr)[users]
    starts = np.cumsum(lens) - lens
    sel = np.arange(dist.rank, len(users), dist.world_size)
    ls, ss = lens[sel], starts[sel]
    pos = np.arange(ls.sum()) - np.repeat(np.cumsum(ls) - ls, ls) + np.repeat(ss, ls)
    return torch.from_numpy(pos)


def like_likelihood_grad(
    delta,
    b_diff,
    x,
    rows,
    liked,
    disliked,
    p,
    hmask,
    weight: float,
    n_units: int,
    out=None,
    offset=None,
):
    """Gradient of ``weight · Σ_r log P(like_r | seen_r, v_-r)`` (soft targets ``p``) with
    the hidden units summed out exactly (the discriminative RBM's gradient), for ``L`` of the
    hidden units. ``rows, p``: ``(R,)`` owner and like target of each rating; ``liked``,
    ``disliked``: ``(R,)`` indices (among ``n_units`` rows) of its movie's two units;
    ``delta (R, L)``: their weights' difference (liked minus disliked) in those units' columns
    and ``b_diff (R,)`` the same of the visible biases; ``x (n, L)``: the batch's hidden input
    ``c + vW`` from its soft data; ``hmask (n, L)``: its dropout mask, or None. ``v_-r`` is
    the person's data without rating ``r``, so the liked (disliked) state's hidden input is
    ``x + (1-p)·delta`` (``x - p·delta``).

    ``out``: a ``(n_units, L)`` tensor to hold ``gW`` (overwritten), or None.

    Returns ``(gW (n_units, L), gb (n_units,), gc (L,), z (R,))``: the gradients of W's
    columns of those units and of the visible and hidden biases, sums over the batch, in the
    direction that raises the likelihood, and each rating's like log-odds.
    """
    import torch

    # inputs at most 40 (σ(-a) stays a normal float32 below), a dropped unit's -10⁴ (it then
    # adds nothing to any sum below)
    nx = x.clamp(max=40.0).neg_()
    if offset is not None:
        b_diff = b_diff + offset
    if hmask is not None:
        nx.masked_fill_(hmask == 0, 1e4)
    nxr = nx.index_select(0, rows)
    # 1 - sigmoid of the unit's input with the movie liked (a) and disliked (d): σ(-a), σ(-d)
    na = torch.addcmul(nxr, (p - 1.0)[:, None], delta).sigmoid_()
    nd = torch.addcmul(nxr, p[:, None], delta).sigmoid_()
    # softplus(a) - softplus(d) = log(σ(-d) / σ(-a))
    z = b_diff + torch.div(nd, na).log_().sum(1)  # like log-odds
    e = weight * (p - torch.sigmoid(z))  # (R,) d log-likelihood / d z
    ec = e[:, None]
    g = torch.sub(nd, na).mul_(ec)  # (R, L) d / d x_-r: e · (σ(a) - σ(d))
    G = torch.zeros_like(nx).index_add_(0, rows, g)
    # Through the person's other ratings' inputs, back = G[rows] - g; the liked unit gets
    # e·σ(a) + p·back and the disliked one -e·σ(d) + (1-p)·back. With g's own part gathered:
    # liked p·G[rows] + r, disliked (1-p)·G[rows] - r, r = e·(1 - p·σ(-d) - (1-p)·σ(-a))
    r = torch.addcmul(ec, ec, nd.lerp_(na, (1.0 - p)[:, None]), value=-1.0)
    back = G.index_select(0, rows)
    v1 = r.addcmul_(back, p[:, None])
    v0 = back.sub_(v1)
    if out is None:
        gW = torch.zeros(n_units, x.shape[1], dtype=x.dtype, device=x.device)
    else:  # a kept (n_units, L) buffer
        gW = out.zero_()
    gW.index_add_(0, liked, v1).index_add_(0, disliked, v0)
    gb = torch.zeros(n_units, dtype=x.dtype, device=x.device)
    gb.index_add_(0, liked, e).index_add_(0, disliked, -e)
    return gW, gb, G.sum(0), z
