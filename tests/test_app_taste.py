"""Pilot tests of issue 36 in the app (80x24, the bundled demo, the tiny seeded model):
importing ratings, profiles, marks, the watchlist, clear all and undo, watching together.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import SIZE, make_app, rec_items, wait_for
from textual.widgets import Input, Static

from engine.together import together
from rbm_tui.preferences import Preferences
from rbm_tui.screens.browse import BrowseScreen, RecsList
from rbm_tui.screens.dialogs import ConfirmDialog, PromptDialog
from rbm_tui.screens.import_dialog import ImportDialog
from rbm_tui.screens.profiles import PeopleList, ProfilePicker, ProfilesDialog

#: A Letterboxd ``ratings.csv`` (its real columns) of four demo films and one it lacks.
LETTERBOXD = """\
Date,Name,Year,Letterboxd URI,Rating
2024-01-02,Casablanca,1942,https://boxd.it/2a1i,4.5
2024-01-03,Vertigo,1958,https://boxd.it/2a3k,4
2024-01-04,The Godfather,1972,https://boxd.it/2aHi,2
2024-01-05,The Matrix,1999,https://boxd.it/2a1m,3.5
2024-01-06,A Film Nobody Made,2031,https://boxd.it/zzzz,5
"""


def remember_demo(model_file: Path) -> None:
    """The demo as the last dataset, with the seeded model as its active model."""
    from engine import paths

    target = paths.models_dir() / "demo-seeded.pt"
    shutil.copy(model_file, target)
    Preferences(dataset="demo", models={"demo": str(target)}).save()


async def ready(pilot) -> BrowseScreen:
    """Browse on the demo with the model loaded, the table focused."""
    app = pilot.app
    await wait_for(pilot, lambda: app.model is not None, what="the model")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BrowseScreen)
    screen.table.focus()
    await pilot.pause()
    return screen


def index_of(app, title: str) -> int:
    titles = app.ratings.movies["title"].tolist()
    return titles.index(title)


async def import_file(pilot, path: Path, threshold: str | None = None) -> ImportDialog:
    """Press ``i``, type ``path`` (and ``threshold``), import, wait for the result."""
    await pilot.press("i")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, ImportDialog)
    dialog.query_one("#import-path", Input).value = str(path)
    await pilot.pause()
    if threshold is not None:
        dialog.query_one("#import-threshold", Input).value = threshold
    await pilot.press("enter")
    await wait_for(pilot, lambda: dialog.outcome is not None or not dialog.running, what="import")
    await pilot.pause()
    return dialog


# --------------------------------------------------------------------------- import
async def test_import_from_the_app(seeded_model_file, tmp_path):
    """A Letterboxd export: its format and threshold shown, 4 of 5 rows matched, the
    unmatched row written to a file, the thumbs in the profile, Browse redrawn once."""
    remember_demo(seeded_model_file)
    export = tmp_path / "ratings.csv"
    export.write_text(LETTERBOXD)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        drawn = []
        original = screen.rescore
        screen.rescore = lambda: (drawn.append(1), original())[1]  # type: ignore[method-assign]
        dialog = await import_file(pilot, export)
        assert "Letterboxd ratings export" in str(dialog.query_one("#import-format").content)
        assert dialog.query_one("#import-threshold", Input).value == "3"
        result = str(dialog.query_one("#import-result", Static).content)
        assert "5 rows · 4 matched · 1 unmatched" in result
        out = dialog.outcome
        assert out is not None and out.written == 4
        unmatched = out.result.unmatched_file
        assert unmatched is not None and "A Film Nobody Made" in unmatched.read_text()
        assert drawn == [1]  # once for the whole file, not per row
        s = app.session
        ids = app.ratings.item_ids
        liked = {app.ratings.movies["title"].iat[i] for i, v in enumerate(ids) if s.thumbs.get(v)}
        assert liked == {"Casablanca (1942)", "Vertigo (1958)", "The Matrix (1999)"}
        assert s.thumb(index_of(app, "The Godfather (1972)")) is False
        assert app.store.ratings("demo", s.profile) == s.thumbs
        await pilot.press("enter")  # Done closes it
        await pilot.pause()
        assert app.screen is screen
        assert screen.rec_heading.startswith("Recommended for you (4 rated)")


async def test_import_threshold_and_a_foreign_file(seeded_model_file, tmp_path):
    """The threshold typed decides the likes; a foreign file says why and changes nothing."""
    remember_demo(seeded_model_file)
    export = tmp_path / "ratings.csv"
    export.write_text(LETTERBOXD)
    foreign = tmp_path / "notes.csv"
    foreign.write_text("when,what\n2024,shopping\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await import_file(pilot, foreign)
        assert dialog.outcome is None
        said = str(dialog.query_one("#import-result", Static).content)
        assert said.startswith("not imported:") and "notes.csv" in said
        assert app.session.thumbs == {}
        await pilot.press("escape")
        await pilot.pause()
        dialog = await import_file(pilot, export, threshold="4.5")
        assert dialog.outcome is not None
        likes = [v for v in app.session.thumbs.values() if v]
        assert len(app.session.thumbs) == 4 and len(likes) == 1  # only Casablanca's 4.5


# --------------------------------------------------------------------------- profiles
async def test_switch_profile(seeded_model_file):
    """p opens the profiles; n creates one; enter switches: its own (empty) thumbs, and the
    first person's thumbs come back when switching back."""
    remember_demo(seeded_model_file)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("plus", "down", "plus")
        first = app.session.profile
        assert len(app.session.thumbs) == 2
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ProfilesDialog)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PromptDialog)
        app.screen.query_one(Input).value = "anna"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProfilesDialog)
        assert app.screen.highlighted() == "anna"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert app.session.profile == "anna" and app.store.active_profile() == "anna"
        assert app.session.thumbs == {}
        assert screen.rec_heading.startswith("Rate these first")
        await pilot.press("minus")
        assert list(app.store.ratings("demo", "anna").values()) == [False]
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one("OptionList").highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.profile == first and len(app.session.thumbs) == 2


