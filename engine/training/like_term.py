"""The like term of a training step: the exact gradient of Σ_r log P(like_r | seen_r, the
person's other ratings) for the like units, hidden units summed out (a discriminative RBM
term, as in Larochelle & Bengio 2008), with soft targets; and the person's own like term
(:class:`PersonRate`), one weight times the log-odds of the person's like rate.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from engine.data.likes import LikeMatrix

if TYPE_CHECKING:
    import torch


class PersonRate:
    """The weight of the person's own like term (:meth:`engine.model.rbm.RBM.like_offset`):
    Adam's state for it, its moving average, and the training data's like share ``pi``.

    ``prior``: the ``like_rate`` setting (ratings of smoothing at the like share);
    ``learning_rate`` and ``average`` as the settings of those names."""

    def __init__(self, prior: float, learning_rate: float, average: float) -> None:
        self.prior, self.learning_rate, self.average = prior, learning_rate, average
        self.w = self.m = self.v = self.avg = 0.0  # weight, Adam's moments, moving average
        self.t = 0  # steps so far
        self.pi: float | None = None  # the training data's like share

    def feature(
        self, data: LikeMatrix, col_np: np.ndarray, rows: torch.Tensor, n: int,
        sel: torch.Tensor | None, device: str,
    ) -> torch.Tensor:  # fmt: skip
        """``(R,)`` for each rating of the like term (``sel``: their positions among the
        batch's ratings ``col_np`` of people ``rows``, None: all): the log-odds of its
        person's like rate without it, smoothed by ``prior`` ratings at the data's like share
        (what :meth:`engine.model.rbm.RBM.like_offset` takes at use, from hard likes)."""
        import torch

        from engine.model.rbm import like_rate_log_odds

        if self.pi is None:
            self.pi = float(np.clip(np.mean(data.cols % 2), 0.01, 0.99))
        hard = torch.from_numpy((col_np % 2).astype(np.float32)).to(device)
        likes = torch.zeros(n, device=device).index_add_(0, rows, hard)
        count = torch.bincount(rows, minlength=n).float()
        if sel is not None:
            rows, hard = rows[sel], hard[sel]
        # the counts are whole numbers: leaving the rating out is exact in float32
        return like_rate_log_odds(likes[rows] - hard, count[rows] - 1.0, self.prior, self.pi)

    def step(self, g: float, scale: float) -> None:
        """Adam on the weight (ascent on its gradient ``g``, the learning rate times
        ``scale``), and the weight's moving average."""
        b1, b2 = 0.9, 0.999
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        self.t += 1
        mh = self.m / (1 - b1**self.t)
        vh = self.v / (1 - b2**self.t)
        self.w += self.learning_rate * scale * mh / (math.sqrt(vh) + 1e-8)
        d = self.average
        self.avg = d * self.avg + (1 - d) * self.w if d else self.w

    def averaged(self) -> float:
        """The weight's moving average, bias-corrected (the weight itself without one)."""
        d, k = self.average, self.t
        return self.avg / (1 - d**k) if d and k else self.w


def like_likelihood_grad(
    delta: torch.Tensor,
    b_diff: torch.Tensor,
    x: torch.Tensor,
    rows: torch.Tensor,
    liked: torch.Tensor,
    disliked: torch.Tensor,
    p: torch.Tensor,
    hmask: torch.Tensor | None,
    weight: float,
    n_units: int,
    out: torch.Tensor | None = None,
    offset: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradient of ``weight · Σ_r log P(like_r | seen_r, v_-r)`` (soft targets ``p``) with
    the hidden units summed out exactly (the discriminative RBM's gradient), for ``L`` of the
    hidden units. ``rows, p``: ``(R,)`` owner and like target of each rating; ``liked``,
    ``disliked``: ``(R,)`` indices (among ``n_units`` rows) of its movie's two units;
    ``delta (R, L)``: their weights' difference (liked minus disliked) in those units' columns
    and ``b_diff (R,)`` the same of the visible biases; ``x (n, L)``: the batch's hidden input
    ``c + vW`` from its soft data; ``hmask (n, L)``: its dropout mask, or None. ``v_-r`` is
    the person's data without rating ``r``, so the liked (disliked) state's hidden input is
    ``x + (1-p)·delta`` (``x - p·delta``). ``offset (R,)``: added to the like log-odds.

    ``out``: a ``(n_units, L)`` tensor to hold ``gW`` (overwritten), or None.

    Returns ``(gW (n_units, L), gb (n_units,), gc (L,), z (R,))``: the gradients of W's
    columns of those units and of the visible and hidden biases, sums over the batch, in the
    direction that raises the likelihood, and each rating's like log-odds.
    """
    import torch

    nx = _negated_input(x, hmask)
    if offset is not None:
        b_diff = b_diff + offset
    nxr = nx.index_select(0, rows)
    # 1 - sigmoid of the unit's input with the movie liked (a) and disliked (d): σ(-a), σ(-d)
    na = torch.addcmul(nxr, (p - 1.0)[:, None], delta).sigmoid_()
    nd = torch.addcmul(nxr, p[:, None], delta).sigmoid_()
    # softplus(a) - softplus(d) = log(σ(-d) / σ(-a))
    z = b_diff + torch.div(nd, na).log_().sum(1)  # like log-odds
    e = weight * (p - torch.sigmoid(z))  # (R,) d log-likelihood / d z
    G, v1, v0 = _unit_gradients(nx, rows, p, e, na, nd)
    if out is None:
        gW = torch.zeros(n_units, x.shape[1], dtype=x.dtype, device=x.device)
    else:  # a kept (n_units, L) buffer
        gW = out.zero_()
    gW.index_add_(0, liked, v1).index_add_(0, disliked, v0)
    gb = torch.zeros(n_units, dtype=x.dtype, device=x.device)
    gb.index_add_(0, liked, e).index_add_(0, disliked, -e)
    return gW, gb, G.sum(0), z


def _negated_input(x: torch.Tensor, hmask: torch.Tensor | None) -> torch.Tensor:
    """``(n, L)``: minus the hidden input, the input at most 40 (σ(-a) stays a normal float32
    below); a dropped unit's -10⁴ (it then adds nothing to any sum of the like term)."""
    nx = x.clamp(max=40.0).neg_()
    if hmask is not None:
        nx.masked_fill_(hmask == 0, 1e4)
    return nx


def _unit_gradients(
    nx: torch.Tensor, rows: torch.Tensor, p: torch.Tensor, e: torch.Tensor,
    na: torch.Tensor, nd: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """``(G (n, L), v1 (R, L), v0 (R, L))``: the gradient by each person's hidden input, and
    each rating's liked and disliked unit's weight gradient, from ``e (R,)`` (d log-likelihood
    / d z) and σ(-a), σ(-d) ``(R, L)`` (``nd`` is overwritten)."""
    import torch

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
    return G, v1, v0
