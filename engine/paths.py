"""Where rbm-tui keeps its files (platformdirs), all movable with ``RBM_TUI_HOME``.

- data dir: downloaded datasets (``datasets/``), trained models (``models/``), the person's
  ratings (``ratings.sqlite``);
- cache dir: parsed-ratings caches (``ratings/``);
- config dir: settings (``settings.json``).

With ``RBM_TUI_HOME=/some/dir`` these become ``/some/dir/data``, ``/some/dir/cache`` and
``/some/dir/config``.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "rbm-tui"


def _dirs():
    """The platform's directories for rbm-tui, each created on first use."""
    import platformdirs

    return platformdirs.PlatformDirs(APP_NAME, appauthor=False, ensure_exists=True)


def _under_home(kind: str) -> Path | None:
    """``$RBM_TUI_HOME/<kind>`` (created) when that variable is set, else None."""
    home = os.environ.get("RBM_TUI_HOME")
    if not home:
        return None
    p = Path(home).expanduser() / kind
    p.mkdir(parents=True, exist_ok=True)
    return p


def data_dir() -> Path:
    """The user data directory (created on first use)."""
    return _under_home("data") or _dirs().user_data_path


def cache_dir() -> Path:
    """The user cache directory (created on first use)."""
    return _under_home("cache") or _dirs().user_cache_path


def config_dir() -> Path:
    """The user config directory (created on first use)."""
    return _under_home("config") or _dirs().user_config_path


def models_dir() -> Path:
    """Where trained models are saved."""
    p = data_dir() / "models"
    p.mkdir(parents=True, exist_ok=True)
    return p


def datasets_dir() -> Path:
    """Where downloaded and imported datasets live."""
    p = data_dir() / "datasets"
    p.mkdir(parents=True, exist_ok=True)
    return p
