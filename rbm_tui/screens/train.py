"""Train: a validated hyperparameter form, start/stop, live loss sparkline, per-epoch metrics.

Training runs in a thread worker that only posts messages (see :mod:`rbm_tui.messages`);
stop sets an event the trainer polls between batches, so it takes effect within a batch and
the best model so far is kept. The finished model is saved (atomically) to the models folder
and becomes the active one.
"""

from __future__ import annotations

import threading
import time
import traceback

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.validation import ValidationResult, Validator
from textual.widgets import (
    Button,
    Collapsible,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    Sparkline,
    Static,
)

from engine.errors import SettingError
from engine.settings import ADVANCED, BASIC, SETTINGS, SETTINGS_BY_NAME, TrainConfig
from rbm_tui import messages as msg
from rbm_tui.screens.base import AppScreen, display_name


class SettingValidator(Validator):
    """Checks an input against its setting's type and range (:mod:`engine.settings`)."""

    def __init__(self, setting) -> None:
        super().__init__()
        self.setting = setting

    def validate(self, value: str) -> ValidationResult:
        try:
            self.setting.parse(value)
        except SettingError as e:
            return self.failure(str(e).split(": ", 1)[-1])
        return self.success()


def format_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.12g}"
    return str(v)


def _label(s) -> str:
    return s.label or s.name.replace("_", " ")


