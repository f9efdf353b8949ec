"""Keeping the model and dataset folders tidy: what killed processes left behind, runs that
would only save a copy of a kept model, old models to prune."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import files, paths
from engine.catalogue.install import sweep

if TYPE_CHECKING:
    from engine.model.storage import ModelInfo

#: Settings that choose where a run computes, not what it learns: two runs that differ only
#: there are the same run.
WHERE_IT_RUNS = frozenset({"device", "threads"})

#: A model's name as people type it: letters, digits, '.', '_' and '-' (not first).
MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

#: How many models of each dataset pruning keeps (the newest), besides the active ones.
KEEP_PER_DATASET = 3


def sweep_leftovers() -> int:
    """Remove temporary model files (a killed save) and dataset work folders (a killed
    download or import) whose process is gone; returns how many were removed."""
    removed = sweep(paths.datasets_dir())
    for folder in (paths.models_dir(), paths.datasets_dir(), paths.config_dir()):
        removed += files.sweep_temp_files(folder)
    return removed


def model_file(name: str) -> Path:
    """The file of the models folder for a model named ``name`` (checked against
    :data:`MODEL_NAME` by the caller)."""
    return paths.models_dir() / (name if name.endswith(".pt") else f"{name}.pt")


def run_key(fingerprint: str, config: Mapping[str, Any]) -> str:
    """What makes two runs the same: the data's fingerprint
    (:func:`engine.model.trained.dataset_fingerprint`) and every setting that changes what is
    learnt, the seed included (as JSON, so a saved model's header compares equal)."""
    learnt = {k: v for k, v in config.items() if k not in WHERE_IT_RUNS}
    return json.dumps([fingerprint, learnt], sort_keys=True)


def same_run(
    models: Iterable[ModelInfo], fingerprint: str, config: Mapping[str, Any]
) -> ModelInfo | None:
    """The kept model (of ``models``, as :func:`engine.model.storage.list_models` lists them)
    that a run of ``config`` on the data of ``fingerprint`` would only copy, or None. A model
    of a run stopped before its end (``meta["stopped"]``) is no copy of a whole run."""
    want = run_key(fingerprint, config)
    for m in models:
        meta = (m.header or {}).get("meta") or {}
        saved = (meta.get("dataset") or {}).get("fingerprint")
        cfg = (m.header or {}).get("config")
        if m.error or meta.get("stopped") or not isinstance(cfg, dict):
            continue
        if isinstance(saved, str) and run_key(saved, cfg) == want:
            return m
    return None


def prunable(
    models: Iterable[ModelInfo], active: Iterable[Path], keep: int = KEEP_PER_DATASET
) -> list[ModelInfo]:
    """The models pruning deletes: beyond the newest ``keep`` of each dataset (``models``
    newest first, as listed), never an ``active`` one nor an unreadable file (those are
    the person's to look at)."""
    active_set = {Path(p) for p in active}
    seen: dict[str, int] = {}
    out = []
    for m in models:
        if m.error or not m.header:
            continue
        dataset = str(((m.header.get("meta") or {}).get("dataset") or {}).get("name", ""))
        seen[dataset] = seen.get(dataset, 0) + 1
        if seen[dataset] > keep and Path(m.path) not in active_set:
            out.append(m)
    return out
