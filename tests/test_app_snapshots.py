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
from textual.widgets import DataTable, Input

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


def test_train_screen_after_training(snap_compare):
    """The live widgets, fed fixed epoch reports (no real durations on screen)."""
    remember_demo()

    async def run_before(pilot):
        from engine.training.loop import EpochReport

        app = pilot.app
        await wait_for(pilot, lambda: app.ratings is not None, what="the demo")
        screen = app.screen
        screen.set_values(**{**FORM, "epochs": 4, "n_hidden": 8})
        screen.training = True
        screen._set_form_enabled(False)
        losses = [0.46, 0.41, 0.38, 0.37]
        aucs = [0.61, 0.66, 0.69, 0.68]
        for e, (loss, auc) in enumerate(zip(losses, aucs), 1):
            for b in (1, 7):
                screen.post_message(msg.TrainBatch(e, 4, b, 7))
            report = EpochReport(
                epoch=e,
                epochs=4,
                train_loss=loss,
                val={"auc": auc, "ndcg@10": auc / 4, "logloss": 0.6},
                seconds=1.0,
                best=e <= 3,
                cd_k=1,
                learning_rate=0.01,
            )
            screen.post_message(msg.TrainEpoch(report))
        screen.post_message(
            msg.TrainDone(
                path=Path("demo-20240501-120000.pt"),
                model=None,
                cancelled=False,
                best_epoch=3,
                epochs_done=4,
                seconds=4.0,
                dataset="another",  # do not activate the stand-in model
            )
        )
        await pilot.pause()
        await settle(pilot)

    app = make_app(first_screen="train")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


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


def test_browse_screen_with_ratings(snap_compare, seeded_model_file):
    remember_demo(seeded_model_file)

    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.model is not None, what="the model")
        await pilot.pause()
        app.screen.query_one(DataTable).focus()
        await pilot.press("plus", "plus", "minus")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


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
