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
from helpers import SIZE, make_app, pick_demo, rec_items, wait_for, write_dataset
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label

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
    assert app.training_run is not None, screen.query_one("#form-error").content
    await wait_for(
        pilot,
        lambda: app.training_run.ended or isinstance(app.screen, ErrorDialog),
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


@pytest.mark.slow
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


def test_help_names_the_two_numbers_as_browse_shows_them():
    numbers = dict(dict(help_sections(RbmTuiApp, MAIN_SCREENS))["The numbers"])
    assert set(numbers) == {"Match", "P(like)"}
    assert "sort" in numbers["Match"] and "P(like)" in numbers["Match"]


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
@pytest.mark.slow
async def test_whole_flow_pick_train_rate_reopen():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        assert app.dataset_name == "demo"
        assert app.current_mode == "train"  # no model yet for the demo
        screen = await train_tiny(pilot)
        assert screen.query_one("#train-chart").series[0].points
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
            await pilot.press(key, "down")
        await pilot.pause()
        after = rec_items(browse)
        assert after != before
        assert not set(rated) & set(after)
        assert browse.rec_heading.startswith("Recommended for you")
        liked_titles = {browse.titles[i] for i in rated[:2]}
        for option in browse.query_one(RecsList).options:  # a reason is always a liked movie
            text = str(option.prompt)
            if "because you liked" in text:
                assert any(t[:10] in text.split("because you liked")[1] for t in liked_titles)
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
@pytest.mark.slow
async def test_a_run_is_named_before_it_starts_and_an_identical_run_is_not_saved_twice():
    """The name typed is the saved file's; a bad or taken name is refused before training;
    a second run with the same data, settings and seed saves nothing and makes the kept
    model active."""
    from engine import paths

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        name = screen.query_one("#run-name", Input)
        name.value = "bad name!"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.training_run is None
        assert "Model name" in str(screen.query_one("#form-error").content)
        name.value = "first-try"
        await train_tiny(pilot)
        first = paths.models_dir() / "first-try.pt"
        assert app.model_path == first and first.is_file()

        name.value = "first-try"  # taken
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.training_run.ended and "exists" in str(screen.query_one("#form-error").content)

        name.value = ""
        await train_tiny(pilot)  # the same settings and seed again
        assert sorted(p.name for p in paths.models_dir().glob("*.pt")) == ["first-try.pt"]
        assert "Nothing trained" in str(screen.query_one("#train-state").content)
        assert app.model_path == first

        await train_tiny(pilot, seed=7)  # another seed: another model
        assert len(list(paths.models_dir().glob("*.pt"))) == 2

        name.value = "keep-this"  # the same settings, but a name typed: a model of that name
        await train_tiny(pilot, seed=7)
        assert (paths.models_dir() / "keep-this.pt").is_file()
        assert app.model_path == paths.models_dir() / "keep-this.pt"


@pytest.mark.slow
async def test_a_run_that_ends_while_another_screen_shows_is_drawn_as_ended():
    """Train, go to Browse while the run goes on, come back after it ended: the state line
    says how it ended, not the last "Training: epoch ..." line it drew."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        screen.set_values(epochs=6, n_hidden=8, batch_size=16, patience=0)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.training_run.history) >= 1, what="an epoch")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.training_run.ended, timeout=120, what="the end")
        await pilot.press("2")
        await pilot.pause()
        state = str(screen.query_one("#train-state").content)
        assert state.startswith("Done after 6 epochs") and "now active" in state, state
        bar = screen.query_one("#train-progress")
        assert bar.progress == bar.total


async def start_long_run(pilot) -> TrainScreen:
    """On Train, a run of 500 epochs that will not end by itself; one epoch done."""
    app = pilot.app
    screen = app.screen
    assert isinstance(screen, TrainScreen)
    screen.set_values(epochs=500, n_hidden=8, batch_size=16, patience=0)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: len(app.training_run.history) >= 1, timeout=60, what="an epoch")
    assert app.training
    return screen


@pytest.mark.slow
async def test_browse_says_a_model_is_training_while_the_first_one_trains():
    """The recommendations' heading said "no model yet: 2 to train one" while the bar at the
    top said training 62%."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        assert app.model is None
        await start_long_run(pilot)
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        assert "a model is training" in screen.rec_heading, screen.rec_heading
        app.training_run.cancel.set()
        await wait_for(pilot, lambda: not app.training, timeout=30, what="the stop")
        await pilot.pause()
        assert "training" not in screen.rec_heading, screen.rec_heading


@pytest.mark.slow
async def test_training_stop_asks_then_keeps_the_model_so_far():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = await start_long_run(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)  # stop asks first
        await pilot.press("n")
        await pilot.pause()
        assert app.training and not app.training_run.stopping
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.training, timeout=20, what="the stop")
        assert app.model is not None  # no model was active: the stopped run's becomes it
        assert app.model_path is not None and app.model_path.is_file()
        assert "Stopped" in str(screen.query_one("#train-state").content)
        assert screen.query_one("#start").disabled is False


