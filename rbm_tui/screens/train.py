"""Train: the settings form (from the settings table), start and stop, and the run drawn:
progress with the time left, a chart of the loss and the validation scores, the epochs.

The run itself is the app's (:meth:`rbm_tui.app.RbmTuiApp.start_training`): it goes on while
other screens are shown, and every screen's bar shows how far it is. Stopping asks first; the
model so far is kept, and becomes the active model only if it scores better on validation than
the active one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, ProgressBar, Static

from engine.formatting import format_count, format_duration, format_score
from engine.settings import LIKE_THRESHOLD, SETTINGS, TrainConfig, like_threshold_for
from rbm_tui import messages as msg
from rbm_tui.screens.base import AppScreen, display_name
from rbm_tui.screens.dialogs import ConfirmDialog
from rbm_tui.widgets.chart import TrainingChart, run_series
from rbm_tui.widgets.settings_form import SettingsForm

if TYPE_CHECKING:
    from rbm_tui.training import RunOutcome

#: Below this many columns the form and the run share the screen one above the other.
NARROW = 76


class EpochTable(DataTable):
    """The table of epochs. Textual moves a scrollbar's thumb only while the bar is shown, so a
    scroll to the newest epoch made just before the bar appears would leave the thumb at the top;
    this table puts the thumb where it is scrolled to when the bar appears."""

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        if shown:
            self.vertical_scrollbar.position = self.scroll_y


class TrainScreen(AppScreen, mode="train", title="Train"):
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", id="train.start"),
        Binding("ctrl+t", "stop", "Stop", id="train.stop"),
        Binding("ctrl+r", "defaults", "Defaults", id="train.defaults"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._drawn_epochs = 0
        self._shown_state: tuple[bool, bool] | None = None

    # ---------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="train-body"):
            form = SettingsForm(id="train-form")
            form.border_title = "Settings"
            yield form
            with Vertical(id="train-status"):
                yield Static("", id="train-dataset")
                yield Static("Idle: ctrl+s starts training.", id="train-state")
                yield ProgressBar(total=1, id="train-progress", show_eta=False)
                yield TrainingChart(id="train-chart")
                yield EpochTable(id="epochs", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#epochs", DataTable)
        table.add_column("Epoch", key="epoch", width=7)
        table.add_column("Loss", key="loss", width=6)
        table.add_column("AUC", key="auc", width=6)
        table.add_column("nDCG@10", key="ndcg", width=7)
        table.add_column("s", key="sec", width=5)
        self.query_one(TrainingChart).can_focus = True
        self._detect_devices()
        self.sync_state()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._draw_run(full=True)  # the run went on while another screen was shown

    def sync_state(self) -> None:
        app = self.controller
        r = app.ratings
        w = self.query_one("#train-dataset", Static)
        if app.running is not None:
            w.update(
                Content.assemble(
                    ("Training on ", "$text-muted"),
                    (display_name(app.running.dataset), "bold"),
                    (" (datasets can be switched when it ends)", "$text-muted"),
                )
            )
        elif app.loading_dataset:
            w.update(Content.styled(f"Loading {app.loading_dataset}…", "$text-muted"))
        elif r is None:
            w.update(
                Content.styled("No dataset: choose one on the Datasets screen (1).", "$warning")
            )
        else:
            w.update(
                Content.assemble(
                    (app.dataset_label, "bold"),
                    (
                        f": {r.n_users:,} users, {r.n_items:,} movies, {r.n_ratings:,} ratings",
                        "$text-muted",
                    ),
                    (_scale_note(r), "$text-muted"),
                )
            )
        self._draw_run(full=True)
        self.refresh_bindings()

    # --------------------------------------------------------------- devices
    @work(thread=True, group="devices", exit_on_error=False)
    def _detect_devices(self) -> None:
        try:
            import torch

            if torch.cuda.is_available():
                name = torch.cuda.get_device_name(0)
                self.post_message(msg.DeviceInfo(["auto", "cpu", "cuda"], f"CUDA: {name}"))
            else:
                self.post_message(msg.DeviceInfo(["auto", "cpu"], "CPU only (no CUDA)"))
        except Exception as e:  # pragma: no cover - torch missing or broken
            self.post_message(msg.DeviceInfo(["cpu"], f"torch unavailable: {e}"))

    @on(msg.DeviceInfo)
    def _device_info(self, event: msg.DeviceInfo) -> None:
        event.stop()
        self.query_one(SettingsForm).show_devices(event.devices, event.description)

    # ------------------------------------------------------------------ form
    @property
    def form(self) -> SettingsForm:
        return self.query_one(SettingsForm)

    def read_config(self) -> TrainConfig | None:
        """The form's settings, or None (the first bad field is focused, its problem shown)."""
        return self.form.read_config()

    def action_defaults(self) -> None:
        if self.controller.training:
            return
        self.form.set_values(**{s.name: s.default for s in SETTINGS})
        self.form.show_error("")

    def set_values(self, **values: object) -> None:
        """Fill form fields (tests and scripts): ``set_values(epochs=2, n_hidden=8)``."""
        self.form.set_values(**values)

    # -------------------------------------------------------------- training
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        run = self.controller.running
        training = run is not None
        if action == "start":
            return None if training else True
        if action == "stop":
            return True if run is not None and not run.stopping else None
        if action == "defaults":
            return None if training else True
        return True

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    def action_start(self) -> None:
        if self.controller.training:
            return
        cfg = self.read_config()
        name = self.form.run_name() if cfg is not None else None
        if cfg is None or not self.form.name_ok:
            # (said in a toast as well: on a short terminal the line under the form is
            # scrolled out of view)
            self.notify(self.form.error or "fix the marked field first", severity="error")
            return
        if self.controller.start_training(cfg, name):
            self._drawn_epochs = 0
            self.query_one("#epochs", DataTable).clear()
            # keep the keys away from Stop: Enter right after ctrl+s must not stop the run
            self.query_one(TrainingChart).focus()
            self.sync_state()

    def action_stop(self) -> None:
        run = self.controller.running
        if run is None or run.stopping:
            return
        best = run.best()
        kept = (
            f"the model so far is saved (best validation so far, epoch {best.epoch}: "
            f"AUC {best.val.get('auc', 0):.3f}, nDCG@10 {best.val.get('ndcg@10', 0):.3f})"
            if best is not None and best.val
            else "no epoch has ended yet, so nothing is saved"
        )

        def answer(yes: bool | None) -> None:
            if yes:
                self.controller.stop_training()

        self.app.push_screen(
            ConfirmDialog(
                "Stop training?",
                f"Stop now? {kept[0].upper()}{kept[1:]}; it becomes the active model only if it "
                "scores better on validation than the active one.",
                yes="Stop",
                no="Keep training",
            ),
            answer,
        )

    # ------------------------------------------------------------ the run
    def training_changed(self, epoch=None) -> None:
        super().training_changed(epoch)
        if self.is_mounted:
            self._draw_run(full=epoch is not None)

    def _draw_run(self, *, full: bool) -> None:
        """Draw the app's run: state line and progress (and, with ``full``, the chart and
        the epochs table)."""
        app = self.controller
        run = app.training_run
        running = app.training
        shown = (running, bool(run and run.stopping))
        if shown != self._shown_state:  # the form and the keys change with the state only
            self._shown_state = shown
            self.set_class(running, "-running")
            self.form.set_enabled(not running)
            self.refresh_bindings()
        state = self.query_one("#train-state", Static)
        bar = self.query_one("#train-progress", ProgressBar)
        if run is None:
            state.update("Idle: ctrl+s starts training.")
            bar.update(total=1, progress=0)
            return
        f = run.forecast
        if running:
            total = max(1, f.expected_epochs * max(1, run.n_batches))
            bar.update(total=total, progress=f.fraction() * total)
            state.update(self._running_text(run))
        elif run.outcome is not None:
            state.update(self._outcome_text(run.outcome))
            if not (run.outcome.cancelled or run.outcome.failed) and run.outcome.saved:
                bar.update(total=1, progress=1)
        if full:
            self._draw_chart(run)
            self._draw_table(run)

    def _running_text(self, run) -> Content:
        f = run.forecast
        left = f.seconds_left()
        what = "Stopping… (keeping the model so far)" if run.stopping else "Training"
        head = f"{what}: epoch {run.epoch} of ~{f.expected_epochs}"
        if run.history and run.history[-1].refit:
            head += " (on all ratings)"
        # stopping: what is left is finishing the model so far, not the run's epochs
        tail = f", {format_duration(left)} left" if left is not None and not run.stopping else ""
        best = run.best()
        parts = [(head + tail, "$warning")]
        if best is not None and best.val:
            parts.append(
                (
                    f"\nbest so far: epoch {best.epoch}, AUC {best.val.get('auc', 0):.3f}, "
                    f"nDCG@10 {best.val.get('ndcg@10', 0):.3f}",
                    "$text-muted",
                )
            )
        return Content.assemble(*parts)

    def _draw_chart(self, run) -> None:
        hist = run.history
        series, refit = run_series(
            {"epoch": r.epoch, "train_loss": r.train_loss, "val": r.val, "refit": r.refit}
            for r in hist
        )
        best = run.best()
        expected = run.forecast.expected_epochs if not run.ended else len(hist)
        self.query_one(TrainingChart).set_data(
            series,
            epochs=max(expected, len(hist)),
            best=best.epoch if best else None,
            refit_from=refit,
        )

    def _draw_table(self, run) -> None:
        table = self.query_one("#epochs", DataTable)
        if self._drawn_epochs > len(run.history):
            table.clear()
            self._drawn_epochs = 0
        for rep in run.history[self._drawn_epochs :]:
            val = rep.val or {}
            mark = "*" if rep.best else "+" if rep.refit else " "
            table.add_row(
                f"{rep.epoch}{mark}",
                f"{rep.train_loss:.3f}",
                format_score(val.get("auc")),
                format_score(val.get("ndcg@10")),
                f"{rep.seconds:.2f}" if rep.seconds < 10 else f"{rep.seconds:.0f}",
                key=str(rep.epoch),
            )
        self._drawn_epochs = len(run.history)
        if table.row_count:
            table.move_cursor(row=table.row_count - 1, animate=False)

    @staticmethod
    def _outcome_text(outcome: RunOutcome) -> Content:
        """The state line of an ended run."""
        if outcome.failed:
            return Content.styled("Training failed (see the message).", "$error")
        if outcome.saved is None:
            return Content.styled(
                "Stopped before the first epoch ended: nothing saved.", "$warning"
            )
        if outcome.kept_copy:
            return Content.assemble(
                ("Nothing trained: ", "bold $success"),
                (outcome.saved, "bold"),
                " has the same data, settings and seed; now active (3: browse)",
            )
        how = "Stopped" if outcome.cancelled else "Done"
        why = outcome.why
        return Content.assemble(
            (f"{how} after {format_count(outcome.epochs_done, 'epoch')}", "bold $success"),
            f", best {outcome.best_epoch}: saved ",
            (outcome.saved, "bold"),
            ", now active (3: browse)" if outcome.activated else (f"; {why}" if why else ""),
        )


def _scale_note(r) -> str:
    """What the automatic like threshold (the form's 0) is on the ratings ``r``:
    `` · “Like if ≥” 0 means 3 here`` (:func:`engine.settings.like_threshold_for`), with the
    rating scale where it is not MovieLens' (``ratings 1-10: ... means 6``)."""
    low, high = r.scale
    threshold = like_threshold_for(0.0, high)
    scale = "" if threshold == LIKE_THRESHOLD else f"ratings {low:g}-{high:g}: "
    return f" · {scale}“Like if ≥” 0 means {threshold:g} here"
