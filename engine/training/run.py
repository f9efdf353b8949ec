"""Train, name and save a model: the one use-case the command line and the app share.

:func:`train_and_save` checks the output path *before* training (a folder, a FIFO or a device
is refused at once, not after an hour of training), trains, names the model after its dataset
and saves it atomically (:func:`engine.model.storage.save_with_fallback`: a model that cannot
go where it was asked goes to the models folder or the temporary folder, never lost). When
another process wrote the same target while this one trained, the target is left as it is and
the model is saved beside it (:attr:`Outcome.failures` says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import files
from engine.data.ratings import Ratings
from engine.settings import TrainConfig
from engine.training.loop import BatchProgress, EpochReport, TrainResult

#: ``train(ratings, config, *, callback, progress, cancel) -> TrainResult``.
Trainer = Callable[..., TrainResult]


@dataclass
class Outcome:
    """What a :func:`train_and_save` run did."""

    result: TrainResult
    #: where the model was saved; None when nothing was (cancelled before the first epoch
    #: ended, or a rank of a data-parallel run other than 0).
    path: Path | None = None
    #: the path asked for (before saving, None: a new file in the models folder)
    wanted: Path | None = None
    #: one line per place the model could not be saved to (then ``path`` is where it went)
    failures: list[str] = field(default_factory=list)

    @property
    def saved(self) -> bool:
        return self.path is not None


def check_model_out(path: str | Path | None) -> files.Snapshot | None:
    """Refuse (:class:`engine.files.OutputError`) a model path that can never be written as a
    model file: a folder, a FIFO, a device, a missing folder. Returns the target's snapshot,
    compared before the final rename (None: the default path, a new file)."""
    if path is None:
        return None
    return files.check_regular_output(path)


def train_and_save(
    ratings: Ratings,
    config: TrainConfig,
    *,
    dataset: str,
    model_out: str | Path | None = None,
    callback: Callable[[EpochReport], None] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    trainer: Trainer | None = None,
) -> Outcome:
    """Train on ``ratings`` and save the model (named ``dataset``) to ``model_out`` (None: a
    new file in the models folder). A run cancelled after its first epoch still saves the
    model so far, marked ``meta["stopped"]`` (see :func:`engine.housekeeping.same_run`); one
    cancelled before saves nothing.

    Raises:
        engine.files.OutputError: ``model_out`` can never hold a model file (checked first).
        engine.errors.ModelError: the model could not be saved anywhere.
        engine.errors.TrainingError, engine.errors.SettingError: as training raises them.
    """
    from engine.training.loop import train

    wanted = Path(model_out).expanduser() if model_out is not None else None
    before = check_model_out(wanted)
    run = trainer or train
    result = run(ratings, config, callback=callback, progress=progress, cancel=cancel)
    if result.cancelled and result.model is not None:  # no copy of a whole run (same_run)
        result.model.meta["stopped"] = True
    outcome = Outcome(result=result, wanted=wanted)
    if result.model is None or not (result.history and result.best_epoch > 0):
        return outcome
    _name(result.model, dataset)
    target = wanted
    if target is None:
        target, outcome.path = _save_new(result.model, dataset)
    outcome.wanted = target
    if outcome.path is None:
        outcome.path, outcome.failures = _save(result.model, target, before)
    return outcome


def _save_new(model: Any, dataset: str, tries: int = 20) -> tuple[Path, Path | None]:
    """Save ``model`` under a new default name of the models folder: ``(the name, where it
    went)``. Two runs that end at once take two names (the next free one when another
    process took this one meanwhile); ``None`` where it went when the folder cannot take it
    (the caller's fallbacks then try the other places)."""
    from engine.model.storage import save_model

    target = _default(dataset)
    for _ in range(tries):
        try:
            return target, save_model(model, target, expect=files.ABSENT)
        except files.TargetTaken:
            target = _default(dataset)
        except OSError:  # a full disk, a missing permission: save_with_fallback's places
            break
    return target, None


def _name(model: Any, dataset: str) -> None:
    """The model's dataset name (the app and ``models list`` show it)."""
    model.meta.setdefault("dataset", {})["name"] = dataset


def _default(dataset: str) -> Path:
    from engine.model.storage import default_model_path

    return default_model_path(dataset)


def _save(model: Any, wanted: Path, before: files.Snapshot | None) -> tuple[Path, list[str]]:
    from engine.model.storage import save_with_fallback

    return save_with_fallback(model, wanted, expect=before)