@pytest.mark.slow
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
        assert not app.training
        assert app.model is None
        assert screen.query_one("#start").disabled is False
        await pilot.press("3")  # still alive and responsive
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)


@pytest.mark.slow
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
        assert app.training_run is None
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


async def test_importing_under_a_name_on_disk_asks_before_replacing(tmp_path):
    from engine import catalogue

    first = tmp_path / "mine" / "ratings.csv"
    first.parent.mkdir()
    first.write_text("userId,movieId,rating\n1,10,4\n2,10,2\n", encoding="utf-8")
    catalogue.import_dataset(first)
    again = tmp_path / "other" / "mine" / "ratings.csv"
    again.parent.mkdir(parents=True)
    again.write_text("userId,movieId,rating\n1,10,4\n2,10,2\n3,11,5\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for answer, ratings in (("n", 2), ("y", 3)):
            await pilot.press("i")
            app.screen.query_one("#import-path", Input).value = str(again)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the ask")
            await pilot.press(answer)
            await wait_for(pilot, lambda: not app.workers, what="the import")
            await pilot.pause()
            from engine.data.loaders import load_ratings

            assert load_ratings(catalogue.resolve("mine"), cache=False).n_ratings == ratings


async def test_notifications_do_not_cover_the_import_path_or_the_epochs():
    from textual.widgets._toast import Toast

    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("i")
        await pilot.pause()
        app.notify("a long notification that takes a few lines " * 3, timeout=30)
        await pilot.pause()
        toasts = list(app.screen.query(Toast))
        assert toasts
        path = app.screen.query_one("#import-path").region
        assert all(not t.region.overlaps(path) for t in toasts)
        assert all(t.region.bottom <= SIZE[1] // 2 for t in toasts)  # at the top, not on
        # the bottom rows where the Train screen shows its newest epochs


async def test_stats_and_form_errors_are_whole_on_small_terminals():
    """60x20: the demo's figures one a line in the narrow detail pane, none split; 80x24: a
    form error wraps inside the form instead of running under its border."""
    app = make_app(first_screen="datasets")
    async with app.run_test(size=(60, 20)) as pilot:
        stats = app.screen.query_one("#ds-stats")
        await wait_for(pilot, lambda: "Ratings" in str(stats.content), what="the stats")
        lines = str(stats.content).splitlines()
        assert "Ratings  17,422" in lines and "Users    400" in lines
        assert max(map(len, lines)) <= stats.content_size.width
    app = make_app(first_screen="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.set_values(learning_rate=-1)
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = app.screen.query_one("#form-error")
        assert "use a value in" in str(error.content)
        assert error.size.height >= 2
        assert error.region.right <= app.screen.query_one("#train-form").region.right


async def test_a_form_error_is_said_where_a_short_terminal_shows_it():
    """60x20: the line under the form is scrolled out of view, so the toast says it too."""
    from textual.widgets._toast import Toast

    app = make_app(first_screen="train")
    async with app.run_test(size=(60, 20), notifications=True) as pilot:
        await pilot.pause()
        app.screen.set_values(epochs=0)
        await pilot.press("ctrl+s")
        await pilot.pause()
        toasts = [str(t.render()) for t in app.screen.query(Toast)]
        assert any("Epochs" in t and "out of range" in t for t in toasts), toasts


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


def fake_download(monkeypatch) -> dict:
    """engine.catalogue.download replaced by a slow one that only a cancel ends; the dict
    says whether it was cancelled."""
    import engine.catalogue as ds
    from engine.errors import DownloadCancelled

    seen = {"cancelled": False}

    def download(name, progress=None, cancel=None, **kw):
        for done in range(1000):
            if cancel():
                seen["cancelled"] = True
                raise DownloadCancelled(f"download of {name} cancelled")
            progress(done, 1000)
            time.sleep(0.01)
        raise AssertionError("not cancelled")

    monkeypatch.setattr(ds, "download", download)
    return seen


async def start_download(pilot, name: str = "ml-100k"):
    """On Datasets: ``d`` on ``name``, until its progress bar moves; returns the screen."""
    await pilot.pause()
    screen = pilot.app.screen
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()
    await pilot.press("d")
    bar = screen.query_one("#download-progress")
    await wait_for(pilot, lambda: (bar.progress or 0) > 0, what="progress")
    return screen


async def test_download_progress_and_cancel(monkeypatch):
    import engine.catalogue as ds

    fake_download(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_download(pilot)
        assert not screen.query_one("#download-box").has_class("hidden")
        await pilot.press("x")
        await wait_for(pilot, lambda: screen._downloading is None, what="the cancel")
        assert screen.query_one("#download-box").has_class("hidden")
        assert not ds.is_on_disk("ml-100k")


async def test_quitting_during_a_download_asks_then_cancels_it(monkeypatch):
    """``q`` mid-download asks; yes quits and cancels the download (its thread would keep
    the process alive until the whole file came)."""
    seen = fake_download(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_download(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and app.is_running
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running, timeout=30, what="the quit")
    deadline = time.monotonic() + 5
    while not seen["cancelled"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen["cancelled"]


async def test_last_dataset_is_remembered():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
    assert Preferences.load().dataset == "demo"


# ----------------------------------------------------------------------------- browse
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
    benchmarks/bench_browse.py, not here."""
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
            if key in ("plus", "minus", "l"):
                await pilot.press("down")  # the cursor stays on the rated movie until moved
        assert screen.rows == rows_before  # no rebuild, rows updated in place
        changed = [not np.allclose(a[0], b[0]) for a, b in zip(seen, seen[1:])]
        assert all(changed[:5]), changed  # four thumbs and a clear: five new sets of scores
        assert seen[1][1] != seen[0][1]  # the first like makes the list personal
        # +, -, l, d on four rows; 0 clears the fourth; z undoes the clear
        assert len(app.session.thumbs) == 4
        assert screen.cursor_movie() == rows_before[3]


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
        label = screen.query_one("#view-label", Label)
        assert str(label.content).startswith(f"{len(screen.rows)} movies ·")
        await pilot.press(*"shank")  # "starshank": none
        await pilot.pause()
        assert str(label.content).startswith("0 movies ·")
        screen.query_one("#search", Input).value = "shawshank"
        await pilot.pause()
        assert len(screen.rows) == 1 and str(label.content).startswith("1 movie ·")
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
        await pilot.press("s")  # most rated -> match
        m = [app.session.match[i] for i in screen.rows]
        assert m == sorted(m, reverse=True)
        await pilot.press("s")  # -> P(like)
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


async def test_search_enter_goes_to_the_match_and_keys_rate_again(with_model):
    """While the search box has focus, + and - are typed (the footer does not offer rating);
    Enter returns to the list on the first match, where the keys rate again."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        await pilot.press("slash")
        assert not screen.check_action("rate", (True,))
        await pilot.press(*"star", "plus")
        assert screen.query_one("#search", Input).value == "star+"
        assert app.store.ratings("demo") == {}
        await pilot.press("backspace", "enter")
        await pilot.pause()
        table = screen.query_one(MoviesTable)
        assert table.has_focus and table.cursor_row == 0
        first = screen.cursor_movie()
        assert "star" in screen.full_titles[first].lower()
        await pilot.press("plus")
        assert app.store.ratings("demo") == {app.ratings.item_ids[first].item(): True}
        await pilot.press("slash", "escape")
        assert screen.query_one("#search", Input).value == "" and table.has_focus


async def test_genre_picker_types_to_search_and_the_panel_says_it_filters(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"sci", "enter")
        await pilot.pause()
        assert screen.genre == "Sci-Fi"
        assert screen.query_one(MoviesTable).has_focus
        assert screen.rows and all("Sci-Fi" in screen.genre_lists[i] for i in screen.rows)
        assert "Sci-Fi only" in screen.rec_heading


async def test_help_on_browse_at_80x24_shows_the_rating_keys_without_scrolling(with_model):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_browse(pilot)
        await pilot.press("3", "question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        scroll = help_screen.query_one("#help-scroll")
        first_title = help_screen.query(".help-section").first()
        rows = help_screen.query(".help-rows").first()
        assert "Browse" in str(first_title.render())
        text = str(rows.render())
        assert "Like" in text and "Dislike" in text
        assert scroll.scroll_y == 0
        assert rows.region.bottom <= scroll.region.bottom  # all of Browse's keys in view


# --------------------------------------------------------------- planted-taste profiles
def _genre_movies(ratings, genre: str, avoid: str, n: int) -> list[int]:
    """The ``n`` most-rated movies (dataset indices) of ``genre`` that are not ``avoid``."""
    genres = ratings.movies["genres"].astype(str)
    ok = genres.str.contains(genre, regex=False) & ~genres.str.contains(avoid, regex=False)
    counts = ratings.item_counts()
    idx = np.nonzero(ok.to_numpy())[0]
    return idx[np.argsort(-counts[idx], kind="stable")][:n].tolist()


@pytest.fixture
def with_demo_model(demo_model_file, rbm_home):
    """The demo chosen and a demo model trained with the default settings active."""
    import shutil

    from engine import paths

    target = paths.models_dir() / "demo-default.pt"
    shutil.copy(demo_model_file, target)
    Preferences(dataset="demo", models={"demo": str(target)}).save()
    return target


@pytest.mark.slow
@pytest.mark.parametrize("likes,dislikes", [("Romance", "Sci-Fi"), ("Sci-Fi", "Romance")])
async def test_planted_tastes_get_their_own_sorted_list_with_liked_reasons(
    with_demo_model, likes, dislikes
):
    """A person who liked five movies of one genre and disliked five of another: the list is
    sorted by the number it shows and every reason is a like; P(like) leans to the liked
    genre, and the list shows more of it than the list of the person with opposite tastes.

    (The list is sorted by the match, and the movie-to-movie part of the seen log-odds
    counts a dislike as a movie seen: it can lift movies like the disliked ones, so the list is
    compared with the opposite person's, not the disliked genre's count with the liked one's.
    Measured on the default demo model, seeds 0-4: the P(like) lean 0.07-0.14; in the top 10
    the liked genre 1-3 times against 0 in the opposite person's.)"""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_browse(pilot)
        liked = _genre_movies(app.ratings, likes, dislikes, 5)
        disliked = _genre_movies(app.ratings, dislikes, likes, 5)
        for i in liked:
            app.session.rate(i, True)
        for i in disliked:
            app.session.rate(i, False)
        screen.rescore()
        await pilot.pause()
        assert screen.rec_heading.startswith("Recommended for you (10 rated)")
        shown = [m for _, m in screen.recs]
        assert len(shown) >= 10 and shown == sorted(shown, reverse=True)
        numbers = [
            int(str(o.prompt).split("%")[0].split()[-1].lstrip("<"))
            for o in screen.query_one(RecsList).options
        ]
        assert numbers == sorted(numbers, reverse=True)  # what the eye reads agrees too
        liked_titles = {screen.titles[i] for i in liked}
        prompts = [str(o.prompt) for o in screen.query_one(RecsList).options]
        reasons = [p.split("because you liked ")[1].rstrip(" …") for p in prompts if "because" in p]
        assert reasons, prompts
        for reason in reasons:  # (the panel may cut a long title short)
            assert any(t.startswith(reason) for t in liked_titles), (reason, liked_titles)
        # P(like) of the movies not rated: the liked genre's above the disliked genre's
        genres = app.ratings.movies["genres"].astype(str)
        has_genre = lambda g: genres.str.contains(g, regex=False).to_numpy()  # noqa: E731
        only = lambda g, h: has_genre(g) & ~has_genre(h)  # noqa: E731
        unrated = np.ones(app.ratings.n_items, bool)
        unrated[liked + disliked] = False
        p = screen.p_like
        lean = np.nanmean(p[only(likes, dislikes) & unrated])
        lean -= np.nanmean(p[only(dislikes, likes) & unrated])
        assert lean > 0.04, lean
        # the list: more of the liked genre than in the opposite person's list
        from engine.session import Session

        opposite = Session(app.ratings, model=app.model)
        for i in liked:
            opposite.rate(i, False)
        for i in disliked:
            opposite.rate(i, True)
        theirs = [pick.index for pick in opposite.recommendations(10).picks]
        top = rec_items(screen)[:10]
        has = lambda g, items: sum(g in screen.genre_lists[i] for i in items)  # noqa: E731
        assert has(likes, top) > has(likes, theirs), (
            [screen.full_titles[i] for i in top],
            [screen.full_titles[i] for i in theirs],
        )


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


async def test_models_screen_rename_keeps_the_cursor_and_the_active_model_warns(with_model):
    """After a rename the cursor stays on the renamed model (the next Enter loads it);
    deleting the active model gets its own warning; the validation score is explained."""
    import os
    import shutil

    older = with_model.with_name("demo-older.pt")
    shutil.copy(with_model, older)
    os.utime(older, (1_000_000_000, 1_000_000_000))  # listed after the active one
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        await wait_for(pilot, lambda: len(screen.models) == 2, what="the list")
        detail = str(screen.query_one("#model-detail").content)
        assert "score 0." in detail and "held out, higher is better" in detail
        await pilot.press("down")
        assert screen.cursor_model().name == "demo-older"
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(Input).value = "zz-renamed"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: any(m.name == "zz-renamed" for m in screen.models), what="the rename"
        )
        await pilot.pause()
        assert screen.cursor_model().name == "zz-renamed"
        assert app.model_path == with_model  # the active model did not change

        await pilot.press("up")
        assert screen.cursor_model().path == app.model_path
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "ACTIVE" in app.screen.title_text and "no scores" in app.screen.question
        await pilot.press("n")
        await pilot.press("down", "x")
        await pilot.pause()
        assert "ACTIVE" not in app.screen.title_text
        assert app.screen.title_text == "Delete model"
        await pilot.press("n")
        # the active model of another dataset: its own warning too (it was a plain delete)
        app.prefs.set_active_model("ml-100k", screen.cursor_model().path)
        await pilot.press("x")
        await pilot.pause()
        assert app.screen.title_text == "Delete an active model"
        assert "active model of ml-100k" in app.screen.question
        await pilot.press("n")


async def test_models_screen_prunes_all_but_the_newest_and_the_active(with_model):
    import os
    import shutil

    for n in range(5):  # older copies: demo-old-0 the oldest
        copy = with_model.with_name(f"demo-old-{n}.pt")
        shutil.copy(with_model, copy)
        os.utime(copy, (1_000_000_000 + n, 1_000_000_000 + n))
    os.utime(with_model, (999_999_000, 999_999_000))  # the active model is the oldest
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        await pilot.press("4")
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.models) == 6, what="the list")
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await wait_for(pilot, lambda: len(screen.models) == 4, what="the prune")
        names = sorted(m.name for m in screen.models)
        assert names == ["demo-old-2", "demo-old-3", "demo-old-4", "demo-seeded"]
        assert app.model_path == with_model
        await pilot.press("p")  # nothing more to prune
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)


async def test_models_screen_draws_the_curve_and_the_calibration_picture(with_model):
    """The highlighted model's validation curve (its saved history) and its calibration
    picture (observed like rate per band of predicted P(like), as saved at calibration)."""
    import json

    import torch

    from rbm_tui.widgets.calibration import CalibrationPicture
    from rbm_tui.widgets.chart import TrainingChart

    header = json.loads(torch.load(with_model, weights_only=True)["header"])
    table = header["meta"]["reliability"]
    assert len(table) == 10 and sum(n for _, _, n in table) > 0
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        await pilot.press("4")
        screen = app.screen
        await wait_for(pilot, lambda: bool(screen.models), what="the list")
        await pilot.pause()
        curve = screen.query_one("#model-curve", TrainingChart)
        # 2 epochs: the first with a validation split, the second on all ratings (no scores)
        assert [h["refit"] for h in header["meta"]["history"]] == [False, True]
        assert [len(s.points) for s in curve.series] == [2, 1, 1]  # loss, val AUC, val nDCG
        picture = screen.query_one("#model-calibration", CalibrationPicture)
        bands = picture.rows()
        assert bands and len(bands) == sum(1 for *_, n in table if n > 0)
        lines = picture.render_lines_text(40)
        assert len(lines) == 1 + len(bands) and "┃" in str(lines[1])


async def test_remembered_dataset_gone_offers_the_catalogue():
    Preferences(dataset="ml-100k").save()  # remembered, but not on disk here
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.current_mode == "datasets", what="the catalogue")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorDialog)
        assert app.ratings is None


async def ask_to_quit_mid_run(pilot) -> None:
    """The demo, a long run one epoch in, then ``q``: "Quit while training?" is open."""
    await pick_demo(pilot)
    await start_long_run(pilot)
    await pilot.press("q")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConfirmDialog) and pilot.app.is_running


