"""The training settings form, built from the settings table (:mod:`engine.settings`): the
basic settings, the device found, the advanced ones folded away, the first problem, the
Start and Stop buttons."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Regex, ValidationResult, Validator
from textual.widgets import Button, Collapsible, Input, Label, Select

from engine.errors import SettingError
from engine.formatting import format_value
from engine.housekeeping import MODEL_NAME, model_file
from engine.settings import ADVANCED, BASIC, SETTINGS, SETTINGS_BY_NAME, Setting, TrainConfig


class SettingValidator(Validator):
    """Checks an input against its setting's type and range."""

    def __init__(self, setting: Setting) -> None:
        super().__init__()
        self.setting = setting

    def validate(self, value: str) -> ValidationResult:
        try:
            self.setting.parse(value)
        except SettingError as e:
            return self.failure(str(e).split(": ", 1)[-1])
        return self.success()


def setting_label(s: Setting) -> str:
    return s.label or s.name.replace("_", " ")


#: What a model name may hold (the Train form and the Models screen's rename say it).
NAME_RULE = "letters, digits, '.', '_' and '-' only"


class SettingsForm(VerticalScroll):
    """The form. :meth:`read_config` gives its :class:`~engine.settings.TrainConfig`,
    :meth:`run_name` the model's name."""

    #: whether the name typed was fine at the last :meth:`run_name`
    name_ok = True
    error = ""  # the problem the form shows under it ("" none)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label("Model name", classes="field-label")
            yield Input(
                placeholder="dataset-date",
                id="run-name",
                compact=True,
                classes="field-input",
                validators=[Regex(MODEL_NAME.pattern, failure_description=NAME_RULE)],
                valid_empty=True,
                tooltip="the saved model's name; empty: the dataset and the date",
            )
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

    def _field(self, setting: Setting) -> ComposeResult:
        """One row of the form: the setting's label and its input (a choice: a select)."""
        with Horizontal(classes="field"):
            yield Label(setting_label(setting), classes="field-label")
            value = format_value(setting.default)
            widget: Select[str] | Input
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

    def show_devices(self, devices: list[str], description: str) -> None:
        """Offer ``devices`` (``auto``, ``cpu``, ``cuda``) and say what was found."""
        select = self.query_one("#cfg-device", Select)
        current = select.value
        select.set_options([(d, d) for d in devices])
        select.value = current if current in devices else devices[0]
        self.query_one("#device-info", Label).update(description)

    def show_error(self, text: str) -> None:
        """Say what is wrong under the form ("" clears it); :attr:`error` keeps the text."""
        self.error = text
        self.query_one("#form-error", Label).update(text)

    def run_name(self) -> str | None:
        """The model's name typed (None: none typed, or a bad one: then focused, its problem
        shown; :attr:`name_ok` says which)."""
        widget = self.query_one("#run-name", Input)
        name = widget.value.strip()
        self.name_ok = True
        if not name:
            return None
        problem = ""
        if not MODEL_NAME.fullmatch(name):
            problem = NAME_RULE
        elif model_file(name).exists():
            problem = f"a model named {name} exists (rename or delete it on Models, 4)"
        if problem:
            self.name_ok = False
            self.show_error(f"Model name: {problem}")
            widget.focus()
            return None
        return name

    def read_config(self) -> TrainConfig | None:
        """The form's settings, or None (the first bad field is focused, its problem shown)."""
        values: dict[str, str] = {}
        for setting in SETTINGS:
            widget = self.query_one(f"#cfg-{setting.name}")
            if isinstance(widget, Select):
                values[setting.name] = str(widget.value)
                continue
            assert isinstance(widget, Input)
            result = widget.validate(widget.value)
            if result is not None and not result.is_valid:
                why = "; ".join(result.failure_descriptions) or "invalid"
                self.show_error(f"{setting_label(setting)}: {why}")
                if not setting.basic:
                    self.query_one("#advanced", Collapsible).collapsed = False
                widget.focus()
                return None
            values[setting.name] = widget.value
        try:
            cfg = TrainConfig.from_strings(values)
        except SettingError as e:
            self.show_error(str(e))
            return None
        self.show_error("")
        return cfg

    @on(Input.Changed, ".field-input")
    def _field_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            name = (event.input.id or "").removeprefix("cfg-")
            label = setting_label(SETTINGS_BY_NAME[name]) if name in SETTINGS_BY_NAME else "Name"
            self.show_error(f"{label}: " + "; ".join(result.failure_descriptions))
        else:
            self.show_error("")

    def set_values(self, **values: object) -> None:
        """Fill fields: ``set_values(epochs=2, n_hidden=8)``."""
        for k, v in values.items():
            if k not in SETTINGS_BY_NAME:
                raise KeyError(k)
            widget = self.query_one(f"#cfg-{k}")
            assert isinstance(widget, (Input, Select))
            widget.value = format_value(v)

    def set_enabled(self, enabled: bool) -> None:
        """Enable the fields and Start (not training), or Stop alone (training)."""
        for w in self.query(".field-input"):  # (the name too)
            w.disabled = not enabled
        self.query_one("#advanced", Collapsible).disabled = not enabled
        self.query_one("#start", Button).disabled = not enabled
        self.query_one("#stop", Button).disabled = enabled
