"""Modal dialogs: an error, a yes/no confirmation, a one-line prompt."""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import Validator
from textual.widgets import Button, Input, Label, Static

Answer = TypeVar("Answer")


class Dialog(ModalScreen[Answer]):
    """A dialog box over the screen, its title in its border."""

    def __init__(self, title: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title

    def box(self, classes: str = "") -> Vertical:
        """The dialog's box (compose its content inside it)."""
        box = Vertical(classes=f"dialog {classes}".rstrip())
        box.border_title = self.title_text
        return box


class ErrorDialog(Dialog[None]):
    """Shows what went wrong; the app keeps running. Enter or Esc closes it."""

    BINDINGS = [
        Binding("escape,enter", "dismiss_dialog", "Close", id="dialog.close"),
    ]

    def __init__(self, title: str, message: str, detail: str = "") -> None:
        super().__init__(title)
        self.message = message
        self.detail = detail

    def compose(self) -> ComposeResult:
        with self.box("error-dialog"):
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.message, id="error-message", markup=False)
                if self.detail:
                    yield Static(self.detail, id="error-detail", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="error", id="ok", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


class ConfirmDialog(Dialog[bool]):
    """A yes/no question; ``y``/Enter says yes, ``n``/Esc says no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(title)
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with self.box():
            yield Static(self.question, classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="yes", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptDialog(Dialog[str | None]):
    """Asks for one line of text; Enter accepts (when valid), Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        title: str,
        label: str,
        value: str = "",
        *,
        placeholder: str = "",
        validators: list[Validator] | None = None,
    ) -> None:
        super().__init__(title)
        self.label = label
        self.value = value
        self.placeholder = placeholder
        self.validators = validators or []

    def compose(self) -> ComposeResult:
        with self.box():
            yield Label(self.label, classes="dialog-body")
            yield Input(
                self.value,
                placeholder=self.placeholder,
                validators=self.validators,
                id="prompt-input",
                select_on_focus=False,
            )
            yield Label("", id="prompt-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK (enter)", variant="primary", id="ok", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _accept(self) -> None:
        inp = self.query_one(Input)
        result = inp.validate(inp.value)
        if result is not None and not result.is_valid:
            self.query_one("#prompt-error", Label).update(
                "; ".join(result.failure_descriptions) or "invalid"
            )
            return
        value = inp.value.strip()
        if not value:
            self.query_one("#prompt-error", Label).update("type something, or Esc to cancel")
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
