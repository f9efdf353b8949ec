"""Contrastive-divergence (CD-k) training of the three-state RBM: the loop around the batches.

Each mini-batch of people is built from the sparse ratings (never a people × movies array of
the whole dataset); :class:`engine.training.step.SampledCD` makes its update, whose cost
follows the batch's ratings and sampled candidates, not the catalogue. This loop runs the
epochs: validation on a split carved from the training ratings
(:mod:`engine.training.validation`) with early stopping, a progress callback, cancellation
between batches, seeded and reproducible.

The first epochs train without the validation ratings. When they end, P(like) is calibrated on
those ratings, which the weights have not seen (:mod:`engine.training.calibrate`); then they
join the training data for the last ``refit_share`` of the epochs. The model kept is the
moving average of the weights at the end. Last, the sparse movie-to-movie part of the seen
log-odds is fitted on every training rating (:mod:`engine.model.itemitem`).
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
from engine.model import itemitem
from engine.model.inference import pair_partner_mass
from engine.settings import TrainConfig
from engine.training import calibrate
from engine.training.step import SampledCD, batch_size_for, initial_biases
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


#: Copies of the weights a training run holds at once (the weights, Adam's two moments or the
#: momentum, the moving average, the model and its snapshot) and the headroom for the rest.
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
        cancel: polled between batches; when it returns True training stops and the model
            so far (the moving average of the weights, calibrated) is returned with
            ``cancelled=True``.
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
    from engine.device import ThreadGovernor, choose_threads, resolve_device, torch_threads

    cfg = config or TrainConfig()
    if ratings.n_ratings == 0:
        raise TrainingError("no ratings to train on")
    cpu = resolve_device(cfg.device) == "cpu"
    # automatic threads follow the machine's load as training goes (not in data-parallel runs,
    # whose ranks share the machine by design)
    governor = ThreadGovernor() if cpu and cfg.threads == 0 and dist is None else None
    with torch_threads(choose_threads(cfg.threads) if cpu else 0):
        return _train(ratings, cfg, callback, progress, cancel, dist, governor)


def _train(
    ratings: Ratings, cfg: TrainConfig, callback, progress, cancel, dist, governor=None
) -> TrainResult:
    import torch

    from engine.device import resolve_device
    from engine.model.rbm import RBM
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
    rbm.like_units = int(round(cfg.like_hidden * cfg.n_hidden))
    counts = np.bincount(lm.cols, minlength=2 * lm.n_items)
    rbm.b = initial_biases(counts).to(device)
    item_pop = counts.reshape(-1, 2).sum(1)
    trainer = SampledCD(rbm, cfg, device, ratings.n_users, item_pop, dist)
    snap = RBM(ratings.n_items, 1, device=device, seed=None)  # the averaged weights, for use
    snap.keep, snap.like_units = rbm.keep, rbm.like_units

    history: list[EpochReport] = []
    best_score = -math.inf
    best_epoch = 0
    bad_epochs = 0
    cancelled = False
    n_refit = cfg.refit_epochs if len(vu) else 0  # no validation ratings: nothing to add
    n_main = cfg.epochs - n_refit

    def run_epoch(data: LikeMatrix, epoch: int, k: int, scale: float) -> float:
        """One pass of CD-k updates over ``data``'s people; returns the training loss."""
        users_with_data = np.nonzero(np.diff(data.indptr) > 0)[0]
        batch_size = batch_size_for(cfg, len(users_with_data))
        n_batches = max(1, math.ceil(len(users_with_data) / batch_size))
        perm = rng.permutation(users_with_data)
        err_sum, err_n = 0.0, 0
        for bi in range(n_batches):
            if cancel is not None and (cancel() if dist is None else dist.decide(cancel())):
                raise TrainingCancelled
            if governor is not None:
                governor.check()
            e_sum, e_n = trainer.step(data, perm[bi * batch_size : (bi + 1) * batch_size], k, scale)
            err_sum += e_sum
            err_n += e_n
            if progress is not None:
                progress(BatchProgress(epoch, bi + 1, n_batches))
        if dist is not None:
            errs = torch.tensor([err_sum, err_n], dtype=torch.float64, device=device)
            dist.all_reduce([errs])
            err_sum, err_n = float(errs[0]), int(errs[1])
        if not trainer.finite():
            raise TrainingError(
                "training diverged (weights became NaN or infinite); try a smaller learning rate"
            )
        return err_sum / max(1, err_n)

    def publish(report: EpochReport) -> None:
        history.append(report)
        if callback is not None:
            callback(report)

    def schedule(epoch: int) -> tuple[int, float]:
        """CD steps and learning-rate scale of (1-based) ``epoch``."""
        frac = min(1.0, (epoch - 1) / max(1, n_main - 1))
        k = int(round(cfg.cd_k + frac * (cfg.cd_k_max - cfg.cd_k)))
        return k, 1.0 / (1.0 + cfg.lr_decay * (epoch - 1))

    try:
        for epoch in range(1, n_main + 1):
            t0 = time.perf_counter()
            k, scale = schedule(epoch)
            loss = run_epoch(lm, epoch, k, scale)
            val = {}
            if len(vu) and (dist is None or dist.rank == 0):
                val = validate(trainer.snapshot(snap), lm, vu, vi, vy, device, cfg.val_users)
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
                    learning_rate=cfg.learning_rate * scale,
                )
            )
            stop = bool(cfg.patience and bad_epochs >= cfg.patience)
            if dist is not None:
                stop = dist.decide(stop)
            if stop:
                break
    except TrainingCancelled:
        cancelled = True

    # P(like) is calibrated on the validation ratings, which the weights have not seen yet
    pending = None
    if len(vu) and (dist is None or dist.rank == 0):
        pending = calibrate.prepare(trainer.snapshot(snap), lm, vu, vi, vy, cfg, device)

    full = None  # every training rating, once the validation ones have joined
    if n_refit and not cancelled:
        # then the validation ratings join the training data for the rest of the epochs
        del lm
        full = LikeMatrix.from_ratings(ratings, cfg.like_threshold, cfg.soft_labels)
        done = len(history)
        try:
            for j in range(1, cfg.epochs - done + 1):
                t0 = time.perf_counter()
                epoch = done + j
                k, scale = schedule(epoch)
                loss = run_epoch(full, epoch, k, scale)
                publish(
                    EpochReport(
                        epoch=epoch,
                        epochs=cfg.epochs,
                        train_loss=loss,
                        val={},
                        seconds=time.perf_counter() - t0,
                        best=False,
                        cd_k=k,
                        learning_rate=cfg.learning_rate * scale,
                        refit=True,
                    )
                )
        except TrainingCancelled:  # keep what the epochs so far learned
            cancelled = True

    seconds = time.perf_counter() - t_start
    if dist is not None and dist.rank != 0:
        return TrainResult(None, history, cancelled, best_epoch, seconds)
    trainer.snapshot(rbm)
    trainer = snap = None  # the optimisers' state and the chains: room for the fit below
    if cfg.item_item_weight > 0:  # fitted on every training rating, validation ones included
        if full is None:
            full = LikeMatrix.from_ratings(ratings, cfg.like_threshold)
        rbm.item_item = itemitem.fit(full, cfg).to(device)
    fitted = calibrate.Calibration(cal.identity())
    if pending is not None:  # each person known by their training ratings, as in prepare
        partners = None
        if rbm.item_item is not None:
            mass = pair_partner_mass(rbm, full, pending.vu, pending.vi, exclude=(vu, vi))
            partners = cal.partner_odds(
                mass[:, 0], mass[:, 1], cal.prior_like_share(*full.movie_counts())
            )
        fitted = calibrate.finish(pending, partners)
    rbm.like_gain = fitted.like_gain
    model = Model.from_training(
        rbm=rbm,
        ratings=ratings,
        config=cfg,
        calibration=fitted.weights,
        history=history,
        best_epoch=best_epoch,
        reliability=fitted.reliability,
        match_calibration=fitted.match_weights,
    )
    return TrainResult(model, history, cancelled, best_epoch, time.perf_counter() - t_start)
