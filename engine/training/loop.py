"""Contrastive-divergence (CD-k) training of the three-state RBM: the loop around the batches.

Each mini-batch of people is built from the sparse ratings (never a people × movies array of
the whole dataset); :mod:`engine.training.gradients` computes its statistics and this loop
applies them: momentum, L2 weight decay, a learning-rate schedule, an exponential moving
average of the weights, early stopping on a validation split carved from the training
ratings (:mod:`engine.training.validation`), a progress callback, cancellation between
batches, seeded and reproducible.

After the main epochs, P(like) is calibrated on the validation split
(:mod:`engine.training.calibrate`). Then the validation ratings join the training data for the
last ``refit_share`` of the epochs, going on from the best epoch's weights: the model kept is
the mean of those epochs' weights, and the calibration stays the one fitted before, on ratings
the model had not yet seen. Last, the lateral movie-to-movie weights of the seen states are
fitted in closed form on every training rating (:mod:`engine.model.lateral`; catalogues up to
``lateral_max_items``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.data.likes import LikeMatrix
from engine.data.ratings import Ratings
from engine.errors import TrainingError
from engine.model import calibration as cal
from engine.model import lateral
from engine.settings import TrainConfig
from engine.training import calibrate
from engine.training.gradients import CDStep
from engine.training.validation import split_validation, validate


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
    model: object  # engine.model.trained.Model
    history: list[EpochReport] = field(default_factory=list)
    cancelled: bool = False
    best_epoch: int = 0
    seconds: float = 0.0


class TrainingCancelled(Exception):
    """Raised inside the loop when the cancel check says stop (caught by :func:`train`)."""


def effective_batch_size(batch_size: int, n_users: int, min_batches: int = 8) -> int:
    """The batch size used: ``batch_size``, made smaller for small datasets so that an epoch
    has at least ``min_batches`` updates (never below 8 users)."""
    return max(1, min(batch_size, max(8, math.ceil(n_users / min_batches))))


#: Copies of the weights a training run holds at once (weights, momentum, moving average, the
#: best epoch's, the gradient, a low-precision copy) and the headroom for the rest.
_WEIGHT_COPIES = 8


def _check_size(n_items: int, cfg: TrainConfig, device: str) -> None:
    """Refuse (TrainingError) a model whose weights cannot fit in the memory free here."""
    from engine.device import available_memory

    need = _WEIGHT_COPIES * 2 * n_items * cfg.n_hidden * 4
    free = available_memory(device)
    if free is not None and need > free:
        raise TrainingError(
            f"--hidden {cfg.n_hidden}: a model of {n_items:,} movies and {cfg.n_hidden:,} hidden "
            f"units needs about {need / 1e9:.1f} GB to train, and {free / 1e9:.1f} GB are free "
            f"on {device}; use fewer hidden units"
        )


def train(
    ratings: Ratings,
    config: TrainConfig | None = None,
    *,
    callback: Callable[[EpochReport], None] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    dist: object | None = None,
) -> TrainResult:
    """Train an RBM on ``ratings`` (like = rating >= ``config.like_threshold``).

    Args:
        ratings: the training ratings.
        config: the settings (:class:`engine.settings.TrainConfig`; defaults when None).
        callback: called after every epoch with an :class:`EpochReport`.
        progress: called after every batch with a :class:`BatchProgress`.
        cancel: polled between batches; when it returns True training stops and the best
            model so far is returned with ``cancelled=True``.
        dist: data-parallel training (see :mod:`engine.training.distributed`, which passes
            it): an object with ``rank``, ``world_size``, ``all_reduce(tensors)`` (in-place
            sum over the ranks) and ``decide(flag) -> bool`` (rank 0's flag, on every rank).
            Each rank takes rows ``rank::world_size`` of every global batch and draws the
            random numbers of the whole batch, so the update is the single-process one. Only
            rank 0 validates; the other ranks return ``model=None``. None: one process.

    Returns:
        A :class:`TrainResult` whose ``model`` is an :class:`engine.model.trained.Model`.

    Raises:
        TrainingError: no ratings, or the weights diverged.
        SettingError: the device or thread count cannot be used here.
    """
    from engine.device import choose_threads, resolve_device, torch_threads

    cfg = config or TrainConfig()
    if ratings.n_ratings == 0:
        raise TrainingError("no ratings to train on")
    cpu = resolve_device(cfg.device) == "cpu"
    with torch_threads(choose_threads(cfg.threads) if cpu else 0):
        return _train(ratings, cfg, callback, progress, cancel, dist)


def _train(ratings: Ratings, cfg: TrainConfig, callback, progress, cancel, dist) -> TrainResult:
    import torch

    from engine.device import bf16_is_fast, resolve_device
    from engine.model.rbm import RBM, init_biases
    from engine.model.trained import Model

    device = resolve_device(cfg.device)
    _check_size(ratings.n_items, cfg, device)
    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)

    full = LikeMatrix.from_ratings(ratings, cfg.like_threshold, cfg.soft_labels)
    if cfg.val_fraction > 0:
        lm, vu, vi, vy = split_validation(full, cfg.val_fraction, cfg.seed)
    else:
        lm, vu, vi, vy = full, np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool)
    del full  # the split holds what training needs (25M ratings: ~0.4 GB freed)

    rbm = RBM(ratings.n_items, cfg.n_hidden, device=device, seed=cfg.seed)
    rbm.keep = 1.0 - cfg.dropout
    counts = np.bincount(lm.cols, minlength=2 * lm.n_items).reshape(-1, 2).astype(np.float32)
    init_biases(
        rbm,
        torch.from_numpy(counts.sum(1)),
        torch.from_numpy(counts[:, 1].copy()),
        lm.n_users,
    )
    # the like units' gain stays 1 until the calibration fits it
    rbm.like_units = int(round(cfg.like_hidden * cfg.n_hidden))
    step = CDStep(rbm, cfg, device, dist, low_precision=cfg.bf16_sampling and bf16_is_fast(device))
    dW = torch.zeros_like(rbm.W)
    db = torch.zeros_like(rbm.b)
    dc = torch.zeros_like(rbm.c)

    history: list[EpochReport] = []
    best_score = -math.inf
    best_state = {k: v.clone() for k, v in rbm.state_dict().items()}
    shadow: RBM | None = None  # exponential moving average of the weights
    n_updates = 0
    if cfg.average > 0:
        shadow = RBM(ratings.n_items, cfg.n_hidden, device=device, seed=None)
        shadow.load_state_dict({k: v.clone() for k, v in best_state.items()})  # its own copy
        shadow.keep = rbm.keep
    best_epoch = 0
    bad_epochs = 0
    cancelled = False
    n_refit = cfg.refit_epochs if len(vu) else 0  # no validation ratings: nothing to add
    n_main = cfg.epochs - n_refit

    def run_epoch(data: LikeMatrix, epoch: int, k: int, lr: float) -> float:
        """One pass of CD-k updates over ``data``'s users; returns the training loss."""
        nonlocal n_updates
        users_with_data = np.nonzero(np.diff(data.indptr) > 0)[0]
        batch_size = effective_batch_size(cfg.batch_size, len(users_with_data), cfg.min_batches)
        n_batches = max(1, math.ceil(len(users_with_data) / batch_size))
        perm = rng.permutation(users_with_data)
        err_sum, err_n = 0.0, 0
        for bi in range(n_batches):
            if cancel is not None and (cancel() if dist is None else dist.decide(cancel())):
                raise TrainingCancelled
            stats = step.statistics(data, perm[bi * batch_size : (bi + 1) * batch_size], k)
            err_sum += stats.error_sum
            err_n += stats.error_count
            if dist is not None:
                dist.all_reduce([stats.gW, stats.gb, stats.gc])
            n = stats.people
            # momentum step on the batch means, with L2 weight decay
            dW.mul_(cfg.momentum).add_(stats.gW, alpha=lr / n)
            dW.add_(rbm.W, alpha=-lr * cfg.weight_decay)
            db.mul_(cfg.momentum).add_(stats.gb, alpha=lr / n)
            dc.mul_(cfg.momentum).add_(stats.gc, alpha=lr / n)
            rbm.W += dW
            rbm.b += db
            rbm.c += dc
            if shadow is not None:  # a plain running mean until it is the EMA
                n_updates += 1
                w = max(1.0 - cfg.average, 1.0 / (1.0 + n_updates))
                shadow.W.lerp_(rbm.W, w)
                shadow.b.lerp_(rbm.b, w)
                shadow.c.lerp_(rbm.c, w)
            if progress is not None:
                progress(BatchProgress(epoch, bi + 1, n_batches))
        if dist is not None:
            errs = torch.tensor([err_sum, err_n], dtype=torch.float64, device=device)
            dist.all_reduce([errs])
            err_sum, err_n = float(errs[0]), int(errs[1])
        if not all(math.isfinite(float(t.abs().max())) for t in (rbm.W, rbm.b, rbm.c)):
            raise TrainingError(
                "training diverged (weights became NaN or infinite); try a smaller learning rate"
            )
        return err_sum / max(1, err_n)

    def publish(report: EpochReport) -> None:
        history.append(report)
        if callback is not None:
            callback(report)

    def schedule(epoch: int) -> tuple[int, float]:
        """CD steps and learning rate of (1-based) ``epoch``."""
        frac = min(1.0, (epoch - 1) / max(1, n_main - 1))
        k = int(round(cfg.cd_k + frac * (cfg.cd_k_max - cfg.cd_k)))
        return k, cfg.learning_rate / (1.0 + cfg.lr_decay * (epoch - 1))

    try:
        for epoch in range(1, n_main + 1):
            t0 = time.perf_counter()
            k, lr = schedule(epoch)
            loss = run_epoch(lm, epoch, k, lr)
            if dist is None or dist.rank == 0:
                val = validate(shadow or rbm, lm, vu, vi, vy, device, cfg.val_users)
            else:
                val = {}
            if val:
                score = {
                    "auc": val["auc"],
                    "ndcg": val["ndcg@10"],
                    "both": val["auc"] + val["ndcg@10"],
                }[cfg.monitor]
            else:
                score = float(epoch)  # no validation: the last epoch is the best
            is_best = score > best_score
            if is_best:
                best_score, best_epoch, bad_epochs = score, epoch, 0
                for k2, v in (shadow or rbm).state_dict().items():  # in place: no 2nd copy
                    best_state[k2].copy_(v)
            else:
                bad_epochs += 1
            publish(
                EpochReport(
                    epoch=epoch,
                    epochs=cfg.epochs,
                    train_loss=loss,
                    val=val,
                    seconds=time.perf_counter() - t0,
                    best=is_best,
                    cd_k=k,
                    learning_rate=lr,
                )
            )
            stop = bool(cfg.patience and bad_epochs >= cfg.patience)
            if dist is not None:
                stop = dist.decide(stop)
            if stop:
                break
    except TrainingCancelled:
        cancelled = True

    rbm.load_state_dict(best_state)
    fitted = calibrate.Calibration(cal.identity())
    if len(vu) and (dist is None or dist.rank == 0):
        fitted = calibrate.fit(rbm, lm, vu, vi, vy, cfg, device)

    if n_refit and not cancelled:
        # the validation ratings join the training data for a few more epochs, going on from
        # the best epoch's averaged weights (calibrated above, on ratings it had not seen)
        del lm
        full = LikeMatrix.from_ratings(ratings, cfg.like_threshold, cfg.soft_labels)
        rbm.load_state_dict({k: v.clone() for k, v in best_state.items()})  # own copies
        if shadow is not None:  # what is kept: the plain mean of the refit's weights
            shadow.load_state_dict({k: v.clone() for k, v in best_state.items()})
            n_updates = 0
        dW.zero_()
        db.zero_()
        dc.zero_()
        try:
            for j in range(1, n_refit + 1):
                t0 = time.perf_counter()
                epoch = len(history) + 1
                k, lr = schedule(best_epoch + j)
                loss = run_epoch(full, epoch, k, lr)
                publish(
                    EpochReport(
                        epoch=epoch,
                        epochs=len(history) + 1 + n_refit - j,
                        train_loss=loss,
                        val={},
                        seconds=time.perf_counter() - t0,
                        best=False,
                        cd_k=k,
                        learning_rate=lr,
                        refit=True,
                    )
                )
            for k2, v in (shadow or rbm).state_dict().items():
                best_state[k2].copy_(v)
        except TrainingCancelled:  # keep the best epoch's weights from before the refit
            cancelled = True
        rbm.load_state_dict(best_state)

    seconds = time.perf_counter() - t_start
    if dist is not None and dist.rank != 0:
        return TrainResult(None, history, cancelled, best_epoch, seconds)
    rbm.like_gain = fitted.like_gain
    if cfg.lateral_weight > 0 and ratings.n_items <= cfg.lateral_max_items:
        # fitted on every training rating, validation ones included
        data = LikeMatrix.from_ratings(ratings, cfg.like_threshold)
        B = lateral.fit_lateral(data, cfg.lateral_l2, cfg.lateral_l2_pop)
        rbm.lateral = (cfg.lateral_weight * B).to(device)
    model = Model.from_training(
        rbm=rbm,
        ratings=ratings,
        config=cfg,
        calibration=fitted.weights,
        history=history,
        best_epoch=best_epoch,
        neighbours=fitted.neighbours,
        reliability=fitted.reliability,
    )
    return TrainResult(model, history, cancelled, best_epoch, time.perf_counter() - t_start)
