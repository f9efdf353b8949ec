"""Sweeping what killed processes left behind: run once when the app or a command starts."""

from __future__ import annotations

from engine import files, paths
from engine.catalogue.install import sweep


def sweep_leftovers() -> int:
    """Remove temporary model files (a killed save) and dataset work folders (a killed
    download or import) whose process is gone; returns how many were removed."""
    removed = sweep(paths.datasets_dir())
    for folder in (paths.models_dir(), paths.datasets_dir(), paths.config_dir()):
        removed += files.sweep_temp_files(folder)
    return removed
