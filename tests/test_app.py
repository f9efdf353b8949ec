"""Pilot tests of the Textual app at 80x24 on the bundled demo data.

Training here is tiny (2 epochs, 8 hidden units) so that the whole file runs in seconds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import SIZE, make_app, pick_demo, rec_items, wait_for
from textual.binding import Binding
from textual.widgets import DataTable, Input, Sparkline

from rbm_tui.app import MAIN_SCREENS, RbmTuiApp
from rbm_tui.preferences import Preferences
from rbm_tui.screens.browse import BrowseScreen, MoviesTable, RecsList
from rbm_tui.screens.datasets import DatasetsScreen
from rbm_tui.screens.dialogs import ConfirmDialog, ErrorDialog, PromptDialog
from rbm_tui.screens.help import HelpScreen, help_sections
from rbm_tui.screens.models import ModelsScreen
from rbm_tui.screens.train import TrainScreen

REPO = Path(__file__).resolve().parent.parent
TINY = {"epochs": 2, "n_hidden": 8, "batch_size": 64}


async def train_tiny(pilot, **values) -> TrainScreen:
    app = pilot.app
    if app.current_mode != "train":
        await pilot.press("2")
        await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TrainScreen)
    screen.set_values(**{**TINY, **values})
    await pilot.press("ctrl+s")
    assert screen.training or screen.losses, screen.query_one("#form-error").content
    await wait_for(
        pilot,
        lambda: (not screen.training and screen.losses) or isinstance(app.screen, ErrorDialog),
        timeout=120,
        what="training to end",
    )
    assert not isinstance(app.screen, ErrorDialog), app.screen.message
    await pilot.pause()
    return screen


# --------------------------------------------------------------------------- startup
def test_importing_the_app_does_not_import_torch():
    code = (
        "import sys; import rbm_tui.app; "
        "heavy = ('torch', 'engine.training.loop', 'engine.model.storage'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_first_screen_benchmark_runs_the_app_to_its_first_screen():
    """benchmarks/bench_startup.py starts the real app in fresh processes and times its first
    screen (the app itself carries no benchmark code)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_startup.py"), "--runs", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr  # 1: slower than the limit on a busy host
    medians = [
        float(line.split("median")[1].split()[0])
        for line in proc.stdout.splitlines()
        if "median" in line
    ]
    assert len(medians) == 2 and all(0 < m < 30 for m in medians), proc.stdout


def test_every_binding_has_an_id_and_a_description():
    classes = [
        RbmTuiApp,
        *MAIN_SCREENS.values(),
        HelpScreen,
        ErrorDialog,
        ConfirmDialog,
        PromptDialog,
    ]
    for cls in classes:
        for b in cls.__dict__.get("BINDINGS", []):
            assert isinstance(b, Binding), (cls, b)
            assert b.id, (cls, b.key)
            assert b.description, (cls, b.key)


def test_help_lists_every_key():
    text = "\n".join(
        f"{k} {w}" for _, rows in help_sections(RbmTuiApp, MAIN_SCREENS) for k, w in rows
    )
    for cls in [RbmTuiApp, *MAIN_SCREENS.values()]:
        for b in cls.__dict__.get("BINDINGS", []):
            assert b.description in text, b
    for section in ("Everywhere", "Datasets", "Train", "Browse", "Models"):
        assert section in [s for s, _ in help_sections(RbmTuiApp, MAIN_SCREENS)]


async def test_first_screen_is_datasets_with_demo_offered():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DatasetsScreen)
        table = app.screen.query_one(DataTable)
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        assert key == "demo"
        names = [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)]
        for name in (
            "demo",
            "ml-100k",
            "ml-1m",
            "ml-latest-small",
            "ml-10m",
            "ml-20m",
            "ml-25m",
            "ml-32m",
        ):
            assert name in names
        await wait_for(
            pilot,
            lambda: "Users" in str(app.screen.query_one("#ds-stats").content),
            what="the demo stats",
        )
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DatasetsScreen)


