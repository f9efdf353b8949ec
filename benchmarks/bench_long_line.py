"""Memory of refusing a ratings file that is one endless line (issue 34, item 6).

    python benchmarks/bench_long_line.py [--mib N] [--keep]

Writes ``userId,movieId,rating`` then ``1,1,`` followed by N MiB of digits without a line break
(default 1024: the fault matrix's 1 GB line) into ``benchmarks/out/long-line.csv``, then, in a
fresh process, loads it and reports the error line, the time and the peak resident memory above
the process's baseline, against the bar: at most 300 MB above the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _memory import maxrss, rss_now

REPO = Path(__file__).resolve().parent.parent
BAR_MB = 300


def child(path: Path) -> None:
    sys.path.insert(0, str(REPO))
    import pandas  # noqa: F401 - part of the baseline, as in the app

    from engine.data.loaders import load_ratings
    from engine.errors import RatingsError

    base = rss_now()
    t0 = time.perf_counter()
    try:
        load_ratings(path, cache=False)
        error = ""
    except RatingsError as e:
        error = str(e)
    seconds = time.perf_counter() - t0
    print(json.dumps({"error": error, "seconds": seconds, "above_mb": (maxrss() - base) / 1e6}))


def write(path: Path, mib: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = b"7" * (1 << 20)
    with open(path, "wb") as fh:
        fh.write(b"userId,movieId,rating\n1,1,5\n1,2,")
        for _ in range(mib):
            fh.write(block)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=1024, help="length of the line in MiB")
    ap.add_argument("--keep", action="store_true", help="keep the file afterwards")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    path = REPO / "benchmarks" / "out" / "long-line.csv"
    write(path, args.mib)
    try:
        env = {**os.environ, "RBM_TUI_HOME": str(path.parent / "home")}
        cmd = [sys.executable, __file__, "--child", str(path)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
    got = json.loads(out)
    verdict = "meets" if got["above_mb"] <= BAR_MB else "MISSES"
    print(f"line of {args.mib} MiB: {got['error'] or 'loaded?!'}")
    print(
        f"refused in {got['seconds']:.2f} s, peak {got['above_mb']:.0f} MB above the baseline "
        f"({verdict} the {BAR_MB} MB bar)"
    )


if __name__ == "__main__":
    main()
