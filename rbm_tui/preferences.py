"""The app's preferences: a small JSON file in the user config dir, written atomically.

(Training settings are another thing: :mod:`engine.settings`.)

What is remembered: the last dataset chosen, the theme, and the active model of each
dataset. A missing, unreadable or damaged file gives the defaults (it is never an error).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from engine import files, paths

PREFERENCES_FILE = "settings.json"
#: The metadata of a field that is the run's state, not a preference: never written.
_NOT_SAVED = {"kept": False}


def preferences_path() -> Path:
    """``<config dir>/settings.json``."""
    return paths.config_dir() / PREFERENCES_FILE


@dataclass
class Preferences:
    dataset: str | None = None  # the last dataset chosen (a catalogue name or a path)
    theme: str | None = None  # the Textual theme name
    models: dict[str, str] = field(default_factory=dict)  # dataset -> active model path

    def active_model(self, dataset: str | None) -> str | None:
        return self.models.get(dataset) if dataset else None

    def set_active_model(self, dataset: str, model_path: str | Path | None) -> None:
        if model_path is None:
            self.models.pop(dataset, None)
        else:
            self.models[dataset] = str(model_path)

    def users_of(self, model_path: str | Path) -> list[str]:
        """The datasets whose active model is the file ``model_path``, sorted."""
        return sorted(d for d, p in self.models.items() if Path(p) == Path(model_path))

    def repoint_model(self, old: str | Path, new: str | Path | None) -> bool:
        """Every dataset whose active model is the file ``old`` now has ``new`` (None: none);
        whether any had it."""
        hits = self.users_of(old)
        for dataset in hits:
            self.set_active_model(dataset, new)
        return bool(hits)

    #: Where a settings file that was not JSON was set aside (this run has the defaults).
    set_aside: Path | None = field(default=None, repr=False, compare=False, metadata=_NOT_SAVED)
    #: The file is there but is not JSON (and was left where it is): do not save over it.
    unreadable: bool = field(default=False, repr=False, compare=False, metadata=_NOT_SAVED)

    @classmethod
    def load(cls, path: Path | None = None, *, set_aside: bool = False) -> Preferences:
        """The saved settings, or the defaults when the file is missing or damaged. A file that
        is not JSON is, with ``set_aside`` (the app, which says so), first renamed
        ``settings.json.damaged-<time>`` (:attr:`set_aside`), so that the next save does not
        destroy what could be recovered from it by hand; without, it is left as it is and
        :attr:`unreadable` is set (a command that would save it should not)."""
        path = path or preferences_path()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except OSError:
            return cls()
        except ValueError:
            if set_aside:
                return cls(set_aside=files.set_aside(path))
            return cls(unreadable=True)
        if not isinstance(doc, dict):
            return cls()
        known = {f.name: f for f in fields(cls) if f.metadata.get("kept", True)}
        kwargs: dict[str, Any] = {}
        for k, v in doc.items():
            if k not in known:
                continue
            if k == "models":
                if isinstance(v, dict):
                    kwargs[k] = {str(a): str(b) for a, b in v.items() if isinstance(b, str)}
            elif v is None or isinstance(v, str):
                kwargs[k] = v
        return cls(**kwargs)

    def save(self, path: Path | None = None) -> Path:
        """Write the settings atomically (temporary file + rename); returns the path."""
        path = path or preferences_path()
        kept = {f.name for f in fields(self) if f.metadata.get("kept", True)}
        doc = {k: v for k, v in asdict(self).items() if k in kept}
        blob = json.dumps(doc, indent=2, sort_keys=True) + "\n"
        files.write_bytes(path, blob.encode("utf-8"))
        return path
