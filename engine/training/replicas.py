"""Replicas: RBMs trained side by side from different seeds, joined into one at the end.

On a sparse catalogue (few ratings per movie) one RBM's weights of a movie rest on few ratings,
and two RBMs trained from different seeds err in different places. Their product of experts,
``P(v) ∝ (P_1(v) · P_2(v))^(1/2)``, is again an RBM of the same form: every replica's hidden
units side by side, the visible biases averaged, and each hidden unit's share of the free
energy scaled by ``1 / replicas`` (:attr:`engine.model.rbm.RBM.keep`, which already scales it
for dropout). Its free energy is the mean of the replicas' (:func:`join`), so a model file, the
recommendations and the fold-in need nothing new.

The replicas step in lockstep through the same mini-batches; each has its own weights,
optimisers, persistent chains and random streams (seeded by :func:`replica_seed`), and the
run validates and calibrates the joined model. With one replica a run is bit for bit the plain
one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from engine.model.fileformat import MAX_HIDDEN
from engine.settings import TrainConfig

if TYPE_CHECKING:
    from engine.data.likes import LikeMatrix
    from engine.model.rbm import RBM
    from engine.training.step import SampledCD

#: the replicas chosen when the data is sparse (``replicas`` 0)
SPARSE_REPLICAS = 2


def replicas_for(cfg: TrainConfig, n_ratings: int, n_items: int) -> int:
    """How many replicas a run of ``cfg`` trains on ``n_ratings`` ratings of ``n_items``
    movies: ``cfg.replicas`` when set, else 2 where a movie has fewer than
    ``cfg.replicas_below`` ratings on average (latest-small: 11) and 1 elsewhere (ML-100K: 59,
    25M: 423); never more than a model file's hidden units allow
    (:data:`~engine.model.fileformat.MAX_HIDDEN`)."""
    want = cfg.replicas
    if want == 0:
        sparse = n_items > 0 and n_ratings < cfg.replicas_below * n_items
        want = SPARSE_REPLICAS if sparse else 1
    return max(1, min(want, MAX_HIDDEN // cfg.n_hidden))


def replica_seed(seed: int, replica: int) -> int:
    """The seed of replica ``replica`` (0-based) of a run seeded ``seed``; replica 0 keeps it."""
    return (seed + 7919 * replica) % 2**32


def replica_config(cfg: TrainConfig, replica: int) -> TrainConfig:
    """``cfg`` with the seed of replica ``replica``."""
    return cfg if replica == 0 else replace(cfg, seed=replica_seed(cfg.seed, replica))


def join(rbms: list[RBM], into: RBM) -> RBM:
    """``into`` made the product of experts of ``rbms`` (each of the same movies, dropout and
    like units): the like units of every replica first, then their joint units; the visible
    biases and the like-rate weight averaged; ``keep`` divided by the replicas. Its free energy
    is the mean of theirs. Returns ``into``."""
    import torch

    n = len(rbms)
    like = [r.W[:, : r.like_units] for r in rbms]
    joint = [r.W[:, r.like_units :] for r in rbms]
    into.W = torch.cat(like + joint, 1).contiguous()
    into.c = torch.cat([r.c[: r.like_units] for r in rbms] + [r.c[r.like_units :] for r in rbms])
    into.b = torch.stack([r.b for r in rbms]).mean(0)
    into.n_hidden = into.W.shape[1]
    into.like_units = sum(r.like_units for r in rbms)
    into.keep = rbms[0].keep / n
    into.rate_weight = sum(r.rate_weight for r in rbms) / n
    into.rate_prior, into.rate_share = rbms[0].rate_prior, rbms[0].rate_share
    return into


class Replicas:
    """Several :class:`~engine.training.step.SampledCD` trainers that step together and are
    read as one RBM (:func:`join`); the same interface as one trainer."""

    def __init__(self, trainers: list[SampledCD]) -> None:
        self.trainers = trainers

    def step(self, data: LikeMatrix, users, k: int, scale: float) -> tuple[float, int]:
        """One update of every replica on the batch ``users``; the error summed as one
        replica's (the mean over the replicas)."""
        total, n = 0.0, 0
        for t in self.trainers:
            e_sum, n = t.step(data, users, k, scale)
            total += e_sum
        return total / len(self.trainers), n

    def snapshot(self, rbm: RBM) -> RBM:
        """The replicas' averaged weights joined into ``rbm`` (an RBM of no replica's)."""
        return join([t.snapshot() for t in self.trainers], rbm)

    def finite(self) -> bool:
        return all(t.finite() for t in self.trainers)
