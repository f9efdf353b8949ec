"""Browse: the movies of the dataset with P(like) for the person, rating keys, recommendations.

The screen asks the app's :class:`~engine.session.Session` and draws: a rating key is
``session.rate`` (one SQLite transaction and one fold-in of the person's thumbs, a few ms),
then the P(like) cells of the table are updated in place and the recommendations panel below
it redrawn; the table is never rebuilt for a rating.
"""

from __future__ import annotations

import re

import numpy as np
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from engine.errors import RbmTuiError
from rbm_tui.screens.taste import TASTE_ACTIONS, TASTE_BINDINGS, TasteScreen, mine_cell
from rbm_tui.widgets.likebar import fit, like_bar, percent

#: The table shows at most this many movies (search or filter to reach the others).
MAX_ROWS = 2000
_YEAR_SUFFIX = re.compile(r"\s*\(\d{4}(?:\s*[-–]\s*\d{0,4})?\)\s*$")
#: Recommendations shown at least (more when the panel is taller).
N_RECS = 6
SORTS = ("popular", "p_like", "title", "year")
SORT_LABELS = {"popular": "most rated", "p_like": "P(like)", "title": "title", "year": "newest"}
#: Fixed column widths of the movies table (the title and genres share the rest).
W_YEAR, W_RATERS, W_P = 4, 7, 9
#: Below this width the genres column goes; the P(like) column always stays.
GENRES_MIN_WIDTH = 72
#: The colour of a match (the chance to pick it, weighed by P(like)): not a P(like), so not
#: its red-to-green scale.
MATCH_STYLE = "$accent"
LEGEND = "♥ ✗ your thumbs · P(like): the chance you'd like it once you watch it"


_RATE = Binding.Group("Rate", compact=True)


