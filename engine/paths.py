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


def _home() -> Path | None:
    home = os.environ.get("RBM_TUI_HOME")
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    """The user data directory (created on first use)."""
    home = _home()
    if home is not None:
        p = home / "data"
    else:
        import platformdirs

        p = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    p.mkdir(parents=True, exist_ok=True)
    return p


def cache_dir() -> Path:
    """The user cache directory (created on first use)."""
    home = _home()
    if home is not None:
        p = home / "cache"
    else:
        import platformdirs

        p = Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    p.mkdir(parents=True, exist_ok=True)
    return p


def config_dir() -> Path:
    """The user config directory (created on first use)."""
    home = _home()
    if home is not None:
        p = home / "config"
    else:
        import platformdirs

        p = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    p.mkdir(parents=True, exist_ok=True)
    return p


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
