"""The random and sparse pieces of a training step: seeded uniform draws, the negative
phase's candidate movies, and the rows of the weights a mini-batch touches.

Above ``candidates_all`` movies or ``candidates_all_cells`` people × movies the negative
phase does not visit the whole catalogue but a set of ``candidates`` movies shared by the
batch: the most rated ``candidate_head`` share of them plus tail movies drawn with
probability q ∝ (ratings + 1)^``candidate_alpha``, whose log-weight ``-log(m q)`` corrects
the sampling (sampled softmax, Jean et al. 2015).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.settings import TrainConfig

if TYPE_CHECKING:
    import torch


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

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        import torch

        if self.device == "cpu":
            return torch.from_numpy(self.rng.random(shape, dtype=np.float32))
        return torch.rand(shape, generator=self.gen, device=self.device)


def visits_every_movie(cfg: TrainConfig, n_users: int, n_items: int) -> bool:
    """Whether the negative phase looks at every movie: always when the catalogue is no
    bigger than ``candidates``; else up to ``candidates_all`` movies and
    ``candidates_all_cells`` people × movies, the epoch's cost over the whole catalogue."""
    if n_items <= cfg.candidates:
        return True
    return n_items <= cfg.candidates_all and n_users * n_items <= cfg.candidates_all_cells


class CandidateSampler:
    """The negative phase's candidate movies of a catalogue whose movies were rated
    ``item_pop (N,)`` times by ``n_users`` people: the head by popularity and a tail drawn
    with ``rng``; every movie (:attr:`every`) on a catalogue small enough to visit whole."""

    def __init__(
        self, cfg: TrainConfig, n_users: int, n_items: int, item_pop: Any,
        rng: np.random.Generator,
    ) -> None:  # fmt: skip
        self.cfg, self.rng = cfg, rng
        self.every = visits_every_movie(cfg, n_users, n_items)
        pop = np.asarray(item_pop, np.float64)
        self.order = np.argsort(-pop, kind="stable")  # (N,) movies, most rated first
        self.n_head = int(cfg.candidates * cfg.candidate_head)
        tail = self.order[self.n_head :]
        q = (pop[tail] + 1.0) ** cfg.candidate_alpha
        self.tail_q = q / q.sum() if len(tail) else q  # (N - n_head,) draw probabilities

    def draw(self, device: str) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``(movies (M,) long, log-weight corrections (M,) float32)``, or ``(None, None)``
        when every movie is a candidate."""
        import torch

        cfg = self.cfg
        if self.every:
            return None, None
        head, tail = self.order[: self.n_head], self.order[self.n_head :]
        m = cfg.candidates - self.n_head
        k = self.rng.choice(len(tail), size=m, replace=True, p=self.tail_q)
        corr = np.concatenate([np.zeros(self.n_head), -np.log(m * self.tail_q[k])])
        movies = torch.from_numpy(np.concatenate([head, tail[k]])).to(device)
        return movies, torch.from_numpy(corr).float().to(device)


@dataclass
class TouchedRows:
    """The rows of the ``(2N, ·)`` weights that a batch's entries (positive and negative
    units, in that order) touch, and the CSR layout of the ``(rows × 2n)`` matrix whose
    product with the hidden states is the weights' gradient."""

    R: torch.Tensor | None  # (nR,) long, the touched units ascending; None: every unit
    inv: torch.Tensor  # (E,) each entry's row among R (its unit when R is None)
    crow: torch.Tensor  # (nR + 1,) long, entries per row, cumulated
    order: torch.Tensor  # (E,) the order that sorts the entries by unit
    n_rows: int  # nR: len(R), or 2N


def touched_rows(units: torch.Tensor, n_units: int, dense_share: float) -> TouchedRows:
    """The :class:`TouchedRows` of the entries ``units (E,)`` in ``[0, n_units)``. When they
    touch more than ``dense_share`` of the rows the gradients are built over every row (the
    optimisers' dense step, no scatter into a full-size buffer)."""
    import torch

    dev = units.device
    srt, order = sort_units(units, n_units)
    R, counts = torch.unique_consecutive(srt, return_counts=True)
    R = R.long()
    if len(R) > dense_share * n_units:
        crow = torch.zeros(n_units + 1, dtype=torch.long, device=dev)
        crow[R + 1] = counts
        torch.cumsum(crow, 0, out=crow)
        return TouchedRows(None, units, crow, order, n_units)
    n_rows = len(R)
    inv = torch.empty_like(order)  # each entry's row among R
    inv[order] = torch.repeat_interleave(torch.arange(n_rows, device=dev), counts)
    crow = torch.zeros(n_rows + 1, dtype=torch.long, device=dev)
    torch.cumsum(counts, 0, out=crow[1:])
    return TouchedRows(R, inv, crow, order, n_rows)


def sort_units(units: torch.Tensor, n_units: int) -> tuple[torch.Tensor, torch.Tensor]:
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
