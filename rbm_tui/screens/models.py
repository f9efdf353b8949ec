"""Models: the saved models with dataset, date, hyperparameters and metrics; the highlighted
model's validation curve and calibration picture, to compare models by looking; load, rename,
delete (after a confirmation)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.validation import Regex
from textual.widgets import DataTable, Static

from engine.formatting import format_bytes, format_chosen, format_score
from engine.housekeeping import MODEL_NAME
from rbm_tui import messages as msg
from rbm_tui.screens.base import AppScreen, EnterTable, display_name, model_dataset_name
from rbm_tui.screens.dialogs import ConfirmDialog, PromptDialog
from rbm_tui.widgets.calibration import CalibrationPicture
from rbm_tui.widgets.chart import TrainingChart, run_series
from rbm_tui.widgets.settings_form import NAME_RULE

if TYPE_CHECKING:
    from engine.model.storage import ModelInfo

#: Below this width the table leaves out the hidden units and epochs (the detail has them).
NARROW = 100
#: Below this many columns the table leaves out the date saved (the detail pane says it), so
#: that a name like ``demo-20261207-204402`` is whole.
TIGHT = 72


class ModelsTable(EnterTable, act="Load", key_id="models.load"):
    """The saved models: one row a file."""


class ModelsScreen(AppScreen, mode="models", title="Models"):
    BINDINGS = [
        Binding("r", "rename", "Rename", id="models.rename"),
        Binding("x,delete", "delete", "Delete", id="models.delete"),
        Binding("p", "prune", "Prune", id="models.prune"),
        Binding("f5", "reload", "Reload", id="models.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.models: list = []
        self._by_key: dict[str, object] = {}
        self._listing = False
        #: the model the cursor goes to at the next listing (a renamed one)
        self._select_next: Path | None = None
        self._wide = self._dated = True  # the columns shown: hidden units and epochs; date

    def compose_body(self) -> ComposeResult:
        with Vertical(id="models-body"):
            yield ModelsTable(id="models-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="model-detail")
            with Horizontal(id="model-pictures"):
                yield TrainingChart(id="model-curve")
                yield CalibrationPicture(id="model-calibration")

    def on_mount(self) -> None:
        self._wide = self.app.size.width >= NARROW
        self._dated = self.app.size.width >= TIGHT
        self._add_columns()
        self.query_one("#model-curve", TrainingChart).empty_text = "no validation curve"
        self.query_one(ModelsTable).focus()

    def _add_columns(self) -> None:
        """The columns for the screen's width: the model's name gets the room left."""
        table = self.query_one(ModelsTable)
        fixed = [("active", " ", 1), ("dataset", "Dataset", 8)]
        if self._dated:
            fixed.append(("date", "Saved", 16))
        if self._wide:
            fixed += [("hidden", "Hid", 4), ("epochs", "Ep", 3)]
        fixed += [("auc", "AUC", 5), ("ndcg", "nDCG", 5)]
        used = sum(w for _, _, w in fixed) + 2 * (len(fixed) + 1) + 2  # padding, scrollbar
        table.add_column(" ", key="active", width=1)
        table.add_column("Model", key="name", width=max(16, self.app.size.width - used))
        for key, label, width in fixed[1:]:
            table.add_column(label, key=key, width=width)

    def on_resize(self) -> None:
        wide = self.app.size.width >= NARROW
        table = self.query_one(ModelsTable)
        table.clear(columns=True)
        self._wide = wide
        self._dated = self.app.size.width >= TIGHT
        self._add_columns()
        self._fill()
        self.query_one("#model-pictures").display = self.app.size.height >= 22

    def sync_state(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#model-detail", Static).update(
            Content.styled("reading the models folder…", "$text-muted")
        )
        self._list_models()

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def _list_models(self) -> None:
        try:
            from engine.model.storage import list_models

            self.post_message(msg.ModelsListed(list_models()))
        except Exception as e:  # pragma: no cover - unreadable folder
            self.post_message(msg.ModelsListed([]))
            self.app.call_from_thread(self.rbm.show_error, "Cannot list the models", str(e))

    @on(msg.ModelsListed)
    def _listed(self, event: msg.ModelsListed) -> None:
        event.stop()
        cursor = self.cursor_model()
        keep = self._select_next or (cursor.path if cursor is not None else None)
        self.models = list(event.models)
        self._by_key = {str(m.path): m for m in self.models}
        if self._select_next is not None and str(self._select_next) in self._by_key:
            self._select_next = None
        self._fill(keep)
        self.refresh_bindings()

    def _fill(self, keep: Path | None = None) -> None:
        """(Re)fill the table from :attr:`models`, the cursor on the model at ``keep`` (else
        the one under it now, else the active one)."""
        table = self.query_one(ModelsTable)
        if keep is None:
            cursor = self.cursor_model()
            keep = cursor.path if cursor is not None else None
        table.clear()
        active = self.controller.model_path
        for m in self.models:
            table.add_row(*self._row(m, active), key=str(m.path))
        if keep is not None and str(keep) in self._by_key:
            table.move_cursor(row=table.get_row_index(str(keep)), animate=False)
        elif active is not None and str(active) in self._by_key:
            table.move_cursor(row=table.get_row_index(str(active)), animate=False)
        self._show_detail(self.cursor_model())

    def _row(self, m, active: Path | None) -> tuple:
        h = m.header or {}
        cfg = h.get("config", {}) or {}
        meta = h.get("meta", {}) or {}
        val = meta.get("val_metrics", {}) or {}
        mark = Content.styled("●", "bold $success") if active == m.path else " "
        date = [_date(m.modified)] if self._dated else []
        if m.error:
            row = [mark, m.name, Content.styled("unreadable", "$error"), *date]
            return tuple(row + [""] * (2 + 2 * self._wide))
        row = [mark, m.name, display_name(model_dataset_name(meta) or "?"), *date]
        if self._wide:
            row += [
                str(h.get("n_hidden", cfg.get("n_hidden", ""))),
                str(len(meta.get("history", [])) or ""),
            ]
        return tuple(row + [format_score(val.get("auc")), format_score(val.get("ndcg@10"))])

    def cursor_model(self):
        table = self.query_one(ModelsTable)
        if not self.models or table.row_count == 0:
            return None
        row = table.cursor_row
        if 0 <= row < table.row_count:
            key = table.coordinate_to_cell_key((row, 0)).row_key.value
            return self._by_key.get(key or "")
        return None

    @on(DataTable.RowHighlighted, "#models-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(self._by_key.get(event.row_key.value or ""))

    def _show_pictures(self, m) -> None:
        """The validation curve and the calibration picture of model ``m`` (or None)."""
        curve = self.query_one("#model-curve", TrainingChart)
        picture = self.query_one("#model-calibration", CalibrationPicture)
        meta = ((m.header or {}).get("meta") or {}) if m is not None and not m.error else {}
        history = [h for h in meta.get("history") or [] if isinstance(h, dict)]
        series, refit = run_series(history)
        best = meta.get("best_epoch") if isinstance(meta.get("best_epoch"), int) else None
        curve.set_data(series, epochs=len(history), best=best, refit_from=refit)
        if m is None:
            why = "no model: train one on the Train screen (2)"
        elif m.error:
            why = "no calibration picture: the file cannot be read"
        else:
            why = "no calibration picture: this model was saved by an older rbm-tui"
        table = meta.get("reliability")
        picture.set_table(table if isinstance(table, list) else None, why)

    def _show_detail(self, m) -> None:
        self._show_pictures(m)
        w = self.query_one("#model-detail", Static)
        if m is None:
            w.update(
                Content.styled(
                    "No saved models yet: train one on the Train screen (2).", "$text-muted"
                )
            )
            return
        if m.error:
            w.update(Content.assemble((m.name, "bold"), "\n", (m.error, "$error")))
            return
        h = m.header or {}
        cfg = h.get("config", {}) or {}
        meta = h.get("meta", {}) or {}
        active = " (active)" if self.controller.model_path == m.path else ""
        w.update(
            Content.assemble(
                (m.name + active, "bold"),
                (f"  {format_bytes(m.size)} · saved {_date(m.modified)}", "$text-muted"),
                "\n",
                ("Settings ", "$text-muted"),
                settings_text(cfg, meta),
                "\n",
                ("Validation ", "$text-muted"),
                validation_text(cfg, meta),
                "\n",
                ("Dataset ", "$text-muted"),
                dataset_text(meta),
            )
        )

    # ---------------------------------------------------------------- actions
    @on(DataTable.RowSelected, "#models-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_load()

    def action_load(self) -> None:
        m = self.cursor_model()
        if m is None:
            return
        if m.error:
            self.rbm.show_error("Cannot load the model", m.error)
            return
        app = self.controller
        trained_on = model_dataset_name((m.header or {}).get("meta", {}))
        if trained_on and trained_on != app.dataset_name:
            try:
                from engine import catalogue

                on_disk = catalogue.is_on_disk(trained_on)
            except Exception:
                on_disk = False
            if on_disk:
                if app.use_dataset(trained_on, show=None):
                    app.prefs.set_active_model(trained_on, m.path)
                    app.save_prefs()
                    self.notify(f"switching to {trained_on}, the model's dataset")
                return
        self.controller.load_model(m.path)
        self.notify(f"loading {m.name}")

    def action_rename(self) -> None:
        m = self.cursor_model()
        if m is None:
            return

        def done(new: str | None) -> None:
            if not new or new == m.name:
                return
            from engine.model.storage import rename_model

            try:
                target = rename_model(m.path, new)
            except Exception as e:
                self.rbm.show_error("Cannot rename the model", str(e))
                return
            self._select_next = target  # the cursor stays on the renamed model
            self.controller.model_renamed(m.path, target)
            self.action_reload()
            self.notify(f"renamed to {target.name}")

        self.app.push_screen(
            PromptDialog(
                "Rename model",
                "New name (letters, digits, '.', '_' and '-'):",
                m.name,
                validators=[Regex(MODEL_NAME.pattern, failure_description=NAME_RULE)],
            ),
            done,
        )

    def action_delete(self) -> None:
        m = self.cursor_model()
        if m is None:
            return

        def done(yes: bool | None) -> None:
            if not yes:
                return
            from engine.model.storage import delete_model

            try:
                delete_model(m.path)
            except Exception as e:
                self.rbm.show_error("Cannot delete the model", str(e))
                return
            self.controller.forget_model(m.path)
            self.action_reload()
            self.notify(f"deleted {m.name}")

        if m.path == self.controller.model_path:
            title = "Delete the ACTIVE model"
            question = (
                f"{m.name} is the active model: Browse shows no scores or recommendations "
                "until you load another (Enter here) or train one (2). Delete it? This "
                "cannot be undone."
            )
        else:
            title, question = "Delete model", f"Delete {m.name}? This cannot be undone."
            users = self.controller.prefs.users_of(m.path)
            if users:
                title = "Delete an active model"
                question = (
                    f"{m.name} is the active model of {', '.join(map(display_name, users))}: "
                    "it will have none until you load or train another. Delete it? This "
                    "cannot be undone."
                )
        self.app.push_screen(ConfirmDialog(title, question, "Delete"), done)

    def action_prune(self) -> None:
        """Delete the models beyond the newest few of each dataset, after a confirmation;
        an active model is never pruned."""
        from engine.housekeeping import KEEP_PER_DATASET, prunable

        ctl = self.controller
        active = [Path(p) for p in ctl.prefs.models.values()]
        if ctl.model_path is not None:
            active.append(ctl.model_path)
        old = prunable(self.models, active)
        if not old:
            self.notify(f"nothing to prune: no dataset has more than {KEEP_PER_DATASET} models")
            return
        names = ", ".join(m.name for m in old[:5]) + (", …" if len(old) > 5 else "")
        question = (
            f"Delete {len(old)} older models ({names})? The newest {KEEP_PER_DATASET} of each "
            "dataset and the active ones are kept. This cannot be undone."
        )
        self.app.push_screen(
            ConfirmDialog("Prune old models", question, "Delete them"),
            lambda yes: self._prune(old) if yes else None,
        )

    def _prune(self, old: list[ModelInfo]) -> None:
        from engine.model.storage import delete_model

        failed = []
        for m in old:
            try:
                delete_model(m.path)
            except Exception as e:
                failed.append(f"{m.name}: {e}")
                continue
            self.controller.forget_model(m.path)
        self.action_reload()
        self.notify(f"pruned {len(old) - len(failed)} models")
        if failed:
            self.rbm.show_error("Some models were not deleted", "\n".join(failed))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename", "delete", "prune"):
            return True if self.models else None
        return True


def _date(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def settings_text(cfg: dict, meta: dict) -> str:
    """A model's settings and epochs: how many ran, which was best among those validated,
    how many then trained on all the ratings (without validation)."""
    hist = [h for h in meta.get("history") or [] if isinstance(h, dict)]
    validated = sum(1 for h in hist if h.get("val"))
    epochs = f"epochs {len(hist)} of {cfg.get('epochs', '?')}"
    if validated:
        epochs += f" (best {meta.get('best_epoch', '?')} of {validated} validated"
        epochs += f", {len(hist) - validated} on all ratings)" if validated < len(hist) else ")"
    return (
        f"hidden {cfg.get('n_hidden', '?')} · {epochs} · batch {cfg.get('batch_size', '?')}"
        f" · lr {cfg.get('learning_rate', '?')} · momentum {cfg.get('momentum', '?')}"
        f" · decay {cfg.get('weight_decay', '?')} · CD-k {cfg.get('cd_k', '?')}"
        f" · like ≥ {cfg.get('like_threshold', '?')} · seed {cfg.get('seed', '?')}"
        + (f" · {chosen}" if (chosen := format_chosen(meta)) else "")
    )


def validation_text(cfg: dict, meta: dict) -> str:
    """The best epoch's validation metrics and the score early stopping watched, explained:
    what it adds up, on which ratings, which way is better."""
    from engine.training.validation import MONITORED, monitored_score

    val = meta.get("val_metrics", {}) or {}
    metrics = " · ".join(
        f"{label} {format_score(val.get(key))}"
        for key, label in (("auc", "AUC"), ("ndcg@10", "nDCG@10"), ("logloss", "log-loss"))
    )
    monitor = str(cfg.get("monitor", "both"))
    score = monitored_score(val, monitor)
    if score is None:
        return metrics
    share = cfg.get("val_fraction")
    held = f"{share:.0%} of ratings" if isinstance(share, float) else "ratings"
    return (
        f"{metrics} · score {score:.3f} = {MONITORED.get(monitor, MONITORED['both'])} on "
        f"{held} held out, higher is better"
    )


def dataset_text(meta: dict) -> str:
    ds = meta.get("dataset", {}) or {}
    data = display_name(model_dataset_name(meta) or "?")
    if ds:
        data += (
            f": {ds.get('n_users', 0):,} users, {ds.get('n_items', 0):,} movies,"
            f" {ds.get('n_ratings', 0):,} ratings"
        )
    return data
