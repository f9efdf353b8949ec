"""Datasets: the catalogue, downloads (progress, cancel), imports, stats of the highlighted set."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.validation import ValidationResult, Validator
from textual.widgets import DataTable, Input, Label, ProgressBar, Static

from engine.errors import DatasetExists, DownloadCancelled
from engine.formatting import format_bytes
from rbm_tui import messages as msg
from rbm_tui.screens.base import AppScreen, EnterTable

#: Datasets with more ratings than this are not loaded just to show their stats.
STATS_AUTOLOAD_MAX = 2_000_000


class PathExists(Validator):
    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.failure("type a path")
        p = Path(text).expanduser()
        if not p.exists():
            return self.failure(f"no such file or folder: {p}")
        return self.success()


class CatalogueTable(EnterTable, act="Use", key_id="datasets.use"):
    """The catalogue: one row a dataset."""


class DatasetsScreen(AppScreen, mode="datasets", title="Datasets"):
    BINDINGS = [
        Binding("d", "download", "Download", id="datasets.download"),
        Binding("x", "cancel_download", "Cancel", id="datasets.cancel"),
        Binding("i", "import", "Import", id="datasets.import"),
        Binding("escape", "close_import", "Close import", id="datasets.close_import"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._stats: dict[str, msg.DatasetStats | str] = {}
        self._downloading: str | None = None
        self._cancel = threading.Event()
        self._highlighted: str | None = None
        self._stats_timer: Timer | None = None
        self._importing: str | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="datasets-body"):
            yield CatalogueTable(id="catalogue", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="dataset-detail"):
                yield Static("", id="ds-title")
                yield Static("", id="ds-stats")
                yield Static("", id="ds-description")
                yield Static("", id="ds-licence")
        with Vertical(id="download-box", classes="hidden"):
            yield Label("", id="download-label")
            yield ProgressBar(id="download-progress", show_eta=True)
        with Vertical(id="import-bar", classes="hidden"):
            yield Label(
                "Import a local folder, .zip or ratings .csv (Enter: import, Esc: close)",
                id="import-help",
            )
            yield Input(
                placeholder="path, e.g. ~/Downloads/ml-latest-small.zip",
                id="import-path",
                validators=[PathExists()],
                validate_on=["submitted"],
                compact=True,
            )

    def on_mount(self) -> None:
        table = self.query_one(CatalogueTable)
        table.add_column("", key="mark", width=1)
        table.add_column("Dataset", key="name", width=15)
        table.add_column("Size", key="size", width=7)
        table.add_column("On disk", key="disk", width=7)
        self.fill_table()
        table.focus()

    def on_resize(self) -> None:
        if self._highlighted and getattr(self, "_infos", None) is not None:
            self._show_detail(self._highlighted)  # (the stats' layout follows the width)

    # ---------------------------------------------------------------- catalogue
    def fill_table(self, select: str | None = None) -> None:
        from engine import catalogue

        table = self.query_one(CatalogueTable)
        try:
            infos = catalogue.catalogue()
        except Exception as e:  # a damaged catalogue should not stop the app
            self.rbm.show_error("Cannot read the dataset catalogue", str(e))
            infos = []
        self._infos = {d.name: d for d in infos}
        table.clear()
        for d in infos:
            table.add_row(*self._row(d), key=d.name)
        if not infos:
            return
        ctl = self.controller
        want = select or self._highlighted or ctl.dataset_name or ctl.prefs.dataset
        if want not in self._infos:
            try:
                want = catalogue.default_dataset()
            except Exception:
                want = infos[0].name
        if want in self._infos:
            table.move_cursor(row=table.get_row_index(want), animate=False)
        self._show_detail(want)

    def _row(self, d) -> tuple:
        from engine import catalogue

        current = d.name == self.controller.dataset_name
        if self._downloading == d.name:
            disk = Content.styled("loading", "$warning")
        elif catalogue.is_on_disk(d.name):
            disk = Content.styled("✓ yes", "$success")
        elif d.downloadable:
            disk = Content.styled("no (d)", "$foreground")  # (muted text vanished in 256 colours)
        else:
            disk = Content.styled("missing", "$error")
        size = "bundled" if d.kind == "demo" else format_bytes(d.size or None)
        if d.kind == "imported":
            size = "imported"
        return ("●" if current else " ", d.name, size, disk)

    def refresh_rows(self) -> None:
        table = self.query_one(CatalogueTable)
        for name, d in self._infos.items():
            for col, value in zip(("mark", "name", "size", "disk"), self._row(d)):
                table.update_cell(name, col, value)

    def sync_state(self) -> None:
        if getattr(self, "_infos", None) is not None:
            self.refresh_rows()
            if self._highlighted:
                self._show_detail(self._highlighted)

    @on(DataTable.RowHighlighted, "#catalogue")
    def _highlighted_row(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value
        if name and name != self._highlighted:
            self._show_detail(name)

    @on(DataTable.RowSelected, "#catalogue")
    def _selected_row(self, event: DataTable.RowSelected) -> None:
        self.action_use()

    def _show_detail(self, name: str | None) -> None:
        from engine import catalogue

        self._highlighted = name
        d = self._infos.get(name) if name else None
        if d is None:
            return
        on_disk = catalogue.is_on_disk(d.name)
        title = Content.assemble((d.title, "bold"), "  ", (f"({d.name})", "$text-muted"))
        self.query_one("#ds-title", Static).update(title)
        self.query_one("#ds-description", Static).update(d.description or "")
        lic = d.licence or "no licence note"
        self.query_one("#ds-licence", Static).update(Content.assemble(("Licence: ", "bold"), lic))
        stats_w = self.query_one("#ds-stats", Static)
        stats = self._stats.get(d.name)
        if d.name == self.controller.dataset_name and self.controller.ratings is not None:
            stats = stats_from_ratings(self.controller.ratings)
            self._stats[d.name] = stats
        if isinstance(stats, msg.DatasetStats):
            width = self.query_one("#dataset-detail").content_size.width
            stats_w.update(format_stats(stats, width))
        elif isinstance(stats, str):
            stats_w.update(Content.styled(f"Does not load: {stats}", "$error"))
        elif not on_disk:
            hint = "d to download" if d.downloadable else "not available"
            stats_w.update(
                Content.assemble(
                    (catalogue_figures(d), "$text-muted"), "\n", ("Not on disk: ", "bold"), hint
                )
            )
        elif (d.ratings or 0) > STATS_AUTOLOAD_MAX:
            stats_w.update(
                Content.assemble(
                    (catalogue_figures(d), "$text-muted"),
                    "\nOn disk. Enter loads it (exact figures then).",
                )
            )
        else:
            stats_w.update(Content.styled("loading stats…", "$text-muted"))
            if self._stats_timer is not None:
                self._stats_timer.stop()
            self._stats_timer = self.set_timer(0.15, lambda: self._load_stats(d.name))

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def _load_stats(self, name: str) -> None:
        try:
            from engine import catalogue
            from engine.data.loaders import load_ratings

            r = load_ratings(catalogue.resolve(name))
            self.post_message(msg.StatsLoaded(name, stats_from_ratings(r)))
        except Exception as e:
            self.post_message(msg.StatsLoaded(name, None, str(e)))

    @on(msg.StatsLoaded)
    def _stats_loaded(self, event: msg.StatsLoaded) -> None:
        event.stop()
        self._stats[event.name] = event.stats if event.stats is not None else event.error or "?"
        if event.name == self._highlighted:
            self._show_detail(event.name)

    # -------------------------------------------------------------------- using
    def action_use(self) -> None:
        from engine import catalogue

        name = self._highlighted
        if name is None:
            return
        if not catalogue.is_on_disk(name):
            d = self._infos.get(name)
            if d is not None and d.downloadable:
                self.notify(f"{name} is not on disk yet: press d to download it", timeout=4)
            else:
                self.notify(f"{name} is not on disk", severity="warning")
            return
        self.controller.use_dataset(name)

    # ---------------------------------------------------------------- download
    def action_download(self) -> None:
        from engine import catalogue

        name = self._highlighted
        d = self._infos.get(name or "")
        if d is None:
            return
        if self._downloading:
            self.notify(f"already downloading {self._downloading} (x to cancel)")
            return
        if not d.downloadable:
            self.notify(f"{d.name} is not downloadable ({d.kind})", severity="warning")
            return
        if catalogue.is_on_disk(d.name):
            self.notify(f"{d.name} is on disk already; Enter uses it")
            return
        self._downloading = d.name
        self._cancel = threading.Event()
        self.controller.downloads[d.name] = self._cancel
        box = self.query_one("#download-box")
        box.remove_class("hidden")
        self.query_one("#download-label", Label).update(
            f"Downloading {d.name} ({format_bytes(d.size or None)}) — x to cancel"
        )
        bar = self.query_one("#download-progress", ProgressBar)
        bar.update(total=d.size or None, progress=0)
        self.refresh_rows()
        self.refresh_bindings()
        self._download(d.name, self._cancel)

    @work(thread=True, group="download", exit_on_error=False)
    def _download(self, name: str, cancel: threading.Event) -> None:
        from engine import catalogue

        last = [0.0]

        def progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or (total and done >= total):
                last[0] = now
                self.post_message(msg.DownloadProgress(name, done, total))

        try:
            path = catalogue.download(name, progress=progress, cancel=cancel.is_set)
        except DownloadCancelled:
            self.post_message(msg.DownloadDone(name, cancelled=True))
        except Exception as e:
            self.post_message(msg.DownloadDone(name, error=str(e) or type(e).__name__))
        else:
            self.post_message(msg.DownloadDone(name, path=path))

    @on(msg.DownloadProgress)
    def _download_progress(self, event: msg.DownloadProgress) -> None:
        event.stop()
        bar = self.query_one("#download-progress", ProgressBar)
        bar.update(total=event.total or bar.total, progress=event.done)

    @on(msg.DownloadDone)
    def _download_done(self, event: msg.DownloadDone) -> None:
        event.stop()
        self._downloading = None
        self.controller.downloads.pop(event.name, None)
        self.query_one("#download-box").add_class("hidden")
        self.refresh_bindings()
        self.fill_table(select=event.name)
        if event.cancelled:
            self.notify(f"download of {event.name} cancelled; nothing was left behind")
        elif event.error:
            self.rbm.show_error(f"Download of {event.name} failed", event.error)
        else:
            self.notify(f"{event.name} downloaded: Enter to use it", title="Download done")

    def action_cancel_download(self) -> None:
        if self._downloading:
            self._cancel.set()
            self.query_one("#download-label", Label).update(f"Cancelling {self._downloading}…")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_import":
            return not self.query_one("#import-bar").has_class("hidden")
        if action == "cancel_download":
            return True if self._downloading else None
        if action == "download":
            return None if self._downloading else True
        return True

    # ------------------------------------------------------------------- import
    def action_import(self) -> None:
        bar = self.query_one("#import-bar")
        bar.remove_class("hidden")
        self.query_one("#import-path", Input).focus()
        self.refresh_bindings()

    def action_close_import(self) -> None:
        bar = self.query_one("#import-bar")
        if not bar.has_class("hidden"):
            bar.add_class("hidden")
            self.query_one(CatalogueTable).focus()
            self.refresh_bindings()

    @on(Input.Submitted, "#import-path")
    def _import_submitted(self, event: Input.Submitted) -> None:
        if event.validation_result is not None and not event.validation_result.is_valid:
            self.notify("; ".join(event.validation_result.failure_descriptions), severity="error")
            return
        if self._importing:
            self.notify(f"already importing {self._importing}")
            return
        path = event.value.strip()
        self._importing = path
        self.query_one("#import-help", Label).update(f"Importing {path}…")
        self._import(path)

    @work(thread=True, group="import", exit_on_error=False)
    def _import(self, path: str, replace: bool = False) -> None:
        from engine import catalogue

        try:
            info = catalogue.import_dataset(path, replace=replace)
        except DatasetExists as e:
            self.post_message(msg.ImportDone(path, error=str(e), exists=e.name))
            return
        except Exception as e:
            self.post_message(msg.ImportDone(path, error=str(e) or type(e).__name__))
            return
        self.post_message(msg.ImportDone(path, name=info.name))

    @on(msg.ImportDone)
    def _import_done(self, event: msg.ImportDone) -> None:
        event.stop()
        self._importing = None
        self.query_one("#import-help", Label).update(
            "Import a local folder, .zip or ratings .csv (Enter: import, Esc: close)"
        )
        if event.exists:
            self._ask_replace(event.source, event.exists)
            return
        if event.error:
            self.rbm.show_error(f"Cannot import {event.source}", event.error)
            return
        self.query_one("#import-path", Input).value = ""
        self.action_close_import()
        self._stats.pop(event.name or "", None)
        self.fill_table(select=event.name)
        self.notify(f"imported as {event.name}: Enter to use it", title="Import done")

    def _ask_replace(self, source: str, name: str) -> None:
        from rbm_tui.screens.dialogs import ConfirmDialog

        def replace() -> None:
            self._importing = source
            self.query_one("#import-help", Label).update(f"Importing {source}…")
            self._import(source, replace=True)

        question = ConfirmDialog(
            "Replace the dataset?",
            f"A dataset named {name} is on disk. Replace it with {source}?",
            yes="Replace",
            no="Keep it",
        )
        self.rbm.ask(question, replace)


def stats_from_ratings(r) -> msg.DatasetStats:
    """The engine's figures of ``r`` (:func:`engine.catalogue.stats.dataset_stats`), as the
    screen's message carries them."""
    from dataclasses import fields

    from engine.catalogue.stats import dataset_stats

    s = dataset_stats(r)
    return msg.DatasetStats(**{f.name: getattr(s, f.name) for f in fields(msg.DatasetStats)})