class MoviesTable(DataTable):
    """The movies; the row key is the movie's dataset index."""


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
        self.rows: list[int] = []  # dataset indices shown, in table order
        self._row_pos: dict[int, int] = {}  # dataset index -> table row
        self.p_like: np.ndarray | None = None
        self.recs: list[tuple[int, float | None]] = []  # (dataset index, match) shown
        self.sort = "popular"
        self.mine_only = False
        self.query_text = ""
        self.genre = ""
        self.rec_heading = ""
        self._rec_lines: list[tuple[int, float, str]] = []
        self._genre_cache: tuple[str, np.ndarray] | None = None
        self._recs_height = 8

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
            yield MoviesTable(id="movies", cursor_type="row", zebra_stripes=True)
            yield Static(Content.styled(LEGEND, "$text-muted"), id="legend")
            yield Static("", id="detail")
            yield RecsList(id="recs")

    def on_mount(self) -> None:
        self._columns = self._column_widths(self.app.size.width)
        self._add_columns()
        recs = self.query_one(RecsList)
        recs.border_title = "Recommendations"
        self.query_one(MoviesTable).focus()

    def _column_widths(self, width: int) -> tuple[int, int]:
        """``(title, genres)`` widths for a screen ``width`` cells wide: the title shrinks
        first, the genres go below :data:`GENRES_MIN_WIDTH`, P(like) always stays."""
        fixed = 1 + W_YEAR + W_RATERS + W_P + 2 * 5 + 2  # cells, their padding, a scrollbar
        room = max(12, width - fixed)
        if width < GENRES_MIN_WIDTH:
            return room, 0
        genres = min(30, max(12, room // 3))
        return room - genres - 2, genres

    def _add_columns(self) -> None:
        table = self.query_one(MoviesTable)
        w_title, w_genres = self._columns
        table.add_column(" ", key="me", width=1)
        table.add_column("Title", key="title", width=w_title)
        table.add_column("Year", key="year", width=W_YEAR)
        if w_genres:
            table.add_column("Genres", key="genres", width=w_genres)
        table.add_column("Raters", key="n", width=W_RATERS)
        table.add_column("P(like)", key="p", width=W_P)

    # ------------------------------------------------------------------ state
    def sync_state(self) -> None:
        app = self.rbm
        r = app.ratings
        empty = self.query_one("#browse-empty", Static)
        table = self.query_one(MoviesTable)
        recs = self.query_one(RecsList)
        if r is None:
            if app.loading_dataset:
                text = f"Loading {app.loading_dataset}…"
            else:
                text = "No dataset yet: press 1 and choose one (the demo works offline)."
            empty.update(text)
            empty.remove_class("hidden")
            table.add_class("hidden")
            recs.add_class("hidden")
            self._ratings_id = None
            return
        empty.add_class("hidden")
        table.remove_class("hidden")
        recs.remove_class("hidden")
        if id(r) != self._ratings_id or id(app.session) != self._session_id:
            self._ratings_id = id(r)
            self._session_id = id(app.session)
            self._model_id = None
            self._new_dataset(r)
        if id(app.model) != self._model_id:
            self._model_id = id(app.model)
            self.rescore()
            if self.sort == "p_like":
                self.rebuild()

    def _new_dataset(self, r) -> None:
        self.counts = r.item_counts()
        self.like_counts = r.item_like_counts()
        self.full_titles = r.movies["title"].astype(str).tolist()
        self.titles = [_YEAR_SUFFIX.sub("", t) or t for t in self.full_titles]
        self.titles_lower = r.movies["title"].astype(str).str.lower()  # search the full title
        years = r.movies["year"]
        self.years = [("" if y is None or y is np.nan or _isna(y) else str(int(y))) for y in years]
        self.year_values = np.array([int(y) if y else -1 for y in self.years], dtype=np.int64)
        self.genre_lists = r.movies["genres"].astype(str).tolist()
        self._genre_cache = None
        genres = sorted({g for gs in self.genre_lists for g in gs.split("|") if g})
        select = self.query_one("#genre", Select)
        self.genre = ""
        select.set_options([("All genres", "")] + [(g, g) for g in genres])
        select.value = ""
        self.p_like = None
        self._row_pos = {}
        self.rebuild()

    @property
    def session(self):
        """The app's :class:`~engine.session.Session` (the person's thumbs and scores)."""
        return self.rbm.session

    def genre_mask(self) -> np.ndarray:
        """``bool (n_items,)``: the dataset's movies of the chosen genre (cached)."""
        cached = self._genre_cache
        if cached is None or cached[0] != self.genre:
            g = self.genre
            n = len(self.genre_lists)
            mask = np.fromiter((g in gs.split("|") for gs in self.genre_lists), bool, n)
            cached = self._genre_cache = (g, mask)
        return cached[1]

    # ----------------------------------------------------------------- table
    def rebuild(self, keep: int | None = None) -> None:
        """Refill the table from the filters and sort (not used for ratings)."""
        r = self.rbm.ratings
        if r is None:
            return
        table = self.query_one(MoviesTable)
        if keep is None:
            keep = self.cursor_movie()
        n = r.n_items
        mask = np.ones(n, dtype=bool)
        if self.mine_only:
            mask[:] = False
            likes, dislikes = self.session.thumb_indices()
            mask[likes + dislikes] = True
        if self.watch_only:
            mask[:] = False
            mask[self.watchlist_indices()] = True
        if self.genre:
            mask &= self.genre_mask()
        if self.query_text:
            mask &= self.titles_lower.str.contains(self.query_text.lower(), regex=False).to_numpy()
        idx = np.nonzero(mask)[0]
        idx = idx[self._order(idx)]
        self.total_matches = len(idx)
        idx = idx[:MAX_ROWS]
        self.rows = idx.tolist()
        table.clear()
        self._row_pos = {i: pos for pos, i in enumerate(self.rows)}
        rows = []
        with_genres = bool(self._columns[1])
        for i in self.rows:
            cells = [mine_cell(self.session, i), self.titles[i], self.years[i]]
            if with_genres:
                cells.append(self.genre_lists[i].replace("|", ","))
            cells += [f"{int(self.counts[i]):,}", LikeCell(self, i)]
            rows.append(cells)
        for i, row in zip(self.rows, rows):
            table.add_row(*row, key=str(i))
        if keep is not None and keep in self._row_pos:
            table.move_cursor(row=self._row_pos[keep], animate=False)
        else:
            table.move_cursor(row=0, animate=False)
            table.scroll_home(animate=False)
        self._update_view_label()
        self._show_detail()

    def _order(self, idx: np.ndarray) -> np.ndarray:
        if self.sort == "popular":
            return np.lexsort((idx, -self.counts[idx]))
        if self.sort == "p_like" and self.p_like is not None:
            p = np.nan_to_num(self.p_like[idx], nan=-1.0)
            return np.lexsort((-self.counts[idx], -p))
        if self.sort == "year":
            return np.lexsort((-self.counts[idx], -self.year_values[idx]))
        if self.sort == "title":
            keys = [self.titles_lower.iat[i] for i in idx]
            return np.argsort(np.array(keys, dtype=object), kind="stable")
        return np.lexsort((idx, -self.counts[idx]))

    def _update_view_label(self) -> None:
        shown = len(self.rows)
        if self.mine_only:
            what = f"mine ({len(self.session.thumbs)})"
        elif shown < self.total_matches:
            what = f"{shown:,} of {self.total_matches:,}"
        else:
            what = f"{shown:,} movie" + ("" if shown == 1 else "s")
        self.query_one("#view-label", Label).update(f"{what} · {SORT_LABELS[self.sort]}")

    def p_cell(self, i: int) -> Content:
        """The P(like) cell of movie ``i``, from the current scores (read at render time); a
        movie the person rated shows their own thumb, not a prediction."""
        mine = self.session.thumb(i) if self.session is not None else None
        if mine is not None:
            return (
                Content.styled("  liked", "$success")
                if mine
                else Content.styled("disliked", "$error")
            )
        if self.p_like is None:
            return percent(None)
        return percent(float(self.p_like[i]))

    def cursor_movie(self) -> int | None:
        table = self.query_one(MoviesTable)
        if not self.rows or table.row_count == 0:
            return None
        row = table.cursor_row
        if 0 <= row < len(self.rows):
            return self.rows[row]
        return None

    def target_movie(self) -> int | None:
        """The movie a rating key applies to: the highlighted recommendation when the list
        has focus, else the table's cursor row."""
        recs = self.query_one(RecsList)
        if recs.has_focus and recs.highlighted is not None:
            opt = recs.get_option_at_index(recs.highlighted)
            if opt.id is not None:
                return int(opt.id)
        return self.cursor_movie()

    # ---------------------------------------------------------------- scoring
    def rescore(self) -> None:
        """Draw the session's scores: the P(like) cells in place and the panel."""
        app = self.rbm
        if app.ratings is None or self.session is None:
            return
        self.p_like = self.session.p_like
        self._update_p_cells()
        self._show_detail()
        together = self.together_list(self._n_recs(), self.genre_mask() if self.genre else None)
        if together is not None:
            self.rec_heading, lines = together
            self._show_recs(lines)
            self.query_one(RecsList).border_title = self.rec_heading
            return
        recs = self.session.recommendations(
            self._n_recs(), self.genre_mask() if self.genre else None
        )
        lines = []
        for pick in recs.picks:
            if recs.personal:
                because = ""
                if pick.because is not None:
                    because = f"because you liked {self.titles[pick.because]}"
                lines.append((pick.index, pick.match, because))
            else:
                because = f"liked by {pick.liked_share:.0%} of {pick.raters:,} raters"
                lines.append((pick.index, None, because))
        genre = f" · {self.genre} only" if self.genre else ""
        if recs.personal:
            self.rec_heading = f"Recommended for you ({recs.rated} rated){genre}"
            hint = "match: the chance you'd pick it, weighed by P(like) · tab: rate here"
        elif app.model is not None:
            self.rec_heading = f"Rate these first: popular, well-liked movies{genre}"
            hint = "tab: rate from here (+ -)"
        else:
            loading = app.loading_model is not None
            what = "loading the model…" if loading else "no model yet: 2 to train one"
            self.rec_heading = f"Rate these first: popular, well liked ({what}){genre}"
            hint = "tab: rate from here (+ -)"
        self.query_one(RecsList).border_subtitle = hint
        self._show_recs(lines)
        self.query_one(RecsList).border_title = self.rec_heading

    def _update_p_cells(self) -> None:
        """The P(like) cells read the scores when drawn: touching one cell redraws them all,
        so a rating costs one cell update, not one per row."""
        if self.rows:
            i = self.rows[0]
            self.query_one(MoviesTable).update_cell(str(i), "p", LikeCell(self, i))

    def on_resize(self) -> None:
        height = self.app.size.height
        recs = self.query_one(RecsList)
        new = max(5, min(8 + (height - 24) // 2, 20)) if height >= 22 else 5
        grew = new != self._recs_height
        self._recs_height = new
        recs.styles.height = new
        self.query_one("#legend").display = height >= 22
        columns = self._column_widths(self.app.size.width)
        if columns != self._columns:
            self._columns = columns
            table = self.query_one(MoviesTable)
            table.clear(columns=True)
            self._add_columns()
            self.rebuild()
        if grew and self.rbm.ratings is not None and self.session is not None:
            self.rescore()
        elif self._rec_lines:
            self._show_recs(self._rec_lines)

    def _n_recs(self) -> int:
        """As many recommendations as the panel shows without scrolling (at least N_RECS)."""
        return max(N_RECS, self._recs_height - 2)

    def _show_detail(self) -> None:
        """The highlighted movie in full: title, year, genres, raters, P(like) and why."""
        detail = self.query_one("#detail", Static)
        i = self.cursor_movie()
        if i is None or self.rbm.ratings is None or self.session is None:
            detail.update("")
            return
        n, liked = int(self.counts[i]), int(self.like_counts[i])
        share = f", {liked / n:.0%} liked it" if n else ""
        genres = self.genre_lists[i].replace("|", ", ") or "no genres"
        head = Content.assemble(
            (self.full_titles[i], "bold"),
            (f" · {genres} · {n:,} raters{share}", "$text-muted"),
        )
        mine = self.session.thumb(i)
        if mine is not None:
            tail = Content.styled("you liked it" if mine else "you disliked it", "$text-muted")
        elif self.p_like is None or not np.isfinite(self.p_like[i]):
            tail = Content.styled("no P(like): no model for it yet", "$text-muted")
        else:
            why = self.session.reason(i)
            because = f" · more likely because you liked {self.titles[why]}" if why else ""
            tail = Content.assemble(
                "P(like) ",
                percent(float(self.p_like[i])),
                " · match ",
                percent(float(self.session.match[i]), MATCH_STYLE),
                (because, "$text-muted"),
            )
        detail.update(Content.assemble(head, "\n", tail))

    @on(DataTable.RowHighlighted, "#movies")
    def _row_highlighted(self) -> None:
        self._show_detail()

    def _show_recs(self, lines: list[tuple[int, float | None, str]]) -> None:
        """Fill the panel: ``(dataset index, match or None, words)`` per line; a personal
        pick shows its match (bar and percentage), a popular one only its words."""
        recs = self.query_one(RecsList)
        self._rec_lines = lines
        # the panel's inner width, less a scrollbar and the option's padding
        inner = recs.content_region.width or self.app.size.width - 4
        width = max(30, inner - 3)
        w_title = min(34, max(16, width // 2 - 12))
        options = []
        self.recs = [(i, m) for i, m, _ in lines]
        for i, match, words in lines:
            parts: list = [(fit(self.titles[i], w_title), "bold"), " "]
            rest = width - w_title - 1
            if match is not None:
                parts += [like_bar(match, 8, MATCH_STYLE), " ", percent(match, MATCH_STYLE), "  "]
                rest -= 8 + 1 + 4 + 2
            parts.append((fit(words, max(0, rest)), "$text-muted"))
            options.append(Option(Content.assemble(*parts), id=str(i)))
        if not options:
            options.append(Option("nothing left to recommend with these filters", disabled=True))
        highlighted = recs.highlighted
        recs.set_options(options)
        if recs.has_focus and options and highlighted is not None:
            recs.highlighted = min(highlighted, len(options) - 1)

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

    def action_undo(self) -> None:
        if self.session is None:
            return
        try:
            change = self.session.undo()
        except RbmTuiError as e:
            self.rbm.show_error("Cannot undo", str(e))
            return
        if change is None:
            self.notify("nothing to undo", timeout=2)
            return
        i = self.rbm.ratings.item_index.get(change.item_id)
        if i is None:
            return
        self._drawn(i)
        if i in self._row_pos:
            table = self.query_one(MoviesTable)
            table.move_cursor(row=self._row_pos[i], animate=False)
        what = {True: "liked", False: "disliked", None: "not rated"}[change.after]
        self.notify(f"undone: {self.titles[i]} is {what} again", timeout=2)

    def movie_changed(self, i: int) -> None:
        self._drawn(i)

    def thumbs_reloaded(self) -> None:
        self.rebuild()
        self.rescore()

    def show_watchlist(self, on: bool) -> None:
        self.rebuild()

    def _drawn(self, i: int) -> None:
        """Redraw what a thumb change on movie ``i`` changed: its thumb cell and the scores."""
        if i in self._row_pos:
            self.query_one(MoviesTable).update_cell(str(i), "me", mine_cell(self.session, i))
        self.rescore()
        self._update_view_label()

    # ---------------------------------------------------------------- filters
    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_leave_search(self) -> None:
        """Esc in the search box: clear it and go back to the list."""
        search = self.query_one("#search", Input)
        if search.has_focus:
            search.value = ""
            self.query_one(MoviesTable).focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.rebuild()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(MoviesTable).focus()

    def action_genre(self) -> None:
        select = self.query_one("#genre", Select)
        select.focus()
        select.expanded = True

    @on(Select.Changed, "#genre")
    def _genre_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else ""
        if value == self.genre:
            return
        self.genre = value
        if self.rbm.ratings is not None:
            self.rebuild()
            self.rescore()
        self.query_one(MoviesTable).focus()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        if self.sort == "p_like" and self.p_like is None:
            self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.rebuild(keep=-1)  # a new order starts at its top

    def action_mine(self) -> None:
        self.mine_only = not self.mine_only
        self.rebuild()

    @on(OptionList.OptionSelected, "#recs")
    def _rec_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a recommendation shows it in the table."""
        if event.option.id is None:
            return
        i = int(event.option.id)
        if i not in self._row_pos:
            self.query_text = ""
            self.query_one("#search", Input).value = ""
            self.mine_only = False
            self.rebuild(keep=i)
        if i in self._row_pos:
            table = self.query_one(MoviesTable)
            table.move_cursor(row=self._row_pos[i], animate=False)
            table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rate", "undo", "search", "genre", "sort", "mine") or action in TASTE_ACTIONS:
            if self.rbm.ratings is None:
                return None
            if action != "search" and isinstance(self.focused, Input):
                return False  # typing in the search box: its keys are letters, not actions
            return True
        if action == "leave_search":
            return isinstance(self.focused, Input)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()


class LikeCell:
    """A P(like) table cell that reads the screen's current scores when it is drawn."""

    __slots__ = ("screen", "i")

    def __init__(self, screen: BrowseScreen, i: int) -> None:
        self.screen = screen
        self.i = i

    def __rich__(self) -> Content:
        return self.screen.p_cell(self.i)


def _isna(v) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
