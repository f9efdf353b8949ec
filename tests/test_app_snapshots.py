"""Snapshot tests of every screen at 80x24 (pytest-textual-snapshot).

Deterministic: a fresh home per test, the demo data, a model trained with a fixed seed, file
times pinned, the clock's time zone fixed, no durations on screen (the training screen is
fed fixed epoch reports), notifications cleared and cursors not blinking.

Regenerate with ``pytest tests/test_app_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from helpers import SIZE, make_app, wait_for
from textual.widgets import Input

from rbm_tui import messages as msg
from rbm_tui.preferences import Preferences
from rbm_tui.screens.train import TrainScreen

#: The training form's values in the snapshots (not the trainer's defaults, which may move).
FORM = dict(
    n_hidden=100,
    epochs=40,
    batch_size=32,
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=1e-4,
    cd_k=1,
    like_threshold=3.0,
    seed=0,
)
PINNED = time.mktime((2024, 5, 1, 12, 0, 0, 0, 0, -1))


async def settle(pilot) -> None:
    """Let workers finish, then freeze what could differ between runs."""
    app = pilot.app
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.clear_notifications()
    for inp in app.screen.query(Input):
        inp.cursor_blink = False
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


@pytest.fixture(autouse=True)
def _fixed_world(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()

    def fixed_devices(self):
        self.post_message(msg.DeviceInfo(["auto", "cpu"], "CPU only (no CUDA)"))

    monkeypatch.setattr(TrainScreen, "_detect_devices", fixed_devices)
    yield
    monkeypatch.undo()
    time.tzset()


def remember_demo(model_file: Path | None = None) -> Path | None:
    from engine import paths

    models = {}
    target = None
    if model_file is not None:
        target = paths.models_dir() / "demo-seeded.pt"
        shutil.copy(model_file, target)
        os.utime(target, (PINNED, PINNED))
        models["demo"] = str(target)
    Preferences(dataset="demo", models=models).save()
    return target


# ---------------------------------------------------------------------------- screens
def test_datasets_screen(snap_compare):
    async def run_before(pilot):
        screen = pilot.app.screen
        await wait_for(pilot, lambda: "demo" in screen._stats, what="the demo stats")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_datasets_screen_import_bar(snap_compare):
    async def run_before(pilot):
        screen = pilot.app.screen
        await wait_for(pilot, lambda: "demo" in screen._stats, what="the demo stats")
        await pilot.press("i")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_train_screen_form(snap_compare):
    remember_demo()

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.ratings is not None, what="the demo")
        app.screen.set_values(**FORM)
        await settle(pilot)

    app = make_app(first_screen="train")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


SIZES = {"60x20": (60, 20), "80x24": (80, 24), "120x40": (120, 40)}


def feed_run(app, epochs: int, *, ended: bool) -> None:
    """A stand-in training run of the demo, fed to the app's handlers with fixed epoch reports
    and a fixed clock (no real durations on screen): 12 epochs at most, the last 2 on all the
    ratings; ``epochs`` of them reported; ``ended``: the run is over (stopped after them)."""
    from engine.settings import TrainConfig
    from engine.training.forecast import Forecast
    from engine.training.loop import EpochReport
    from rbm_tui.training import TrainingRun

    now = [100.0]
    cfg = TrainConfig(epochs=12, n_hidden=8, refit_share=0.2, patience=4)
    run = TrainingRun("demo", cfg, Forecast(cfg, clock=lambda: now[0]))
    app.controller.training_run = run
    losses = [0.46, 0.43, 0.41, 0.39, 0.38, 0.37, 0.365, 0.36, 0.355, 0.35, 0.33, 0.325]
    aucs = [0.61, 0.64, 0.66, 0.67, 0.68, 0.685, 0.687, 0.688, 0.689, 0.688]
    for e in range(1, epochs + 1):
        refit = e > 10
        now[0] += 2.0
        app._train_batch(msg.TrainBatch(e, 12, 7, 7))
        report = EpochReport(
            epoch=e,
            epochs=12,
            train_loss=losses[e - 1],
            val={} if refit else {"auc": aucs[e - 1], "ndcg@10": aucs[e - 1] / 3},
            seconds=2.0,
            best=not refit and e <= 9,
            cd_k=1,
            learning_rate=0.01,
            refit=refit,
        )
        app._train_epoch(msg.TrainEpoch(report))
    if ended:
        app._train_done(
            msg.TrainDone(
                path=Path("demo-20240501-120000.pt"),
                model=None,
                cancelled=epochs < 12,
                best_epoch=9 if epochs >= 9 else epochs,
                epochs_done=epochs,
                seconds=2.0 * epochs,
                dataset="demo",
            )
        )


@pytest.mark.parametrize("size", SIZES)
def test_train_screen_mid_run(snap_compare, size):
    """Epoch 6 of about 12: the chart, the progress and the time left; the form folded away
    on narrow screens."""
    remember_demo()

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.ratings is not None, what="the demo")
        app.screen.set_values(**FORM)
        feed_run(app, 6, ended=False)
        await pilot.pause()
        await settle(pilot)

    app = make_app(first_screen="train")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_train_screen_done(snap_compare, size):
    """A finished run: the best epoch marked, the refit epochs shaded and named."""
    remember_demo()

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.ratings is not None, what="the demo")
        app.screen.set_values(**FORM)
        feed_run(app, 12, ended=True)
        await pilot.pause()
        await settle(pilot)

    app = make_app(first_screen="train")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_browse_screen_without_model(snap_compare):
    remember_demo()

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.ratings is not None, what="the demo")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_browse_screen_rate_these_first(snap_compare, seeded_model_file):
    remember_demo(seeded_model_file)

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.model is not None, what="the model")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_browse_screen_with_ratings(snap_compare, seeded_model_file, size):
    """Three thumbs: the table's own thumbs, the detail of the highlighted movie, the
    recommendations with their reasons; P(like) visible at every size."""
    remember_demo(seeded_model_file)

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.model is not None, what="the model")
        await pilot.pause()
        app.screen.query_one("#movies").focus()
        await pilot.press("plus", "down", "plus", "down", "minus", "down")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=run_before)


def test_browse_screen_search_and_my_ratings(snap_compare, seeded_model_file):
    remember_demo(seeded_model_file)

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.model is not None, what="the model")
        await pilot.pause()
        await pilot.press("slash", *"the", "enter")
        await pilot.press("l", "l", "d", "m")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_models_screen(snap_compare, seeded_model_file):
    remember_demo(seeded_model_file)

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.model is not None, what="the model")
        await pilot.press("4")
        screen = app.screen
        await wait_for(pilot, lambda: bool(screen.models), what="the models list")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_models_screen_delete_confirmation(snap_compare, seeded_model_file):
    remember_demo(seeded_model_file)

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.model is not None, what="the model")
        await pilot.press("4")
        screen = app.screen
        await wait_for(pilot, lambda: bool(screen.models), what="the models list")
        await settle(pilot)  # clears the toasts of the screen under the dialog
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare):
    async def run_before(pilot):
        await pilot.pause()
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_error_dialog(snap_compare):
    async def run_before(pilot):
        await pilot.pause()
        pilot.app.show_error(
            "Cannot import bad.csv",
            "bad.csv does not load as ratings: bad.csv, line 4: the rating 'lots' is not a "
            "number (fix or delete this line)",
        )
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
