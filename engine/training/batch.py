"""A training step's mini-batch as sparse visible data, and what its phases hand on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.data.likes import LikeMatrix

if TYPE_CHECKING:
    import torch

    from engine.training.ranks import DataParallel


@dataclass
class Batch:
    """This process's share of a global mini-batch as sparse visible data: ``R`` ratings of
    ``n`` people, each rating's two units (disliked, liked) valued ``(1 - s, s)``."""

    users: np.ndarray  # (n,) this process's people (rows of the data)
    n_glob: int  # people in the global batch
    col_np: np.ndarray  # (R,) each rating's unit, 2·movie + liked
    rows: torch.Tensor  # (R,) long, each rating's person among the n, ascending
    items: torch.Tensor  # (R,) long, each rating's movie
    share: torch.Tensor  # (R,) float32, each rating's like target s in [0, 1]
    prow: torch.Tensor  # (2R,) long, the person of each unit entry
    punit: torch.Tensor  # (2R,) long, the units 2·movie, 2·movie + 1 of each rating
    pval: torch.Tensor  # (2R,) float32, their values 1 - s, s

    @property
    def n(self) -> int:
        return len(self.users)


@dataclass
class Candidates:
    """The movies the negative phase visits: every movie (``movies`` None) or a sample, with
    their rows of the weights ``(2M, L)``, ``(2M, H - L)`` and visible biases ``(2M,)``."""

    movies: torch.Tensor | None  # (M,) long
    corr: torch.Tensor | None  # (M,) float32, the sampling's log-weight corrections
    Wl: torch.Tensor
    Wj: torch.Tensor
    b: torch.Tensor
    M: int


@dataclass
class Negative:
    """The negative phase's last Gibbs step: each picked movie's person ``rk (K,)`` and unit
    ``units (K,)``, the hidden probabilities ``ph (n, H)`` and states ``h (n, H)``."""

    rk: torch.Tensor
    units: torch.Tensor
    ph: torch.Tensor
    h: torch.Tensor


def make_batch(
    data: LikeMatrix, users: np.ndarray, dist: DataParallel | None, device: str
) -> Batch:
    """This process's rows (``rank::world_size`` of ``dist``, all when None) of the global
    batch ``users`` (rows of ``data``) as a :class:`Batch`."""
    import torch

    mine = users if dist is None else users[dist.rank :: dist.world_size]
    row_np, col_np, share_np = data.rows_and_shares(mine)
    rows = torch.from_numpy(row_np).to(device)
    items = torch.from_numpy(col_np // 2).to(device)
    if share_np is None:
        share = torch.from_numpy((col_np % 2).astype(np.float32)).to(device)
    else:
        share = torch.from_numpy(share_np).to(device)
    # positive (soft) data: both units of every rating, (1 - s, s)
    prow = rows.repeat_interleave(2)
    punit = torch.stack((2 * items, 2 * items + 1), 1).reshape(-1)
    pval = torch.stack((1 - share, share), 1).reshape(-1)
    return Batch(mine, len(users), col_np, rows, items, share, prow, punit, pval)
