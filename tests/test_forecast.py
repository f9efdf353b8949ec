"""The training forecast: epochs expected to run, share done and time left (the finishing
steps included), on replayed runs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine.settings import TrainConfig
from engine.training.forecast import FINISH_PASSES, Forecast


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
    val: dict = field(default_factory=lambda: {"auc": 0.5})  # empty without validation


def replay(
    config: TrainConfig,
    best_epochs: set[int],
    stop_after: int,
    seconds: float = 2.0,
    validation: float = 0.0,
    setup: float = 0.0,
):
    """Run a simulated training: ``setup`` seconds before the first batch, 4 batches per
    epoch of ``seconds`` in all, ``validation`` seconds more after a main epoch's batches,
    the main epochs improving at ``best_epochs`` and stopping after ``stop_after``, the
    refit, then the finishing steps (as long as the forecast expects them).
    Returns ``(true total seconds, [(elapsed, forecast total seconds, expected epochs)], f)``."""
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    t[0] += setup
    seen = []
    epochs = [(e, e in best_epochs, False) for e in range(1, stop_after + 1)]
    # as the trainer does: the rest of the epochs on all the ratings, ``epochs`` in all
    epochs += [(e, False, True) for e in range(stop_after + 1, config.epochs + 1)]
    for epoch, best, refit in epochs:
        for b in range(1, 5):
            t[0] += seconds / 4
            f.on_batch(Batch(epoch, b, 4))
            left = f.seconds_left()
            if left is not None:
                seen.append((t[0], t[0] + left, f.expected_epochs))
        t[0] += 0.0 if refit else validation
        f.on_epoch(Report(epoch, best, refit))
        seen.append((t[0], t[0] + f.seconds_left(), f.expected_epochs))
    t[0] += f.finish_passes * seconds
    return t[0], seen, f


def test_a_run_that_goes_to_the_end_is_forecast_from_its_configured_epochs():
    config = TrainConfig(epochs=20, refit_share=0.2, patience=8)  # 16 main + 4 refit
    total, seen, f = replay(config, set(range(1, 17)), stop_after=16)
    assert total == pytest.approx(40.0 + FINISH_PASSES * 2.0)
    assert all(n == 20 for _, _, n in seen)
    assert all(abs(guess - total) / total < 0.01 for _, guess, _ in seen)
    assert f.seconds_left() == 0.0 and f.fraction() == pytest.approx(1.0)


def test_validation_setup_and_refit_are_each_timed_for_what_they_cost():
    """Main epochs cost their batches and their validation, refit epochs their batches only;
    the setup before the first batch is no pace: the time left is right from the first
    epoch on."""
    config = TrainConfig(epochs=30, refit_share=0.7, patience=8)  # 9 main + 21 refit
    total, seen, _ = replay(config, set(range(1, 10)), 9, validation=1.0, setup=5.0)
    assert total == pytest.approx(5 + 9 * 3 + 21 * 2 + FINISH_PASSES * 2)
    after_first_epoch = [guess for t, guess, _ in seen if t >= 5 + 3]
    assert all(abs(guess - total) / total < 0.02 for guess in after_first_epoch)


def test_the_finishing_steps_count_down_and_the_share_stays_below_one_until_done():
    config = TrainConfig(epochs=4, refit_share=0.0, patience=0)
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    for epoch in range(1, 5):
        for b in (1, 2):
            t[0] += 1.0
            f.on_batch(Batch(epoch, b, 2))
        f.on_epoch(Report(epoch, True))
    finish = FINISH_PASSES * 2.0
    assert f.seconds_left() == pytest.approx(finish)  # not "0:00 left" while finishing
    assert f.fraction() < 0.9
    t[0] += finish / 2
    assert f.seconds_left() == pytest.approx(finish / 2)
    before = f.fraction()
    t[0] += finish
    assert f.seconds_left() == 0.0 and f.fraction() == 1.0 > before


def test_a_bigger_catalogue_has_longer_finishing_steps():
    config = TrainConfig()
    small = Forecast(config, n_items=1_682).finish_passes
    big = Forecast(config, n_items=9_125).finish_passes
    assert FINISH_PASSES < small < big
    assert Forecast(config, n_items=200_000).finish_passes == big  # hubs are capped
    no_fit = TrainConfig(item_item_weight=0.0)
    assert Forecast(no_fit, n_items=9_125).finish_passes == FINISH_PASSES


def test_replicas_make_the_passes_longer_not_the_finishing_steps():
    config = TrainConfig()
    one = Forecast(config, n_items=9_066, n_users=671, n_ratings=500_000).finish_passes
    two = Forecast(config, n_items=9_066, n_users=671, n_ratings=76_144).finish_passes
    assert two == pytest.approx(one / 2)  # latest-small: 8 ratings a movie, two replicas
    assert Forecast(config, n_items=9_066, n_users=671).finish_passes == one  # ratings unknown


def test_early_stopping_is_foreseen_once_the_score_stalls():
    """Best at epoch 10, patience 8: the validated epochs end after 18, and the other 12 run
    on all the ratings without the 1 s of validation: 30 epochs in all, as the trainer runs
    them (the forecast used to expect 22 and showed "epoch 30/22"). Once the score has
    stalled for half the patience the forecast leaves out the validations that will not
    run."""
    config = TrainConfig(epochs=30, refit_share=0.15, patience=8)  # 26 main + 4 refit
    total, seen, f = replay(config, set(range(1, 11)), stop_after=18, validation=1.0)
    assert total == pytest.approx(18 * 3.0 + 12 * 2.0 + FINISH_PASSES * 2.0)
    assert {n for _, _, n in seen} == {30}
    early = seen[8][1]  # at epoch 3: 26 validated epochs expected
    late = [guess for t, guess, _ in seen if t >= 3.0 * 14]  # stale since 10: known by 14
    assert early > total * 1.05
    assert all(abs(g - total) / total < 0.05 for g in late)
    assert f.expected_epochs == 30 and f.fraction() == pytest.approx(1.0)


def test_time_left_follows_the_recent_epochs():
    config = TrainConfig(epochs=10, refit_share=0.0, patience=0)
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    finish = f.finish_passes
    assert f.seconds_left() is None  # nothing timed yet
    t[0] = 1.0
    f.on_batch(Batch(1, 1, 2))
    # the first batch's time holds the set-up: no pace yet (it showed "16:37 left" for a
    # 13-second run)
    assert f.seconds_left() is None
    t[0] = 4.0
    f.on_batch(Batch(1, 2, 2))
    f.on_epoch(Report(1, True))  # batch 1 to 2: 3 s, so 6 s a pass
    assert f.seconds_left() == pytest.approx(9 * 6.0 + finish * 6.0)
    assert 0.0 < f.fraction() < 0.1


def test_the_pace_starts_after_the_first_batch():
    """The setup before the first batch and the first step's own warm-up are one-off costs
    of the first epoch: the pace runs from the end of the first batch; every later batch
    counts, a slow second one included."""
    config = TrainConfig(epochs=10, refit_share=0.0, patience=0)
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    t[0] += 5.0  # the setup
    for b, seconds in enumerate((3.0, 1.0, 0.5, 0.5, 0.5, 0.5), start=1):
        t[0] += seconds
        f.on_batch(Batch(1, b, 6))
    f.on_epoch(Report(1, True))
    assert f.pass_seconds() == pytest.approx(3.0 / 5 * 6)  # batches 2 to 6: 0.6 s a batch
    assert f.seconds_left() == pytest.approx((9 + f.finish_passes) * 3.6)


def test_a_refit_epochs_wait_for_the_calibration_is_no_pace():
    """The first refit epoch's first batch waits for the calibration's preparation and the
    ratings' new layout: the refit epochs are timed without it."""
    config = TrainConfig(epochs=4, refit_share=0.5, patience=0)  # 2 main + 2 refit
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    for epoch in (1, 2, 3):
        t[0] += 10.0 if epoch == 3 else 0.0  # the wait before the refit's first batch
        for b in range(1, 5):
            t[0] += 0.5
            f.on_batch(Batch(epoch, b, 4))
        f.on_epoch(Report(epoch, epoch < 3, refit=epoch == 3))
    assert f.pass_seconds() == pytest.approx(2.0)
    assert f.seconds_left() == pytest.approx((1 + f.finish_passes) * 2.0)


