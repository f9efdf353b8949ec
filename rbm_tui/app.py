"""The Textual app: four screens (Datasets, Train, Browse, Models) on keys 1-4, help on ``?``,
rare actions in the command palette (ctrl+p).

The app owns the shared state (the chosen dataset and its ratings, the active model, the
person's :class:`~engine.session.Session` with their thumbs, the preferences) and loads
datasets and models in thread workers. Importing this module does not import torch: the
engine's torch modules are imported inside the workers that need them, so the first screen
appears fast.
"""

from __future__ import annotations

import traceback
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from engine.errors import RbmTuiError
from rbm_tui import messages as msg
from rbm_tui.preferences import Preferences
from rbm_tui.screens.base import AppScreen, display_name, model_dataset_name
from rbm_tui.screens.browse import BrowseScreen
from rbm_tui.screens.datasets import DatasetsScreen
from rbm_tui.screens.dialogs import ConfirmDialog, ErrorDialog, PromptDialog
from rbm_tui.screens.help import HelpScreen, help_sections
from rbm_tui.screens.models import ModelsScreen
from rbm_tui.screens.train import TrainScreen
from rbm_tui.training import TrainingRun, validation_score

MAIN_SCREENS: dict[str, type[AppScreen]] = {
    "datasets": DatasetsScreen,
    "train": TrainScreen,
    "browse": BrowseScreen,
    "models": ModelsScreen,
}


class RbmCommands(Provider):
    """Command palette entries for rare actions: switch dataset, theme, export ratings."""

    def _commands(self) -> list[tuple[str, Any, str]]:
        app: RbmTuiApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, Any, str]] = []
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