# ----------------------------------------------------------------------------- marks
async def test_not_interested_leaves_the_recommendations(seeded_model_file):
    """x on a recommendation: it leaves the list (not a dislike), and z brings it back."""
    remember_demo(seeded_model_file)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("plus", "down", "plus")
        recs = screen.query_one(RecsList)
        recs.focus()
        await pilot.pause()
        recs.highlighted = 0
        first = rec_items(screen)[0]
        await pilot.press("x")
        await pilot.pause()
        assert first not in rec_items(screen)
        movie = app.session.item_id(first)
        assert app.store.marks("demo", app.session.profile) == {movie: "not_interested"}
        assert app.session.thumb(first) is None  # not a dislike
        await pilot.press("z")
        await pilot.pause()
        assert first in rec_items(screen)
        assert app.session.marks == {}


async def test_seen_no_opinion_and_watchlist_view(seeded_model_file):
    """v marks seen (out of the lists); w puts the movie on the watchlist; W lists only the
    watchlist and W again every movie."""
    remember_demo(seeded_model_file)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        movie = screen.cursor_movie()
        assert movie is not None
        await pilot.press("w")
        await pilot.pause()
        assert app.session.item_id(movie) in app.session.watchlist
        all_rows = len(screen.rows)
        await pilot.press("W")
        await pilot.pause()
        assert screen.rows == [movie]
        await pilot.press("W")
        await pilot.pause()
        assert len(screen.rows) == all_rows
        await pilot.press("down", "v")
        await pilot.pause()
        seen = screen.cursor_movie()
        assert app.session.marks == {app.session.item_id(seen): "seen"}
        assert seen not in rec_items(screen)
        await pilot.press("v")  # again: the mark goes
        assert app.session.marks == {}


# ------------------------------------------------------------------------- clear all
async def test_clear_all_and_undo(seeded_model_file):
    """C asks first; n keeps the thumbs, y clears them all; one z brings every one back."""
    remember_demo(seeded_model_file)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("plus", "down", "minus", "down", "plus")
        before = dict(app.session.thumbs)
        assert len(before) == 3
        await pilot.press("C")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert app.session.thumbs == before
        await pilot.press("C")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is screen
        assert app.session.thumbs == {} and app.store.ratings("demo") == {}
        assert screen.rec_heading.startswith("Rate these first")
        app.clear_notifications()
        await pilot.press("z")
        await pilot.pause()
        assert app.session.thumbs == before
        assert app.store.ratings("demo") == before
        said = [n.message for n in app._notifications]
        assert said == ["undone: 3 movies are as they were"]


