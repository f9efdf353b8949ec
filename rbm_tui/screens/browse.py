"""Browse: the movies of the dataset with the person's match for each, rating keys,
recommendations.

The screen asks the engine and draws: the list is :func:`engine.browse.select` over a
:class:`~engine.browse.Catalogue` (an array of dataset indices, shown by a virtual table
that draws only the rows in view), the scores and thumbs are the app's
:class:`~engine.session.Session`. One cursor, one subject: the highlighted row of the focused
list (the table or the recommendations) is what the rating keys and the detail pane act on.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from textual import on
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from engine.browse import SORT_LABELS, Catalogue, Query, next_sort, select
from engine.errors import RbmTuiError
from rbm_tui.runtime import freeze_long_lived
from rbm_tui.screens.taste import TASTE_ACTIONS, TASTE_BINDINGS, TasteScreen, mine_cell
from rbm_tui.widgets.detail import (
    LEGEND,
    detail,
    empty_text,
    rec_hint,
    rec_line,
    rec_words,
    row_cells,
)
from rbm_tui.widgets.movie_table import MoviesTable, movie_columns

__all__ = ["BrowseScreen", "MoviesTable", "RecsList"]

#: Recommendations shown at least (more when the panel is taller).
N_RECS = 6
_SCORE_SORTS = ("match", "p_like")

_RATE = Binding.Group("Rate", compact=True)


class RecsList(OptionList):
    """The recommendations; the option id is the movie's dataset index."""