@pytest.mark.slow
async def test_quit_during_training_asks_then_leaves_only_whole_models():
    """``q`` mid-run asks first; yes stops the run within a batch, saves its best epoch so
    far (one model file, whole: it loads, no temporary file beside it), then quits."""
    from engine import paths
    from engine.model.storage import load_model

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask_to_quit_mid_run(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert app.training
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running, timeout=30, what="the quit")
    files = sorted(paths.models_dir().iterdir())
    assert [p.suffix for p in files] == [".pt"], files
    model = load_model(files[0], device="cpu")
    assert 1 <= len(model.meta["history"]) < 500


async def test_yes_to_quit_after_the_run_ended_quits_at_once():
    """The run ends while "Quit while training?" is open: yes quits now, and no leftover
    wish to quit ends the app when a later run ends."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask_to_quit_mid_run(pilot)
        app.stop_training()
        await wait_for(pilot, lambda: not app.training, timeout=30, what="the stop")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running, timeout=10, what="the quit")


@pytest.mark.slow
async def test_enter_right_after_start_does_not_stop_training():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        screen = app.screen
        screen.set_values(epochs=500, n_hidden=8, batch_size=16, patience=0)
        screen.query_one("#start").focus()
        await pilot.press("enter")  # starts (the Start button)
        await pilot.pause()
        assert app.training
        for _ in range(3):
            await pilot.press("enter")
            await pilot.pause()
        assert app.training and not app.training_run.stopping
        assert not isinstance(app.screen, ConfirmDialog)
        app.stop_training()
        await wait_for(pilot, lambda: not app.training, timeout=30, what="the stop")


@pytest.mark.slow
async def test_a_stopped_run_scoring_worse_does_not_replace_the_active_model(with_model):
    """A stopped run's model is saved; it becomes active only if its validation score beats
    the active model's."""
    from engine.model.storage import load_model

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model is not None, what="the model")
        active = app.model_path
        app.model.meta["val_metrics"] = {"auc": 0.99, "ndcg@10": 0.99}  # unbeatable
        await pilot.press("2")
        await pilot.pause()
        await start_long_run(pilot)
        app.stop_training()
        await wait_for(pilot, lambda: not app.training, timeout=30, what="the stop")
        assert app.model_path == active
        saved = [p for p in app.model_path.parent.glob("*.pt") if p != active]
        assert len(saved) == 1 and load_model(saved[0], device="cpu")
        assert "not made active" in str(app.screen.query_one("#train-state").content)
        await pilot.pause()  # the screen redrawn as no longer training (it kept saying so)
        assert "Training on" not in str(app.screen.query_one("#train-dataset").content)
        assert app.screen.query_one("#train-chart").epochs == len(app.training_run.history)