#: The width the stats need in two pairs of columns; narrower, one figure a line.
STATS_TWO_COLUMNS = 35


def format_stats(s: msg.DatasetStats, width: int = STATS_TWO_COLUMNS) -> Content:
    """The figures of a dataset, in two pairs of columns (one figure a line when the
    ``width`` is less than they need, so that no figure is cut or split)."""
    lo, hi = s.scale
    rows = [
        ("Users", f"{s.users:,}", "Movies", f"{s.movies:,}"),
        ("Ratings", f"{s.ratings:,}", "Scale", f"{lo:g}-{hi:g}"),
        ("Likes", f"{s.like_share:.0%}", "Sparsity", f"{s.sparsity:.1%}"),
    ]
    if 0 < width < STATS_TWO_COLUMNS:
        pairs = [p for a, b, c, d in rows for p in ((a, b), (c, d))]
        return Content("\n").join(
            Content.assemble((f"{a:<9}", "$text-muted"), (b, "bold")) for a, b in pairs
        )
    lines = [
        Content.assemble(
            (f"{a:<8}", "$text-muted"),
            (f"{b:>10}", "bold"),
            "  ",
            (f"{c:<9}", "$text-muted"),
            (f"{d:>6}", "bold"),
        )
        for a, b, c, d in rows
    ]
    return Content("\n").join(lines)


def catalogue_figures(d) -> str:
    parts = []
    if d.users:
        parts.append(f"{d.users:,} users")
    if d.movies:
        parts.append(f"{d.movies:,} movies")
    if d.ratings:
        parts.append(f"{d.ratings:,} ratings")
    return " · ".join(parts) if parts else "size unknown"
