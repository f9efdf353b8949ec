"""How far a training run is and how long the rest will take, from the epochs that will run.

A run has up to ``epochs - refit`` main epochs, which early stopping may cut short, then the
``refit`` epochs on all the ratings. :class:`Forecast` follows the run's batches and epochs
and expects the main epochs to run to their end while the validation score still improves;
once it has not improved for half the patience, it expects the stop at the best epoch plus
the patience. The time left is the expected epochs left times the median time of the recent
epochs (their validation included).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from engine.settings import TrainConfig


class Forecast:
    """Feed it every :class:`~engine.training.loop.BatchProgress` and
    :class:`~engine.training.loop.EpochReport` of a run; ask :meth:`fraction`,
    :meth:`seconds_left` and :attr:`expected_epochs`."""

    def __init__(self, config: TrainConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.start = clock()
        self.refit = config.refit_epochs
        self.main = config.epochs - self.refit
        self.patience = config.patience
        self.n_batches = 0
        self.epoch = 0  # epochs finished
        self.batch = 0  # batches finished in the current epoch
        self.best = 0
        self.in_refit = False
        self.stopped_main = 0  # main epochs run, once the refit began
        self._epoch_started = self.start
        self._epoch_seconds: list[float] = []

    # ----------------------------------------------------------------- updates
    def on_batch(self, p) -> None:
        self.n_batches = p.n_batches
        self.batch = p.batch

    def on_epoch(self, r) -> None:
        now = self.clock()
        self._epoch_seconds.append(now - self._epoch_started)
        self._epoch_started = now
        self.epoch = r.epoch
        self.batch = 0
        if r.best:
            self.best = r.epoch
        if r.refit and not self.in_refit:
            self.in_refit = True
            self.stopped_main = r.epoch - 1

    # ------------------------------------------------------------------ answers
    @property
    def expected_epochs(self) -> int:
        """The epochs the run is expected to have in all (main and refit)."""
        if self.in_refit:
            return self.stopped_main + self.refit
        main = self.main
        if self.patience and self.epoch:
            stale = self.epoch - self.best
            if stale >= max(1, self.patience // 2):
                main = min(main, self.best + self.patience)
        return max(main, self.epoch) + self.refit

    def fraction(self) -> float:
        """The share of the expected batches done, in [0, 1]."""
        total = self.expected_epochs
        if total <= 0:
            return 0.0
        within = self.batch / self.n_batches if self.n_batches else 0.0
        return min(1.0, (self.epoch + within) / total)

    def seconds_left(self) -> float | None:
        """Seconds to the end of the expected epochs (None before anything can be timed)."""
        now = self.clock()
        if self._epoch_seconds:  # one slow epoch (a busy neighbour) is no trend: the median
            per_epoch = statistics.median(self._epoch_seconds[-5:])
        elif self.batch and self.n_batches:
            per_epoch = (now - self._epoch_started) / self.batch * self.n_batches
        else:
            return None
        within = self.batch / self.n_batches if self.n_batches else 0.0
        return max(0.0, (self.expected_epochs - self.epoch - within) * per_epoch)
