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
  candidates are every movie for catalogues up to ``candidates_all`` movies and
  ``candidates_all_cells`` people × movies; above, a set of
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
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.data.likes import LikeMatrix
from engine.settings import TrainConfig
from engine.training.activity import activity
from engine.training.batch import Batch, Candidates, Negative, make_batch
from engine.training.like_term import PersonRate, like_likelihood_grad
from engine.training.optim import Adam, LazyParam, Momentum
from engine.training.ranks import DataParallel, gather_rows, rank_positions, reduce_rows
from engine.training.sampling import CandidateSampler, TouchedRows, Uniforms, touched_rows

if TYPE_CHECKING:
    import torch

    from engine.model.rbm import RBM

__all__ = [
    "SampledCD",
    "activity",
    "batch_size_for",
    "initial_biases",
    "like_likelihood_grad",
    "torch_isfinite",
]


class SampledCD:
    """The training state of one run (weights split into like and joint units, optimisers,
    persistent chains, random streams) and its mini-batch step.

    ``rbm`` is the model being trained: its ``W``, ``b`` and ``c`` are read at the start and
    written by :meth:`snapshot`. ``dist``: the data-parallel hook of
    :func:`engine.training.loop.train` (None: one process).
    """

    def __init__(
        self, rbm: RBM, cfg: TrainConfig, device: str, n_users: int, item_pop: Any,
        dist: DataParallel | None = None,
    ) -> None:  # fmt: skip
        self.rbm, self.cfg, self.device, self.dist = rbm, cfg, device, dist
        # once per run, not per batch (the filters are global, and the app trains in a thread)
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
        L = self.L = rbm.like_units
        self.N, self.H = rbm.n_items, rbm.n_hidden
        self.Wl = rbm.W[:, :L].contiguous()
        self.Wj = rbm.W[:, L:].contiguous()
        self.b = rbm.b.clone()
        self.c = rbm.c.clone()
        self._optimisers(cfg)
        self.t = 0  # updates so far
        self.rate = PersonRate(cfg.like_rate, cfg.learning_rate, cfg.average)
        self._buf: dict[str, torch.Tensor] = {}  # full-size gradient buffers, see _buffer
        self.draw = Uniforms(cfg.seed, device)
        self.rng = np.random.default_rng([cfg.seed, 0xCA4D])  # candidates, like-term subsets
        self.chains: torch.Tensor | None = None
        if cfg.persistent:
            self._new_chains(n_users)
        self.sampler = CandidateSampler(cfg, n_users, self.N, item_pop, self.rng)

    def _optimisers(self, cfg: TrainConfig) -> None:
        """The row-lazy parameters: the joint units and the visible biases' joint share learn
        with Adam, the like units and the biases' like share with momentum."""
        L, avg, share = self.L, cfg.average, 0.5
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

    def _new_chains(self, n_users: int) -> None:
        """Every person's persistent chain: ``(n_users, H)`` hidden states, none set yet."""
        import torch

        self.chains = torch.zeros(n_users, self.H, dtype=torch.bool, device=self.device)
        self.chain_ok = torch.zeros(n_users, dtype=torch.bool, device=self.device)

    # ------------------------------------------------------------------ pieces
    def _buffer(self, name: str, cols: int) -> torch.Tensor:
        """A kept ``(2N, cols)`` float tensor for a full-size gradient (contents undefined)."""
        import torch

        if name not in self._buf:
            self._buf[name] = torch.empty(2 * self.N, cols, device=self.device)
        return self._buf[name]

    def uniform(self, rows: int, cols: int) -> torch.Tensor:
        """This process's rows of a ``(rows, cols)`` uniform draw (all rows when alone)."""
        u = self.draw((rows, cols))
        return u if self.dist is None else u[self.dist.rank :: self.dist.world_size]

    def candidates(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``(movies (M,) tensor, log-weight corrections (M,) tensor)``, or ``(None, None)``
        when every movie is a candidate (:class:`~engine.training.sampling.CandidateSampler`)."""
        return self.sampler.draw(self.device)

    def _hidden(
        self, units: torch.Tensor, rows: torch.Tensor, n: int, values: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``(n, H)`` hidden input ``c + vW`` of sparse visible data (rows ascending)."""
        import torch
        import torch.nn.functional as F

        offs = torch.searchsorted(rows, torch.arange(n, device=self.device))

        def bag(W: torch.Tensor) -> torch.Tensor:
            if W.shape[1] == 0:  # no like (or joint) units: embedding_bag fails on an empty
                return W.new_zeros(n, 0)  # weight when torch runs more than one thread
            return F.embedding_bag(units, W, offs, mode="sum", per_sample_weights=values)

        return torch.cat([bag(self.Wl), bag(self.Wj)], 1) + self.c

    # -------------------------------------------------------------------- step
    def step(
        self, data: LikeMatrix, users: np.ndarray, k: int, scale: float = 1.0
    ) -> tuple[float, int]:
        """One update on the global mini-batch ``users`` (rows of ``data``) with ``k`` Gibbs
        steps in the negative phase, learning rates times ``scale``. Returns this process's
        ``(error sum, ratings)``: the like term's |target - P(like)| over the batch's ratings."""
        import torch

        self.t += 1
        batch = make_batch(data, users, self.dist, self.device)
        x0, hmask, ph0 = self._positive_phase(batch)
        neg = self._negative_phase(batch, ph0, hmask, k)
        if self.chains is not None:
            self._keep_chains(users, neg.h)
        touched = touched_rows(
            torch.cat([batch.punit, neg.units]), 2 * self.N, self.p_Wj.dense_share
        )
        L = self.L
        joint = self._joint_gradients(batch, neg, touched, ph0[:, L:], neg.ph[:, L:])
        like, rated, err_sum, err_n = self._like_gradients(data, users, batch, touched, x0, hmask)
        self._update(touched.R, [*joint, *like], rated, scale)
        return err_sum, err_n

    def _positive_phase(
        self, batch: Batch
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """``(x0 (n, H) hidden input of the data, the dropout mask (n, H) or None, the
        hidden probabilities (n, H), dropped units 0)``."""
        import torch

        cfg = self.cfg
        x0 = self._hidden(batch.punit, batch.prow, batch.n, batch.pval)
        hmask = (self.uniform(batch.n_glob, self.H) >= cfg.dropout).float() if cfg.dropout else None
        ph0 = torch.sigmoid(x0)
        if hmask is not None:
            ph0 = ph0 * hmask
        return x0, hmask, ph0

    def _negative_phase(
        self, batch: Batch, ph0: torch.Tensor, hmask: torch.Tensor | None, k: int
    ) -> Negative:
        """``k`` Gibbs steps from the persistent chains (or from the data's hidden states
        drawn from ``ph0``), each picking about as many candidates as the person rated."""
        import torch

        h = (self.uniform(batch.n_glob, self.H) < ph0).float()
        if self.chains is not None:
            ub = torch.from_numpy(batch.users).to(self.device)
            have = self.chain_ok[ub]
            h[have] = self.chains[ub[have]].float()
        cand = self._candidates()
        D = torch.bincount(batch.rows, minlength=batch.n).float().clamp(max=cand.M - 1)
        for _ in range(k):
            rk, units = self._pick_visible(h, cand, D, batch.n_glob)
            phk = torch.sigmoid(self._hidden(units, rk, batch.n))
            if hmask is not None:
                phk = phk * hmask
            h = (self.uniform(batch.n_glob, self.H) < phk).float()
        return Negative(rk, units, phk, h)

    def _candidates(self) -> Candidates:
        """This step's :class:`Candidates` and their rows of the weights."""
        import torch

        cand, corr = self.candidates()
        if cand is None:
            return Candidates(None, None, self.Wl, self.Wj, self.b, self.N)
        units_c = torch.stack((2 * cand, 2 * cand + 1), 1).reshape(-1)
        Wlc, Wjc = self.Wl.index_select(0, units_c), self.Wj.index_select(0, units_c)
        return Candidates(cand, corr, Wlc, Wjc, self.b.index_select(0, units_c), len(cand))

    def _pick_visible(
        self, h: torch.Tensor, cand: Candidates, D: torch.Tensor, n_glob: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One visible step of the negative phase from hidden states ``h (n, H)``: each
        candidate picked with probability σ(log-odds + corr + τ) (:func:`activity`), a picked
        one's state drawn from its two-state conditional. Returns ``(person (K,), unit (K,))``
        of each pick."""
        import torch

        from engine.model.rbm import logaddexp_pair

        n, L = len(h), self.L
        # b + h Wᵀ in two products, one per group of units (no joined copy of W)
        lg = torch.addmm(cand.b, h[:, :L], cand.Wl.T).addmm_(h[:, L:], cand.Wj.T)
        lg = lg.view(n, cand.M, 2)
        ml = logaddexp_pair(lg)
        if cand.corr is not None:
            ml = ml + cand.corr
        pi = activity(ml, D, self.cfg.newton_steps)
        u = self.uniform(n_glob, cand.M)
        rk, mk = (u < pi).nonzero(as_tuple=True)
        u_like = u[rk, mk] / pi[rk, mk]  # given u < pi, u / pi is uniform on [0, 1)
        liked_k = (u_like < torch.sigmoid(lg[rk, mk, 1] - lg[rk, mk, 0])).long()
        movie_k = mk if cand.movies is None else cand.movies[mk]
        return rk, 2 * movie_k + liked_k

    def _joint_gradients(
        self, batch: Batch, neg: Negative, rows: TouchedRows, phj0: torch.Tensor,
        phjk: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
        """The joint CD term's ``(gW (nR, H - L), gb (nR,), gc (H - L,))`` on the touched
        rows, means over the global batch: the data's units against the negative phase's
        picks, with the joint units' hidden probabilities ``phj0``, ``phjk`` ``(n, H - L)``."""
        import torch

        dev, n = self.device, batch.n
        w = self.cfg.joint_weight / batch.n_glob  # the gradients are means over the global batch
        vals = torch.cat([batch.pval, -torch.ones(len(neg.units), device=dev)]).mul_(w)
        col = torch.cat([batch.prow, neg.rk + n])
        onehot = torch.sparse_csr_tensor(
            rows.crow, col[rows.order], vals[rows.order], (rows.n_rows, 2 * n),
            check_invariants=False,
        )  # fmt: skip
        hs = torch.cat([phj0, phjk])
        if rows.R is None:  # into a kept buffer: a fresh full-size result costs 4× the product
            buf = self._buffer("gWj", self.H - self.L)
            gWj = torch.addmm(buf, onehot, hs, beta=0, out=buf)
        else:
            gWj = onehot @ hs
        gbj = torch.zeros(rows.n_rows, device=dev).index_add_(0, rows.inv, vals)
        gcj = (phj0 - phjk).sum(0).mul_(w)
        return gWj, gbj, gcj

    def _like_gradients(
        self, data: LikeMatrix, users: np.ndarray, batch: Batch, rows: TouchedRows,
        x0: torch.Tensor, hmask: torch.Tensor | None,
    ) -> tuple[list[torch.Tensor], bool, float, int]:  # fmt: skip
        """The like term's gradients ``[gW (nR, L), gb (nR,), gc (L,), g_rate (1,)]`` on the
        touched rows, means over the global batch (on a random ``like_cap`` of the ratings
        when the batch has more), whether the person's own like term is on, and the
        ``(error sum, ratings)`` of its P(like)."""
        import torch

        cfg, L = self.cfg, self.L
        ip = rows.inv[: len(batch.punit)]
        liked_l, disliked_l = ip[1::2], ip[0::2]
        sel, lw = self._like_selection(data, users, batch)
        rows_l, share_l = batch.rows, batch.share
        if sel is not None:
            liked_l, disliked_l = liked_l[sel], disliked_l[sel]
            rows_l, share_l = batch.rows[sel], batch.share[sel]
        delta = self._like_delta(batch, rows.R, liked_l, disliked_l, sel)
        bR = self.b if rows.R is None else self.b.index_select(0, rows.R)
        b_diff = bR[liked_l] - bR[disliked_l]
        phi = None
        if cfg.like_rate > 0:
            phi = self.rate.feature(data, batch.col_np, batch.rows, batch.n, sel, self.device)
        gWl, gbl, gcl, z = like_likelihood_grad(
            delta, b_diff, x0[:, :L], rows_l, liked_l, disliked_l, share_l,
            None if hmask is None else hmask[:, :L], lw, rows.n_rows,
            out=self._buffer("gWl", L) if rows.R is None else None,
            offset=None if phi is None else self.rate.w * phi,
        )  # fmt: skip
        # the person's own like term's gradient (a sum, like the others)
        ga = torch.zeros(1, device=self.device)
        if phi is not None:
            ga += torch.dot(share_l - torch.sigmoid(z), phi) * lw
        err_sum = float((share_l - torch.sigmoid(z)).abs().sum())
        grads = [gWl, gbl, gcl, ga]
        for g in grads:
            g.div_(batch.n_glob)
        return grads, phi is not None, err_sum, len(share_l)

    def _like_selection(
        self, data: LikeMatrix, users: np.ndarray, batch: Batch
    ) -> tuple[torch.Tensor | None, float]:
        """``(positions of the like term's ratings among the batch's, None: all; the term's
        weight)``: above ``like_cap`` ratings in the global batch, a random ``like_cap`` of
        them, weighted up to stand for all."""
        cfg = self.cfg
        lw = cfg.like_exact_weight
        n_glob_r = len(batch.rows) if self.dist is None else None
        if not (cfg.like_cap and self._global_ratings(data, users, n_glob_r) > cfg.like_cap):
            return None, lw
        sel = self._like_subset(data, users, len(batch.rows))
        return sel, lw * self._global_ratings(data, users, n_glob_r) / cfg.like_cap

    def _like_delta(
        self, batch: Batch, R: torch.Tensor | None, liked_l: torch.Tensor,
        disliked_l: torch.Tensor, sel: torch.Tensor | None,
    ) -> torch.Tensor:  # fmt: skip
        """``(R', L)``: each rating's liked-minus-disliked like-unit weights. With more
        ratings than movies, each movie's difference first, then the ratings'."""
        if len(liked_l) > self.N:
            items_l = batch.items if sel is None else batch.items[sel]
            pair = self.Wl.view(self.N, 2, self.L)
            return (pair[:, 1] - pair[:, 0]).index_select(0, items_l)
        Wl_R = self.Wl if R is None else self.Wl.index_select(0, R)
        return Wl_R.index_select(0, liked_l) - Wl_R.index_select(0, disliked_l)

    def _update(
        self, R: torch.Tensor | None, grads: list[torch.Tensor], rated: bool, scale: float
    ) -> None:
        """Sum the gradients over the ranks, then every parameter's optimiser step.
        ``grads``: ``[gWj, gbj, gcj, gWl, gbl, gcl, g_rate]``."""
        gWj, gbj, gcj, gWl, gbl, gcl, ga = grads
        grads = [gWj, gWl, gbj, gbl, gcj, gcl, ga]  # the row-wise four first
        if self.dist is not None:
            R, grads = reduce_rows(self.dist, R, grads, 2 * self.N)
        gWj, gWl, gbj, gbl, gcj, gcl, ga = grads
        if rated:
            self.rate.step(float(ga), scale)
        t = self.t
        self.p_Wj.step(R, {"joint": gWj}, t, scale)
        self.p_Wl.step(R, {"like": gWl}, t, scale)
        self.p_b.step(R, {"joint": gbj, "like": gbl}, t, scale)
        self.p_cj.step(None, {"joint": gcj}, t, scale)
        self.p_cl.step(None, {"like": gcl}, t, scale)

    def _global_ratings(self, data: LikeMatrix, users: np.ndarray, known: int | None) -> int:
        """The global batch's number of ratings (``known`` when given)."""
        if known is not None:
            return known
        return int((data.indptr[users + 1] - data.indptr[users]).sum())

    def _like_subset(self, data: LikeMatrix, users: np.ndarray, n_mine: int) -> torch.Tensor:
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

    def _keep_chains(self, users: np.ndarray, h: torch.Tensor) -> None:
        """Store the global batch's last hidden states ``h`` (this rank's rows) as their
        people's persistent chains."""
        import torch

        assert self.chains is not None
        if self.dist is not None:
            h = gather_rows(self.dist, h, len(users))
        ub = torch.from_numpy(users).to(self.device)
        self.chains[ub] = h.bool()
        self.chain_ok[ub] = True

    # ----------------------------------------------------------------- results
    def snapshot(self, rbm: RBM | None = None) -> RBM:
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
        rbm.rate_weight = self.rate.averaged()
        rbm.rate_prior, rbm.rate_share = self.cfg.like_rate, self.rate.pi or 0.5
        return rbm

    def finite(self) -> bool:
        """Whether every weight and bias is finite."""
        return all(bool(torch_isfinite(p)) for p in (self.Wl, self.Wj, self.b, self.c))


def torch_isfinite(t: torch.Tensor) -> bool:
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