@pytest.mark.slow
async def test_switching_dataset_during_training_is_refused():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pick_demo(pilot)
        await start_long_run(pilot)
        app.use_dataset("ml-100k")
        await pilot.pause()
        assert app.dataset_name == "demo" and app.loading_dataset is None
        assert "training" in app.status_line()  # every screen's bar says it
        await pilot.press("3")
        await pilot.pause()
        assert "training" in str(app.screen.query_one("NavBar").content)
        app.stop_training()
        await wait_for(pilot, lambda: not app.training, timeout=30, what="the stop")


@pytest.mark.slow
async def test_the_chart_draws_the_epochs_with_the_refit_band_named():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pick_demo(pilot)
        from engine.settings import TrainConfig

        assert TrainConfig(epochs=7).refit_epochs == 4  # 70 % of 7: epochs 4-7 on all ratings
        screen = await train_tiny(pilot, epochs=7, patience=0)
        chart = screen.query_one("#train-chart")
        assert chart.refit_from == 4 and chart.best is not None and chart.best <= 3
        text = "\n".join(line.plain for line in chart.render_lines_text(120, 14))
        assert "on all ratings, not validated" in text and "best epoch" in text
        assert any("\u2801" <= ch <= "\u28ff" for ch in text)  # points drawn (braille dots)
        # each series with its latest value (the one y axis serves the three)
        last = screen.rbm.training_run.history
        loss, val = last[-1].train_loss, last[2].val
        assert f"━ loss {loss:.3f}  ━ val AUC {val['auc']:.3f}  ━ val nDCG@10" in text
        # Narrower, the legend shortens its words, then leaves out whole entries at its end.
        best = f"best {chart.best}"
        legend = {w: chart.render_lines_text(w, 14)[-1].plain for w in (64, 50, 30)}
        series = f"━ loss {loss:.2f} ━ AUC {val['auc']:.2f} ━ nDCG@10 {val['ndcg@10']:.2f}"
        assert legend[64] == f"{series} ▲ {best}    all ratings"
        assert legend[50] == f"{series} ▲ {best}"
        assert legend[30] == f"━ loss {loss:.2f} ━ AUC {val['auc']:.2f}"


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


