"""The training forecast: epochs expected to run, share done and time left, on replayed runs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.settings import TrainConfig
from engine.training.forecast import Forecast


@dataclass
class Batch:
    epoch: int
    batch: int
    n_batches: int


@dataclass
class Report:
    epoch: int
    best: bool
    refit: bool = False


def replay(config: TrainConfig, best_epochs: set[int], stop_after: int, seconds: float = 2.0):
    """Run a simulated training: 4 batches per epoch of ``seconds`` each in all, the main
    epochs improving at ``best_epochs`` and stopping after ``stop_after``, then the refit.
    Returns ``(true total seconds, [(elapsed, forecast total seconds, expected epochs)])``."""
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    seen = []
    epochs = [(e, e in best_epochs, False) for e in range(1, stop_after + 1)]
    epochs += [(stop_after + j, False, True) for j in range(1, config.refit_epochs + 1)]
    for epoch, best, refit in epochs:
        for b in range(1, 5):
            t[0] += seconds / 4
            f.on_batch(Batch(epoch, b, 4))
            left = f.seconds_left()
            if left is not None:
                seen.append((t[0], t[0] + left, f.expected_epochs))
        f.on_epoch(Report(epoch, best, refit))
    return t[0], seen, f


def test_a_run_that_goes_to_the_end_is_forecast_from_its_configured_epochs():
    config = TrainConfig(epochs=20, refit_share=0.2, patience=8)  # 16 main + 4 refit
    total, seen, f = replay(config, set(range(1, 17)), stop_after=16)
    assert total == pytest.approx(40.0)
    assert all(n == 20 for _, _, n in seen)
    assert all(abs(guess - total) / total < 0.01 for _, guess, _ in seen)
    assert f.fraction() == pytest.approx(1.0)


def test_early_stopping_is_foreseen_once_the_score_stalls():
    """Best at epoch 10, patience 8: stopped after 18 main epochs, then 4 refit epochs. The
    forecast drops from 24 to 22 epochs once the score has stalled for half the patience."""
    config = TrainConfig(epochs=30, refit_share=0.15, patience=8)  # 26 main + 4 refit
    total, seen, f = replay(config, set(range(1, 11)), stop_after=18)
    assert total == pytest.approx(44.0)
    assert seen[0][2] == 30
    switch = next(t for t, _, n in seen if n == 22)
    assert switch <= 2.0 * 15  # stale since epoch 10: known by epoch 14
    late = [guess for t, guess, _ in seen if t >= switch]
    assert all(abs(g - total) / total < 0.05 for g in late)
    assert f.expected_epochs == 22 and f.fraction() == pytest.approx(1.0)


def test_time_left_follows_the_recent_epochs():
    config = TrainConfig(epochs=10, refit_share=0.0, patience=0)
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    assert f.seconds_left() is None  # nothing timed yet
    t[0] = 1.0
    f.on_batch(Batch(1, 1, 2))
    assert f.seconds_left() == pytest.approx(19.0)  # 2 s per epoch from the first batch
    t[0] = 4.0
    f.on_batch(Batch(1, 2, 2))
    f.on_epoch(Report(1, True))
    assert f.seconds_left() == pytest.approx(9 * 4.0)
    assert f.fraction() == pytest.approx(0.1)
