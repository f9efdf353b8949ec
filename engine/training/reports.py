"""What a training run reports: each epoch's figures, batch progress and the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EpochReport:
    """One epoch's figures, passed to the callback."""

    epoch: int  # 1-based
    epochs: int
    train_loss: float  # reconstruction error of like/dislike on rated movies, in [0, 1]
    val: dict[str, float]  # validation metrics: auc, logloss, ndcg@10 (empty if no val split)
    seconds: float  # wall time of this epoch
    best: bool  # this epoch is the best so far (by the monitored score)
    cd_k: int
    learning_rate: float
    refit: bool = False  # trained on all the ratings, validation ones too (no val metrics)


@dataclass
class BatchProgress:
    """Batch-level progress, passed to the ``progress`` callback."""

    epoch: int
    batch: int  # 1-based, within the epoch
    n_batches: int


@dataclass
class TrainResult:
    """What :func:`engine.training.loop.train` returns."""

    model: Any  # an engine.model.trained.Model; None on the ranks other than 0
    history: list[EpochReport] = field(default_factory=list)
    cancelled: bool = False
    best_epoch: int = 0
    seconds: float = 0.0


class TrainingCancelled(Exception):
    """Raised inside the loop when the cancel check says stop (caught by the loop)."""