async def test_a_model_still_loading_when_the_dataset_changes_is_dropped(with_model, tmp_path,
                                                                         monkeypatch):  # fmt: skip
    """Enter on Models, then another dataset before the file is read: the demo model must not
    become the other dataset's active model (nor be remembered for it)."""
    import engine.model.storage as storage

    other = str(write_dataset(tmp_path / "other"))
    slow = storage.load_model

    def slow_load(*args, **kwargs):
        time.sleep(1.0)
        return slow(*args, **kwargs)

    monkeypatch.setattr(storage, "load_model", slow_load)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model is not None, timeout=30, what="the model")
        app.controller.load_model(with_model)
        app.use_dataset(other, show=None)
        await wait_for(pilot, lambda: app.dataset_name == other, what="the other dataset")
        await pilot.pause(1.5)
        await wait_for(pilot, lambda: not app.workers, timeout=30, what="the load")
        await pilot.pause()
        assert app.model is None and app.loading_model is None
        assert other not in app.prefs.models


async def test_q_on_a_first_run_quits_without_a_traceback():
    """With the screens mounted ahead, as `rbm-tui` starts, the Browse screen not shown yet
    refreshed its keys while the app shut down and crashed it (exit 1) on every first run."""
    app = make_app(premount=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.premounted.is_set(), what="the screens")
        assert app.current_mode == "datasets"
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="the quit")
    assert app.return_code == 0


