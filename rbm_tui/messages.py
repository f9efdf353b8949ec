"""Every message a worker thread sends to the UI, as dataclasses in one place.

Workers never touch widgets: they ``post_message`` one of these (``post_message`` is
thread-safe) and the screen or app that started them updates the UI in its handler.
Payload types from the engine are imported for type checking only, so that importing this
module never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from engine.data.ratings import Ratings
    from engine.model.storage import ModelInfo
    from engine.model.trained import Model
    from engine.taste import Imported
    from engine.training.loop import EpochReport

# ---------------------------------------------------------------------------- datasets


@dataclass
class DatasetStats:
    """Figures of one loaded dataset (shown on the Datasets screen)."""

    users: int
    movies: int
    ratings: int
    like_share: float
    sparsity: float
    scale: tuple[float, float] = (0.0, 0.0)
    seconds: float = 0.0
    from_cache: bool = False


@dataclass
class StatsLoaded(Message):
    """The stats of dataset ``name`` (``error`` set when it did not load)."""

    name: str
    stats: DatasetStats | None = None
    error: str | None = None


@dataclass
class DownloadProgress(Message):
    name: str
    done: int
    total: int | None


@dataclass
class DownloadDone(Message):
    """A download ended: installed (``path``), failed (``error``) or ``cancelled``."""

    name: str
    path: Path | None = None
    error: str | None = None
    cancelled: bool = False


@dataclass
class ImportDone(Message):
    """An import ended: dataset ``name`` installed, or ``error`` (with file and line);
    ``exists``: the dataset on disk it would have replaced (nothing was changed)."""

    source: str
    name: str | None = None
    error: str | None = None
    exists: str | None = None


@dataclass
class DatasetLoaded(Message):
    """The ratings of dataset ``name`` are loaded."""

    name: str
    ratings: Ratings
    show: str | None = None  # the screen to switch to ("auto", a mode name or None)


@dataclass
class DatasetFailed(Message):
    name: str
    error: str


# ------------------------------------------------------------------------------ models


@dataclass
class ModelLoaded(Message):
    """A model file was loaded."""

    path: Path
    model: Model
    dataset: str | None = None


@dataclass
class ModelFailed(Message):
    path: Path
    error: str


@dataclass
class ModelsListed(Message):
    """The saved models."""

    models: list[ModelInfo] = field(default_factory=list)


# ---------------------------------------------------------------------------- training


@dataclass
class DeviceInfo(Message):
    """Which devices training can use (``"cpu"``, and ``"cuda"`` when present)."""

    devices: list[str]
    description: str


@dataclass
class TrainBatch(Message):
    """Batch progress: ``batch`` of ``n_batches`` in ``epoch`` of ``epochs``."""

    epoch: int
    epochs: int
    batch: int
    n_batches: int


@dataclass
class TrainEpoch(Message):
    """One epoch done."""

    report: EpochReport


@dataclass
class TrainDone(Message):
    """Training ended. ``path`` is the saved model (None when nothing was saved)."""

    path: Path | None
    model: Model | None
    cancelled: bool
    best_epoch: int
    epochs_done: int
    seconds: float
    dataset: str
    #: the places the model could not be saved to before the one it went to
    save_failures: list[str] = field(default_factory=list)
    #: nothing was trained: ``path`` is a kept model of the same data, settings and seed
    kept_copy: bool = False


@dataclass
class TrainFailed(Message):
    error: str
    detail: str = ""


# --------------------------------------------------------------------- ratings imports
@dataclass
class TasteImported(Message):
    """A ratings export was imported (posted once, from the import dialog's worker)."""

    outcome: Imported


@dataclass
class TasteImportFailed(Message):
    """The import failed (one line naming the file, the line and the problem); nothing was
    changed."""

    error: str
