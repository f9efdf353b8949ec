"""Writing files safely: nothing half-written, nothing but the target touched.

:func:`write_bytes` and :func:`open_output` write a *regular* file (or a new path) through a
temporary file in the same folder, then rename it over the target, so a crash or Ctrl+C never
leaves a half-written file. A symbolic link is followed: its target is written, the link stays.
A FIFO or a character device (``/dev/null``, a terminal) is written directly: it is never
replaced; a FIFO is opened without blocking, so one that no process reads is refused with one
line instead of hanging. ``/dev/stdout``, ``/dev/stderr`` and ``/dev/fd/N`` are written through
the process's own descriptor, after what the shell's redirect already holds. Anything else (a
folder, a block device, a socket) is refused with one line. Model files (``regular_only``) are
never written to a FIFO, device or stream, and :func:`check_regular_output` says so before the
work that makes them starts. A new file gets the permissions the umask gives
(``0666 & ~umask``); a replaced one keeps its own.

Two writers of one target: :func:`snapshot` remembers the target (inode, size, modification
time) when a long job starts; given as ``expect``, the final rename refuses to replace a file
that another process wrote meanwhile.

Temporary files are named ``.NAME.PID.XXXX.tmp``; :func:`sweep_temp_files` removes those whose
process has died (a killed save), or older than a day.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from engine.errors import RbmTuiError

#: Temporary files of a process that is gone, or older than this, are swept.
STALE_SECONDS = 24 * 3600
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


class OutputError(RbmTuiError, OSError):
    """The output path cannot be written: the message names it and says why."""


class TargetTaken(OutputError):
    """A file the job meant to create (or replace as it was) was written by another process
    meanwhile; it is left as it is."""


class Snapshot(NamedTuple):
    """What a target was when a job started: ``(inode, size, mtime_ns)``; :data:`ABSENT` when
    there was no file."""

    inode: int
    size: int
    mtime_ns: int


ABSENT = Snapshot(0, -1, 0)


def snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """The target of ``path`` (a link followed) as it is now."""
    try:
        st = os.stat(_target(path))
    except OSError:
        return ABSENT
    return Snapshot(st.st_ino, st.st_size, st.st_mtime_ns)


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
    except (OSError, ValueError):  # ValueError: a NUL byte in the name
        return "refuse"
    if stat.S_ISREG(st.st_mode):
        return "replace"
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        return "direct"
    return "refuse"


def _target(path: str | os.PathLike[str]) -> Path:
    """The path written: ``path`` with a symbolic link followed to its target."""
    if "\0" in os.fspath(path):
        raise OutputError(f"{os.fspath(path)!r}: a file name cannot hold a NUL byte")
    p = Path(path).expanduser()
    if p.is_symlink():
        p = Path(os.path.realpath(p))
    return p


#: Paths that name a descriptor the process holds: written through it, never replaced.
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_STD_PATHS = {"/dev/stdout": 1, "/dev/stderr": 2}


def _descriptor(path: str | os.PathLike[str]) -> int | None:
    """The open descriptor ``path`` names (``/dev/stdout``, ``/dev/fd/3``), else None. Its
    link leads to what the shell redirected it to: a file replaced there would lose what the
    shell wrote before and after, and a pipe has no path to replace."""
    text = os.path.normpath(os.fspath(path))
    if text in _STD_PATHS:
        return _STD_PATHS[text]
    m = _FD_PATH.match(text)
    return int(m.group(1)) if m else None


def _check_descriptor(fd: int, path: object, regular_only: bool) -> None:
    if regular_only:
        raise OutputError(f"{path}: the output stream, not a file; give a file name")
    try:
        os.fstat(fd)
    except OSError:
        raise OutputError(f"{path}: not open in this process; not written") from None


def check_output(path: str | os.PathLike[str]) -> None:
    """Refuse (:class:`OutputError`) a path :func:`open_output` would refuse (a folder, a
    missing folder, a socket, a block device): checked before the work that fills it."""
    fd = _descriptor(path)
    if fd is not None:
        _check_descriptor(fd, path, regular_only=False)
        return
    target = _target(path)
    if kind(target) == "refuse":
        raise _refusal(target)


def check_regular_output(path: str | os.PathLike[str]) -> Snapshot:
    """Refuse (:class:`OutputError`) a path that cannot take a regular file written through a
    temporary file: a folder, a missing folder, a FIFO, a device, a socket. Returns the
    target's :func:`snapshot` (to give as ``expect`` when the file is written)."""
    fd = _descriptor(path)
    if fd is not None:
        _check_descriptor(fd, path, regular_only=True)
    target = _target(path)
    if kind(target) != "replace":
        raise _refusal(target, regular_only=True)
    return snapshot(target)


