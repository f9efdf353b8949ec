"""The app's state and its long work, apart from the widgets.

:class:`Controller` owns what every screen shows: the chosen dataset and its ratings, the
active model, the person's :class:`~engine.session.Session` with their thumbs, the
preferences and the training run. It loads datasets and models and trains in thread workers
(run by the app, which routes their messages back here) and tells the app when the state
moved (:meth:`RbmTuiApp.state_changed`). Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from engine.errors import RbmTuiError
from rbm_tui import messages as msg
from rbm_tui.preferences import Preferences
from rbm_tui.screens.base import display_name, model_dataset_name
from rbm_tui.training import RunOutcome, TrainingRun, activation_refusal, train_in_worker

if TYPE_CHECKING:
    from engine.data.ratings import Ratings
    from engine.model.trained import Model
    from engine.session import Session
    from engine.settings import TrainConfig
    from engine.userstore import UserStore
    from rbm_tui.app import RbmTuiApp

#: Makes a worker's failure message from one line saying why.
Failed = Callable[[str], Message]


class Controller:
    """The state of one app and the workers that change it."""

    def __init__(self, app: RbmTuiApp, prefs: Preferences | None = None) -> None:
        self.app = app
        self.prefs = prefs if prefs is not None else Preferences.load(set_aside=True)
        self._store: UserStore | None = None
        self.dataset_name: str | None = None  # the dataset whose ratings are loaded
        self.ratings: Ratings | None = None
        self.loading_dataset: str | None = None
        self.model: Model | None = None
        self.model_path: Path | None = None
        self.loading_model: Path | None = None
        #: the person's thumbs on the loaded dataset and the active model's view of them
        self.session: Session | None = None
        #: the training run going on (or the last one, ended)
        self.training_run: TrainingRun | None = None
        #: The model taken up for a dataset without a remembered one (see dataset_loaded).
        self._guessed: Path | None = None
        #: Downloads going on: dataset name -> the event that cancels it (quitting sets it).
        self.downloads: dict[str, threading.Event] = {}
        #: bumped at every change; screens redraw when theirs is older
        self.version = 0
        #: the dataset asked for at startup, until it loads (a failure then is no dialog)
        self.startup_dataset: str | None = None

    # ------------------------------------------------------------------ state
    @property
    def store(self) -> UserStore:
        """The person's ratings, opened on first use."""
        if self._store is None:
            from engine.userstore import UserStore

            self._store = UserStore()
            if self._store.notice:  # repaired after damage, or read-only
                self.app.notify(
                    self._store.notice, title="Your ratings", severity="warning", timeout=30
                )
        return self._store

    @property
    def dataset_label(self) -> str:
        """The current dataset for people: its name, or a path's last part."""
        return display_name(self.dataset_name) if self.dataset_name else "no dataset"

    @property
    def training(self) -> bool:
        """Whether a training run is going on."""
        return self.training_run is not None and not self.training_run.ended

    def status_line(self) -> str:
        """What the nav bar says: the run, or the dataset and the model."""
        run = self.training_run
        if run is not None and not run.ended:
            return f"{run.status()} · {display_name(run.dataset)}"
        if self.loading_dataset:
            ds = f"loading {display_name(self.loading_dataset)}…"
        else:
            ds = self.dataset_label
        if self.loading_model is not None:
            mdl = "loading model…"
        else:
            mdl = self.model_path.stem if self.model_path is not None else "no model"
        return f"{ds} · {mdl}"

    def changed(self) -> None:
        self.version += 1
        self.app.state_changed()

    def save_prefs(self) -> None:
        try:
            self.prefs.save()
        except OSError as e:
            self.app.notify(f"cannot save settings: {e}", severity="warning")

    def close(self) -> None:
        """The app is going: cancel the downloads (their threads would keep the process
        alive until done) and close the ratings store."""
        for cancel in self.downloads.values():
            cancel.set()
        if self._store is not None:
            self._store.close()

    # --------------------------------------------------------------- datasets
    def use_dataset(self, name: str, show: str | None = "auto") -> bool:
        """Load dataset ``name`` (a catalogue name or a path) in a worker and make it current;
        False (after saying why) when a training run on another dataset holds the app.

        ``show``: the screen to switch to once loaded (``"auto"``: Browse when a model is
        remembered for it, else Train; None: stay)."""
        from engine.catalogue import canonical_name

        name = canonical_name(name)  # `--dataset ML-100K`: the thumbs of ml-100k, not new ones
        run = self.training_run
        if run is not None and not run.ended and name != self.dataset_name:
            self.app.notify(
                f"training on {display_name(run.dataset)} is running: stop it first "
                "(2, then ctrl+t), or wait for it to end",
                title="Not now",
                severity="warning",
            )
            return False
        self.loading_dataset = name
        self.changed()
        self._work(
            "dataset",
            lambda: msg.DatasetLoaded(name, _read_ratings(name), show),
            lambda why: msg.DatasetFailed(name, why),
        )
        return True

    def _work(self, group: str, job: Callable[[], Message], failed: Failed) -> None:
        """Run ``job`` in a thread worker of ``group`` (a newer one replaces a running one)
        and post the message it returns, or ``failed(why)`` when it raises."""

        def body() -> None:
            try:
                message = job()
            except Exception as e:
                message = failed(describe(e))
            self.app.post_message(message)

        self._start(group, body)

    def _start(self, group: str, body: Callable[[], None]) -> None:
        self.app.run_worker(body, thread=True, exclusive=True, group=group, exit_on_error=False)

    def dataset_loaded(self, event: msg.DatasetLoaded) -> None:
        if self.loading_dataset != event.name:
            return  # a newer choice superseded this one
        self.startup_dataset = self.loading_dataset = None
        changed = event.name != self.dataset_name
        self.dataset_name = event.name
        self.ratings = event.ratings
        self.session = self._open_session(event.ratings, event.name)
        if self.prefs.dataset != event.name:
            self.prefs.dataset = event.name
            self.save_prefs()
        remembered = self.prefs.active_model(event.name)
        if not changed and self.model is not None and not self._still_fits(event):
            changed = True  # the same name, other movies: the model goes as for a new dataset
        if not changed and self.model is not None:
            self.session.set_model(self.model)
        else:
            self._drop_model()
            self.loading_model = None  # a model still loading was meant for the other dataset
            if remembered and Path(remembered).is_file():
                self.load_model(Path(remembered))
            elif (newest := self._newest_model(event.name)) is not None:
                self._guessed = newest  # `rbm-tui train DATA` saved it: the app takes it up
                remembered = str(newest)
                self.load_model(newest)
        self.changed()
        show = event.show
        if show == "auto":
            show = "browse" if remembered or self.model is not None else "train"
        if show:
            self.app.action_show(show)
        r = event.ratings
        self.app.notify(
            f"{display_name(event.name)}: {r.n_users:,} users, {r.n_items:,} movies, "
            f"{r.n_ratings:,} ratings",
            title="Dataset loaded",
            timeout=3,
        )
        notice = getattr(r.report, "notice", "")
        if notice:  # repeated rows merged, a damaged cache rebuilt: as the command line says
            self.app.notify(notice, title=display_name(event.name), severity="warning")

    @staticmethod
    def _newest_model(dataset: str) -> Path | None:
        """The newest model a command-line run saved for ``dataset`` under its default name
        (a dataset with no remembered model takes it up)."""
        from engine.catalogue import resolve, short_name
        from engine.errors import RbmTuiError
        from engine.model.storage import newest_default_model

        names = [dataset]  # the app's name of a dataset given as a path is the path
        with contextlib.suppress(RbmTuiError, OSError):
            names.append(short_name(dataset, resolve(dataset)))  # `rbm-tui train`'s name
        found = []
        for name in dict.fromkeys(names):
            with contextlib.suppress(OSError):
                if (path := newest_default_model(name)) is not None:
                    found.append((path.stat().st_mtime, path))
        return max(found)[1] if found else None

    def _still_fits(self, event: msg.DatasetLoaded) -> bool:
        """Whether the active model fits the dataset loaded again under its name (its files
        may have changed since); says why when it does not."""
        model = self.model
        if model is None:
            return True
        name = self.model_path.name if self.model_path is not None else "the active model"
        try:
            model.check_fits(event.ratings, display_name(event.name), name)
        except RbmTuiError as e:
            self.app.notify(str(e), title="Model dropped", severity="warning")
            return False
        return True

    def dataset_failed(self, event: msg.DatasetFailed) -> None:
        if self.loading_dataset == event.name:
            self.loading_dataset = None
        self.changed()
        if event.name == self.startup_dataset:
            # the remembered dataset went away: offer the catalogue, no dialog in the face
            self.startup_dataset = None
            self.app.action_show("datasets")
            self.app.notify(event.error, title=f"Cannot load {event.name}", severity="warning")
            return
        self.app.show_error(f"Cannot load {event.name}", event.error)

    def _open_session(self, ratings: Ratings, key: str) -> Session:
        """A new session for the loaded dataset, the person's thumbs read from their ratings
        store; no model yet (the caller decides whether the active one fits)."""
        from engine.session import Session

        try:
            return Session(ratings, self.store, key)
        except RbmTuiError as e:  # the store cannot be read: keep going, thumbs in memory
            self.app.show_error("Cannot read your ratings", str(e))
            return Session(ratings, None, key)

    # ----------------------------------------------------------------- models
    def load_model(self, path: Path) -> None:
        """Load a model file in a worker and make it the active model."""
        path = Path(path)
        self.loading_model = path
        self.changed()
        dataset = self.dataset_name
        self._work(
            "model",
            lambda: msg.ModelLoaded(path, self._read_model(path, dataset), dataset),
            lambda why: msg.ModelFailed(path, why),
        )

    def _read_model(self, path: Path, dataset: str | None) -> Model:
        """(A worker thread.) The model at ``path``, checked to fit ``dataset`` when that is
        still the loaded one (a model of another catalogue is refused)."""
        from engine.model.storage import load_model
        from engine.recommender import fold_in

        model = load_model(path, device="cpu")
        ratings = self.ratings
        if ratings is not None and dataset == self.dataset_name and dataset is not None:
            model.check_fits(ratings, display_name(dataset), path.name)
        fold_in(model)  # its caches built here, not at the first thumb (1 s at 87,000 movies)
        return model

    def model_loaded(self, event: msg.ModelLoaded) -> None:
        if self.loading_model != event.path or event.dataset != self.dataset_name:
            return  # superseded, or read for a dataset that is no longer the current one
        self.loading_model = None
        try:
            self.set_active_model(event.model, event.path)
        except RbmTuiError as e:  # the dataset was loaded again, with other movies, meanwhile
            self.changed()
            self.app.notify(str(e), title="Model dropped", severity="warning")

    def model_failed(self, event: msg.ModelFailed) -> None:
        if self.loading_model == event.path:
            self.loading_model = None
        self.changed()
        if event.path == self._guessed:  # not one the person chose: no dialog in the face
            self.app.notify(event.error, title="No model taken up", severity="warning")
            return
        self.app.show_error("Cannot load the model", event.error)

    def set_active_model(self, model: Model, path: Path | None) -> None:
        """Make ``model`` (saved at ``path``) the active model of the current dataset (the
        callers have checked that it fits: :meth:`engine.model.trained.Model.check_fits`)."""
        if self.session is not None:
            self.session.set_model(model)  # first: a model that does not fit changes nothing
        self.model = model
        self.model_path = Path(path) if path is not None else None
        if self.dataset_name and path is not None:
            self.prefs.set_active_model(self.dataset_name, path)
            self.save_prefs()
        trained_on = model_dataset_name(model)
        if self.dataset_name and trained_on and trained_on != self.dataset_name:
            self.app.notify(
                f"this model was trained on {trained_on}, not {self.dataset_name}: "
                "movies it does not know get no score",
                severity="warning",
            )
        self.changed()

    def _drop_model(self) -> None:
        self.model = None
        self.model_path = None
        if self.session is not None:
            self.session.set_model(None)

    def forget_model(self, path: Path) -> None:
        """A model file went away (deleted): drop it from the settings and the state."""
        self._repoint_model(Path(path), None)

    def model_renamed(self, old: Path, new: Path) -> None:
        self._repoint_model(Path(old), Path(new))

    def _repoint_model(self, old: Path, new: Path | None) -> None:
        """Every remembered use of model file ``old`` now names ``new`` (None: forgotten)."""
        self.prefs.repoint_model(old, new)
        self.save_prefs()
        if self.model_path == old:
            if new is None:
                self._drop_model()
            else:
                self.model_path = new
        self.changed()

    # --------------------------------------------------------------- training
    def start_training(self, config: TrainConfig, name: str | None = None) -> bool:
        """Train a model of the loaded dataset with ``config`` in a worker, to be saved as
        ``name`` (None: the dataset and the time); returns False (and says why) when it
        cannot start."""
        if self.training:
            self.app.notify("a training run is going on already", severity="warning")
            return False
        if self.ratings is None or self.dataset_name is None:
            what = self.loading_dataset
            self.app.notify(
                f"{what} is still loading" if what else "choose a dataset first (1)",
                severity="warning",
            )
            return False
        from engine.training.forecast import Forecast

        forecast = Forecast(
            config,
            n_items=self.ratings.n_items,
            n_users=self.ratings.n_users,
            n_ratings=self.ratings.n_ratings,
        )
        run = TrainingRun(self.dataset_name, config, forecast, name)
        self.training_run = run
        ratings, post = self.ratings, self.app.post_message
        self._start("train", lambda: train_in_worker(ratings, run, post))
        self.app.training_changed()
        return True

    def stop_training(self) -> None:
        """Stop the run at the next batch; its model so far is kept."""
        if self.training_run is not None and not self.training_run.ended:
            self.training_run.cancel.set()
            self.app.training_changed()

    @property
    def running(self) -> TrainingRun | None:
        """The training run going on (None when none is)."""
        run = self.training_run
        return run if run is not None and not run.ended else None

    def train_batch(self, event: msg.TrainBatch) -> None:
        run = self.running
        if run is not None:
            run.epoch, run.batch, run.n_batches = event.epoch, event.batch, event.n_batches
            run.forecast.on_batch(event)
            self.app.training_changed()

    def train_epoch(self, event: msg.TrainEpoch) -> None:
        run = self.running
        if run is not None:
            run.history.append(event.report)
            run.forecast.on_epoch(event.report)
            self.app.training_changed(event.report)

    def train_done(self, event: msg.TrainDone) -> tuple[bool, str]:
        """The run ended: its model becomes active unless :func:`activation_refusal` says
        why not. Returns (activated, why not)."""
        run = self.training_run
        if run is not None:
            run.ended = True
        activated, why = self._take_up(event)
        if run is not None:
            run.outcome = RunOutcome.of(event, activated, why)
        self.changed()  # the screens that said "training" redraw, whatever became active
        return activated, why

    def _take_up(self, event: msg.TrainDone) -> tuple[bool, str]:
        """Make the ended run's model active unless :func:`activation_refusal` says why not;
        (activated, why not)."""
        if event.kept_copy and event.path is not None:
            if self.model_path != event.path:
                self.load_model(event.path)
            return True, ""
        if event.path is None or event.model is None:
            return False, ""
        active = self.model if event.dataset == self.dataset_name else None
        why = activation_refusal(event, self.dataset_name, active)
        if why:
            return False, why
        if self.ratings is not None and event.dataset == self.dataset_name:
            try:  # the dataset was loaded again under its name, with other movies, meanwhile
                event.model.check_fits(self.ratings, display_name(event.dataset), event.path.name)
            except RbmTuiError as e:
                return False, f"not made active: {e}"
        self.set_active_model(event.model, event.path)
        return True, ""

    def train_failed(self) -> None:
        if self.training_run is not None:
            self.training_run.ended = True
            self.training_run.outcome = RunOutcome(failed=True)
        self.changed()

    # ----------------------------------------------------------------- export
    def export_ratings(self, path: Path) -> int | None:
        """Write the person's ratings of the current dataset to CSV ``path``; returns how many
        (None when it failed, after saying why)."""
        key = self.dataset_name
        if key is None:
            return None
        titles = None
        if self.ratings is not None:
            r = self.ratings
            titles = {iid: r.movies["title"].iat[i] for i, iid in enumerate(r.item_ids.tolist())}
        try:
            n = self.store.export_csv(key, path, titles)
        except Exception as e:  # OSError, UserStoreError
            self.app.show_error("Export failed", f"{path}: {e}")
            return None
        self.app.notify(f"{n} ratings written to {path}")
        return n


def _read_ratings(name: str) -> Ratings:
    """(A worker thread.) The ratings of dataset ``name`` (a catalogue name or a path)."""
    from engine import catalogue
    from engine.data.loaders import load_ratings

    r = load_ratings(catalogue.resolve(name))
    r.movies, r.item_index  # noqa: B018 - built here, not on the UI thread (1 s at 87,000 movies)
    return r


def describe(e: BaseException) -> str:
    """A one-paragraph message for an exception (the engine's messages name file and line)."""
    text = str(e).strip() or type(e).__name__
    if isinstance(e, (RbmTuiError, OSError)) or type(e).__name__ in text:
        return text
    return f"{type(e).__name__}: {text}"
