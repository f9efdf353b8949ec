"""A training run as the app follows it: its settings, its epochs, its forecast, its end.

The app's :class:`~rbm_tui.controller.Controller` owns one :class:`TrainingRun` while a run
goes on (its worker trains, so the run goes on whichever screen is shown); every screen's bar
shows :meth:`TrainingRun.status`, the Train screen draws the rest. :func:`train_in_worker` is
the worker's body; :func:`activation_refusal` decides whether the model it saved becomes the
active one.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from engine.formatting import format_duration
from rbm_tui import messages as msg
from rbm_tui.screens.base import display_name

if TYPE_CHECKING:
    from engine.data.ratings import Ratings
    from engine.model.trained import Model
    from engine.settings import TrainConfig
    from engine.training.forecast import Forecast
    from engine.training.loop import BatchProgress, EpochReport

#: The shortest time between two batch messages of a run (the screens redraw on each).
BATCH_MESSAGE_INTERVAL = 0.2


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, kept on the run so that the Train screen words it whenever shown."""

    failed: bool = False
    saved: str | None = None  # the model's file stem (None: nothing saved)
    kept_copy: bool = False  # an identical model existed: it was made active instead
    cancelled: bool = False
    epochs_done: int = 0
    best_epoch: int = 0
    activated: bool = False
    why: str = ""  # why the model did not become active

    @classmethod
    def of(cls, event: msg.TrainDone, activated: bool, why: str) -> RunOutcome:
        """The outcome of the ended run ``event`` (activated, or why not)."""
        return cls(
            saved=None if event.path is None else event.path.stem,
            kept_copy=event.kept_copy,
            cancelled=event.cancelled,
            epochs_done=event.epochs_done,
            best_epoch=event.best_epoch,
            activated=activated,
            why=why,
        )


@dataclass
class TrainingRun:
    """One training run: the dataset, the settings, the stop flag, the epochs reported so far
    and the forecast of the rest."""

    dataset: str
    config: TrainConfig
    forecast: Forecast
    name: str | None = None  # the model's file name (None: the dataset and the time)
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    history: list[EpochReport] = field(default_factory=list)
    n_batches: int = 0
    batch: int = 0
    epoch: int = 1  # the epoch running
    ended: bool = False
    outcome: RunOutcome | None = None  # set when it ended

    @property
    def stopping(self) -> bool:
        return self.cancel.is_set() and not self.ended

    def best(self) -> EpochReport | None:
        """The best epoch's report so far, or None."""
        best = [r for r in self.history if r.best]
        return best[-1] if best else None

    def status(self) -> str:
        """``training 45% · 1:23 left`` (the bar of every screen)."""
        if self.stopping:
            return "stopping training…"
        left = self.forecast.seconds_left()
        eta = f" · {format_duration(left)} left" if left is not None else ""
        return f"training {100 * self.forecast.fraction():.0f}%{eta}"


def train_in_worker(ratings: Ratings, run: TrainingRun, post: Callable[[Message], object]) -> None:
    """(A worker thread.) Train ``run``, save its model and post each batch (at most every
    :data:`BATCH_MESSAGE_INTERVAL` seconds), each epoch and the end (``TrainDone`` or
    ``TrainFailed``)."""
    try:
        post(_train_and_save(ratings, run, post))
    except Exception as e:
        text = str(e).strip() or type(e).__name__
        post(msg.TrainFailed(text, traceback.format_exc(limit=8)))


def _train_and_save(
    ratings: Ratings, run: TrainingRun, post: Callable[[Message], object]
) -> msg.TrainDone:
    """Train and save (:func:`engine.training.run.train_and_save`), unless a kept model has
    the same data, settings and seed (:func:`kept_copy`) and no name was typed for this one."""
    from engine.housekeeping import model_file
    from engine.training.run import train_and_save

    cfg = run.config
    kept = kept_copy(ratings, cfg) if not run.name else None  # a name typed: a model of it
    if kept is not None:
        return msg.TrainDone(kept, None, False, 0, 0, 0.0, run.dataset, kept_copy=True)
    last = [0.0]

    def progress(p: BatchProgress) -> None:
        now = time.monotonic()
        if now - last[0] >= BATCH_MESSAGE_INTERVAL or p.batch == p.n_batches:
            last[0] = now
            post(msg.TrainBatch(p.epoch, cfg.epochs, p.batch, p.n_batches))

    def epoch_done(report: EpochReport) -> None:
        post(msg.TrainEpoch(report))

    outcome = train_and_save(
        ratings,
        cfg,
        dataset=run.dataset,
        model_out=model_file(run.name) if run.name else None,
        callback=epoch_done,
        progress=progress,
        cancel=run.cancel.is_set,
    )
    result = outcome.result
    return msg.TrainDone(
        path=outcome.path,
        model=result.model if outcome.path is not None else None,  # type: ignore[arg-type]
        cancelled=result.cancelled,
        best_epoch=result.best_epoch,
        epochs_done=len(result.history),
        seconds=result.seconds,
        dataset=run.dataset,
        save_failures=outcome.failures,
    )


def kept_copy(ratings: Ratings, config: TrainConfig) -> Path | None:
    """The kept model that a run of ``config`` on ``ratings`` would only copy (same data,
    settings and seed: :func:`engine.housekeeping.same_run`), or None."""
    from engine.housekeeping import same_run
    from engine.model.storage import list_models
    from engine.model.trained import dataset_fingerprint
    from engine.training.loop import resolve_settings

    settled = resolve_settings(ratings, config).to_dict()  # as the saved models hold them
    same = same_run(list_models(), dataset_fingerprint(ratings), settled)
    return same.path if same is not None else None


def activation_refusal(event: msg.TrainDone, dataset: str | None, active: Model | None) -> str:
    """Why a run's saved model does not become active ("" when it does): it is a model of
    another dataset than the one loaded (``dataset``), or the run was stopped and does not
    score better on validation than the ``active`` model."""
    from engine.training.validation import MONITORED, monitored_score

    if event.dataset != dataset:
        return f"it is a model of {display_name(event.dataset)}"
    if not event.cancelled or active is None or event.model is None:
        return ""
    monitor = str(event.model.config.get("monitor", "both"))
    new = monitored_score(event.model.meta.get("val_metrics"), monitor)
    old = monitored_score(active.meta.get("val_metrics"), monitor)
    if new is not None and old is not None and new <= old:
        what = MONITORED.get(monitor, MONITORED["both"])
        return (
            f"not made active: its validation score ({what} on held-out ratings) {new:.3f} "
            f"is not above the active model's {old:.3f} (load it on Models, 4, to use it)"
        )
    return ""
