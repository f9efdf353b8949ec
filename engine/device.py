"""Where training and scoring run: the torch device, its CPU threads, and whether bfloat16 is
fast there."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

from engine.errors import SettingError


def available_memory(device: str = "cpu") -> int | None:
    """Bytes of memory free for a new allocation on ``device`` (CUDA: the GPU's free memory;
    the CPU: the kernel's MemAvailable), None when unknown."""
    if device.startswith("cuda"):
        import torch

        try:
            return int(torch.cuda.mem_get_info()[0])
        except (RuntimeError, AssertionError):
            return None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_cpus() -> int:
    """How many CPUs this process may run on (its affinity mask; all of them elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _cpu_times(cpus: set[int], path: str = "/proc/stat") -> tuple[float, float] | None:
    """``(busy, total)`` jiffies of ``cpus`` from /proc/stat (Linux), None elsewhere. Busy
    is what programs on this machine ran; the time a virtual machine's host took for others
    (steal) is not, since fewer threads would not get it back."""
    try:
        with open(path, encoding="ascii") as fh:
            lines = fh.readlines()
    except OSError:
        return None
    busy = total = 0.0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not (name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus):
            continue
        t = [float(x) for x in rest.split()]
        idle = t[3] + (t[4] if len(t) > 4 else 0.0)  # idle + iowait
        steal = t[7] if len(t) > 7 else 0.0
        busy += sum(t[:8]) - idle - steal
        total += sum(t[:8])
    return (busy, total) if total else None


def busy_cpus(interval: float = 0.1) -> float:
    """How many of this process's CPUs other programs keep busy, sampled over ``interval``
    seconds (0 where it cannot be measured)."""
    cpus = _affinity()
    if not cpus:
        return 0.0
    first = _cpu_times(cpus)
    if first is None:
        return 0.0
    time.sleep(interval)
    busy = _busy_between(first, _cpu_times(cpus), len(cpus))
    return 0.0 if busy is None else busy


def _busy_between(first, second, n_cpus: int) -> float | None:
    """CPUs kept busy between two :func:`_cpu_times` samples (None: unknown, or no time)."""
    if first is None or second is None or second[1] <= first[1]:
        return None
    return n_cpus * (second[0] - first[0]) / (second[1] - first[1])


def _others_between(mark0, mark1, n_cpus: int) -> float | None:
    """CPUs other programs kept busy between two marks ``(clock, /proc/stat sample, this
    process's CPU time)``: all the busy CPUs less this process's own share (None: unknown)."""
    (t0, c0, own0), (t1, c1, own1) = mark0, mark1
    busy = _busy_between(c0, c1, n_cpus)
    if busy is None or t1 <= t0:
        return None
    return max(0.0, busy - (own1 - own0) / (t1 - t0))


def _load_mark(cpus: set[int]) -> tuple:
    """``(clock, /proc/stat sample, this process's CPU time)`` now."""
    return (_now(), _cpu_times(cpus), _own_cpu_time())


def _affinity() -> set[int]:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set()


#: Seconds after this module's import (the entry point imports it before torch and the data)
#: within which :func:`others_busy_now` reads the load since then instead of sampling anew.
IMPORT_WINDOW = 5.0


def others_busy_now() -> float:
    """How many of this process's CPUs other programs keep busy now: over the time since this
    module was imported when that was 0.1 to :data:`IMPORT_WINDOW` seconds ago (a training
    started from the command line, whose threads are then chosen without a wait), else over
    a 0.1 s sample (:func:`busy_cpus`)."""
    cpus = _affinity()
    if cpus and 0.1 <= _now() - _IMPORT_MARK[0] <= IMPORT_WINDOW:
        others = _others_between(_IMPORT_MARK, _load_mark(cpus), len(cpus))
        if others is not None:
            return others
    return busy_cpus()


def _free_threads(cpus: int, busy: float) -> int:
    """Threads for ``cpus`` CPUs of which other programs keep ``busy`` busy (at least 1)."""
    return max(1, min(cpus, round(cpus - busy)))


def choose_threads(requested: int = 0) -> int:
    """The CPU threads to train with: ``requested`` when it is > 0 (at most the CPUs this
    process may use), else the CPUs this process may use less those other programs keep busy
    (at least 1): on a busy machine, threads that would wait for a busy core slow everyone."""
    cpus = available_cpus()
    if requested > 0:
        if requested > cpus:
            raise SettingError(
                f"--threads {requested}: this process may use {cpus} CPU(s); use 1 to {cpus}"
            )
        return requested
    return _free_threads(cpus, others_busy_now())


_now = time.monotonic  # seconds, for intervals
_own_cpu_time = time.process_time  # CPU seconds of this process, all its threads


class ThreadGovernor:
    """Keeps torch's CPU thread count at the CPUs other programs leave free while a long job
    runs: :meth:`check`, called between batches, looks at most every ``interval`` seconds at
    how busy this process's CPUs were since the last look, less this process's own CPU time,
    and sets the thread count to what :func:`choose_threads` would choose now.

    A thread team that shares a core with another busy program waits for its slowest thread
    at every operation (beside one busy loop on 2 cores, 2 threads ran ML-100K training about
    2× slower than 1); a machine that turns quiet again gets its threads back.
    """

    def __init__(self, interval: float = 1.0) -> None:
        self.cpus: set[int] = _affinity()
        self.interval = interval
        self._mark = _load_mark(self.cpus)

    def others_busy(self) -> float | None:
        """CPUs other programs kept busy since the last look (None: too soon, or unknown);
        the look becomes the new mark. Between looks it reads only the clock."""
        if _now() - self._mark[0] < self.interval:
            return None
        mark = _load_mark(self.cpus)
        others = _others_between(self._mark, mark, len(self.cpus))
        if others is not None:
            self._mark = mark
        return others

    def check(self) -> int | None:
        """Sets torch's thread count for the load now; returns the new count when it
        changed, else None."""
        others = self.others_busy()
        if others is None:
            return None
        import torch

        want = _free_threads(len(self.cpus), others)
        if want == torch.get_num_threads():
            return None
        torch.set_num_threads(want)
        return want


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's CPU thread count set to ``n`` for the block, then put back (0: leave it).

    Raises :class:`~engine.errors.SettingError` when ``n`` is more than the CPUs this process
    may use."""
    if n <= 0:
        yield
        return
    cpus = available_cpus()
    if n > cpus:
        raise SettingError(f"--threads {n}: this process may use {cpus} CPU(s); use 1 to {cpus}")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_device(device: str = "auto") -> str:
    """The device to use: "cuda" when asked (or "auto" and available), else "cpu".

    Raises :class:`~engine.errors.SettingError` when CUDA is asked for but absent."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as e:
        raise SettingError(f"--device {device}: not a device; give auto, cpu or cuda") from e
    if kind == "cuda" and not torch.cuda.is_available():
        raise SettingError(f"--device {device}: CUDA was asked for but is not available here")
    if kind not in ("cpu", "cuda"):
        raise SettingError(f"--device {device}: rbm-tui runs on cpu or cuda, not {kind}")
    return device


_IMPORT_MARK = _load_mark(_affinity())
