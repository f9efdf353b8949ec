"""Installing a dataset folder: staged in a temporary folder beside it, then renamed into place.

Work happens in ``datasets_dir()/.NAME.WHAT-PID-XXXX`` folders (:func:`work_dir`); a killed
process leaves them behind and the next one sweeps them (:func:`sweep`): those whose process
is gone, and any older than a day.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from engine import paths
from engine.catalogue.registry import get, read_registry, write_registry
from engine.errors import DatasetError
from engine.files import pid_alive


def remove_path(p: Path) -> None:
    if p.is_symlink() or p.is_file():
        p.unlink(missing_ok=True)
    elif p.exists():
        shutil.rmtree(p, ignore_errors=True)


def install(staged: Path, target: Path) -> Path:
    """Move ``staged`` to ``target`` (same filesystem), replacing a previous ``target`` only
    once the new one is in place."""
    old = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(target, old)
    try:
        os.rename(staged, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        remove_path(old)
    return target


#: Temporary folders older than this are leftovers of a killed process and get swept.
STALE_SECONDS = 24 * 3600
_TEMP = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9._-]*\.(download|import|removing|old)-(\d+)-")


def sweep(root: Path) -> int:
    """Remove the temporary folders a killed download, import or removal left behind: those
    whose process is gone, or older than :data:`STALE_SECONDS`. Returns how many."""
    now = time.time()
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    removed = 0
    for p in entries:
        m = _TEMP.match(p.name)
        if m is None:
            continue
        try:
            if not pid_alive(int(m[2])) or now - p.lstat().st_mtime > STALE_SECONDS:
                remove_path(p)
                removed += 1
        except OSError:
            continue
    return removed


def work_dir(name: str, what: str) -> Path:
    root = paths.datasets_dir()
    sweep(root)
    return Path(tempfile.mkdtemp(prefix=f".{name}.{what}-{os.getpid()}-", dir=root))


def remove(name: str) -> bool:
    """Delete a downloaded or imported dataset (never the demo, never a link's source).

    Returns True when something was removed.
    """
    info = get(name)
    if info.kind == "demo":
        raise DatasetError("the bundled demo dataset cannot be removed")
    target = paths.datasets_dir() / info.name
    removed = False
    if target.exists() or target.is_symlink():
        trash = target.with_name(f".{target.name}.removing-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(target, trash)
        remove_path(trash)
        removed = True
    if info.kind == "imported":
        reg = read_registry()
        if reg.pop(info.name, None) is not None:
            write_registry(reg)
            removed = True
    return removed