async def test_a_dataset_named_in_another_case_is_the_same_dataset():
    """`rbm-tui --dataset DEMO` kept its thumbs under "DEMO", apart from the command line's
    `thumbs --dataset demo`."""
    app = make_app(dataset="DEMO")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ratings is not None, what="the dataset")
        assert app.dataset_name == "demo" and app.prefs.dataset == "demo"


async def test_a_datasets_notice_is_shown_as_the_command_line_shows_it(tmp_path):
    """Repeated (person, movie) rows are merged on loading: `rbm-tui` commands warn of it,
    the app said nothing."""
    data = tmp_path / "twice" / "ratings.csv"
    data.parent.mkdir()
    data.write_text("userId,movieId,rating\n1,10,4\n1,10,2\n2,10,5\n2,11,1\n", encoding="utf-8")
    app = make_app(dataset=str(data))
    seen = []
    app.notify = lambda message, **kw: seen.append((message, kw.get("severity")))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ratings is not None, what="the dataset")
        await pilot.pause()
    assert any("1 repeated (person, movie) row was merged" in m and s == "warning"
               for m, s in seen), seen  # fmt: skip


async def test_thumbs_changed_by_another_process_show_in_the_app(with_model):
    """`rbm-tui thumbs clear` (or an import, a rename of the profile) while the app ran: the
    app kept showing and scoring its old thumbs until a restart, and after a rename every
    key asked to create the old profile again."""
    from engine.userstore import UserStore

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        s = app.session
        with UserStore() as other:  # another connection, as another process has
            other.import_items("demo", s.profile, [(1, True), (2, False)])
        await wait_for(pilot, lambda: app.session.thumbs == {1: True, 2: False}, timeout=10,
                       what="the import seen")  # fmt: skip
        screen = app.screen
        await wait_for(pilot, lambda: "(2 rated)" in screen.rec_heading, timeout=10,
                       what="the list redrawn")  # fmt: skip
        with UserStore() as other:
            other.rename_profile(s.profile, "mia")
            other.clear_all("demo", "mia")
        await wait_for(pilot, lambda: app.session.profile == "mia" and not app.session.thumbs,
                       timeout=10, what="the rename seen")  # fmt: skip
        await pilot.press("+")  # the new name takes the thumb: no "no profile" error
        await pilot.pause()
        assert not isinstance(app.screen, ErrorDialog) and len(app.session.thumbs) == 1


