"""The Browse screen with Pilot: one cursor, one subject; one score; the list as a query."""

from __future__ import annotations

import pytest
from helpers import SIZE, make_app, rec_items, wait_for
from textual.widgets import Input, Label

from rbm_tui.screens.browse import BrowseScreen, MoviesTable, RecsList


async def open_browse(pilot) -> BrowseScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.model is not None, what="the model")
    screen = app.screen
    assert isinstance(screen, BrowseScreen)
    await wait_for(pilot, lambda: screen.p_like is not None and screen.recs, what="scores")
    await pilot.pause()
    return screen


def detail_text(screen) -> str:
    return str(screen.query_one("#detail").render())


def table_line(screen, y: int) -> str:
    """The text of the table's line ``y`` as drawn (0: the header)."""
    return screen.query_one(MoviesTable).render_line(y).text


def item(app, i: int):
    return app.ratings.item_ids[i].item()


async def test_tab_into_the_recommendations_and_plus_rates_the_highlighted_one(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        screen.query_one(MoviesTable).focus()
        await pilot.press("down", "down")  # the table's cursor elsewhere than the list's
        table_movie = screen.cursor_movie()
        await pilot.press("tab")
        recs = screen.query_one(RecsList)
        assert recs.has_focus and recs.highlighted == 0  # a highlight from the first moment
        first = screen.recs[0][0]
        assert first != table_movie
        assert screen.full_titles[first] in detail_text(screen)
        await pilot.press("plus")
        assert app.store.ratings("demo") == {item(app, first): True}
        # the next movie of the list is highlighted, and the pane follows it
        now = int(recs.get_option_at_index(recs.highlighted).id)
        assert now != first and screen.full_titles[now] in detail_text(screen)
        await pilot.press("down")
        now = int(recs.get_option_at_index(recs.highlighted).id)
        assert screen.full_titles[now] in detail_text(screen)
        await pilot.press("shift+tab")  # back to the table: its movie is the subject again
        assert screen.query_one(MoviesTable).has_focus
        assert screen.full_titles[table_movie] in detail_text(screen)
        await pilot.press("minus")
        assert app.store.ratings("demo")[item(app, table_movie)] is False
        assert "you disliked it" in detail_text(screen)  # the pane follows the thumb
        await pilot.press("0")
        assert "you disliked it" not in detail_text(screen)


async def test_keys_right_after_m_and_a_search_act_on_the_new_list(with_model):
    """m, m, /, a title, Enter, + without a pause: the movie liked is the search's match."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        screen.query_one(MoviesTable).focus()
        first = screen.cursor_movie()
        await pilot.press("plus", "m", "m", "slash", *"shawshank", "enter", "plus")
        assert not screen.mine_only and len(screen.rows) == 1
        liked = set(app.store.ratings("demo")) - {item(app, first)}
        assert [screen.full_titles[app.ratings.item_index[i]] for i in liked] == [
            screen.full_titles[screen.rows[0]]
        ]
        assert "Shawshank" in screen.full_titles[screen.rows[0]]


async def test_esc_clears_the_search_while_the_recommendations_have_focus(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        n_all = len(screen.rows)
        await pilot.press("slash", *"star", "enter", "tab")
        assert screen.query_one(RecsList).has_focus and len(screen.rows) < n_all
        await pilot.press("escape")
        assert screen.query_one("#search", Input).value == ""
        assert len(screen.rows) == n_all


async def test_esc_on_the_genre_menu_gives_the_arrows_back_to_the_table(with_model):
    """``g`` then Esc left focus on the genre box: the next arrow key reopened the menu."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        table = screen.query_one(MoviesTable)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert table.has_focus
        row = table.cursor_row
        await pilot.press("down")
        assert table.cursor_row == row + 1 and not screen.query_one("#genre").expanded
        await pilot.press("g", "enter")  # the genre already chosen, picked again
        await pilot.pause()
        assert table.has_focus


async def test_zero_in_the_mine_view_removes_the_row(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        screen.query_one(MoviesTable).focus()
        await pilot.press("plus", "down", "minus", "down", "plus", "m")
        assert len(screen.rows) == 3
        await pilot.press("down", "0")
        assert len(screen.rows) == 2 and len(app.session.thumbs) == 2
        assert screen.cursor_movie() in screen.rows  # on the next row, not on nothing
        label = str(screen.query_one("#view-label", Label).content)
        assert label.startswith("mine (2)")


async def test_an_empty_list_says_nothing_matches(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        await pilot.press("slash", *"qqqzz")
        await pilot.pause()
        assert screen.rows == []
        assert "Nothing matches “qqqzz” · esc clears the search" in table_line(screen, 1)
        assert screen.cursor_movie() is None
        await pilot.press("enter", "plus")  # nothing to rate: no thumb, no error
        assert app.store.ratings("demo") == {}


async def test_the_whole_catalogue_is_listed_and_reachable(with_model):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        table = screen.query_one(MoviesTable)
        table.focus()
        assert len(screen.rows) == app.ratings.n_items
        await pilot.press("end")
        assert screen.cursor_movie() == screen.rows[-1]
        assert screen.titles[screen.rows[-1]] in " ".join(
            table_line(screen, y) for y in range(1, table.size.height)
        )
        await pilot.press("home", "pagedown")
        assert table.cursor_row > 5 and table.scroll_offset.y > 0


async def test_the_list_shows_the_number_it_is_sorted_by(with_model):
    """Sorted by match, the Match column reads down; a recommendation's match is the same
    number in the table, the panel and the detail pane."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        screen.query_one(MoviesTable).focus()
        await pilot.press("plus", "s")  # personal scores; sort by match
        label = str(screen.query_one("#view-label", Label).content)
        assert label.endswith("· match")
        header = table_line(screen, 0)
        assert "Match" in header and "P(like)" in header
        at = header.index("Match") + len("Match")
        shown = [int(table_line(screen, y)[at - 4 : at].strip("% ")) for y in range(1, 9)]
        assert shown == sorted(shown, reverse=True)
        top = screen.rows[0]
        pct = f"{round(100 * app.session.match[top])}%"
        assert table_line(screen, 1)[at - 4 : at].strip() == pct
        assert f"Match {pct}" in detail_text(screen)
        first_rec, match = screen.recs[0]
        assert f"{round(100 * match)}%" in str(screen.query_one(RecsList).options[0].prompt)
        assert match == pytest.approx(app.session.match[first_rec])


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40)])
async def test_the_view_label_is_never_cut(with_model, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await open_browse(pilot)
        label = app.screen.query_one("#view-label", Label)
        text = str(label.content)
        assert text == "395 movies · most rated"
        assert label.content_region.width >= len(text)
        assert label.region.right <= size[0]
        await pilot.press("s")
        await pilot.pause()
        assert label.content_region.width >= len(str(label.content))
        assert rec_items(app.screen)


async def test_a_score_sort_without_a_model_is_labelled_as_what_it_lists(with_model):
    """Sorted by match, then the model dropped (a dataset without one): the rows fall back
    to most rated, and the label said "match" over a column of dashes."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        screen._set_view(sort="match")
        await pilot.pause()
        label = screen.query_one("#view-label", Label)
        assert str(label.content).endswith("· match")
        app.controller._drop_model()
        screen.rebuild(keep=None)
        await pilot.pause()
        assert str(label.content).endswith("· most rated")