# ------------------------------------------------------------------------ whole flow
async def test_whole_flow_pick_train_rate_reopen():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        assert app.dataset_name == "demo"
        assert app.current_mode == "train"  # no model yet for the demo
        screen = await train_tiny(pilot)
        assert len(screen.query_one(Sparkline).data) >= 1
        assert screen.query_one("#epochs", DataTable).row_count == 2
        assert app.model is not None and app.model_path is not None
        assert app.model_path.is_file()
        saved_model = app.model_path

        await pilot.press("3")
        await pilot.pause()
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        await wait_for(pilot, lambda: bool(browse.recs), what="recommendations")
        before = rec_items(browse)
        assert browse.p_like is not None

        table = browse.query_one(MoviesTable)
        table.focus()
        rated = []
        for key in ("plus", "l", "minus"):
            rated.append(browse.cursor_movie())
            await pilot.press(key)
        await pilot.pause()
        after = rec_items(browse)
        assert after != before
        assert not set(rated) & set(after)
        assert browse.rec_heading.startswith("Recommended for you")
        assert any("because you" in str(o.prompt) for o in browse.query_one(RecsList).options)
        mine = app.store.ratings("demo")
        ids = [app.ratings.item_ids[i].item() for i in rated]
        assert mine == {ids[0]: True, ids[1]: True, ids[2]: False}
        await pilot.press("q")

    # reopen: the demo, the model and the ratings come back
    app2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app2.current_mode == "browse"
        await wait_for(pilot, lambda: app2.model is not None, what="the model to reload")
        browse = app2.screen
        await pilot.pause()
        assert app2.model_path == saved_model
        assert app2.session.thumbs == {ids[0]: True, ids[1]: True, ids[2]: False}
        assert not set(rated) & set(rec_items(browse))
        assert browse.rec_heading.startswith("Recommended for you (3 rated)")


# --------------------------------------------------------------------------- training
async def test_training_stop_keeps_the_best_model_so_far():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        screen.set_values(epochs=500, n_hidden=8, batch_size=16, patience=0)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(screen.losses) >= 1, timeout=60, what="an epoch")
        assert screen.training
        t0 = time.monotonic()
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: not screen.training, timeout=10, what="the stop")
        stopped_after = time.monotonic() - t0
        assert stopped_after < 2.0  # within a second of work, plus saving on a busy machine
        assert app.model is not None
        assert app.model_path is not None and app.model_path.is_file()
        assert "Stopped" in str(screen.query_one("#train-state").content)
        assert screen.query_one("#start").disabled is False


async def test_training_failure_shows_a_dialog_and_the_app_keeps_running(monkeypatch):
    import engine.training.loop

    def boom(*args, **kwargs):
        raise RuntimeError("the GPU caught fire")

    monkeypatch.setattr(engine.training.loop, "train", boom)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = app.screen
        screen.set_values(**TINY)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog), what="the dialog")
        dialog = app.screen
        assert "the GPU caught fire" in dialog.message
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert not screen.training
        assert app.model is None
        assert screen.query_one("#start").disabled is False
        await pilot.press("3")  # still alive and responsive
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)


async def test_invalid_hyperparameters_are_marked_and_refused():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = app.screen
        epochs = screen.query_one("#cfg-epochs", Input)
        epochs.focus()
        epochs.value = ""
        await pilot.press("0")
        await pilot.press("x")  # not accepted by an integer field
        await pilot.pause()
        assert epochs.value == "0"
        assert epochs.has_class("-invalid")
        momentum = screen.query_one("#cfg-momentum", Input)
        momentum.value = "1.5"
        await pilot.pause()
        assert momentum.has_class("-invalid")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.training
        assert "Epochs" in str(screen.query_one("#form-error").content)
        await pilot.press("ctrl+r")  # defaults
        await pilot.pause()
        from engine.settings import TrainConfig

        assert epochs.value == str(TrainConfig().epochs)
        assert not epochs.has_class("-invalid")


# --------------------------------------------------------------------------- datasets
async def test_malformed_csv_import_shows_file_and_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("userId,movieId,rating\n1,10,4\n2,11,5\n3,12,lots\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        inp = app.screen.query_one("#import-path", Input)
        assert inp.has_focus
        inp.value = str(bad)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog), what="the dialog")
        text = app.screen.message
        assert "bad.csv" in text
        assert "line 4" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DatasetsScreen)
        assert inp.has_focus  # to fix the path
        await pilot.press("escape")  # closes the import bar
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)


async def test_import_a_good_csv_then_use_it(tmp_path):
    good = tmp_path / "mine" / "ratings.csv"
    good.parent.mkdir()
    rows = ["userId,movieId,rating"] + [
        f"{u},{m},{(u + m) % 5 + 1}" for u in range(1, 30) for m in range(1, 20)
    ]
    good.write_text("\n".join(rows) + "\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        app.screen.query_one("#import-path", Input).value = str(good)
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: "mine" in screen._infos, what="the import")
        await pilot.pause()
        assert screen._highlighted == "mine"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.dataset_name == "mine", what="the dataset")
        assert app.ratings.n_ratings == 29 * 19


