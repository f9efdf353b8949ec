"""Profiles in the app: several people on one machine, each with their own thumbs.

:class:`ProfilesDialog` lists the profiles of the ratings store with their thumbs on the
dataset (the active one starred) and creates, renames, deletes and switches them; it
returns the profile to show (None: nothing changed). :class:`ProfilePicker` picks two or
more profiles to watch together.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from engine.errors import RbmTuiError
from rbm_tui.screens.dialogs import ConfirmDialog, PromptDialog

__all__ = ["PeopleList", "ProfilePicker", "ProfilesDialog"]

_CSS = """
.profiles-dialog OptionList, .profiles-dialog SelectionList {
    height: auto;
    max-height: 10;
    margin: 1 0 0 0;
}
.profiles-dialog .profiles-error { color: $error; height: auto; }
"""


class ProfilesDialog(ModalScreen[str | None]):
    """The profiles of ``store`` (an :class:`engine.userstore.UserStore`) with their thumbs
    on dataset ``key``. Enter switches to the highlighted one; ``n`` creates, ``r`` renames,
    ``delete`` deletes (after a confirmation). Dismissed with the profile to show, or None
    when nothing changed."""

    DEFAULT_CSS = _CSS
    BINDINGS = [
        Binding("enter", "switch", "Switch to it", id="profiles.switch"),
        Binding("n", "create", "New profile", id="profiles.create"),
        Binding("r", "rename", "Rename", id="profiles.rename"),
        Binding("delete,x", "delete", "Delete", id="profiles.delete"),
        Binding("escape", "close", "Close", id="profiles.close"),
    ]

    def __init__(self, store: Any, key: str | None) -> None:
        super().__init__(classes="dialog-screen")
        self.store = store
        self.key = key
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog profiles-dialog") as box:
            box.border_title = "Profiles"
            yield OptionList(id="profiles")
            yield Static("", classes="profiles-error", markup=False)
            yield Label("enter: switch · n: new · r: rename · del: delete · esc: close")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Switch (enter)", variant="primary", id="switch", compact=True)
                yield Button("Close (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.refill()
        self.query_one(OptionList).focus()

    def refill(self, highlight: str | None = None) -> None:
        """List the profiles again, the highlight on ``highlight`` (default: the active)."""
        counts = self.store.profile_counts(self.key)
        active = self.store.active_profile()
        where = f" on {self.key}" if self.key else ""
        options = [
            Option(f"{'*' if name == active else ' '} {name}  ({n} thumbs{where})", id=name)
            for name, n in counts.items()
        ]
        ol = self.query_one(OptionList)
        ol.set_options(options)
        names = list(counts)
        target = highlight if highlight in names else active
        if target in names:
            ol.highlighted = names.index(target)

    def highlighted(self) -> str | None:
        ol = self.query_one(OptionList)
        if ol.highlighted is None:
            return None
        return ol.get_option_at_index(ol.highlighted).id

    def _try(self, what, *args) -> Any:
        """``what(*args)``; an engine error is shown in the dialog (returns None)."""
        try:
            out = what(*args)
        except RbmTuiError as e:
            self.query_one(".profiles-error", Static).update(str(e))
            return None
        self.query_one(".profiles-error", Static).update("")
        self.changed = True
        return out

    @on(OptionList.OptionSelected)
    @on(Button.Pressed, "#switch")
    def action_switch(self) -> None:
        name = self.highlighted()
        if name is not None and self._try(self.store.switch_profile, name) is not None:
            self.dismiss(name)

    def action_create(self) -> None:
        def made(name: str | None) -> None:
            if name and self._try(self.store.create_profile, name) is not None:
                self.refill(name.strip())

        self.app.push_screen(PromptDialog("New profile", "The new person's name:"), made)

    def action_rename(self) -> None:
        old = self.highlighted()
        if old is None:
            return

        def renamed(new: str | None) -> None:
            if new and self._try(self.store.rename_profile, old, new) is not None:
                self.refill(new.strip())

        self.app.push_screen(
            PromptDialog("Rename the profile", f"New name for {old}:", old), renamed
        )

    def action_delete(self) -> None:
        name = self.highlighted()
        if name is None:
            return
        n = self.store.profile_counts().get(name, 0)

        def answer(yes: bool | None) -> None:
            if yes and self._try(self.store.delete_profile, name) is not None:
                self.refill()

        question = f"Delete the profile {name} with its {n} thumbs and marks (every dataset)?"
        self.app.push_screen(ConfirmDialog("Delete the profile?", question, "Delete"), answer)

    @on(Button.Pressed, "#cancel")
    def action_close(self) -> None:
        self.dismiss(self.store.active_profile() if self.changed else None)


class PeopleList(SelectionList[str]):
    """The people to tick; enter accepts the picker instead of ticking."""

    BINDINGS = [Binding("enter", "screen.accept", "Watch together", show=False)]


class ProfilePicker(ModalScreen[list[str] | None]):
    """Pick two or more of ``names`` to watch together (``chosen`` ticked at first); space
    ticks, enter accepts, esc cancels. Dismissed with the names ticked, in their order."""

    DEFAULT_CSS = _CSS
    BINDINGS = [
        Binding("enter", "accept", "Watch together", id="together.accept"),
        Binding("escape", "cancel", "Cancel", id="together.cancel"),
    ]

    def __init__(self, names: list[str], chosen: list[str]) -> None:
        super().__init__(classes="dialog-screen")
        self.names = names
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog profiles-dialog") as box:
            box.border_title = "Watch together"
            yield Label("Who is watching? (space ticks, enter: one list for all)")
            yield PeopleList(*[(n, n, n in self.chosen) for n in self.names], id="together-people")
            yield Static("", classes="profiles-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Together (enter)", variant="primary", id="accept", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(PeopleList).focus()

    def picked(self) -> list[str]:
        ticked = set(self.query_one(PeopleList).selected)
        return [n for n in self.names if n in ticked]

    @on(Button.Pressed, "#accept")
    def action_accept(self) -> None:
        names = self.picked()
        if len(names) < 2:
            self.query_one(".profiles-error", Static).update(
                "tick two or more people (n on the profiles dialog, p, adds one)"
            )
            return
        self.dismiss(names)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