async def test_a_model_the_command_line_trained_is_taken_up(tmp_path):
    """`rbm-tui train demo` then `rbm-tui`: the app showed "no model yet: 2 to train one"
    beside the model the command had just saved."""
    from engine import catalogue
    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.run import train_and_save

    ratings = load_ratings(catalogue.resolve("demo"))
    out = train_and_save(ratings, TrainConfig(n_hidden=8, epochs=1, item_item_weight=0.0),
                         dataset="demo")  # fmt: skip
    Preferences(dataset="demo").save()  # a dataset chosen before, no model remembered
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model is not None, timeout=30, what="the model")
        assert app.model_path == out.path and app.current_mode == "browse"
        assert Preferences.load().models == {"demo": str(out.path)}


async def test_a_model_the_command_line_trained_on_a_folder_is_taken_up(tmp_path):
    """`rbm-tui train mine/ratings.csv` saves ``mine-<time>.pt``; the app, which keeps a
    dataset given as a path under the path, looked for a model named after the path."""
    from helpers import write_dataset

    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.run import train_and_save
    from rbm_tui.cli.common import dataset_name

    folder = write_dataset(tmp_path / "mine")
    data = str(folder / "ratings.csv")
    ratings = load_ratings(data)
    short = dataset_name(data, folder / "ratings.csv")
    assert short == "mine"
    cfg = TrainConfig(n_hidden=8, epochs=1, item_item_weight=0.0)
    out = train_and_save(ratings, cfg, dataset=short)  # what `rbm-tui train` does
    Preferences(dataset=data).save()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model is not None, timeout=30, what="the model")
        assert app.model_path == out.path


def test_a_settings_file_that_is_not_json_is_kept_aside_not_overwritten(rbm_home):
    """A stray comma in settings.json gave the defaults, and the next save replaced the
    file: the theme and every dataset's active model were gone without a word."""
    import json

    from rbm_tui.preferences import Preferences, preferences_path

    path = preferences_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = '{"dataset": "demo", "theme": "nord", "models": {"demo": "/x/m.pt"},}'
    path.write_text(text)
    by_a_command = Preferences.load()  # the command line leaves it for the app to report
    assert by_a_command.unreadable and path.read_text() == text
    prefs = Preferences.load(set_aside=True)
    assert prefs == Preferences() and prefs.set_aside is not None
    assert prefs.set_aside.read_text() == text and not path.exists()
    prefs.save()
    assert json.loads(path.read_text()) == {"dataset": None, "models": {}, "theme": None}
    assert Preferences.load().set_aside is None and not Preferences.load().unreadable


