"""Process-level tuning done once by the ``rbm-tui`` entry points (never by the engine)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys

#: glibc ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_process() -> None:
    """Done once by the entry point, before torch is imported: :func:`tune_allocator`, and
    OpenMP's passive wait policy with a short spin (``GOMP_SPINCOUNT``, about a tenth of a
    millisecond): a thread that waits for the next operation polls that long, then sleeps.

    Sleeping at once (the passive policy alone) made ML-100K training about 1.3× slower on
    2 cores: a step is a few hundred small operations, and waking a sleeping thread for each
    costs more than the operation's parallel part saves. Spinning for long (OpenMP's default)
    steals a busy machine's cores from the program the threads wait for; training also drops
    to fewer threads while other programs keep cores busy
    (:class:`engine.device.ThreadGovernor`)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", str(SPIN_COUNT))
    tune_allocator()


#: libgomp's polls before a waiting thread sleeps (it estimates 100,000 a millisecond)
SPIN_COUNT = 20_000


def tune_allocator(mmap_threshold: int = 32 << 20, trim_threshold: int = 128 << 20) -> bool:
    """Let glibc's malloc keep freed blocks of up to ``mmap_threshold`` bytes (default 32 MB)
    in the heap instead of handing each back to the kernel.

    Training allocates and frees the same few-MB temporaries thousands of times; by default
    every one is a fresh ``mmap`` whose pages fault in again, which costs about 25 % of a
    short training run on the CPU. Returns True when the setting was applied (glibc only;
    elsewhere nothing is done).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    return mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1 and ok


#: torch's own thread count, remembered when the app switches to interactive threads
_default_threads: int | None = None


def use_interactive_threads() -> None:
    """One torch thread for the app's interactive work (fold-in, recommendations).

    A person's fold-in is a few products over the catalogue; with two threads, torch's OpenMP
    pool and MKL's pool spin against each other on small machines and one call in seven
    stalls (87,000 movies on 2 cores: p95 ~100 ms with two threads, ~24 ms with one).
    Training sets its own thread count for its duration (:func:`engine.device.choose_threads`).
    """
    global _default_threads
    import torch

    if _default_threads is None:
        _default_threads = torch.get_num_threads()
    torch.set_num_threads(1)


def freeze_long_lived() -> None:
    """Take what lives on (modules, a loaded dataset) out of the collector's full passes: one
    pass over ~250,000 objects stalled a Browse key by ~280 ms at 87,000 movies (~27 ms
    frozen). Called once a dataset is in memory."""
    gc.collect()
    gc.freeze()
