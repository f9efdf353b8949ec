"""The data-parallel side of a training step: each rank's share of a global batch, and the
sums over the ranks that make the update the single-process one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from engine.data.likes import LikeMatrix

if TYPE_CHECKING:
    import torch


class DataParallel(Protocol):
    """The data-parallel hook :func:`engine.training.loop.train` takes as ``dist``
    (:class:`engine.training.distributed.Collective` is one)."""

    rank: int
    world_size: int

    def all_reduce(self, tensors: list[torch.Tensor]) -> None:
        """Sum each tensor over the ranks, in place."""

    def decide(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every rank."""


def rank_positions(lm: LikeMatrix, users: np.ndarray, dist: DataParallel) -> torch.Tensor:
    """``(n,)`` tensor: where this rank's ratings sit among all ratings of the global batch
    ``users`` (in :meth:`LikeMatrix.rows` order)."""
    import torch

    lens = np.diff(lm.indptr)[users]
    starts = np.cumsum(lens) - lens
    sel = np.arange(dist.rank, len(users), dist.world_size)
    ls, ss = lens[sel], starts[sel]
    pos = np.arange(ls.sum()) - np.repeat(np.cumsum(ls) - ls, ls) + np.repeat(ss, ls)
    return torch.from_numpy(pos)


def gather_rows(dist: DataParallel, h: torch.Tensor, n_glob: int) -> torch.Tensor:
    """``(n_glob, H)``: every rank's rows ``rank::world_size`` of ``h`` in their places."""
    import torch

    full = torch.zeros(n_glob, h.shape[1], device=h.device)
    full[dist.rank :: dist.world_size] = h
    dist.all_reduce([full])
    return full


def reduce_rows(
    dist: DataParallel, R: torch.Tensor | None, grads: list[torch.Tensor], n_units: int
) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
    """Sum the ranks' gradients: the first four (rows ``R`` of the ``n_units`` rows)
    scattered to every row, summed, then the rows any rank touched; the rest summed as they
    are. ``R`` None: this rank's gradients cover every row (a rank that touched that many
    makes the step dense on every rank). Returns the rows (None: all) and the gradients."""
    import torch

    device = grads[0].device
    touched = torch.zeros(n_units, device=device)
    if R is None:
        touched.fill_(1.0)
        dense = list(grads[:4])
    else:
        touched[R] = 1.0
        dense = []
        for g in grads[:4]:
            full = torch.zeros((n_units, *g.shape[1:]), device=device)
            full.index_copy_(0, R, g)
            dense.append(full)
    dist.all_reduce([touched, *dense, *grads[4:]])
    if bool(touched.all()):
        return None, dense + list(grads[4:])
    R = touched.nonzero(as_tuple=True)[0]
    return R, [d.index_select(0, R) for d in dense] + list(grads[4:])