# -------------------------------------------------------------------------- together
async def test_together_list_of_two_profiles(seeded_model_file):
    """t, tick a second profile, enter: one list for both, none of it rated by either,
    each person's match on every line; t again: back to the person's own list."""
    remember_demo(seeded_model_file)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("plus", "down", "plus")
        me = app.session.profile
        store = app.store
        store.create_profile("anna")
        for title, liked in (("Casablanca (1942)", True), ("Star Wars (1977)", False)):
            store.set("demo", app.session.item_id(index_of(app, title)), liked, "anna")
        own = rec_items(screen)
        await pilot.press("t")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ProfilePicker)
        assert picker.picked() == [me]
        picker.query_one(PeopleList).select("anna")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert screen.rec_heading.startswith(f"Together: {me}, anna")
        from engine.people import profile_sessions

        s = app.session
        sessions = profile_sessions(s.ratings, store, "demo", s.model, [me, "anna"])
        expected = [p.index for p in together(sessions, len(screen.recs))]
        assert rec_items(screen) == expected and expected
        rated = set(s.thumbs) | set(store.ratings("demo", "anna"))
        assert not rated & {s.item_id(i) for i in expected}
        words = [str(o.prompt) for o in screen.query_one(RecsList).options]
        assert all(me in w and "anna" in w and "%" in w for w in words)
        await pilot.press("t")
        await pilot.pause()
        assert rec_items(screen) == own


async def test_together_needs_two_profiles(seeded_model_file):
    """With one profile, t says how to add another and changes nothing."""
    remember_demo(seeded_model_file)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("t")
        await pilot.pause()
        assert app.screen is screen and screen.together_people is None


@pytest.mark.parametrize("title", ["Import ratings", "Profiles", "Clear all my thumbs"])
async def test_palette_has_the_taste_entries(seeded_model_file, title):
    """The command palette offers import, profiles and clear all."""
    from rbm_tui.app import RbmCommands
    from rbm_tui.screens.taste import palette_commands

    remember_demo(seeded_model_file)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = [t for t, _cb, _h in palette_commands(app)]
        assert any(t.startswith(title) for t in titles)
        assert RbmCommands  # the provider the app registers
        callback = next(cb for t, cb, _h in palette_commands(app) if t.startswith(title))
        await callback()
        await pilot.pause()
        if title == "Clear all my thumbs":  # nothing to clear yet: no dialog
            assert isinstance(app.screen, BrowseScreen)
        else:
            assert isinstance(app.screen, (ImportDialog, ProfilesDialog))


def test_the_taste_keys_are_in_the_help_and_named_once():
    """Every taste key has an id and a description, is listed under Browse in the help,
    and no key of Browse is bound twice."""
    from rbm_tui.app import MAIN_SCREENS, RbmTuiApp
    from rbm_tui.screens.help import help_sections
    from rbm_tui.screens.taste import TASTE_BINDINGS

    sections = dict(help_sections(RbmTuiApp, MAIN_SCREENS, "browse"))
    described = {what for _keys, what in sections["Browse"]}
    for b in TASTE_BINDINGS:
        assert b.id and b.id.startswith("browse.") and b.description in described
    keys = [k for b in BrowseScreen.BINDINGS for k in b.key.split(",")]  # type: ignore[union-attr]
    assert len(keys) == len(set(keys))


def test_the_yours_cell_shows_thumbs_marks_and_the_watchlist():
    """♥/✗ for a thumb, ⊘ not interested, · seen, + on the watchlist, blank otherwise."""
    from engine import catalogue
    from engine.data.loaders import load_ratings
    from engine.session import Session
    from rbm_tui.screens.taste import mine_cell

    s = Session(load_ratings(catalogue.demo_path()), None, "demo")
    s.rate(0, True)
    s.rate(1, False)
    s.mark(2, "not_interested")
    s.mark(3, "seen")
    s.set_watch(4, True)
    assert [mine_cell(s, i).plain for i in range(6)] == ["♥", "✗", "⊘", "·", "+", ""]
