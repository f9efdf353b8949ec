"""Row-lazy optimisers: an update's cost follows the rows a mini-batch touches, not the catalogue.

A parameter of the RBM has one row per visible unit (two per movie). A mini-batch touches the
rows of the movies its people rated and of the movies its negative phase sampled; on a big
catalogue that is a small share of the rows. :class:`LazyParam` updates only those rows: their
optimiser state (Adam's moments, or a momentum) and their exponential moving average of the
weights. The average stays exact: a row's catch-up uses the number of steps since it last
changed (its weights did not move in between, so the average only decayed towards them).
When a step touches more than ``dense_share`` of the rows (small catalogues), every row is
updated at once, which is faster there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass
class Adam:
    """Adam's ascent direction (Kingma & Ba 2015) with decoupled weight decay."""

    lr: float
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


@dataclass
class Momentum:
    """Gradient ascent with momentum and an L2 penalty in the step."""

    lr: float
    weight_decay: float = 0.0
    momentum: float = 0.9


class LazyParam:
    """A parameter ``P`` (``(rows, cols)`` or ``(rows,)``, updated in place), the state of its
    optimisers and its moving average ``average`` (0: none).

    ``optimisers``: ``{name: Adam | Momentum}``; each step passes one gradient per name (they
    add, e.g. the joint term's through Adam and the like term's through momentum)."""

    def __init__(self, P, optimisers: dict, average: float, dense_share: float = 0.5) -> None:
        import torch

        self.P, self.opts, self.average, self.dense_share = P, optimisers, average, dense_share
        self.state: dict[str, list] = {}
        for name, opt in optimisers.items():
            n = 2 if isinstance(opt, Adam) else 1
            self.state[name] = [torch.zeros_like(P) for _ in range(n)]
        self.avg = P.clone() if average > 0 else None
        self.last = torch.zeros(P.shape[0], dtype=torch.long, device=P.device)
        #: the dense step's gradient buffer, all zeros between steps
        self._zeros: torch.Tensor | None = None

    def _decay(self, first, last):
        """Per row, how much the average's distance to unmoved weights shrinks over steps
        ``first..last`` (``(rows,)`` long tensors; an empty range gives 1): the product of
        ``1 - w_s``, ``w_s = max(1 - average, 1/(1+s))`` the weight of step ``s``. The warm-up
        steps' factors ``s/(s+1)`` telescope, the others are ``average`` each."""
        import torch

        a, dtype = self.average, self.P.dtype
        warm = math.ceil(a / (1.0 - a)) - 1  # the last step whose weight is 1/(1+s)
        warm_end = last.clamp(max=warm)
        f = torch.where(
            first <= warm_end, first.to(dtype) / (warm_end + 1).to(dtype),
            torch.ones((), dtype=dtype, device=first.device),
        )  # fmt: skip
        f = f * a ** (last - first.clamp(min=warm + 1) + 1).clamp_min(0).to(dtype)
        return f[:, None] if self.P.dim() == 2 else f

    def step(self, R, grads: dict, t: int, scale: float = 1.0) -> None:
        """One ascent step at global step ``t`` (from 1) on rows ``R`` (unique, ascending) with
        gradient rows ``grads[name]`` (each ``(len(R), ...)``), learning rates times ``scale``."""
        import torch

        if R is None or len(R) > self.dense_share * self.P.shape[0]:
            self._dense(R, grads, t, scale)
            return
        P = self.P
        new = P.index_select(0, R)
        if self.avg is not None:  # catch the average up to just before this step
            since = self.last[R] + 1
            a = self.avg.index_select(0, R)
            a = new + (a - new) * self._decay(since, torch.full_like(since, t - 1))
        for name, opt in self.opts.items():
            st = [s.index_select(0, R) for s in self.state[name]]
            _apply(opt, new, grads[name], st, t, scale)
            for s, v in zip(self.state[name], st):
                s.index_copy_(0, R, v)
        P.index_copy_(0, R, new)
        if self.avg is not None:
            w = max(1.0 - self.average, 1.0 / (1.0 + t))
            self.avg.index_copy_(0, R, a.lerp_(new, w))
            self.last[R] = t

    def _dense(self, R, grads: dict, t: int, scale: float) -> None:
        import torch

        P = self.P
        if self.avg is not None:  # rows that lag: catch up first
            since = self.last + 1
            if bool((since < t).any()):
                self.avg.sub_(P).mul_(self._decay(since, torch.full_like(since, t - 1))).add_(P)
        for name, opt in self.opts.items():
            g = grads[name]
            if R is not None:  # the touched rows into a zero buffer, cleared again below
                if self._zeros is None:
                    self._zeros = torch.zeros_like(P)
                g = self._zeros.index_copy_(0, R, g)
            _apply(opt, P, g, self.state[name], t, scale)
            if R is not None and self._zeros is not None:
                self._zeros.index_fill_(0, R, 0.0)
        if self.avg is not None:
            self.avg.lerp_(P, max(1.0 - self.average, 1.0 / (1.0 + t)))
            self.last.fill_(t)

    def averaged(self, t: int):
        """The moving average of the weights after step ``t`` (the weights without one)."""
        import torch

        if self.avg is None:
            return self.P.clone()
        since = self.last + 1
        return self.P + (self.avg - self.P) * self._decay(since, torch.full_like(since, t))


def _apply(opt, P, g, state: list, t: int, scale: float) -> None:
    """One ascent step of ``opt`` on ``P`` (in place) with gradient ``g`` and the optimiser
    state ``state`` (in place): torch's fused Adam (decoupled weight decay) or SGD with
    momentum, one pass over the memory (the unfused ops take several times as long on the
    CPU). Momentum's buffer holds the unscaled velocity, so a learning-rate ``scale`` below 1
    also scales the momentum carried over."""
    import torch
    from torch.optim.adam import adam
    from torch.optim.sgd import sgd

    fused = P.device.type in _FUSED
    if isinstance(opt, Adam):
        m1, m2 = state
        steps = [torch.tensor(float(t - 1), device=P.device)]  # Adam counts this step itself
        adam(
            [P], [g], [m1], [m2], [], steps, fused=fused, decoupled_weight_decay=True,
            amsgrad=False, beta1=opt.beta1, beta2=opt.beta2, lr=opt.lr * scale,
            weight_decay=opt.weight_decay, eps=opt.eps, maximize=True,
        )  # fmt: skip
        return
    (m,) = state
    sgd(
        [P], [g], [m], fused=fused, weight_decay=opt.weight_decay, momentum=opt.momentum,
        lr=opt.lr * scale, dampening=0.0, nesterov=False, maximize=True,
    )  # fmt: skip


#: Devices with torch's fused optimiser kernels.
_FUSED = ("cpu", "cuda")
