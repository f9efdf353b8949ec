"""Import a person's ratings (IMDb, Letterboxd, MovieLens.org or rbm-tui export) from the app.

A modal: the file's path, its format sniffed from the header as it is typed, the like
threshold (the format's default, editable), then the result: rows read, matched, unmatched
and the file the unmatched rows went to. The import (parse, match, one store transaction)
runs in a thread worker that posts ONE message when done (:class:`TasteImported` or
:class:`TasteImportFailed`); the dialog shows it and calls ``on_done`` once, so the screen
under it redraws once, not per row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from engine.errors import RbmTuiError
from rbm_tui import messages as msg

if TYPE_CHECKING:
    from engine.taste import Imported

__all__ = ["ImportDialog", "outcome_lines", "short_path"]


def outcome_lines(done: Imported) -> list[str]:
    """An import's result as the dialog shows it: counts, then the store, then the file."""
    r = done.result
    f = r.format
    out = [
        f"{r.rows:,} rows · {r.matched:,} matched · {r.unmatched:,} unmatched",
        f"{_n(r.likes, 'like')}, {_n(len(r.thumbs) - r.likes, 'dislike')} (a like is "
        f"{r.threshold:g} or more of {f.low:g}-{f.high:g})",
        f"{done.profile}: {_n(done.written, 'thumb')} written, {done.unchanged:,} already there"
        + (f", {done.kept:,} kept as given by hand" if done.kept else ""),
    ]
    if r.unmatched_file is not None:
        out.append(f"unmatched rows listed in {short_path(r.unmatched_file)}")
    return out


def _n(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def short_path(path: Path) -> str:
    """``path`` with the home folder written ``~``."""
    try:
        return f"~/{Path(path).relative_to(Path.home())}"
    except ValueError:
        return str(path)


def run_import(
    path: Path, threshold: float | None, ratings: Any, data: str, store: Any, key: str, profile: str
) -> Imported:
    """Parse and match ``path`` against ``ratings`` (the dataset ``data``, its ``links.csv``
    when it has one), then write its thumbs to ``profile`` on ``key`` of ``store`` in one
    transaction (one undo step). Nothing is written when the file is unreadable or foreign."""
    from engine import catalogue
    from engine.taste import import_thumbs, read_links

    try:
        links = read_links(catalogue.resolve(data))
    except RbmTuiError:  # a dataset given by a path that went away: match by titles
        links = None
    return import_thumbs(path, ratings, links, store, key, profile, threshold)


class ImportDialog(ModalScreen["Imported | None"]):
    """Import ratings into ``session``'s profile on dataset ``data`` (the app's dataset
    name); ``on_done(outcome)`` runs once when the thumbs are in the store."""

    DEFAULT_CSS = """
    ImportDialog #import-threshold-row { height: 1; margin-bottom: 1; }
    ImportDialog #import-threshold { width: 8; }
    ImportDialog #import-format { height: auto; color: $text-muted; }
    ImportDialog #import-result { height: auto; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="import.close")]

    def __init__(
        self,
        session: Any,
        data: str,
        on_done: Callable[[Imported], None] | None = None,
        path: str = "",
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.session = session
        self.data = data
        self.on_done = on_done
        self.path = path
        self.format: Any = None  # the sniffed engine.taste.Format
        self.outcome: Imported | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog import-dialog") as box:
            box.border_title = "Import ratings"
            yield Label(
                f"An IMDb, Letterboxd or MovieLens.org export, into {self.session.profile}:",
                classes="dialog-body",
            )
            yield Input(self.path, placeholder="path to ratings.csv", id="import-path")
            yield Static("", id="import-format", markup=False)
            with Horizontal(id="import-threshold-row"):
                yield Label("Like from ", id="import-threshold-label")
                yield Input("", id="import-threshold", compact=True, type="number")
            yield Static("", id="import-result", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import (enter)", variant="primary", id="import", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()
        if self.path:
            self._sniff(self.path)

    # ----------------------------------------------------------------- format
    @on(Input.Changed, "#import-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._sniff(event.value)

    def _sniff(self, text: str) -> None:
        """Show the format of the file at ``text`` and put its default threshold in."""
        line = self.query_one("#import-format", Static)
        text = text.strip()
        fmt = None
        if not text:
            line.update("")
        else:
            from engine.taste.formats import sniff_file

            try:
                fmt = sniff_file(Path(text).expanduser())
                line.update(f"{fmt.label}: ratings {fmt.low:g}-{fmt.high:g}")
            except (RbmTuiError, OSError) as e:
                line.update(str(e))
        if fmt != self.format:
            self.format = fmt
            value = "" if fmt is None else f"{fmt.threshold:g}"
            self.query_one("#import-threshold", Input).value = value
        self.query_one("#import-threshold-label", Label).update(
            "Like from " if fmt is None else f"Like from ({fmt.low:g}-{fmt.high:g}) "
        )

    def threshold(self) -> float | None:
        """The threshold typed (None: the format's default)."""
        text = self.query_one("#import-threshold", Input).value.strip()
        return float(text) if text else None

    # ----------------------------------------------------------------- import
    @on(Input.Submitted)
    @on(Button.Pressed, "#import")
    def action_import(self) -> None:
        """Start the import in a worker (one at a time; not again once done)."""
        if self.outcome is not None:  # done: enter closes
            self.dismiss(self.outcome)
            return
        if self.running:
            return
        if self.session.store is None:
            self._say("your ratings cannot be saved now (see the error shown before)")
            return
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._say("type the path of the export first")
            return
        try:
            threshold = self.threshold()
        except ValueError:
            self._say("the like threshold is a number, e.g. 3")
            return
        self.running = True
        self._say("importing…")
        s = self.session
        self._work(Path(text).expanduser(), threshold, s.ratings, s.store, s.key, s.profile)

    @work(thread=True, exclusive=True, group="taste-import", exit_on_error=False)
    def _work(self, path: Path, threshold: float | None, ratings, store, key, profile) -> None:
        try:
            out = run_import(path, threshold, ratings, self.data, store, key, profile)
        except (RbmTuiError, OSError) as e:
            self.post_message(msg.TasteImportFailed(str(e)))
            return
        self.post_message(msg.TasteImported(out))

    @on(msg.TasteImported)
    def _imported(self, event: msg.TasteImported) -> None:
        self.running = False
        self.outcome = event.outcome
        self._say("\n".join(outcome_lines(event.outcome)))
        self.query_one("#import", Button).label = "Done (enter)"
        self.query_one("#import-path", Input).disabled = True
        self.query_one("#import-threshold", Input).disabled = True
        self.query_one("#import", Button).focus()
        if self.on_done is not None:
            self.on_done(event.outcome)

    @on(msg.TasteImportFailed)
    def _failed(self, event: msg.TasteImportFailed) -> None:
        self.running = False
        self._say(f"not imported: {event.error}")

    def _say(self, text: str) -> None:
        self.query_one("#import-result", Static).update(text)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close, with the outcome; not while importing (the screen below would miss it)."""
        if self.running:
            self._say("importing… it closes once done")
            return
        self.dismiss(self.outcome)
