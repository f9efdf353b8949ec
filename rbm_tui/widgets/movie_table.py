"""A virtual table of movies: it holds an array of dataset indices and draws only the rows in
view (Textual's Line API), so a new list (a search keystroke, a filter, a sort) costs the same
on 1,682 movies and on 87,000: no row is built until it scrolls into view.

The cells of a row come from a function of the movie's dataset index, called when the row is
drawn: a thumb or new scores show on the next refresh without touching the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class Column:
    """A column: its ``key``, header ``label``, ``width`` in cells, numbers to the right."""

    key: str
    label: str
    width: int
    right: bool = False


#: Fixed column widths of the movies table (the title and genres share the rest).
W_YEAR, W_RATERS, W_MATCH, W_P = 4, 7, 5, 7
#: Below this width the genres column goes; the Match and P(like) columns always stay.
GENRES_MIN_WIDTH = 72


def movie_columns(width: int) -> list[Column]:
    """The columns for a screen ``width`` cells wide: the title shrinks first, the genres go
    below :data:`GENRES_MIN_WIDTH`; Match and P(like) always stay."""
    with_genres = width >= GENRES_MIN_WIDTH
    fixed = 1 + W_YEAR + W_RATERS + W_MATCH + W_P + (6 if with_genres else 5) + 2
    room = max(12, width - fixed)
    genres = min(30, max(12, room // 3)) if with_genres else 0
    cols = [Column("me", " ", 1), Column("title", "Title", room - genres)]
    cols.append(Column("year", "Year", W_YEAR))
    if genres:
        cols.append(Column("genres", "Genres", genres))
    return cols + [
        Column("n", "Raters", W_RATERS, right=True),
        Column("match", "Match", W_MATCH, right=True),
        Column("p", "P(like)", W_P, right=True),
    ]


def _cell(content: Content | str, width: int, right: bool) -> Content:
    """``content`` made exactly ``width`` cells wide (cut with an ellipsis, or padded)."""
    c = Content(content) if isinstance(content, str) else content
    if c.cell_length > width:
        return c.truncate(width, ellipsis=True)
    gap = width - c.cell_length
    return c.pad_left(gap) if right else c.pad_right(gap)


class MoviesTable(ScrollView, can_focus=True):
    """The movies: ``rows`` holds their dataset indices in list order; the header stays on
    top; the cursor row is highlighted (strongly when the table has focus)."""

    BINDINGS = [  # the cursor keys: listed once in the help under "Everywhere"
        Binding("up", "move(-1)", show=False, id="movies.up"),
        Binding("down", "move(1)", show=False, id="movies.down"),
        Binding("pageup", "page(-1)", show=False, id="movies.pageup"),
        Binding("pagedown", "page(1)", show=False, id="movies.pagedown"),
        Binding("home", "move(-1e9)", show=False, id="movies.home"),
        Binding("end", "move(1e9)", show=False, id="movies.end"),
    ]
    COMPONENT_CLASSES = {
        "movies-table--header",
        "movies-table--cursor",
        "movies-table--odd",
        "movies-table--empty",
    }
    DEFAULT_CSS = """
    MoviesTable {
        background: $surface;
        overflow-x: hidden;
        & > .movies-table--header { background: $panel; color: $foreground; text-style: bold; }
        & > .movies-table--odd { background: $surface-lighten-1; }
        & > .movies-table--empty { color: $text-muted; }
        & > .movies-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .movies-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    class RowHighlighted(Message):
        """The cursor moved to ``row`` (movie ``index``, or None for an empty list)."""

        def __init__(self, table: MoviesTable, row: int, index: int | None) -> None:
            super().__init__()
            self.table, self.row, self.index = table, row, index

        @property
        def control(self) -> MoviesTable:
            return self.table

    def __init__(self, cells: Callable[[int], Sequence[Content | str]], **kwargs) -> None:
        super().__init__(**kwargs)
        self._cells = cells
        self.columns: list[Column] = []
        self.rows = np.zeros(0, dtype=np.int64)
        self.cursor_row = 0
        #: What an empty list says instead of rows.
        self.empty_text = "nothing to show"

    # ------------------------------------------------------------------ state
    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_index(self) -> int | None:
        """The dataset index of the movie under the cursor (None for an empty list)."""
        return int(self.rows[self.cursor_row]) if len(self.rows) else None

    def set_columns(self, columns: list[Column]) -> None:
        self.columns = columns
        self.virtual_size = Size(self._width(), len(self.rows) + 1)
        self.refresh()

    def set_rows(self, rows: np.ndarray, keep: int | None = None) -> None:
        """Show ``rows`` (dataset indices); the cursor on movie ``keep`` when listed, else
        on the first row."""
        self.rows = np.asarray(rows, dtype=np.int64)
        self.virtual_size = Size(self._width(), len(self.rows) + 1)
        row = 0
        if keep is not None:
            hits = np.flatnonzero(self.rows == keep)
            row = int(hits[0]) if len(hits) else 0
        if row == 0:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.move_cursor(row=row, force=True)
        self.refresh()

    def move_cursor(self, row: int, animate: bool = False, force: bool = False) -> None:
        """Put the cursor on ``row`` (clamped), scroll it into view, say so if it moved."""
        row = max(0, min(int(row), len(self.rows) - 1))
        moved = row != self.cursor_row
        self.cursor_row = row
        self._scroll_to_cursor()
        self.refresh()
        if moved or force:
            self.post_message(self.RowHighlighted(self, row, self.cursor_index))

    def _scroll_to_cursor(self) -> None:
        view = self.scrollable_content_region.height - 1  # rows in view under the header
        if view <= 0:
            return
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + view:
            self.scroll_to(y=self.cursor_row - view + 1, animate=False, immediate=True)

    def _width(self) -> int:
        return sum(c.width for c in self.columns) + max(0, len(self.columns) - 1)

    # ----------------------------------------------------------------- keys
    def action_move(self, step: float) -> None:
        self.move_cursor(self.cursor_row + int(step))

    def action_page(self, direction: int) -> None:
        view = max(1, self.scrollable_content_region.height - 1)
        self.move_cursor(self.cursor_row + direction * view)
        self.scroll_to(y=self.scroll_offset.y + direction * view, animate=False, immediate=True)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self.move_cursor(int(self.scroll_offset.y) + offset.y - 1)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    # ------------------------------------------------------------------ draw
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            header = [Content(c.label) for c in self.columns]
            return self._strip(header, "movies-table--header", width=width)
        row = int(self.scroll_offset.y) + y - 1
        if not len(self.rows):
            text = self.empty_text if y == 1 else ""
            return self._line(Content(" " + text), ("movies-table--empty",), width)
        if row >= len(self.rows):
            return self._line(Content(""), (), width)
        if row == self.cursor_row:
            classes: tuple[str, ...] = ("movies-table--cursor",)
        else:
            classes = ("movies-table--odd",) if row % 2 else ()
        return self._strip(self._cells(int(self.rows[row])), *classes, width=width)

    def _strip(self, cells: Sequence[Content | str], *classes: str, width: int) -> Strip:
        parts = [_cell(c, col.width, col.right) for c, col in zip(cells, self.columns)]
        return self._line(Content(" ").join(parts), classes, width)

    def _line(self, content: Content, classes: tuple[str, ...], width: int) -> Strip:
        style = self.get_visual_style(*classes)
        parse = self._get_style  # (resolves the theme's $variables)
        segments = [
            Segment(text, s.rich_style)
            for text, s in content.render(style, end="", parse_style=parse)
        ]
        return Strip(segments).adjust_cell_length(width, style.rich_style)
