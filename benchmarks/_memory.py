"""Memory figures shared by the benchmark scripts (Linux /proc and getrusage)."""

from __future__ import annotations

import os
import sys


def rss_now() -> int:
    """Resident set size of this process in bytes (Linux), or 0 when unknown."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def maxrss() -> int:
    """Peak resident set size of this process in bytes."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024
