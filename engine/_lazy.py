"""Deferred imports: a stand-in for a module that imports it on first attribute access.

Training a model from the ratings cache never touches a DataFrame, and pandas costs about
0.2 s to import; modules that use pandas only here and there refer to it through
:func:`lazy_module` so that commands which never need it never pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any


class _LazyModule:
    """Forwards attribute access to the module ``name``, importing it the first time. It is
    not put in ``sys.modules``, so code that walks the loaded modules does not import it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first attribute access."""
    return _LazyModule(name)
