"""The base of the four main screens: the nav bar on top, the footer below, state syncing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable

from rbm_tui.widgets.footer import QuickFooter
from rbm_tui.widgets.nav import NavBar

if TYPE_CHECKING:
    from engine.training.loop import EpochReport
    from rbm_tui.app import RbmTuiApp
    from rbm_tui.controller import Controller


class AppScreen(Screen):
    """A main screen. Subclasses compose their body in :meth:`compose_body` and refresh what
    depends on the app's state (dataset, ratings, model) in :meth:`sync_state`, which runs
    when the screen is shown and whenever that state changes while it is shown."""

    MODE = ""  # the app's mode name (``class X(AppScreen, mode="x", title="X")`` sets both)
    TITLE_TEXT = ""
    FOOTER_PALETTE = True  # show "^p palette" in the footer (Browse needs the room)

    def __init_subclass__(cls, mode: str = "", title: str = "", **kwargs: Any) -> None:
        if mode:
            cls.MODE, cls.TITLE_TEXT = mode, title
        super().__init_subclass__(**kwargs)

    def __init__(self) -> None:
        super().__init__(id=f"{self.MODE}-screen")
        self._synced_version = -1
        self._resumed = False

    @property
    def rbm(self) -> RbmTuiApp:
        return self.app  # type: ignore[return-value]

    @property
    def controller(self) -> Controller:
        """The app's state and workers."""
        return self.rbm.controller

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield QuickFooter(compact=True, show_command_palette=self.FOOTER_PALETTE)

    def compose_body(self) -> ComposeResult:  # pragma: no cover - overridden
        yield from ()

    @on(events.ScreenResume)
    def _shown(self, event: events.ScreenResume) -> None:
        """Textual restyles every widget of a screen shown again (a tenth of a second on
        Train); a main screen shown again by a switch has the styles it had (a new theme
        restyles it through the app's stylesheet), so only its first showing does. (Runs
        before Textual's own handler, which reads the flag, and after :meth:`on_screen_resume`
        synced the screen: the paint held back for the switch can go.)"""
        if self._resumed:
            event.refresh_styles = False
        self._resumed = True
        self.rbm.end_hold()

    def on_screen_resume(self) -> None:
        self.maybe_sync()

    def mark_styled(self) -> None:
        """The screen was styled as it mounted in the background: its first showing need not
        restyle it (:func:`rbm_tui.switching.premount`)."""
        self._resumed = True

    def maybe_sync(self, force: bool = False) -> None:
        """Run :meth:`sync_state` if the app's state changed since the last sync."""
        if not self.is_mounted:
            return
        self.query_one(NavBar).update_status()
        version = self.controller.version
        if force or version != self._synced_version:
            self._synced_version = version
            self.sync_state()
            self.refresh_bindings()  # enabled/disabled keys depend on the state

    def sync_state(self) -> None:
        """Refresh what depends on the app's dataset, ratings and model."""

    def training_changed(self, epoch: EpochReport | None = None) -> None:
        """The app's training run moved (``epoch``: the report of an epoch that just ended):
        the bar shows its status; the Train screen draws more."""
        if self.is_mounted:
            self.query_one(NavBar).update_status()


class EnterTable(DataTable):
    """A table of rows where Enter acts on the highlighted row; a subclass names the act
    shown in the footer and its binding's id: ``class T(EnterTable, act="Load", key_id=...)``."""

    def __init_subclass__(cls, act: str = "", key_id: str = "", **kwargs: Any) -> None:
        if act:  # (before Textual merges the class's bindings)
            cls.BINDINGS = [Binding("enter", "select_cursor", act, id=key_id)]
        super().__init_subclass__(**kwargs)


def display_name(name: str) -> str:
    """A dataset name as shown: catalogue names as they are, paths by their last part."""
    if "/" in name or "\\" in name:
        return Path(name.rstrip("/\\")).name or name
    return name


def model_dataset_name(model_or_meta: Any) -> str | None:
    """The dataset name a model was trained on (from its metadata)."""
    meta = model_or_meta if isinstance(model_or_meta, dict) else getattr(model_or_meta, "meta", {})
    ds = (meta or {}).get("dataset", {}) or {}
    name = ds.get("name")
    if name:
        return str(name)
    src = ds.get("source")
    if src:
        return Path(str(src).rstrip("/")).name or None
    return None
