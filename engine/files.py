"""Writing files safely: nothing half-written, nothing but the target touched.

:func:`write_bytes` and :func:`open_output` write a *regular* file (or a new path) through a
temporary file in the same folder, then rename it over the target, so a crash or Ctrl+C never
leaves a half-written file. A symbolic link is followed: its target is written, the link stays.
A FIFO or a character device (``/dev/null``, ``/dev/stdout``) is written directly: it is never
replaced. Anything else (a folder, a block device, a socket) is refused with one line. A new
file gets the permissions the umask gives (``0666 & ~umask``); a replaced one keeps its own.

Temporary files are named ``.NAME.PID.XXXX.tmp``; :func:`sweep_temp_files` removes those whose
process has died (a killed save), or older than a day.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from engine.errors import RbmTuiError

#: Temporary files of a process that is gone, or older than this, are swept.
STALE_SECONDS = 24 * 3600
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


class OutputError(RbmTuiError, OSError):
    """The output path cannot be written: the message names it and says why."""


def describe_os_error(path: object, e: OSError) -> str:
    """One line for an OSError while writing ``path``: ``PATH: reason``."""
    why = e.strerror or str(e) or type(e).__name__
    return f"{path}: {why}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def kind(path: Path) -> str:
    """How ``path`` is written: ``"replace"`` (a regular file or a new path, through a
    temporary file), ``"direct"`` (a FIFO or character device, written in place) or
    ``"refuse"`` (a folder, block device, socket, or a missing folder)."""
    try:
        st = os.stat(path)  # follows a symlink to its target
    except FileNotFoundError:
        return "replace" if path.parent.is_dir() else "refuse"
    except OSError:
        return "refuse"
    if stat.S_ISREG(st.st_mode):
        return "replace"
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        return "direct"
    return "refuse"


def _target(path: str | os.PathLike[str]) -> Path:
    """The path written: ``path`` with a symbolic link followed to its target."""
    p = Path(path).expanduser()
    if p.is_symlink():
        p = Path(os.path.realpath(p))
    return p


def _refusal(path: Path) -> OutputError:
    if path.is_dir():
        return OutputError(f"{path}: is a folder; give a file name")
    if not path.parent.is_dir():
        return OutputError(f"{path}: the folder {path.parent} does not exist")
    return OutputError(f"{path}: not a regular file, FIFO or character device; not written")


@contextlib.contextmanager
def open_output(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8"
) -> Iterator[IO]:
    """A file object to write ``path`` (see the module doc); on success the data is in place,
    on any failure or interrupt the target is as it was. Raises :class:`OutputError`."""
    target = _target(path)
    how = kind(target)
    if how == "refuse":
        raise _refusal(target)
    text = "b" not in mode
    opts = {"encoding": encoding, "newline": ""} if text else {}
    if how == "direct":
        try:
            fh = open(target, "w" if text else "wb", **opts)
        except OSError as e:
            raise OutputError(describe_os_error(target, e)) from None
        with fh:
            yield fh
        return
    try:
        fd, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
        )
    except OSError as e:
        raise OutputError(describe_os_error(target, e)) from None
    try:
        with os.fdopen(fd, "w" if text else "wb", **opts) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode_bits = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode_bits = 0o666 & ~_umask()
        os.chmod(tmp, mode_bits)
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise OutputError(describe_os_error(target, e)) from None
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` (see the module doc); returns the path written."""
    with open_output(path, "wb", encoding=None) as fh:
        fh.write(data)
    return _target(path)


def sweep_temp_files(folder: str | os.PathLike[str]) -> int:
    """Remove the temporary files of :func:`open_output` in ``folder`` left by a process that
    has died (or older than :data:`STALE_SECONDS`); returns how many were removed."""
    removed = 0
    now = time.time()
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return 0
    for p in entries:
        m = _TEMP.match(p.name)
        if m is None:
            continue
        try:
            st = p.lstat()
            if not stat.S_ISREG(st.st_mode):
                continue
            if pid_alive(int(m["pid"])) and now - st.st_mtime < STALE_SECONDS:
                continue
            p.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (on this machine)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
