"""How far a training run is and how long the rest will take, from the epochs that will run
and the steps that finish it.

A run has up to ``epochs - refit`` main epochs, which early stopping may cut short, then the
``refit`` epochs on all the ratings, then the finishing steps (the calibration, the
movie-to-movie fit, the save). :class:`Forecast` follows the run's batches and epochs and
expects the main epochs to run to their end while the validation score still improves; once
it has not improved for half the patience, it expects the stop at the best epoch plus the
patience.

The time left adds up three costs, each the median of the recent epochs that had it: a main
epoch's batches and its validation, a refit epoch's batches, and the finishing steps (passes
over the batches, more for a bigger catalogue: :data:`FINISH_PASSES`). The refit epochs and
the finishing steps are counted in passes at the latest pace (the refit epochs' once one has
run), which follows a machine that speeds up or slows down over a run.

A pass is timed from the end of its first batch to the end of its last. The first batch
carries the one-off costs: before it the setup (the validation split, the data's layout, the
weights and the optimisers' state), in it the first step's own warm-up; a refit epoch's
first batch waits for the calibration's preparation and the ratings' new layout. From the
second batch on, the first epoch runs at the pace of the others, provided glibc's malloc keeps
freed blocks (:func:`rbm_tui.runtime.tune_allocator`, done by the ``rbm-tui`` entry point):
without it every few-MB temporary is a fresh ``mmap`` until the first validation's big blocks
raise malloc's threshold, and the first epoch's batches run about 1.6 times slower than the
later ones (ML-100K, one thread: 22 ms a batch against 13 ms).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from engine.settings import TrainConfig
from engine.training.replicas import replicas_for
from engine.training.sampling import visits_every_movie

#: The finishing steps cost about ``FINISH_PASSES + FINISH_PER_HUB2 * (hubs / 1000)²``
#: passes over the batches, ``hubs`` the movies the movie-to-movie fit solves for (its sort
#: of every candidate partner grows with their square); fitted with the default settings where
#: the negative phase looks at every movie (``bench_forecast.py --runs 3``, 2026-12-07):
#: ML-100K (1,682 hubs) 2.4-5.5 passes; ml-latest-small (8,192 hubs) 18.1-20.8 on a busy
#: machine, 12.7-16.0 on a quieter one (training's threads follow the load, the finishing
#: steps do not keep the same ratio to a pass), so its 14.9 passes are within 30 % of both.
#: Divided by the replicas, whose passes are that many times longer: ml-latest-small trains two,
#: and took 8.3-8.9 of their passes against the 7.5 counted.
FINISH_PASSES = 3.5
FINISH_PER_HUB2 = 0.17
#: The same where the negative phase samples the movies (a pass costs less against the
#: finishing steps): fitted to ml-latest-small when it was sampled.
FINISH_PER_HUB2_SAMPLED = 0.33


def _recent(values: list[float]) -> float | None:
    """The median of the last three (one slow epoch, a busy neighbour, is no trend; a run
    that speeds up over its first epochs is followed within two)."""
    return statistics.median(values[-3:]) if values else None


class Forecast:
    """Feed it every :class:`~engine.training.loop.BatchProgress` and
    :class:`~engine.training.loop.EpochReport` of a run; ask :meth:`fraction`,
    :meth:`seconds_left` and :attr:`expected_epochs`."""

    def __init__(
        self,
        config: TrainConfig,
        clock: Callable[[], float] = time.monotonic,
        n_items: int | None = None,
        n_users: int | None = None,
        n_ratings: int | None = None,
    ) -> None:
        """``n_items``, ``n_users``, ``n_ratings``: the dataset's movies, people and ratings
        (None: unknown; the finishing steps are then counted as those of a small catalogue, of
        a negative phase over every movie and of one replica)."""
        self.clock = clock
        hubs = min(n_items or 0, config.item_item_hubs) if config.item_item_weight > 0 else 0
        sampled = n_users is not None and not visits_every_movie(config, n_users, n_items or 0)
        per_hub2 = FINISH_PER_HUB2_SAMPLED if sampled else FINISH_PER_HUB2
        # replicas make every pass longer, not the finishing steps
        replicas = 1
        if n_ratings is not None and n_items is not None:
            replicas = replicas_for(config, n_ratings, n_items)
        #: the finishing steps' cost, in passes over the batches
        self.finish_passes = (FINISH_PASSES + per_hub2 * (hubs / 1000) ** 2) / replicas
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
        self._first: tuple[int, float] | None = None  # (batch, time) first reported this epoch
        self._last: tuple[int, float] | None = None  # (batch, time) last reported this epoch
        self._passes: list[float] = []  # seconds of a main epoch's batches
        self._validations: list[float] = []  # seconds of a main epoch's validation
        self._refits: list[float] = []  # seconds of a refit epoch
        self._last_fraction = 0.0

    # ----------------------------------------------------------------- updates
    def on_batch(self, p) -> None:
        now = self.clock()
        self.n_batches = p.n_batches
        self.batch = p.batch
        if self._first is None:
            self._first = (p.batch, now)
        self._last = (p.batch, now)

    def on_epoch(self, r) -> None:
        now = self.clock()
        if r.refit:  # (batches only: the first one's wait for the calibration is no pace)
            self._refits.append(self._pass_seconds(now))
        else:
            batches_end = self._last[1] if self._last is not None else now
            self._passes.append(self._pass_seconds(now))
            self._validations.append(now - batches_end)
        self._epoch_started = now
        self._first = self._last = None
        self.epoch = r.epoch
        self.batch = 0
        if not r.refit and not r.val and self.refit:
            # no validation ratings (nobody has 5 ratings): every epoch is a main one
            self.main, self.refit = self.main + self.refit, 0
        if r.best:
            self.best = r.epoch
        if r.refit and not self.in_refit:
            self.in_refit = True
            self.stopped_main = r.epoch - 1

    def _pass_seconds(self, now: float) -> float:
        """The seconds of this epoch's batches, at the pace from the end of its first batch
        reported (the one-off costs before and in it are no pace)."""
        pace = self._pace()
        if pace is not None:
            return pace
        return (self._last[1] if self._last is not None else now) - self._epoch_started

    # ------------------------------------------------------------------ answers
    @property
    def expected_epochs(self) -> int:
        """The epochs the run has in all: ``epochs``. Early stopping does not shorten a run:
        it ends the validated epochs sooner, and the rest run on all the ratings
        (:meth:`engine.training.loop.TrainingRun._refit_phase`)."""
        return max(self.main + self.refit, self.epoch)

    def expected_main(self) -> int:
        """The validated epochs the run is expected to have: all of them, or, once the score
        has stalled for half the patience, those up to where early stopping would end them."""
        if self.in_refit:
            return self.stopped_main
        main = self.main
        if self.patience and self.epoch:
            stale = self.epoch - self.best
            if stale >= max(1, self.patience // 2):
                main = min(main, self.best + self.patience)
        return max(main, self.epoch)

    def fraction(self) -> float:
        """The share of the run done, in [0, 1]: by the time spent and left once the time
        left is known (never going back), else by the batches; 1 only once finished."""
        left = self.seconds_left()
        if left is None:
            total = self.expected_epochs
            within = self.batch / self.n_batches if self.n_batches else 0.0
            done = (self.epoch + within) / total if total > 0 else 0.0
        else:
            spent = self.clock() - self.start
            done = spent / (spent + left) if spent + left > 0 else 0.0
        self._last_fraction = max(self._last_fraction, min(1.0, done))
        return self._last_fraction

    def seconds_left(self) -> float | None:
        """Seconds to the end of the run, the finishing steps included (None before anything
        can be timed)."""
        now = self.clock()
        pass_s = self.pass_seconds()
        if pass_s is None:
            return None
        main_s = self.main_pass_seconds() or pass_s
        val_s = _recent(self._validations) or 0.0
        within = self.batch / self.n_batches if self.n_batches else 0.0
        total = self.expected_epochs
        main_left = 0.0 if self.in_refit else max(0.0, self.expected_main() - self.epoch - within)
        refit_left = max(0.0, total - self.epoch - within - main_left)
        finish = self.finish_passes * pass_s
        if self.epoch >= total:  # the finishing steps are going on
            finish = max(0.0, finish - (now - self._epoch_started))
        return main_left * (main_s + val_s) + refit_left * pass_s + finish

    def main_pass_seconds(self) -> float | None:
        """The seconds of a main epoch's batches (None: not timed yet)."""
        return _recent(self._passes) or self._pace()

    def pass_seconds(self) -> float | None:
        """The seconds of a pass over the batches at the latest pace: that of the recent
        refit epochs once one has run, else of the main epochs (None: not timed yet). The
        refit epochs and the finishing steps are counted in these."""
        return _recent(self._refits) or self.main_pass_seconds()

    def _pace(self) -> float | None:
        """A pass's seconds at the pace of this epoch's batches so far: from the first batch
        reported to the last (until a second one is reported, from the epoch's start; None:
        no batch reported yet)."""
        first, last = self._first, self._last
        if last is None or not self.n_batches:
            return None
        if first is not None and last[0] > first[0]:
            return (last[1] - first[1]) / (last[0] - first[0]) * self.n_batches
        if not self.epoch:  # the run's first batch: its time holds the set-up (a scan of
            return None  # the saved models, the first allocations), no pace: "16:37 left"
        return (last[1] - self._epoch_started) / last[0] * self.n_batches
