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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from engine.data.likes import LikeMatrix
from engine.data.ratings import Ratings
from engine.errors import SettingError, TrainingError, UsageError
from engine.model import calibration as cal
from engine.model import itemitem
from engine.model.inference import pair_partner_mass
from engine.settings import TrainConfig, like_threshold_for
from engine.training import calibrate
from engine.training.replicas import Replicas, replica_config, replicas_for
from engine.training.reports import BatchProgress, EpochReport, TrainingCancelled, TrainResult
from engine.training.sampling import visits_every_movie
from engine.training.step import SampledCD, batch_size_for, initial_biases
from engine.training.validation import monitored_score, split_validation, validate

if TYPE_CHECKING:
    from engine.device import ThreadGovernor
    from engine.model.trained import Model
    from engine.training.ranks import DataParallel

__all__ = [
    "BatchProgress",
    "EpochReport",
    "Hooks",
    "TrainResult",
    "TrainingRun",
    "Validation",
    "resolve_settings",
    "split",
    "train",
]


#: Copies of the weights a training run holds at once (the weights, Adam's two moments or the
#: momentum, the moving average, the model and its snapshot) and the headroom for the rest.
_WEIGHT_COPIES = 8


def _check_size(n_items: int, cfg: TrainConfig, device: str, replicas: int = 1) -> None:
    """Refuse (TrainingError) a model whose weights cannot fit in the memory free here."""
    from engine.device import available_memory

    need = _WEIGHT_COPIES * 2 * n_items * cfg.n_hidden * 4 * replicas
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
    dist: DataParallel | None = None,
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
        UsageError: ``ratings`` or ``config`` of another type.
        TrainingError: no ratings, or the weights diverged.
        SettingError: the device or thread count cannot be used here.
    """
    from engine.device import ThreadGovernor, choose_threads, resolve_device, torch_threads

    if not isinstance(ratings, Ratings):
        raise UsageError(
            f"train: ratings is a {type(ratings).__name__}; engine.load_ratings reads a file"
        )
    if config is not None and not isinstance(config, TrainConfig):
        raise UsageError(f"train: config is a {type(config).__name__}, not an engine.TrainConfig")
    cfg = resolve_settings(ratings, config)
    cpu = resolve_device(cfg.device) == "cpu"
    # automatic threads follow the machine's load as training goes (not in data-parallel runs,
    # whose ranks share the machine by design)
    governor = ThreadGovernor() if cpu and cfg.threads == 0 and dist is None else None
    hooks = Hooks(callback, progress, cancel, dist, governor)
    with torch_threads(choose_threads(cfg.threads) if cpu else 0):
        return TrainingRun(ratings, cfg, hooks).execute()


def resolve_settings(ratings: Ratings, config: TrainConfig | None) -> TrainConfig:
    """The settings the run trains with: ``config``, or the defaults when None, with the
    automatic like threshold settled (:func:`engine.settings.like_threshold_for`). The one
    place to settle what depends on the data before any training starts.

    Raises:
        TrainingError: ``ratings`` holds no ratings.
        SettingError: the like threshold makes every rating a like, or every one a dislike.
    """
    if ratings.n_ratings == 0:
        raise TrainingError("no ratings to train on")
    cfg = config or TrainConfig()
    threshold = like_threshold_for(cfg.like_threshold, ratings.scale[1])
    _check_threshold(ratings, threshold)
    return replace(cfg, like_threshold=threshold)


def _check_threshold(ratings: Ratings, threshold: float) -> None:
    """Refuse a like threshold that leaves nothing to tell apart (the like/dislike model and
    its validation need both)."""
    share = ratings.like_share(threshold)
    if 0 < share < 1:
        return
    low, high = ratings.scale
    if low == high:
        raise SettingError(
            f"every one of the {ratings.n_ratings:,} ratings is {low:g}: the model learns likes "
            "from dislikes, and these ratings hold only one kind"
        )
    raise SettingError(
        f"like threshold {threshold:g}: every one of the {ratings.n_ratings:,} ratings would "
        f"be a {'like' if share else 'dislike'}; they run {low:g}-{high:g}, so pick a "
        f"threshold above {low:g} and at most {high:g}"
    )


@dataclass
class Hooks:
    """What the caller passes :func:`train` besides the data and the settings."""

    callback: Callable[[EpochReport], None] | None = None
    progress: Callable[[BatchProgress], None] | None = None
    cancel: Callable[[], bool] | None = None
    dist: DataParallel | None = None  # the data-parallel hook (see :func:`train`); None: alone
    governor: ThreadGovernor | None = None  # checked every batch


@dataclass
class Validation:
    """The validation ratings carved from the training ratings: ``(V,)`` arrays of their
    people (rows of the training matrix), movies and liked flags; empty without a split."""

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    liked: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.users)


def split(full: LikeMatrix, cfg: TrainConfig) -> tuple[LikeMatrix, Validation]:
    """``full`` less the validation ratings (``val_fraction`` of them, seeded), and those."""
    if cfg.val_fraction > 0:
        lm, vu, vi, vy = split_validation(full, cfg.val_fraction, cfg.seed)
        return lm, Validation(vu, vi, vy)
    return full, Validation(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool))


class TrainingRun:
    """One training run in its phases (:meth:`execute`): the data split, the model and its
    trainer set up, the validated epochs with early stopping, the refit epochs on every
    rating, then the movie-to-movie part and the calibration of the model kept."""

    def __init__(self, ratings: Ratings, cfg: TrainConfig, hooks: Hooks) -> None:
        from engine.device import resolve_device

        self.ratings, self.cfg, self.hooks = ratings, cfg, hooks
        self.device = resolve_device(cfg.device)
        self.history: list[EpochReport] = []
        self.best_score, self.best_epoch, self.bad_epochs = -math.inf, 0, 0
        self.cancelled = False
        self.n_main = self.n_refit = 0  # epochs of each phase, set by execute

    # ------------------------------------------------------------------ phases
    def execute(self) -> TrainResult:
        """Run every phase; the model is None on the ranks other than 0."""
        import torch

        cfg, dist = self.cfg, self.hooks.dist
        r = self.ratings
        self.n_replicas = replicas_for(cfg, r.n_ratings, r.n_items)
        _check_size(r.n_items, cfg, self.device, self.n_replicas)
        t_start = time.perf_counter()
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)  # the order of the people in each epoch
        lm, val = split(self._like_matrix(cfg.soft_labels), cfg)
        self._set_up(lm)
        self.n_refit = cfg.refit_epochs if len(val) else 0  # no validation: nothing to add
        self.n_main = cfg.epochs - self.n_refit
        self._main_phase(lm, val)
        pending = self._prepare_calibration(lm, val)
        full = None  # every training rating, once the validation ones have joined
        if self.n_refit and not self.cancelled:
            del lm  # the validation ratings join the training data for the rest of the epochs
            full = self._like_matrix(cfg.soft_labels)
            self._refit_phase(full)
        if dist is not None and dist.rank != 0:
            seconds = time.perf_counter() - t_start
            return TrainResult(None, self.history, self.cancelled, self.best_epoch, seconds)
        model = self._finish(full, pending, val)
        seconds = time.perf_counter() - t_start
        return TrainResult(model, self.history, self.cancelled, self.best_epoch, seconds)

    def _prepare_calibration(self, lm: LikeMatrix, val: Validation) -> calibrate.Pending | None:
        """The RBM's part of the calibration of P(like) on the validation ratings, which the
        weights have not seen yet (rank 0 only; None without validation ratings)."""
        dist = self.hooks.dist
        if not len(val) or (dist is not None and dist.rank != 0):
            return None
        rbm = self.trainer.snapshot(self.snap)
        return calibrate.prepare(rbm, lm, val.users, val.items, val.liked, self.cfg, self.device)

    def _like_matrix(self, soft_labels: float = 0.0) -> LikeMatrix:
        """Every training rating as like/dislike units (soft targets from ``soft_labels``)."""
        return LikeMatrix.from_ratings(self.ratings, self.cfg.like_threshold, soft_labels)

    def _set_up(self, lm: LikeMatrix) -> None:
        """The RBM (visible biases from ``lm``'s unit counts) and its :class:`SampledCD`
        trainer, or the :class:`Replicas` and the RBM they are joined into; and ``snap``: a
        one-unit RBM that receives the averaged weights for use."""
        from engine.model.rbm import RBM

        n_items = self.ratings.n_items
        counts = np.bincount(lm.cols, minlength=2 * lm.n_items)  # (2N,) ratings per unit
        trainers = [self._trainer(counts, r) for r in range(self.n_replicas)]
        self.trainer: SampledCD | Replicas = trainers[0]
        self.rbm = trainers[0].rbm
        if len(trainers) > 1:  # the joined model is an RBM of its own
            self.trainer = Replicas(trainers)
            self.rbm = RBM(n_items, 1, device=self.device, seed=None)
        self.snap = RBM(n_items, 1, device=self.device, seed=None)
        self.snap.keep, self.snap.like_units = self.rbm.keep, self.rbm.like_units

    def _trainer(self, counts: np.ndarray, replica: int) -> SampledCD:
        """The RBM of replica ``replica`` (visible biases from the unit counts ``counts (2N,)``)
        and its :class:`SampledCD` trainer, seeded by :func:`replicas.replica_config`."""
        from engine.model.rbm import RBM

        cfg = replica_config(self.cfg, replica)
        rbm = RBM(self.ratings.n_items, cfg.n_hidden, device=self.device, seed=cfg.seed)
        rbm.keep = 1.0 - cfg.dropout
        rbm.like_units = int(round(cfg.like_hidden * cfg.n_hidden))
        rbm.b = initial_biases(counts).to(self.device)
        item_pop = counts.reshape(-1, 2).sum(1)  # (N,) ratings per movie
        return SampledCD(rbm, cfg, self.device, self.ratings.n_users, item_pop, self.hooks.dist)

    def _main_phase(self, lm: LikeMatrix, val: Validation) -> None:
        """The first ``n_main`` epochs on ``lm``, each validated, until ``patience`` epochs
        without a better score (or a cancel)."""
        try:
            for epoch in range(1, self.n_main + 1):
                t0 = time.perf_counter()
                k, scale = self._schedule(epoch)
                loss = self._run_epoch(lm, epoch, k, scale)
                metrics = self._validate(lm, val)
                is_best = self._track_best(metrics, epoch)
                self._publish(self._report(epoch, k, scale, loss, metrics, t0, is_best))
                if self._should_stop():
                    break
        except TrainingCancelled:
            self.cancelled = True

    def _refit_phase(self, full: LikeMatrix) -> None:
        """The last epochs on every training rating (no validation), until ``epochs`` in all
        or a cancel, which keeps what the epochs so far learned."""
        try:
            for epoch in range(len(self.history) + 1, self.cfg.epochs + 1):
                t0 = time.perf_counter()
                k, scale = self._schedule(epoch)
                loss = self._run_epoch(full, epoch, k, scale)
                self._publish(self._report(epoch, k, scale, loss, {}, t0, False, refit=True))
        except TrainingCancelled:
            self.cancelled = True

    def _finish(
        self, full: LikeMatrix | None, pending: calibrate.Pending | None, val: Validation
    ) -> Model:
        """The model kept: the averaged weights, the movie-to-movie part fitted on every
        training rating (validation ones included), the calibration of P(like)."""
        from engine.model.trained import Model

        cfg, rbm = self.cfg, self.rbm
        self.trainer.snapshot(rbm)
        del self.trainer, self.snap  # the optimisers' state and the chains: room for the fit
        if cfg.item_item_weight > 0:
            if full is None:
                full = self._like_matrix()
            rbm.item_item = itemitem.fit(full, cfg).to(self.device)
        fitted = self._calibration(full, pending, val)
        rbm.like_gain = fitted.like_gain
        return Model.from_training(
            rbm=rbm,
            ratings=self.ratings,
            config=cfg,
            calibration=fitted.weights,
            history=self.history,
            best_epoch=self.best_epoch,
            reliability=fitted.reliability,
            match_calibration=fitted.match_weights,
            chosen=self._chosen(),
        )

    def _chosen(self) -> dict[str, int]:
        """What training chose for the data's shape: people per mini-batch (on everyone),
        the movies each update's negative phase looks at, and the replicas joined."""
        r, cfg = self.ratings, self.cfg
        every = visits_every_movie(cfg, r.n_users, r.n_items)
        return {
            "batch_size": batch_size_for(cfg, r.n_users),
            "negative_movies": r.n_items if every else cfg.candidates,
            "replicas": self.n_replicas,
        }

    def _calibration(
        self, full: LikeMatrix | None, pending: calibrate.Pending | None, val: Validation
    ) -> calibrate.Calibration:
        """The calibration of P(like) on the validation pairs ``pending`` (the identity
        without): with the partners feature when the RBM has a movie-to-movie part, each
        person known by their training ratings, as in :func:`calibrate.prepare`."""
        if pending is None:
            return calibrate.Calibration(cal.identity())
        partners = None
        if self.rbm.item_item is not None and full is not None:
            mass = pair_partner_mass(
                self.rbm, full, pending.vu, pending.vi, exclude=(val.users, val.items)
            )
            prior = cal.prior_like_share(*full.movie_counts())
            partners = cal.partner_odds(mass[:, 0], mass[:, 1], prior)
        return calibrate.finish(pending, partners)

    # ------------------------------------------------------------------ epochs
    def _schedule(self, epoch: int) -> tuple[int, float]:
        """CD steps and learning-rate scale of (1-based) ``epoch``: k rises linearly from
        ``cd_k`` to ``cd_k_max`` over the main epochs; the rate falls as 1 / (1 + decay·t)."""
        cfg = self.cfg
        frac = min(1.0, (epoch - 1) / max(1, self.n_main - 1))
        k = int(round(cfg.cd_k + frac * (cfg.cd_k_max - cfg.cd_k)))
        return k, 1.0 / (1.0 + cfg.lr_decay * (epoch - 1))

    def _run_epoch(self, data: LikeMatrix, epoch: int, k: int, scale: float) -> float:
        """One pass of CD-k updates over ``data``'s people in a seeded order; returns the
        training loss (mean |target - P(like)| over the ratings, summed over the ranks)."""
        users_with_data = np.nonzero(np.diff(data.indptr) > 0)[0]
        batch_size = batch_size_for(self.cfg, len(users_with_data))
        n_batches = max(1, math.ceil(len(users_with_data) / batch_size))
        perm = self.rng.permutation(users_with_data)
        err_sum, err_n = 0.0, 0
        for bi in range(n_batches):
            self._between_batches()
            batch = perm[bi * batch_size : (bi + 1) * batch_size]
            e_sum, e_n = self.trainer.step(data, batch, k, scale)
            err_sum += e_sum
            err_n += e_n
            if self.hooks.progress is not None:
                self.hooks.progress(BatchProgress(epoch, bi + 1, n_batches))
        err_sum, err_n = self._sum_over_ranks(err_sum, err_n)
        if not self.trainer.finite():
            raise TrainingError(
                "training diverged (weights became NaN or infinite); try a smaller learning rate"
            )
        return err_sum / max(1, err_n)

    def _between_batches(self) -> None:
        """Poll the cancel check (rank 0's answer on every rank) and the thread governor.

        Raises:
            TrainingCancelled: the cancel check said stop.
        """
        cancel, dist = self.hooks.cancel, self.hooks.dist
        if cancel is not None and (cancel() if dist is None else dist.decide(cancel())):
            raise TrainingCancelled
        if self.hooks.governor is not None:
            self.hooks.governor.check()

    def _sum_over_ranks(self, err_sum: float, err_n: int) -> tuple[float, int]:
        """The epoch's error sum and count over every rank (as they are in one process)."""
        dist = self.hooks.dist
        if dist is None:
            return err_sum, err_n
        import torch

        errs = torch.tensor([err_sum, err_n], dtype=torch.float64, device=self.device)
        dist.all_reduce([errs])
        return float(errs[0]), int(errs[1])

    def _validate(self, lm: LikeMatrix, val: Validation) -> dict[str, float]:
        """The validation metrics of the averaged weights (rank 0 only; empty without)."""
        dist = self.hooks.dist
        if not len(val) or (dist is not None and dist.rank != 0):
            return {}
        rbm = self.trainer.snapshot(self.snap)
        return validate(rbm, lm, val.users, val.items, val.liked, self.device, self.cfg.val_users)

    def _track_best(self, metrics: dict[str, float], epoch: int) -> bool:
        """Whether ``epoch`` scored best so far by the ``monitor`` setting (without
        validation the last epoch is the best); counts the epochs without progress."""
        score = monitored_score(metrics, self.cfg.monitor)
        if score is None:
            score = float(epoch)
        if math.isnan(score):  # validation pairs of one class only: no score, no progress
            score = -math.inf
        if score > self.best_score or self.best_epoch == 0:
            self.best_score, self.best_epoch, self.bad_epochs = score, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    def _should_stop(self) -> bool:
        """``patience`` epochs without a better score (rank 0's verdict on every rank)."""
        stop = bool(self.cfg.patience and self.bad_epochs >= self.cfg.patience)
        dist = self.hooks.dist
        return dist.decide(stop) if dist is not None else stop

    def _report(
        self, epoch: int, k: int, scale: float, loss: float, val: dict[str, float],
        t0: float, best: bool, refit: bool = False,
    ) -> EpochReport:  # fmt: skip
        """The :class:`EpochReport` of an epoch that began at ``t0`` (perf_counter)."""
        return EpochReport(
            epoch=epoch,
            epochs=self.cfg.epochs,
            train_loss=loss,
            val=val,
            seconds=time.perf_counter() - t0,
            best=best,
            cd_k=k,
            learning_rate=self.cfg.learning_rate * scale,
            refit=refit,
        )

    def _publish(self, report: EpochReport) -> None:
        """Keep ``report`` in the history and pass it to the callback."""
        self.history.append(report)
        if self.hooks.callback is not None:
            self.hooks.callback(report)