async def test_the_models_screen_without_models_does_not_blame_an_older_version():
    app = make_app(first_screen="models")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        picture = app.screen.query_one("#model-calibration")
        assert "older rbm-tui" not in picture.empty_text
        assert "train one" in picture.empty_text


@pytest.mark.slow
async def test_at_60_columns_the_models_table_shows_whole_names():
    """Names were cut to 16 characters: two models of a day read the same."""
    from helpers import train_seeded_model

    from engine import paths

    for name in ("demo-20261207-204402", "demo-20261207-204915"):
        train_seeded_model(paths.models_dir() / f"{name}.pt")
    app = make_app(first_screen="models")
    async with app.run_test(size=(60, 20)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.models) == 2, what="the list")
        await pilot.pause()
        table = screen.query_one("#models-table")
        lines = [table.render_line(y).text for y in range(1, 3)]
        assert any("demo-20261207-204402" in x for x in lines), lines
        assert any("demo-20261207-204915" in x for x in lines), lines
        assert "saved" in str(screen.query_one("#model-detail").content)


def test_a_run_that_ends_after_its_dataset_was_reloaded_with_other_movies(seeded_model_file):
    """The run's model no longer fits the dataset loaded again under its name: it used to
    become the controller's model while the session refused it (ModelError out of the
    message handler); now it is saved but not made active, and the run says why."""
    import numpy as np

    from engine import catalogue
    from engine.data.loaders import load_ratings
    from engine.data.ratings import from_arrays
    from engine.model.storage import load_model
    from engine.settings import TrainConfig
    from rbm_tui import messages as msg
    from rbm_tui.controller import Controller
    from rbm_tui.training import TrainingRun

    class StubApp:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    c = Controller(StubApp(), Preferences())
    model = load_model(seeded_model_file, device="cpu")
    c.loading_dataset = "mine"
    c.dataset_loaded(msg.DatasetLoaded("mine", load_ratings(catalogue.demo_path()), None))
    c.set_active_model(model, seeded_model_file)
    c.training_run = TrainingRun("mine", TrainConfig(), forecast=None)
    other = from_arrays(np.repeat(np.arange(50), 4), np.tile(np.arange(10001, 10005), 50),
                        np.tile([1.0, 2.0, 4.0, 5.0], 50))  # fmt: skip
    c.loading_dataset = "mine"
    c.dataset_loaded(msg.DatasetLoaded("mine", other, None))
    assert c.model is None and c.session.model is None  # the old model went with the movies
    activated, why = c.train_done(msg.TrainDone(seeded_model_file, model, False, 2, 2, 1.0, "mine"))
    assert not activated and "knows none of the movies" in why
    assert c.model is None and c.session.model is None
    assert c.training_run.outcome is not None and c.training_run.outcome.why == why


@pytest.mark.parametrize("epochs", [3_900, 10_000])
async def test_the_chart_of_a_long_run_draws_its_axis(epochs):
    """10,000 epochs is within the form's range: from about 3,900 at 80x24 the x axis found
    no step among 1-500 and the StopIteration ended the app."""
    from rbm_tui.widgets.chart import TrainingChart, run_series

    history = [{"epoch": e, "train_loss": 0.3 - e / 1e6, "val": {"auc": 0.8}} for e in (1, 2)]
    app = make_app(first_screen="train")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        chart = app.screen.query_one(TrainingChart)
        series, refit = run_series(history)
        chart.set_data(series, epochs=epochs, best=1, refit_from=refit)
        for width in (44, 58, 84):
            axis = chart.render_lines_text(width, 7)[-2].plain
            marks = [int(x) for x in axis.replace("─", " ").replace("▲", " ").split()[1:]]
            assert marks and max(marks) > epochs // 2, axis  # the axis spans the run


def test_a_stopping_run_claims_no_time_left_of_the_epochs_it_will_not_run():
    """On a big set the stop takes ~10 s while the model so far is finished; the line said
    "epoch 2 of ~30, 7:37 left" the whole time."""
    from engine.settings import TrainConfig
    from engine.training.forecast import Forecast
    from rbm_tui.screens.train import TrainScreen
    from rbm_tui.training import TrainingRun

    t = [0.0]
    run = TrainingRun(
        "demo", TrainConfig(epochs=30), Forecast(TrainConfig(epochs=30), lambda: t[0])
    )

    class Epoch:
        epoch, refit, best, val, train_loss, seconds = 1, False, True, {}, 0.3, 1.0

    for b in (1, 2, 3):
        t[0] += 1.0
        run.forecast.on_batch(type("B", (), {"epoch": 1, "batch": b, "n_batches": 3})())
    run.forecast.on_epoch(Epoch())
    running = str(TrainScreen._running_text(None, run))
    assert "left" in running
    run.cancel.set()
    stopping = str(TrainScreen._running_text(None, run))
    assert stopping.startswith("Stopping") and "left" not in stopping