async def test_dataset_that_fails_to_load_keeps_the_app_running():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.use_dataset("/nonexistent/ratings.csv")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog), what="the dialog")
        assert "nonexistent" in app.screen.message
        await pilot.press("enter")
        await pilot.pause()
        assert app.ratings is None
        assert app.loading_dataset is None


async def test_download_progress_and_cancel(monkeypatch):
    import engine.catalogue as ds
    from engine.errors import DownloadCancelled

    def fake_download(name, progress=None, cancel=None, **kw):
        total = 1000
        for done in range(0, total, 10):
            if cancel():
                raise DownloadCancelled(f"download of {name} cancelled")
            progress(done, total)
            time.sleep(0.01)
        raise AssertionError("not cancelled")

    monkeypatch.setattr(ds, "download", fake_download)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("ml-100k"))
        await pilot.pause()
        await pilot.press("d")
        bar = screen.query_one("#download-progress")
        await wait_for(pilot, lambda: (bar.progress or 0) > 0, what="progress")
        assert not screen.query_one("#download-box").has_class("hidden")
        await pilot.press("x")
        await wait_for(pilot, lambda: screen._downloading is None, what="the cancel")
        assert screen.query_one("#download-box").has_class("hidden")
        assert not ds.is_on_disk("ml-100k")


async def test_last_dataset_is_remembered():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
    assert Preferences.load().dataset == "demo"


# ----------------------------------------------------------------------------- browse
@pytest.fixture
def with_model(seeded_model_file, rbm_home):
    """The demo chosen and a seeded tiny model active, as if trained before."""
    import shutil

    from engine import paths

    target = paths.models_dir() / "demo-seeded.pt"
    shutil.copy(seeded_model_file, target)
    s = Preferences(dataset="demo", models={"demo": str(target)})
    s.save()
    return target


async def open_browse(pilot) -> BrowseScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.model is not None, what="the model")
    screen = app.screen
    assert isinstance(screen, BrowseScreen)
    await wait_for(pilot, lambda: screen.p_like is not None, what="scores")
    await pilot.pause()
    return screen


