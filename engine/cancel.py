"""Cancelling long dataset work: a callable or a ``threading.Event`` checked between chunks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.errors import DownloadCancelled


def is_cancelled(cancel: Callable[[], bool] | Any | None) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if callable(is_set) else cancel())


def check_cancel(cancel: Any, what: str) -> None:
    if is_cancelled(cancel):
        raise DownloadCancelled(f"{what} cancelled")
