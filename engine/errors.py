"""rbm-tui's exceptions: one root, one subclass per kind of failure.

Every error a person can cause or fix (a bad file, a missing dataset, a damaged model, an
out-of-range setting) is an :class:`RbmTuiError`; its message is one line that names the file
(and line) or the setting, the problem and what to do. The command line prints it and exits
with status 2; the app shows it in a dialog. Anything else is a bug and keeps its traceback.

::

    RbmTuiError
    ├── RatingsError        a ratings or pairs file cannot be read (file, line, problem)
    ├── DatasetError        catalogue, download, import, archive problems
    │   └── DownloadCancelled
    ├── ModelError          a model file cannot be used (missing, damaged, foreign, mismatched)
    ├── SettingError        a training setting is unknown or out of its range
    ├── TrainingError       training cannot go on (diverged, no data)
    ├── UserStoreError      the person's ratings database cannot be used
    ├── DistributedError    a torchrun job cannot go on (a peer died, ranks disagree)
    ├── OutputError         a file cannot be written (engine.files; also an OSError)
    └── UsageError          a Python API call with an argument it does not accept
        ├── MovieIndexError a movie index outside the model (also an IndexError)
        └── UnknownIdError  a user or movie ID the ratings do not hold (also a KeyError)
"""

from __future__ import annotations


class RbmTuiError(Exception):
    """The root of every error a person can fix; the message is one line."""


class RatingsError(RbmTuiError, ValueError):
    """Bad ratings input; the message names the file, the line (when known), the problem, a fix."""

    def __init__(self, path: object, problem: str, line: int | None = None, hint: str = "") -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        self.hint = hint
        where = self.path if line is None else f"{self.path}, line {line}"
        msg = f"{where}: {problem}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class DatasetError(RbmTuiError):
    """A dataset problem, with a message that says what happened and what to do."""


class DatasetExists(DatasetError):
    """An import would replace the dataset ``name`` already on disk; nothing was changed."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"a dataset named {name} is already on disk: replace it, or import under another name"
        )


class DownloadCancelled(DatasetError):
    """The download was cancelled (``cancel`` fired); nothing was left behind."""


class ModelError(RbmTuiError):
    """A model file that cannot be used: missing, corrupted, truncated, foreign or mismatched."""


class SettingError(RbmTuiError, ValueError):
    """A training setting that is unknown, of the wrong type or out of its range."""


class TrainingError(RbmTuiError):
    """Training cannot go on: no ratings, or the weights diverged."""


class UserStoreError(RbmTuiError):
    """The person's ratings database cannot be opened, read or written."""


class DistributedError(RbmTuiError):
    """The distributed run cannot go on: not started by torchrun, a peer died or stalled, or
    the ranks disagree (different data)."""


class UsageError(RbmTuiError, ValueError):
    """A call of the Python API with an argument it does not accept (a wrong type, a count
    below its least, an unknown ranking); the message names the argument."""


class MovieIndexError(UsageError, IndexError):
    """A movie index outside the model's ``0 .. n_items - 1``."""


class UnknownIdError(UsageError, KeyError):
    """An original user or movie ID that the ratings do not hold."""

    def __str__(self) -> str:  # a KeyError would print its message quoted
        return str(self.args[0]) if self.args else ""