class RbmTuiApp(App[Any]):
    """rbm-tui: pick a dataset, train an RBM, rate movies, get recommendations."""

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
    ) -> None:
        super().__init__()
        self.prefs = Preferences.load()
        self._store = None
        self.dataset_name: str | None = None  # the dataset whose ratings are loaded
        self.ratings: Any = None  # engine.data.ratings.Ratings
        self.loading_dataset: str | None = None
        self.model: Any = None  # engine.model.trained.Model
        self.model_path: Path | None = None
        self.loading_model: Path | None = None
        #: the person's thumbs on the loaded dataset and the active model's view of them
        self.session: Any = None  # engine.session.Session
        #: the training run going on (or the last one, ended), see :mod:`rbm_tui.training`
        self.training_run: TrainingRun | None = None
        self._quit_after_training = False
        self.state_version = 0
        self._initial_dataset = dataset
        self._startup_dataset: str | None = None
        self._first_screen = first_screen
        self._warmup = warmup
        for mode, cls in MAIN_SCREENS.items():
            self.add_mode(mode, cls)
        theme = self.prefs.theme
        if theme and theme in self.available_themes:
            self.theme = theme

    # ------------------------------------------------------------------ state
    @property
    def store(self):
        """The person's ratings (:class:`engine.userstore.UserStore`), opened on first use."""
        if self._store is None:
            from engine.userstore import UserStore

            self._store = UserStore()
            if self._store.notice:  # repaired after damage, or read-only
                self.notify(self._store.notice, title="Your ratings", severity="warning")
        return self._store

    @property
    def dataset_key(self) -> str | None:
        return self.dataset_name

    @property
    def dataset_label(self) -> str:
        """The current dataset for people: its name, or a path's last part."""
        return display_name(self.dataset_name) if self.dataset_name else "no dataset"

    @property
    def training(self) -> bool:
        """Whether a training run is going on."""
        return self.training_run is not None and not self.training_run.ended

    def status_line(self) -> str:
        if self.training:
            return f"{self.training_run.status()} · {display_name(self.training_run.dataset)}"
        if self.loading_dataset:
            ds = f"loading {display_name(self.loading_dataset)}…"
        else:
            ds = self.dataset_label
        if self.loading_model is not None:
            mdl = "loading model…"
        elif self.model_path is not None:
            mdl = self.model_path.stem
        else:
            mdl = "no model"
        return f"{ds} · {mdl}"

    def state_changed(self) -> None:
        """Bump the state version; the current screen syncs now, the others when shown."""
        self.state_version += 1
        screen = self.screen
        if isinstance(screen, AppScreen):
            screen.maybe_sync()
        for s in self.screen_stack:
            if isinstance(s, AppScreen) and s is not screen:
                s.maybe_sync()

    def save_prefs(self) -> None:
        try:
            self.prefs.save()
        except OSError as e:
            self.notify(f"cannot save settings: {e}", severity="warning")

    # ---------------------------------------------------------------- startup
    async def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        first = self._first_screen
        dataset = self._initial_dataset or self.prefs.dataset
        if first is None:
            first = "browse" if dataset else "datasets"
        await self.switch_mode(first)
        if self._warmup:
            self.call_after_refresh(self.set_timer, 0.5, self._warm_up)
        if dataset:
            self._startup_dataset = dataset
            self.use_dataset(dataset, show=None)

    def _warm_up(self) -> None:
        self.run_worker(_import_torch, thread=True, group="warmup", exit_on_error=False)

    def _theme_changed(self, theme) -> None:
        if self.prefs.theme != theme.name:
            self.prefs.theme = theme.name
            self.save_prefs()

    def set_theme(self, name: str) -> None:
        self.theme = name

    async def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()

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

    def action_export_ratings(self) -> None:
        key = self.dataset_key
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
                self.export_ratings(target)
                return

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.export_ratings(target)

            self.push_screen(
                ConfirmDialog("Replace the file?", f"{target} exists. Replace it?", "Replace"),
                confirmed,
            )

        self.push_screen(
            PromptDialog("Export my ratings", "Write your ratings to this CSV file:", default),
            done,
        )

    def export_ratings(self, path: Path) -> int | None:
        key = self.dataset_key
        if key is None:
            return None
        titles = None
        if self.ratings is not None:
            r = self.ratings
            titles = {iid: r.movies["title"].iat[i] for i, iid in enumerate(r.item_ids.tolist())}
        try:
            n = self.store.export_csv(key, path, titles)
        except Exception as e:  # OSError, UserStoreError
            self.show_error("Export failed", f"{path}: {e}")
            return None
        self.notify(f"{n} ratings written to {path}")
        return n

    # --------------------------------------------------------------- datasets
    def use_dataset(self, name: str, show: str | None = "auto") -> None:
        """Load dataset ``name`` (a catalogue name or a path) in a worker and make it current.

        ``show``: the screen to switch to once loaded (``"auto"``: Browse when a model is
        remembered for it, else Train; None: stay).
        """
        if self.training and name != self.dataset_name:
            self.notify(
                f"training on {display_name(self.training_run.dataset)} is running: stop it first "
                "(2, then ctrl+t), or wait for it to end",
                title="Not now",
                severity="warning",
            )
            return
        self.loading_dataset = name
        self.state_changed()
        self._load_dataset(name, show)

    @work(thread=True, exclusive=True, group="dataset", exit_on_error=False)
    def _load_dataset(self, name: str, show: str | None) -> None:
        try:
            from engine import catalogue
            from engine.data.loaders import load_ratings

            ratings = load_ratings(catalogue.resolve(name))
        except Exception as e:
            self.post_message(msg.DatasetFailed(name, _describe(e)))
            return
        self.post_message(msg.DatasetLoaded(name, ratings, show))

    @on(msg.DatasetLoaded)
    def _dataset_loaded(self, event: msg.DatasetLoaded) -> None:
        if self.loading_dataset != event.name:
            return  # a newer choice superseded this one
        self._startup_dataset = None
        self.loading_dataset = None
        changed = event.name != self.dataset_name
        self.dataset_name = event.name
        self.ratings = event.ratings
        self._open_session()
        if self.prefs.dataset != event.name:
            self.prefs.dataset = event.name
            self.save_prefs()
        remembered = self.prefs.active_model(event.name)
        if changed or self.model is None:
            self.model = None
            self.model_path = None
            self.session.set_model(None)
            if remembered and Path(remembered).is_file():
                self.load_model(Path(remembered))
        self.state_changed()
        show = event.show
        if show == "auto":
            show = "browse" if remembered or self.model is not None else "train"
        if show:
            self.action_show(show)
        r = event.ratings
        self.notify(
            f"{display_name(event.name)}: {r.n_users:,} users, {r.n_items:,} movies, "
            f"{r.n_ratings:,} ratings",
            title="Dataset loaded",
            timeout=3,
        )

    @on(msg.DatasetFailed)
    def _dataset_failed(self, event: msg.DatasetFailed) -> None:
        if self.loading_dataset == event.name:
            self.loading_dataset = None
        self.state_changed()
        if event.name == self._startup_dataset:
            # the remembered dataset went away: offer the catalogue, no dialog in the face
            self._startup_dataset = None
            self.action_show("datasets")
            self.notify(event.error, title=f"Cannot load {event.name}", severity="warning")
            return
        self.show_error(f"Cannot load {event.name}", event.error)

    # ----------------------------------------------------------------- models
    def load_model(self, path: Path) -> None:
        """Load a model file in a worker and make it the active model."""
        self.loading_model = Path(path)
        self.state_changed()
        self._load_model(Path(path), self.dataset_name)

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def _load_model(self, path: Path, dataset: str | None) -> None:
        try:
            from engine.model.storage import load_model

            model = load_model(path, device="cpu")
            ratings = self.ratings
            if ratings is not None and dataset == self.dataset_name and dataset is not None:
                model.check_fits(ratings, display_name(dataset), path.name)  # another catalogue?
        except Exception as e:
            self.post_message(msg.ModelFailed(path, _describe(e)))
            return
        self.post_message(msg.ModelLoaded(path, model, dataset))

    @on(msg.ModelLoaded)
    def _model_loaded(self, event: msg.ModelLoaded) -> None:
        if self.loading_model != event.path:
            return
        self.loading_model = None
        self.set_active_model(event.model, event.path)

    @on(msg.ModelFailed)
    def _model_failed(self, event: msg.ModelFailed) -> None:
        if self.loading_model == event.path:
            self.loading_model = None
        self.state_changed()
        self.show_error("Cannot load the model", event.error)

    def _open_session(self) -> None:
        """A new :class:`~engine.session.Session` for the loaded dataset: the person's thumbs
        read from their ratings store, scored by the active model."""
        from engine.session import Session

        try:
            self.session = Session(self.ratings, self.store, self.dataset_key, self.model)
        except RbmTuiError as e:  # the store cannot be read: keep going, thumbs in memory
            self.session = Session(self.ratings, None, self.dataset_key, self.model)
            self.show_error("Cannot read your ratings", str(e))

    def set_active_model(self, model: Any, path: Path | None) -> None:
        """Make ``model`` (saved at ``path``) the active model of the current dataset."""
        self.model = model
        self.model_path = Path(path) if path is not None else None
        if self.session is not None:
            self.session.set_model(model)
        if self.dataset_name and path is not None:
            self.prefs.set_active_model(self.dataset_name, path)
            self.save_prefs()
        trained_on = model_dataset_name(model)
        if self.dataset_name and trained_on and trained_on != self.dataset_name:
            self.notify(
                f"this model was trained on {trained_on}, not {self.dataset_name}: "
                "movies it does not know get no score",
                severity="warning",
            )
        self.state_changed()

    def forget_model(self, path: Path) -> None:
        """A model file went away (deleted/renamed): drop it from the settings and state."""
        path = Path(path)
        for k, v in list(self.prefs.models.items()):
            if Path(v) == path:
                del self.prefs.models[k]
        self.save_prefs()
        if self.model_path == path:
            self.model = None
            self.model_path = None
            if self.session is not None:
                self.session.set_model(None)
        self.state_changed()

    def model_renamed(self, old: Path, new: Path) -> None:
        for k, v in list(self.prefs.models.items()):
            if Path(v) == Path(old):
                self.prefs.models[k] = str(new)
        self.save_prefs()
        if self.model_path == Path(old):
            self.model_path = Path(new)
        self.state_changed()

    # --------------------------------------------------------------- training
    def start_training(self, config: Any) -> bool:
        """Train a model of the loaded dataset with ``config`` (an engine ``TrainConfig``) in
        a worker; returns False (and says why) when it cannot start."""
        if self.training:
            self.notify("a training run is going on already", severity="warning")
            return False
        if self.ratings is None or self.dataset_name is None:
            what = self.loading_dataset
            self.notify(
                f"{what} is still loading" if what else "choose a dataset first (1)",
                severity="warning",
            )
            return False
        from engine.training.forecast import Forecast

        self.training_run = TrainingRun(self.dataset_name, config, Forecast(config))
        self._train(self.ratings, config, self.training_run)
        self.training_changed()
        return True

    def stop_training(self) -> None:
        """Stop the run at the next batch; its model so far is kept."""
        if self.training:
            self.training_run.cancel.set()
            self.training_changed()

    def training_changed(self, epoch: Any = None) -> None:
        """The run moved: the bars of the screens and the Train screen redraw (``epoch``: the
        report of an epoch that just ended)."""
        for screen in self.screen_stack:  # (the Train screen redraws the run when shown)
            if isinstance(screen, AppScreen):
                screen.training_changed(epoch)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, ratings: Any, cfg: Any, run: TrainingRun) -> None:
        import time

        from engine.model import storage
        from engine.training.loop import train

        last = [0.0]

        def progress(p) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.2 or p.batch == p.n_batches:
                last[0] = now
                self.post_message(msg.TrainBatch(p.epoch, cfg.epochs, p.batch, p.n_batches))

        try:
            result = train(
                ratings,
                cfg,
                callback=lambda r: self.post_message(msg.TrainEpoch(r)),
                progress=progress,
                cancel=run.cancel.is_set,
            )
            path, failures = None, []
            if result.history and result.best_epoch > 0:
                result.model.meta.setdefault("dataset", {})["name"] = run.dataset
                path, failures = storage.save_with_fallback(result.model)
            self.post_message(
                msg.TrainDone(
                    path=path,
                    model=result.model if path is not None else None,
                    cancelled=result.cancelled,
                    best_epoch=result.best_epoch,
                    epochs_done=len(result.history),
                    seconds=result.seconds,
                    dataset=run.dataset,
                    save_failures=failures,
                )
            )
        except Exception as e:
            text = str(e).strip() or type(e).__name__
            self.post_message(msg.TrainFailed(text, traceback.format_exc(limit=8)))

    @on(msg.TrainBatch)
    def _train_batch(self, event: msg.TrainBatch) -> None:
        run = self.training_run
        if run is None or run.ended:
            return
        run.epoch, run.batch, run.n_batches = event.epoch, event.batch, event.n_batches
        run.forecast.on_batch(event)
        self.training_changed()

    @on(msg.TrainEpoch)
    def _train_epoch(self, event: msg.TrainEpoch) -> None:
        run = self.training_run
        if run is None or run.ended:
            return
        run.history.append(event.report)
        run.forecast.on_epoch(event.report)
        self.training_changed(event.report)

    @on(msg.TrainDone)
    def _train_done(self, event: msg.TrainDone) -> None:
        run = self.training_run
        if run is not None:
            run.ended = True
        if event.save_failures:
            self.show_error(
                "The model was saved elsewhere",
                f"could not save it where it belongs ({'; '.join(event.save_failures)}); it "
                f"was saved to {event.path} instead",
            )
        activated, why = False, ""
        if event.path is not None and event.model is not None:
            activated, why = self._activate_trained(event)
        self.training_changed()
        for screen in self.screen_stack:
            if isinstance(screen, TrainScreen):
                screen.training_done(event, activated, why)
        if event.path is None:
            self.notify("training stopped before its first epoch ended; nothing saved")
        elif activated:
            self.notify(f"model saved: {event.path.name}, now active", title="Training done")
        else:
            self.notify(f"model saved: {event.path.name}; {why}", title="Training stopped")
        if self._quit_after_training:
            self.exit()

    def _activate_trained(self, event: msg.TrainDone) -> tuple[bool, str]:
        """Make a finished run's model active; a stopped run's only if it scores better on
        validation than the active model of its dataset. Returns (activated, why not)."""
        if event.dataset != self.dataset_name:
            return False, f"it is a model of {display_name(event.dataset)}"
        if event.cancelled and self.model is not None:
            monitor = event.model.config.get("monitor", "both")
            new = validation_score(event.model.meta.get("val_metrics"), monitor)
            old = validation_score(self.model.meta.get("val_metrics"), monitor)
            if new is not None and old is not None and new <= old:
                return False, (
                    f"not made active: its validation score {new:.3f} is not above the active "
                    f"model's {old:.3f} (load it on Models, 4, to use it)"
                )
        self.set_active_model(event.model, event.path)
        return True, ""

    @on(msg.TrainFailed)
    def _train_failed(self, event: msg.TrainFailed) -> None:
        if self.training_run is not None:
            self.training_run.ended = True
        self.training_changed()
        for screen in self.screen_stack:
            if isinstance(screen, TrainScreen):
                screen.training_failed()
        self.show_error("Training failed", event.error, event.detail)
        if self._quit_after_training:
            self.exit()

    async def action_quit(self) -> None:
        """Quit; during a training run, ask first (quitting stops it and keeps its model so
        far, which becomes active only if it is better than the active model)."""
        if not self.training:
            self.exit()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._quit_after_training = True
                self.stop_training()

        self.push_screen(
            ConfirmDialog(
                "Quit while training?",
                f"Training on {display_name(self.training_run.dataset)} is running. Quitting "
                "stops it; its model so far is saved first.",
                yes="Stop and quit",
                no="Keep training",
            ),
            answer,
        )


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


def _describe(e: BaseException) -> str:
    """A one-paragraph message for an exception (the engine's messages name file and line)."""
    text = str(e).strip() or type(e).__name__
    if isinstance(e, (RbmTuiError, OSError)) or type(e).__name__ in text:
        return text
    return f"{type(e).__name__}: {text}"


def format_exception(e: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(e), e)).strip()


def run(dataset: str | None = None, *, headless: bool = False) -> int:
    """Run the app (what ``rbm-tui`` does without arguments); returns the exit code."""
    app = RbmTuiApp(dataset=dataset)
    app.run(headless=headless)
    return int(app.return_code or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run())