class BrowseScreen(TasteScreen):
    MODE = "browse"
    TITLE_TEXT = "Browse"
    FOOTER_PALETTE = False
    BINDINGS = [
        Binding("plus,l", "rate(True)", "Like", id="browse.like", group=_RATE),
        Binding("minus,d", "rate(False)", "Dislike", id="browse.dislike", group=_RATE),
        Binding("0", "rate(None)", "Clear", id="browse.clear", group=_RATE),
        Binding("z", "undo", "Undo", id="browse.undo"),
        Binding("slash", "search", "Search", id="browse.search"),
        Binding("g", "genre", "Genre", id="browse.genre"),
        Binding("s", "sort", "Sort", id="browse.sort"),
        Binding("m", "mine", "Mine", id="browse.mine", show=False),
        Binding("escape", "leave_search", "Clear the search", id="browse.back", show=False),
        *TASTE_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ratings_id: int | None = None
        self._session_id: int | None = None
        self._model_id: int | None = None
        self._thumbs_revision = 0  # the session's, when its thumbs were last drawn
        self.cat: Catalogue | None = None
        self.view = Query()
        self.recs: list[tuple[int, float | None]] = []  # (dataset index, match) shown
        self.rec_heading = ""
        self._rec_lines: list[tuple[int, float | None, str]] = []
        self._recs_height = 8
        self._personal = False
        self._detail_of: tuple | None = None  # (movie, session, scores) the pane shows
        self._genre_by_key = False  # the genre menu is open because `g` opened it
        self._said_training = False  # the heading says a model is training

    # ------------------------------------------------------------ the view's state
    @property
    def rows(self) -> list[int]:
        """The dataset indices listed, in table order."""
        return self.table.rows.tolist()

    @property
    def table(self) -> MoviesTable:
        return self.query_one(MoviesTable)

    @property
    def p_like(self) -> np.ndarray | None:
        return None if self.session is None else self.session.p_like

    sort = property(lambda self: self.view.sort, doc="The sort (one of engine.browse.SORTS).")
    mine_only = property(lambda self: self.view.mine, doc="Only the person's rated movies.")
    genre = property(lambda self: self.view.genre, doc="The genre shown ('': all).")

    # ---------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="browse-bar"):
            yield Input(placeholder="/ search titles", id="search", compact=True)
            yield Select(
                [("All genres", "")], value="", allow_blank=False, id="genre", compact=True
            )
            yield Label("", id="view-label")
        with Vertical(id="browse-main"):
            yield Static("", id="browse-empty", classes="hidden")
            yield MoviesTable(self._cells, id="movies")
            yield Static(Content.styled(LEGEND, "$text-muted"), id="legend")
            yield Static("", id="detail")
            yield RecsList(id="recs")

    def on_mount(self) -> None:
        self._set_columns()
        self.query_one(RecsList).border_title = "Recommendations"
        self.watch(self.query_one("#genre", Select), "expanded", self._genre_menu, init=False)
        self.table.focus()

    def _set_columns(self) -> None:
        self.table.set_columns(movie_columns(self.app.size.width))

    def _cells(self, i: int) -> list[Content | str]:
        """The cells of movie ``i``, read when its row is drawn (thumbs and scores current)."""
        assert self.cat is not None
        cells = row_cells(self.cat, self.session, i, len(self.table.columns) == 7)
        cells[0] = mine_cell(self.session, i)  # a thumb, else a mark or the watchlist's +
        return cells

    # ------------------------------------------------------------------ state
    def sync_state(self) -> None:
        app = self.rbm
        r = app.ratings
        if not self._show_empty(r is None):
            self._ratings_id = None
            return
        s = app.session
        if id(r) != self._ratings_id or id(s) != self._session_id:
            self._ratings_id, self._session_id, self._model_id = id(r), id(s), None
            self._thumbs_revision = s.revision if s is not None else 0
            self._new_dataset(r)
        if id(app.model) != self._model_id:
            self._model_id = id(app.model)
            self.rescore()
            if self.sort in _SCORE_SORTS:
                self.rebuild()
        if s is not None and s.revision != self._thumbs_revision:  # changed elsewhere
            self._thumbs_revision = s.revision
            self.thumbs_reloaded()

    def _show_empty(self, empty: bool) -> bool:
        """Show the "no dataset" line instead of the lists when ``empty``; True otherwise."""
        note = self.query_one("#browse-empty", Static)
        if empty:
            what = self.rbm.loading_dataset
            idle = "No dataset yet: press 1 and choose one (the demo works offline)."
            note.update(f"Loading {what}…" if what else idle)
        note.set_class(not empty, "hidden")
        self.table.set_class(empty, "hidden")
        self.query_one(RecsList).set_class(empty, "hidden")
        return not empty

    def _new_dataset(self, r) -> None:
        cat = self.cat
        if cat is None or cat.ratings is not r:  # (a new session alone keeps the catalogue)
            cat = self.cat = Catalogue(r.movies, r.item_counts(), r.item_like_counts())
            cat.ratings = r
            freeze_long_lived()
            # the search's keys, ahead of the first keystroke (half a second at 87,000 movies)
            self.run_worker(cat.prepare_search, thread=True, group="search-keys")
        self.titles, self.full_titles = cat.titles, cat.full_titles
        self.titles_lower, self.genre_lists = cat.titles_lower, cat.genre_lists
        select_genre = self.query_one("#genre", Select)
        self.view = Query(text=self.view.text, sort=self.view.sort)
        select_genre.set_options([("All genres", "")] + [(g, g) for g in cat.genres])
        select_genre.value = ""
        widest = f"{cat.n:,} movies · {max(SORT_LABELS.values(), key=len)}"
        self.query_one("#view-label", Label).styles.width = len(widest)  # no relayout per key
        self.rebuild(keep=None)

    def genre_mask(self) -> np.ndarray | None:
        """``bool (n_items,)``: the movies of the chosen genre (None: all)."""
        return self.cat.genre_mask(self.genre) if self.genre and self.cat else None

    # ----------------------------------------------------------------- table
    def rebuild(self, keep: int | None = -1) -> None:
        """List the movies that answer the query (``keep``: the movie to keep the cursor on;
        -1: the one under it now). A new array for the table; no rows are built."""
        if self.cat is None or self.rbm.ratings is None:
            return
        if keep == -1:
            keep = self.table.cursor_index
        rows = select(self.cat, self.view, self._sort_scores(), self.listed_only())
        self.table.empty_text = empty_text(self.view, self.watch_only)
        self.table.set_rows(rows, keep)
        self._update_view_label()
        self._show_detail()

    def _sort_scores(self) -> np.ndarray | None:
        s, sort = self.session, self.sort
        return None if s is None or sort not in _SCORE_SORTS else getattr(s, sort)

    def _update_view_label(self) -> None:
        shown = self.table.row_count
        what = f"{shown:,} movie" + ("" if shown == 1 else "s")
        if self.mine_only:
            what = f"{'watchlist' if self.watch_only else 'mine'} ({shown:,})"
        sort = self.sort
        if sort in _SCORE_SORTS and self._sort_scores() is None:
            sort = "popular"  # no model, no scores: the list is in most-rated order
        label = self.query_one("#view-label", Label)
        label.update(f"{what} · {SORT_LABELS[sort]}", layout=False)  # (a fixed width)

    def cursor_movie(self) -> int | None:
        """The movie under the table's cursor."""
        return self.table.cursor_index

    def target_movie(self) -> int | None:
        """The subject: the highlighted recommendation when that list has focus, else the
        movie under the table's cursor."""
        recs = self.query_one(RecsList)
        if recs.has_focus:
            if recs.highlighted is None:
                return None
            opt = recs.get_option_at_index(recs.highlighted)
            return None if opt.id is None else int(opt.id)
        return self.cursor_movie()

    def training_changed(self, epoch=None) -> None:
        super().training_changed(epoch)
        app = self.rbm
        # without a model the heading says whether one is training: redraw when that changes
        if self.is_mounted and app.model is None and app.training != self._said_training:
            self.rescore()

    # ---------------------------------------------------------------- scoring
    def rescore(self) -> None:
        """Draw the session's scores: the table's score cells (read when drawn), the detail
        and the recommendations."""
        app = self.rbm
        if app.ratings is None or self.session is None or self.cat is None:
            return
        self.table.refresh()
        self._said_training = False
        genre = f" · {self.genre} only" if self.genre else ""
        together = self.together_list(self._n_recs(), self.genre_mask())
        if together is not None:
            heading, lines = together
            self.rec_heading = heading + genre
            self._draw_recs(lines, personal=True)
            return
        recs = self.session.recommendations(self._n_recs(), self.genre_mask())
        lines = [rec_words(self.cat, pick, recs.personal) for pick in recs.picks]
        if recs.personal:
            self.rec_heading = f"Recommended for you ({recs.rated} rated){genre}"
        elif app.model is not None:
            self.rec_heading = f"Rate these first: popular, well-liked movies{genre}"
        else:
            if app.loading_model is not None:
                what = "loading the model…"
            elif app.training:
                what = "2: a model is training"
                self._said_training = True
            else:
                what = "2: train a model"
            self.rec_heading = f"Rate these first ({what}): popular, well liked{genre}"
        self._draw_recs(lines, recs.personal)

    def _draw_recs(self, lines: list[tuple[int, float | None, str]], personal: bool) -> None:
        panel = self.query_one(RecsList)
        panel.border_subtitle = rec_hint(personal, self.app.size.width)
        self._personal = personal
        self._show_recs(lines)
        panel.border_title = self.rec_heading
        self._show_detail()

    def on_resize(self) -> None:
        height = self.app.size.height
        new = max(5, min(8 + (height - 24) // 2, 20)) if height >= 22 else 5
        grew = new != self._recs_height
        self._recs_height = new
        recs = self.query_one(RecsList)
        recs.styles.height = new
        self.query_one("#legend").display = height >= 22
        self._set_columns()
        recs.border_subtitle = rec_hint(self._personal, self.app.size.width)
        if grew and self.rbm.ratings is not None and self.session is not None:
            self.rescore()
        elif self._rec_lines:
            self._show_recs(self._rec_lines)

    def _n_recs(self) -> int:
        """As many recommendations as the panel shows without scrolling (at least N_RECS)."""
        return max(N_RECS, self._recs_height - 2)

    def _show_detail(self) -> None:
        """The subject in full: title, year, genres, raters, match, P(like) and why."""
        pane = self.query_one("#detail", Static)
        i = self.target_movie()
        if i is None or self.cat is None or self.session is None:
            self._detail_of = None
            pane.update("", layout=False)
            return
        s = self.session
        shown = (i, s.thumb(i), s, s.p_like)  # the same: not again (its "why" costs a fold-in)
        last = self._detail_of
        if last is None or last[:2] != shown[:2] or last[2] is not s or last[3] is not s.p_like:
            self._detail_of = shown
            pane.update(detail(self.cat, s, i), layout=False)  # (a fixed size)

    @on(MoviesTable.RowHighlighted, "#movies")
    @on(OptionList.OptionHighlighted, "#recs")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_recs(self, lines: list[tuple[int, float | None, str]]) -> None:
        """Fill the panel: ``(dataset index, match or None, words)`` per line; the highlight
        stays where it was (the next movie once the one rated leaves the list)."""
        recs, cat = self.query_one(RecsList), self.cat
        if cat is None:
            return
        self._rec_lines = lines
        inner = recs.content_region.width or self.app.size.width - 4
        width = max(30, inner - 3)  # less a scrollbar and the option's padding
        self.recs = [(i, m) for i, m, _ in lines]
        options = [Option(rec_line(cat, i, m, w, width), id=str(i)) for i, m, w in lines]
        if not options:
            options.append(Option("nothing left to recommend with these filters", disabled=True))
        highlighted = recs.highlighted or 0
        recs.set_options(options)
        if self.recs:
            recs.highlighted = min(highlighted, len(self.recs) - 1)

    # ----------------------------------------------------------------- rating
    def action_rate(self, liked: bool | None) -> None:
        i = self.target_movie()
        if self.session is None or i is None:
            return
        try:
            self.session.rate(i, liked)
        except RbmTuiError as e:
            self.rbm.show_error("Cannot save the rating", str(e))
            return
        self._drawn(i)  # the cursor stays on the movie rated: the next key does not slip

    def movie_changed(self, i: int) -> None:
        self._drawn(i)

    def thumbs_reloaded(self) -> None:
        self.rebuild()
        self.rescore()

    def show_watchlist(self, on: bool) -> None:
        self._set_view(mine=on)

    def cursor_to(self, i: int) -> None:
        if i in self.table.rows:
            self.table.set_rows(self.table.rows, keep=i)

    def _drawn(self, i: int) -> None:
        """Redraw what a thumb change on movie ``i`` changed: the scores, and the list when
        it depends on them (a score sort, or "mine" losing or gaining a movie)."""
        self.rescore()
        if self.sort in _SCORE_SORTS:
            self.rebuild(keep=self.cursor_movie())
        elif self.mine_only:
            row = self.table.cursor_row
            self.rebuild(keep=None)
            self.table.move_cursor(row)
        self._update_view_label()

    # ---------------------------------------------------------------- filters
    def _set_view(self, **changes) -> None:
        """Change the query (text, genre, sort, mine) and list its answer."""
        self.view = replace(self.view, **changes)
        self.rebuild(keep=-1 if "sort" not in changes else None)  # a new order: its top

    def action_search(self) -> None:
        self.query_one("#search").focus()

    def action_leave_search(self) -> None:
        """Esc: clear the search (from the box or either list) and go back to the table."""
        search = self.query_one("#search", Input)
        in_box = search.has_focus
        search.value = ""
        self._set_view(text="")
        if in_box:
            self.table.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed | Input.Submitted) -> None:
        if event.value.strip() != self.view.text:
            self._set_view(text=event.value.strip())

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._search_changed(event)  # (the list answers the text submitted, whatever came first)
        self.table.focus()

    def action_genre(self) -> None:
        self._genre_by_key = True
        self.query_one("#genre", Select).focus().expanded = True

    def _genre_menu(self, expanded: bool) -> None:
        """The genre menu that ``g`` opened closed (a genre picked, or Esc): back to the
        table, as after a search, so that the arrows move through the movies again."""
        if not expanded and self._genre_by_key:
            self._genre_by_key = False
            self.call_after_refresh(self.table.focus)  # after the Select takes focus back

    @on(Select.Changed, "#genre")
    def _genre_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else ""
        if value == self.genre:
            return
        self._set_view(genre=value)
        self.rescore()
        self.table.focus()

    def action_sort(self) -> None:
        self._set_view(sort=next_sort(self.sort, self.p_like is not None))

    def action_mine(self) -> None:
        mine, self.watch_only = not self.mine_only or self.watch_only, False
        self._set_view(mine=mine)

    @on(OptionList.OptionSelected, "#recs")
    def _rec_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a recommendation shows it in the table."""
        if event.option.id is None:
            return
        i = int(event.option.id)
        if i not in self.table.rows:
            self.query_one("#search", Input).value = ""
            self.view, self.watch_only = replace(self.view, text="", mine=False), False
        self.rebuild(keep=i)
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rate", "undo", "search", "genre", "sort", "mine") or action in TASTE_ACTIONS:
            if self.rbm.ratings is None:
                return None
            if action != "search" and isinstance(self.focused, Input):
                return False  # typing in the search box: its keys are letters, not actions
            return True
        if action == "leave_search":
            return isinstance(self.focused, Input) or bool(self.view.text)
        return True

    def on_descendant_focus(self) -> None:
        recs = self.query_one(RecsList)
        if recs.has_focus and recs.highlighted is None and self.recs:
            recs.highlighted = 0  # a list with focus always shows its subject
        self._show_detail()

    def refresh_bindings(self) -> None:
        """Tell the footer only when the keys it shows changed: it rebuilds itself on each
        call (tens of ms), and Textual calls this twice per focus change."""
        try:
            keys = tuple((k, a.enabled) for k, a in self.active_bindings.items() if a.binding.show)
        except ScreenStackError:  # the app is closing: its focus moves with no screen left
            return
        if (keys, self.app.app_focus) != getattr(self, "_footer_keys", None):
            self._footer_keys = (keys, self.app.app_focus)
            super().refresh_bindings()