async def test_no_ratings_shows_popular_movies_to_rate_first(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        assert screen.rec_heading.startswith("Rate these first")
        assert len(screen.recs) == 6


async def test_rating_updates_scores_and_recommendations_in_place(with_model):
    """Each rating key refolds the thumbs: the P(like) cells and the panel change, the table's
    rows stay as they were (updated in place, never rebuilt). Its speed is measured by
    benchmarks/bench_keypress.py, not here."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        table = screen.query_one(MoviesTable)
        table.focus()
        rows_before = list(screen.rows)
        seen = [(screen.p_like.copy(), rec_items(screen))]
        for key in ("plus", "minus", "l", "d", "0", "z"):
            await pilot.press(key)
            await pilot.pause()
            seen.append((screen.p_like.copy(), rec_items(screen)))
        assert screen.rows == rows_before  # no rebuild, rows updated in place
        changed = [not np.allclose(a[0], b[0]) for a, b in zip(seen, seen[1:])]
        assert all(changed[:4]), changed  # four new thumbs: four new sets of scores
        assert seen[1][1] != seen[0][1]  # the first like makes the list personal
        # +, -, l, d on four rows (the cursor moves down after each); 0 on the fifth clears
        # nothing; z undoes the last thumb
        assert len(app.session.thumbs) == 3


async def test_undo_and_clear(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        screen.query_one(MoviesTable).focus()
        first = screen.cursor_movie()
        item = app.ratings.item_ids[first].item()
        await pilot.press("l")
        assert app.store.ratings("demo") == {item: True}
        await pilot.press("z")
        assert app.store.ratings("demo") == {}
        assert screen.cursor_movie() == first
        await pilot.press("minus")
        assert app.store.ratings("demo") == {item: False}
        screen.query_one(MoviesTable).move_cursor(row=0)
        await pilot.press("0")
        assert app.store.ratings("demo") == {}


async def test_search_genre_sort_and_my_ratings(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        n_all = len(screen.rows)
        await pilot.press("slash")
        assert screen.query_one("#search", Input).has_focus
        await pilot.press(*"star")
        await pilot.pause()
        assert 0 < len(screen.rows) < n_all
        assert all("star" in screen.full_titles[i].lower() for i in screen.rows)
        await pilot.press("escape")
        assert screen.query_one(MoviesTable).has_focus
        screen.query_one("#search", Input).value = ""
        await pilot.pause()
        assert len(screen.rows) == n_all
        from textual.widgets import Select

        screen.query_one("#genre", Select).value = "Western"
        await pilot.pause()
        assert screen.rows and all("Western" in screen.genre_lists[i] for i in screen.rows)
        assert all("Western" in screen.genre_lists[i] for i in rec_items(screen))
        screen.query_one("#genre", Select).value = ""
        await pilot.pause()
        screen.query_one(MoviesTable).focus()
        await pilot.press("s")  # most rated -> P(like)
        p = [screen.p_like[i] for i in screen.rows]
        assert p == sorted(p, reverse=True)
        await pilot.press("s")  # -> title
        titles = [screen.titles_lower.iat[i] for i in screen.rows]
        assert titles == sorted(titles)
        await pilot.press("l")
        await pilot.press("m")
        assert screen.mine_only and len(screen.rows) == 1
        await pilot.press("m")
        assert len(screen.rows) == n_all


async def test_rating_a_recommendation_from_the_panel(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        recs = screen.query_one(RecsList)
        recs.focus()
        recs.highlighted = 0
        await pilot.pause()
        target = screen.recs[0][0]
        await pilot.press("plus")
        assert app.store.ratings("demo") == {app.ratings.item_ids[target].item(): True}
        assert target not in rec_items(screen)


async def test_export_ratings(with_model, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        screen.query_one(MoviesTable).focus()
        await pilot.press("l")
        out = tmp_path / "out.csv"
        app.action_export_ratings()
        await pilot.pause()
        assert isinstance(app.screen, PromptDialog)
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        await pilot.pause()
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("movieId,title,liked")
        assert len(lines) == 2


async def test_command_palette_switches_theme_and_it_is_remembered(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Theme: nord")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "nord", what="the theme")
    assert Preferences.load().theme == "nord"
    app2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app2.theme == "nord"


# ----------------------------------------------------------------------------- models
async def test_models_screen_load_rename_delete(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        await wait_for(pilot, lambda: bool(screen.models), what="the list")
        assert "demo-seeded" in str(screen.query_one("#model-detail").content)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, PromptDialog)
        app.screen.query_one(Input).value = "my-model"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: screen.models and screen.models[0].name == "my-model", what="the rename"
        )
        assert app.model_path.name == "my-model.pt"
        assert Path(Preferences.load().models["demo"]).name == "my-model.pt"
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert screen.models
        await pilot.press("x")
        await pilot.press("y")
        await wait_for(pilot, lambda: not screen.models, what="the delete")
        assert app.model is None
        assert "demo" not in Preferences.load().models


async def test_remembered_dataset_gone_offers_the_catalogue():
    Preferences(dataset="ml-100k").save()  # remembered, but not on disk here
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.current_mode == "datasets", what="the catalogue")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorDialog)
        assert app.ratings is None


async def test_quit_during_training_leaves_only_whole_models():
    """``q`` mid-run stops the training within a batch and keeps the best epoch so far: one
    model file, whole (it loads), and no temporary file beside it."""
    from engine import paths
    from engine.model.storage import load_model

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = app.screen
        screen.set_values(epochs=500, n_hidden=8, batch_size=16, patience=0)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(screen.losses) >= 1, timeout=60, what="an epoch")
        t0 = time.monotonic()
        screen.query_one("#stop").blur()
        await pilot.press("q")
    assert time.monotonic() - t0 < 10
    deadline = time.monotonic() + 30  # the worker thread ends its batch, then saves
    while not list(paths.models_dir().glob("*.pt")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    files = sorted(paths.models_dir().iterdir())
    assert [p.suffix for p in files] == [".pt"], files
    model = load_model(files[0], device="cpu")
    assert 1 <= len(model.meta["history"]) < 500


async def test_cuda_is_offered_when_present(monkeypatch):
    """With a CUDA device present, the device check offers it and a run can ask for it."""
    import torch
    from textual.widgets import Select

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Test GPU")
    app = make_app(first_screen="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "CUDA: Test GPU" in str(screen.query_one("#device-info").content)
        select = screen.query_one("#cfg-device", Select)
        select.value = "cuda"  # refused (InvalidSelectValueError) if it were not offered
        await pilot.pause()
        assert screen.read_config().device == "cuda"