def _refusal(path: Path, regular_only: bool = False) -> OutputError:
    if path.is_dir():
        return OutputError(f"{path}: is a folder; give a file name")
    if not path.parent.is_dir():
        return OutputError(f"{path}: the folder {path.parent} does not exist")
    if regular_only:
        return OutputError(f"{path}: not a regular file (a FIFO, device or socket); not written")
    return OutputError(f"{path}: not a regular file, FIFO or character device; not written")


@contextlib.contextmanager
def open_output(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    regular_only: bool = False,
    expect: Snapshot | None = None,
) -> Iterator[IO]:
    """A file object to write ``path`` (see the module doc); on success the data is in place,
    on any failure or interrupt the target is as it was. ``regular_only``: refuse a FIFO or a
    device too. ``expect``: the target's :func:`snapshot` when the job started; a target that
    changed since is left as it is (refused). Raises :class:`OutputError`."""
    text = "b" not in mode
    opts: dict[str, Any] = {"encoding": encoding, "newline": ""} if text else {}
    fmode = "w" if text else "wb"
    fd = _descriptor(path)
    if fd is not None:  # /dev/stdout: through the descriptor, where the shell's output goes
        _check_descriptor(fd, path, regular_only)
        for stream in (sys.stdout, sys.stderr):  # what Python holds for them goes first
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        with os.fdopen(os.dup(fd), fmode, **opts) as fh:
            yield fh
        return
    target = _target(path)
    how = kind(target)
    if how == "refuse" or (regular_only and how != "replace"):
        raise _refusal(target, regular_only)
    if how == "direct":
        with os.fdopen(_open_direct(target), fmode, **opts) as fh:
            yield fh
        return
    with _replacing(target, fmode, opts, expect) as fh:
        yield fh


def _open_direct(target: Path) -> int:
    """A descriptor writing a FIFO or device in place; a FIFO no process reads is refused
    (opened without blocking, then switched back to blocking writes)."""
    import fcntl

    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise OutputError(f"{target}: a FIFO that no process reads; not written") from None
        raise OutputError(describe_os_error(target, e)) from None
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    return fd


@contextlib.contextmanager
def _replacing(
    target: Path, fmode: str, opts: dict[str, Any], expect: Snapshot | None
) -> Iterator[IO]:
    """Write a temporary file beside ``target``, then rename it over the target."""
    try:
        fd, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
        )
    except OSError as e:
        raise OutputError(describe_os_error(target, e)) from None
    try:
        with os.fdopen(fd, fmode, **opts) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _check_unchanged(target, expect)
        try:
            mode_bits = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode_bits = 0o666 & ~_umask()
        os.chmod(tmp, mode_bits)
        if expect == ABSENT:  # a new file: never over one another process made just now
            _link_new(tmp, target)
        else:
            os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise OutputError(describe_os_error(target, e)) from None
        raise


def _check_unchanged(target: Path, expect: Snapshot | None) -> None:
    """Refuse to replace a target another process wrote since ``expect`` was taken."""
    if expect is None:
        return
    now = snapshot(target)
    if now != expect:
        what = "created" if expect == ABSENT else "written"
        raise TargetTaken(f"{target}: {what} by another process while this one ran; left as it is")


def _link_new(tmp: str, target: Path) -> None:
    """Give the finished ``tmp`` the name ``target`` only if no file has it (atomic: two
    processes that both found the name free cannot both take it), then drop ``tmp``."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise TargetTaken(
            f"{target}: created by another process while this one ran; left as it is"
        ) from None
    except OSError:  # a file system without hard links: the rename, checked just before
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def write_bytes(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    regular_only: bool = False,
    expect: Snapshot | None = None,
) -> Path:
    """Write ``data`` to ``path`` (see :func:`open_output`); returns the path written."""
    with open_output(path, "wb", encoding=None, regular_only=regular_only, expect=expect) as fh:
        fh.write(data)
    return Path(path) if _descriptor(path) is not None else _target(path)


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


def damaged_name(path: Path) -> Path:
    """A free ``<name>.damaged-<UTC time>`` beside ``path``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    return target


def set_aside(path: Path) -> Path | None:
    """Rename a file that cannot be read to :func:`damaged_name` before anything replaces it,
    so that a person can still recover it by hand; the new path, or None when it could not
    be moved (it stays where it is)."""
    target = damaged_name(path)
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target