class TrainScreen(AppScreen):
    MODE = "train"
    TITLE_TEXT = "Train"
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", id="train.start"),
        Binding("ctrl+t", "stop", "Stop", id="train.stop"),
        Binding("ctrl+r", "defaults", "Defaults", id="train.defaults"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self.training = False
        self.losses: list[float] = []
        self._n_batches = 0
        self._epochs = 0
        self._devices = ["auto", "cpu"]

    # ---------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="train-body"):
            with VerticalScroll(id="train-form") as form:
                form.border_title = "Settings"
                for setting in BASIC:
                    yield from self._field(setting)
                yield Label("checking devices…", id="device-info", classes="hint")
                with Collapsible(title="Advanced settings", id="advanced", collapsed=True):
                    for setting in ADVANCED:
                        yield from self._field(setting)
                yield Label("", id="form-error", classes="field-error")
                with Horizontal(id="train-buttons"):
                    yield Button("Start ^s", id="start", variant="primary", compact=True)
                    yield Button("Stop ^t", id="stop", variant="error", compact=True, disabled=True)
            with Vertical(id="train-status"):
                yield Static("", id="train-dataset")
                yield Static("Idle: ctrl+s starts training.", id="train-state")
                yield ProgressBar(total=1, id="train-progress", show_eta=True)
                yield Label("Loss per epoch (like/dislike error)", classes="hint")
                yield Sparkline([], id="loss-sparkline", summary_function=max)
                yield DataTable(id="epochs", cursor_type="row", zebra_stripes=True)

    def _field(self, setting) -> ComposeResult:
        """One row of the form: the setting's label and its input (a choice: a select)."""
        with Horizontal(classes="field"):
            yield Label(_label(setting), classes="field-label")
            value = format_value(setting.default)
            if setting.choices or setting.type is bool:
                options = setting.choices or ("true", "false")
                widget = Select(
                    [(o, o) for o in options],
                    value=value,
                    allow_blank=False,
                    id=f"cfg-{setting.name}",
                    compact=True,
                    classes="field-input",
                )
            else:
                widget = Input(
                    value,
                    type="integer" if setting.type is int else "number",
                    validators=[SettingValidator(setting)],
                    id=f"cfg-{setting.name}",
                    compact=True,
                    valid_empty=False,
                    classes="field-input",
                )
            widget.tooltip = f"{setting.help} ({setting.describe_range()})"
            yield widget

    def on_mount(self) -> None:
        table = self.query_one("#epochs", DataTable)
        table.add_column("Epoch", key="epoch", width=7)
        table.add_column("Loss", key="loss", width=6)
        table.add_column("AUC", key="auc", width=6)
        table.add_column("nDCG@10", key="ndcg", width=7)
        table.add_column("s", key="sec", width=5)
        self._detect_devices()
        self.sync_state()

    def sync_state(self) -> None:
        r = self.rbm.ratings
        w = self.query_one("#train-dataset", Static)
        if self.rbm.loading_dataset:
            w.update(Content.styled(f"Loading {self.rbm.loading_dataset}…", "$text-muted"))
        elif r is None:
            w.update(
                Content.styled("No dataset: choose one on the Datasets screen (1).", "$warning")
            )
        else:
            w.update(
                Content.assemble(
                    (self.rbm.dataset_label, "bold"),
                    (
                        f": {r.n_users:,} users, {r.n_items:,} movies, {r.n_ratings:,} ratings",
                        "$text-muted",
                    ),
                )
            )
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
        self._devices = event.devices
        select = self.query_one("#cfg-device", Select)
        current = select.value
        labels = {"auto": "auto", "cpu": "cpu", "cuda": "cuda"}
        select.set_options([(labels[d], d) for d in event.devices])
        select.value = current if current in event.devices else event.devices[0]
        self.query_one("#device-info", Label).update(event.description)

    # ------------------------------------------------------------------ form
    def read_config(self) -> TrainConfig | None:
        """The :class:`~engine.settings.TrainConfig` of the form, or None (the first bad
        field is focused and its problem shown)."""
        err = self.query_one("#form-error", Label)
        values: dict[str, str] = {}
        for setting in SETTINGS:
            widget = self.query_one(f"#cfg-{setting.name}")
            if isinstance(widget, Select):
                values[setting.name] = str(widget.value)
                continue
            result = widget.validate(widget.value)
            if result is not None and not result.is_valid:
                why = "; ".join(result.failure_descriptions) or "invalid"
                err.update(f"{_label(setting)}: {why}")
                if not setting.basic:
                    self.query_one("#advanced", Collapsible).collapsed = False
                widget.focus()
                return None
            values[setting.name] = widget.value
        try:
            cfg = TrainConfig.from_strings(values)
        except SettingError as e:
            err.update(str(e))
            return None
        err.update("")
        return cfg

    @on(Input.Changed, ".field-input")
    def _field_changed(self, event: Input.Changed) -> None:
        err = self.query_one("#form-error", Label)
        if event.validation_result is not None and not event.validation_result.is_valid:
            name = (event.input.id or "").removeprefix("cfg-")
            label = _label(SETTINGS_BY_NAME[name]) if name in SETTINGS_BY_NAME else "value"
            err.update(f"{label}: " + "; ".join(event.validation_result.failure_descriptions))
        else:
            err.update("")

    def action_defaults(self) -> None:
        if self.training:
            return
        self.set_values(**{s.name: s.default for s in SETTINGS})
        self.query_one("#form-error", Label).update("")

    def set_values(self, **values: object) -> None:
        """Fill form fields (tests and scripts): ``set_values(epochs=2, n_hidden=8)``."""
        for k, v in values.items():
            if k not in SETTINGS_BY_NAME:
                raise KeyError(k)
            widget = self.query_one(f"#cfg-{k}")
            widget.value = format_value(v)

    # -------------------------------------------------------------- training
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return None if self.training else True
        if action == "stop":
            return True if self.training else None
        if action == "defaults":
            return None if self.training else True
        return True

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    def action_start(self) -> None:
        if self.training:
            return
        app = self.rbm
        if app.ratings is None:
            if app.loading_dataset:
                self.notify(f"{app.loading_dataset} is still loading", severity="warning")
            else:
                self.notify("choose a dataset first (1)", severity="warning")
            return
        cfg = self.read_config()
        if cfg is None:
            self.notify("fix the marked field first", severity="error")
            return
        self.training = True
        self._cancel = threading.Event()
        self.losses = []
        self._epochs = cfg.epochs
        self._n_batches = 0
        self.query_one("#loss-sparkline", Sparkline).data = []
        self.query_one("#epochs", DataTable).clear()
        bar = self.query_one("#train-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self._set_form_enabled(False)
        self.query_one("#train-state", Static).update(
            Content.styled(f"Starting: {cfg.epochs} epochs on {app.dataset_label}…", "$warning")
        )
        self.refresh_bindings()
        self._train(app.ratings, cfg, str(app.dataset_name), self._cancel)

    def action_stop(self) -> None:
        if self.training and not self._cancel.is_set():
            self._cancel.set()
            self.query_one("#train-state", Static).update(
                Content.styled("Stopping… (keeping the best model so far)", "$warning")
            )

    def _set_form_enabled(self, enabled: bool) -> None:
        for w in self.query(".field-input"):
            w.disabled = not enabled
        self.query_one("#start", Button).disabled = not enabled
        self.query_one("#stop", Button).disabled = enabled
        if not enabled:
            self.query_one("#stop", Button).focus()

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, ratings, cfg, dataset: str, cancel: threading.Event) -> None:
        from engine.model import storage
        from engine.training.loop import train

        last = [0.0]

        def progress(p) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.05 or p.batch == p.n_batches:
                last[0] = now
                self.post_message(msg.TrainBatch(p.epoch, cfg.epochs, p.batch, p.n_batches))

        def callback(report) -> None:
            self.post_message(msg.TrainEpoch(report))

        try:
            self.post_message(msg.TrainStarted(cfg.epochs, dataset))
            result = train(ratings, cfg, callback=callback, progress=progress, cancel=cancel.is_set)
            path = None
            if result.history and result.best_epoch > 0:
                meta = getattr(result.model, "meta", None)
                if isinstance(meta, dict):
                    meta.setdefault("dataset", {})["name"] = dataset
                path, failures = storage.save_with_fallback(result.model)
                if failures:
                    self.post_message(
                        msg.TrainFailed(
                            f"could not save the model where it belongs ({'; '.join(failures)});"
                            f" it was saved to {path} instead"
                        )
                    )
            self.post_message(
                msg.TrainDone(
                    path=path,
                    model=result.model if path is not None else None,
                    cancelled=result.cancelled,
                    best_epoch=result.best_epoch,
                    epochs_done=len(result.history),
                    seconds=result.seconds,
                    dataset=dataset,
                )
            )
        except Exception as e:
            text = str(e).strip() or type(e).__name__
            self.post_message(msg.TrainFailed(text, traceback.format_exc(limit=8)))

    @on(msg.TrainStarted)
    def _started(self, event: msg.TrainStarted) -> None:
        event.stop()
        self.query_one("#train-state", Static).update(
            Content.styled(
                f"Training on {display_name(event.dataset)}: epoch 1/{event.epochs}…", "$warning"
            )
        )

    @on(msg.TrainBatch)
    def _batch(self, event: msg.TrainBatch) -> None:
        event.stop()
        bar = self.query_one("#train-progress", ProgressBar)
        if self._n_batches != event.n_batches or bar.total is None:
            self._n_batches = event.n_batches
            bar.update(total=event.epochs * event.n_batches)
        bar.update(progress=(event.epoch - 1) * event.n_batches + event.batch)

    @on(msg.TrainEpoch)
    def _epoch(self, event: msg.TrainEpoch) -> None:
        event.stop()
        rep = event.report
        self.losses.append(float(rep.train_loss))
        self.query_one("#loss-sparkline", Sparkline).data = list(self.losses)
        val = rep.val or {}
        table = self.query_one("#epochs", DataTable)
        mark = "*" if rep.best else "+" if rep.refit else " "
        table.add_row(
            f"{rep.epoch}/{rep.epochs}{mark}",
            f"{rep.train_loss:.3f}",
            _fmt(val.get("auc")),
            _fmt(val.get("ndcg@10")),
            f"{rep.seconds:.2f}" if rep.seconds < 10 else f"{rep.seconds:.0f}",
            key=str(rep.epoch),
        )
        table.move_cursor(row=table.row_count - 1, animate=False)
        if not self._cancel.is_set():
            self.query_one("#train-state", Static).update(
                Content.styled(
                    f"Epoch {rep.epoch}/{rep.epochs} done, {rep.seconds:.2g} s/epoch"
                    + (" (+ on all ratings)" if rep.refit else " (* best so far)"),
                    "$warning",
                )
            )

    @on(msg.TrainDone)
    def _done(self, event: msg.TrainDone) -> None:
        event.stop()
        self.training = False
        self._set_form_enabled(True)
        self.refresh_bindings()
        bar = self.query_one("#train-progress", ProgressBar)
        if not event.cancelled and bar.total is not None:
            bar.update(progress=bar.total)
        state = self.query_one("#train-state", Static)
        if event.path is None:
            state.update(
                Content.styled("Stopped before the first epoch ended: nothing saved.", "$warning")
            )
            self.notify("training stopped; no model saved", severity="warning")
            return
        how = "Stopped" if event.cancelled else "Done"
        active = event.dataset == self.rbm.dataset_name and event.model is not None
        state.update(
            Content.assemble(
                (f"{how} after {event.epochs_done} epochs", "bold $success"),
                f", best {event.best_epoch}: saved ",
                (event.path.stem, "bold"),
                ", now active (3: browse)" if active else f" ({display_name(event.dataset)})",
            )
        )
        if active:
            self.rbm.set_active_model(event.model, event.path)
        self.notify(f"model saved: {event.path.name}", title=f"Training {how.lower()}")

    @on(msg.TrainFailed)
    def _failed(self, event: msg.TrainFailed) -> None:
        event.stop()
        self.training = False
        self._set_form_enabled(True)
        self.refresh_bindings()
        self.query_one("#train-state", Static).update(
            Content.styled("Training failed (see the message).", "$error")
        )
        self.rbm.show_error("Training failed", event.error, event.detail)

    def on_unmount(self) -> None:
        self._cancel.set()


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"
