"""The Textual app: four screens (Datasets, Train, Browse, Models) on keys 1-4, help on ``?``,
rare actions in the command palette (ctrl+p).

The app composes the screens; its :class:`~rbm_tui.controller.Controller` owns the shared
state (the chosen dataset and its ratings, the active model, the person's session with their
thumbs, the preferences, the training run) and the workers that change it. Importing this
module does not import torch: the engine's torch modules are imported inside the workers that
need them, so the first screen appears fast.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from rbm_tui import messages as msg
from rbm_tui.controller import Controller
from rbm_tui.preferences import Preferences
from rbm_tui.screens.base import AppScreen, display_name
from rbm_tui.screens.browse import BrowseScreen
from rbm_tui.screens.datasets import DatasetsScreen
from rbm_tui.screens.dialogs import ConfirmDialog, ErrorDialog, PromptDialog
from rbm_tui.screens.help import HelpScreen, help_sections
from rbm_tui.screens.models import ModelsScreen
from rbm_tui.screens.taste import palette_commands
from rbm_tui.screens.train import TrainScreen
from rbm_tui.switching import QuickSwitch, premount
from rbm_tui.training import TrainingRun

if TYPE_CHECKING:
    from textual.theme import Theme

    from engine.data.ratings import Ratings
    from engine.model.trained import Model
    from engine.session import Session
    from engine.training.loop import EpochReport
    from engine.userstore import UserStore

MAIN_SCREENS: dict[str, type[AppScreen]] = {
    "datasets": DatasetsScreen,
    "train": TrainScreen,
    "browse": BrowseScreen,
    "models": ModelsScreen,
}

#: A command palette entry: its title, what it does, its help line.
Command = tuple[str, Callable[[], object], str]
#: How often the app looks whether another process changed the person's thumbs (seconds).
STORE_CHECK_SECONDS = 2.0


class RbmCommands(Provider):
    """Command palette entries for rare actions: switch dataset, theme, export ratings."""

    def _commands(self) -> list[Command]:
        app: RbmTuiApp = self.app  # type: ignore[assignment]
        out: list[Command] = []
        try:
            from engine import catalogue

            for d in catalogue.catalogue():
                if catalogue.is_on_disk(d.name):
                    out.append(
                        (
                            f"Switch dataset: {d.name}",
                            partial(app.use_dataset, d.name),
                            d.title,
                        )
                    )
        except Exception:  # the catalogue is optional here
            pass
        out.append(
            (
                "Export my ratings to CSV",
                app.action_export_ratings,
                "Write the likes and dislikes of the current dataset to a CSV file",
            )
        )
        out += palette_commands(app)
        for name in sorted(app.available_themes):
            out.append((f"Theme: {name}", partial(app.set_theme, name), "Switch the colour theme"))
        for mode, cls in MAIN_SCREENS.items():
            out.append(
                (f"Go to {cls.TITLE_TEXT}", partial(app.action_show, mode), "Show that screen")
            )
        out.append(("Help: keys", app.action_help, "List every key"))
        return out

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            if title.startswith("Theme: "):
                continue
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


class RbmTuiApp(QuickSwitch, App[None]):
    """rbm-tui: pick a dataset, train an RBM, rate movies, get recommendations.

    The app composes the screens and routes the workers' messages to its
    :class:`~rbm_tui.controller.Controller`, which owns the state; the properties below
    read that state for the screens."""

    TITLE = "rbm-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {RbmCommands}
    BINDINGS = [
        Binding("1", "show('datasets')", "Datasets", id="screen.datasets", show=False),
        Binding("2", "show('train')", "Train", id="screen.train", show=False),
        Binding("3", "show('browse')", "Browse", id="screen.browse", show=False),
        Binding("4", "show('models')", "Models", id="screen.models", show=False),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        dataset: str | None = None,
        *,
        warmup: bool = True,
        first_screen: str | None = None,
        premount: bool | None = None,
    ) -> None:
        super().__init__()
        self.controller = Controller(self)
        self._quit_after_training = False
        self._initial_dataset = dataset
        self._first_screen = first_screen
        self._warmup = warmup
        self._premount = warmup if premount is None else premount
        #: Set once the main screens not shown first are mounted (``premount``).
        self.premounted = asyncio.Event()
        for mode, cls in MAIN_SCREENS.items():
            self.add_mode(mode, cls)
        theme = self.prefs.theme
        if theme and theme in self.available_themes:
            self.theme = theme

    # ------------------------------------------------- the controller's state
    @property
    def prefs(self) -> Preferences:
        return self.controller.prefs

    @property
    def store(self) -> UserStore:
        return self.controller.store

    @property
    def dataset_name(self) -> str | None:
        return self.controller.dataset_name

    @property
    def loading_dataset(self) -> str | None:
        return self.controller.loading_dataset

    @property
    def ratings(self) -> Ratings | None:
        return self.controller.ratings

    @property
    def model(self) -> Model | None:
        return self.controller.model

    @property
    def model_path(self) -> Path | None:
        return self.controller.model_path

    @property
    def loading_model(self) -> Path | None:
        return self.controller.loading_model

    @property
    def session(self) -> Session | None:
        return self.controller.session

    @property
    def training_run(self) -> TrainingRun | None:
        return self.controller.training_run

    @property
    def training(self) -> bool:
        """Whether a training run is going on."""
        return self.controller.training

    def status_line(self) -> str:
        return self.controller.status_line()

    def use_dataset(self, name: str, show: str | None = "auto") -> None:
        self.controller.use_dataset(name, show)

    def stop_training(self) -> None:
        self.controller.stop_training()

    def save_prefs(self) -> None:
        self.controller.save_prefs()

    def state_changed(self) -> None:
        """The state moved: the current screen syncs now, the others when shown."""
        screen = self.screen
        if isinstance(screen, AppScreen):
            screen.maybe_sync()
        for s in self.screen_stack:
            if isinstance(s, AppScreen) and s is not screen:
                s.maybe_sync()

    def training_changed(self, epoch: EpochReport | None = None) -> None:
        """The run moved: the bars of the screens and the Train screen redraw (``epoch``: the
        report of an epoch that just ended)."""
        for screen in self.screen_stack:  # (the Train screen redraws the run when shown)
            if isinstance(screen, AppScreen):
                screen.training_changed(epoch)

    # ---------------------------------------------------------------- startup
    async def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        first = self._first_screen
        dataset = self._initial_dataset or self.prefs.dataset
        if first is None:
            first = "browse" if dataset else "datasets"
        await self.switch_mode(first)
        if (aside := self.prefs.set_aside) is not None:
            self.notify(
                f"your settings file could not be read; it was kept as {aside} and the app "
                "starts with the defaults (choose a dataset and a model again)",
                title="Settings reset",
                severity="warning",
                timeout=12,
            )
        self.set_interval(STORE_CHECK_SECONDS, self._store_changed_elsewhere)
        if self._warmup:
            self.call_after_refresh(self.set_timer, 0.5, self._warm_up)
        if self._premount:
            mount = premount(self, MAIN_SCREENS, self.premounted)
            self.call_after_refresh(self.run_worker, mount, group="premount")
        if dataset:
            self.controller.startup_dataset = dataset
            self.controller.use_dataset(dataset, show=None)

    def _store_changed_elsewhere(self) -> None:
        """Another process (`rbm-tui thumbs ...`, a second app) changed the person's thumbs:
        the screens show them as they are now."""
        s = self.session
        if s is not None and s.refresh():
            self.controller.changed()

    def _warm_up(self) -> None:
        self.run_worker(_import_torch, thread=True, group="warmup", exit_on_error=False)

    def _theme_changed(self, theme: Theme) -> None:
        if self.prefs.theme != theme.name:
            self.prefs.theme = theme.name
            self.save_prefs()

    def set_theme(self, name: str) -> None:
        self.theme = name

    async def on_unmount(self) -> None:
        self.controller.close()

    # ---------------------------------------------------------------- actions
    def action_show(self, mode: str) -> None:
        if mode in MAIN_SCREENS and self.current_mode != mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            sections = help_sections(type(self), MAIN_SCREENS, self.current_mode)
            self.push_screen(HelpScreen(sections))

    def show_error(self, title: str, message: str, detail: str = "") -> None:
        self.push_screen(ErrorDialog(title, message, detail))

    def ask(self, dialog: ConfirmDialog, then: Callable[[], object]) -> None:
        """Push a yes/no ``dialog``; on yes, call ``then``."""

        def answer(yes: bool | None) -> None:
            if yes:
                then()

        self.push_screen(dialog, answer)

    def action_export_ratings(self) -> None:
        key = self.dataset_name
        if key is None:
            self.notify("choose a dataset first (1)", severity="warning")
            return
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(key).name)
        default = str(Path.home() / f"rbm-tui-ratings-{safe or 'dataset'}.csv")

        def done(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            if not target.exists():
                self.controller.export_ratings(target)
                return
            question = ConfirmDialog(
                "Replace the file?", f"{target} exists. Replace it?", "Replace"
            )
            self.ask(question, lambda: self.controller.export_ratings(target))

        self.push_screen(
            PromptDialog("Export my ratings", "Write your ratings to this CSV file:", default),
            done,
        )

    async def action_quit(self) -> None:
        """Quit; during a training run, ask first (quitting stops it and keeps its model so
        far, which becomes active only if it is better than the active model); during a
        download too."""
        run = self.training_run
        if run is None or run.ended:
            self._quit_downloading()
            return

        def stop_and_quit() -> None:
            if run.ended:  # it ended while the question was open: nothing left to stop
                self.exit()
                return
            self._quit_after_training = True
            self.stop_training()

        question = ConfirmDialog(
            "Quit while training?",
            f"Training on {display_name(run.dataset)} is running. Quitting "
            "stops it; its model so far is saved first.",
            yes="Stop and quit",
            no="Keep training",
        )
        self.ask(question, stop_and_quit)

    def _quit_downloading(self) -> None:
        """Quit; while a download goes on, ask first (quitting cancels it)."""
        names = list(self.controller.downloads)
        if not names:
            self.exit()
            return
        question = ConfirmDialog(
            "Quit while downloading?",
            f"The download of {', '.join(names)} is not done. Quitting cancels it; what came "
            "so far is discarded.",
            yes="Cancel it and quit",
            no="Keep downloading",
        )
        self.ask(question, self.exit)  # unmounting cancels the downloads

    # ------------------------------------------ the workers' messages, routed
    @on(msg.DatasetLoaded)
    def _dataset_loaded(self, event: msg.DatasetLoaded) -> None:
        self.controller.dataset_loaded(event)

    @on(msg.DatasetFailed)
    def _dataset_failed(self, event: msg.DatasetFailed) -> None:
        self.controller.dataset_failed(event)

    @on(msg.ModelLoaded)
    def _model_loaded(self, event: msg.ModelLoaded) -> None:
        self.controller.model_loaded(event)

    @on(msg.ModelFailed)
    def _model_failed(self, event: msg.ModelFailed) -> None:
        self.controller.model_failed(event)

    @on(msg.TrainBatch)
    def _train_batch(self, event: msg.TrainBatch) -> None:
        self.controller.train_batch(event)

    @on(msg.TrainEpoch)
    def _train_epoch(self, event: msg.TrainEpoch) -> None:
        self.controller.train_epoch(event)

    @on(msg.TrainDone)
    def _train_done(self, event: msg.TrainDone) -> None:
        if event.save_failures:
            self.show_error(
                "The model was saved elsewhere",
                f"could not save it where it belongs ({'; '.join(event.save_failures)}); it "
                f"was saved to {event.path} instead",
            )
        activated, why = self.controller.train_done(event)
        self.training_changed()  # (a Train screen not shown draws the outcome when shown)
        if event.path is None:
            self.notify("training stopped before its first epoch ended; nothing saved")
        elif event.kept_copy:
            self.notify(
                f"{event.path.stem} has the same data, settings and seed: made it active "
                "instead of saving a copy (change the seed for another model)",
                title="Already trained",
            )
        elif activated:
            self.notify(f"model saved: {event.path.name}, now active", title="Training done")
        else:
            self.notify(f"model saved: {event.path.name}; {why}", title="Training stopped")
        if self._quit_after_training:
            self.exit()

    @on(msg.TrainFailed)
    def _train_failed(self, event: msg.TrainFailed) -> None:
        self.controller.train_failed()
        self.training_changed()
        self.show_error("Training failed", event.error, event.detail)
        if self._quit_after_training:
            self.exit()


def _import_torch() -> None:
    """Warm-up: sweep what killed processes left behind, import torch and the engine's torch
    modules in the background."""
    import contextlib

    from engine.housekeeping import sweep_leftovers

    with contextlib.suppress(OSError):
        sweep_leftovers()
    import torch  # noqa: F401

    from rbm_tui.runtime import use_interactive_threads

    use_interactive_threads()
    import engine.model.storage  # noqa: F401
    import engine.session  # noqa: F401
    import engine.training.loop  # noqa: F401


def run(dataset: str | None = None, *, headless: bool = False) -> int:
    """Run the app (what ``rbm-tui`` does without arguments); returns the exit code."""
    app = RbmTuiApp(dataset=dataset)
    app.run(headless=headless)
    return int(app.return_code or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run())