def test_refit_epochs_and_finishing_steps_follow_the_latest_pace():
    """A machine that slows down (a busy neighbour) during the refit: the refit epochs left
    and the finishing steps are counted at the refit epochs' pace, not the main epochs'."""
    config = TrainConfig(epochs=10, refit_share=0.5, patience=0)  # 5 main + 5 refit
    total, seen, f = replay_paces(config, [2.0] * 5 + [4.0] * 5)
    assert f.main_pass_seconds() == pytest.approx(2.0)
    assert f.pass_seconds() == pytest.approx(4.0)
    after_first_refit = seen[6:]
    assert all(abs(guess - total) / total < 0.01 for guess in after_first_refit)
    assert total == pytest.approx(5 * 2.0 + 5 * 4.0 + f.finish_passes * 4.0)


def replay_paces(config: TrainConfig, paces: list[float]):
    """A simulated run without early stopping whose epoch ``i`` takes ``paces[i]`` seconds
    (4 batches; the refit after the main epochs), then the finishing steps at the last
    pace. Returns ``(true total seconds, [forecast total after each epoch], f)``."""
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    n_main = config.epochs - config.refit_epochs
    seen = []
    for epoch, seconds in enumerate(paces, start=1):
        for b in range(1, 5):
            t[0] += seconds / 4
            f.on_batch(Batch(epoch, b, 4))
        f.on_epoch(Report(epoch, True, refit=epoch > n_main))
        seen.append(t[0] + f.seconds_left())
    t[0] += f.finish_passes * paces[-1]
    return t[0], seen, f


def test_a_run_without_validation_ratings_expects_no_refit():
    """Nobody with 5 ratings: no validation split, so the configured epochs all run on every
    rating and none is added after them (the count stays 30, not 30 + the refit's 21)."""
    config = TrainConfig(epochs=30)
    t = [0.0]
    f = Forecast(config, clock=lambda: t[0])
    assert f.expected_epochs == 30
    for epoch in range(1, 31):
        for b in range(1, 5):
            t[0] += 0.5
            f.on_batch(Batch(epoch, b, 4))
        f.on_epoch(Report(epoch, best=True, val={}))
        assert f.expected_epochs == 30
    assert f.seconds_left() == pytest.approx(f.finish_passes * 2.0)  # the finishing steps
