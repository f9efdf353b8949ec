"""A training run as the app follows it: its settings, its epochs, its forecast, its end.

The app owns one :class:`TrainingRun` while a run goes on (the worker that trains is the
app's, so the run goes on whichever screen is shown); every screen's bar shows
:meth:`TrainingRun.status`, the Train screen draws the rest.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rbm_tui.progress import format_duration


@dataclass
class TrainingRun:
    """One training run: the dataset, the settings (an engine ``TrainConfig``), the stop flag,
    the epochs reported so far and the forecast of the rest (an engine ``Forecast``)."""

    dataset: str
    config: Any
    forecast: Any
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    history: list = field(default_factory=list)  # engine EpochReports
    n_batches: int = 0
    batch: int = 0
    epoch: int = 1  # the epoch running
    ended: bool = False

    @property
    def stopping(self) -> bool:
        return self.cancel.is_set() and not self.ended

    def best(self):
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

    def score_of(self, val: dict) -> float | None:
        """The score early stopping watches (``monitor``) of validation metrics."""
        return validation_score(val, getattr(self.config, "monitor", "both"))


def validation_score(val: dict | None, monitor: str = "both") -> float | None:
    """A model's validation score: AUC, nDCG@10 or their sum (None without them)."""
    if not val or "auc" not in val or "ndcg@10" not in val:
        return None
    return {
        "auc": val["auc"],
        "ndcg": val["ndcg@10"],
        "both": val["auc"] + val["ndcg@10"],
    }.get(monitor, val["auc"] + val["ndcg@10"])
