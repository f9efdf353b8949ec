"""Benchmark ``load_ratings`` on a MovieLens-25M-shaped file.

    python benchmarks/bench_load.py [FOLDER] [--users N --items N --ratings N]

Generates the synthetic set into FOLDER (default ``benchmarks/out/``) if it is missing, then, each
in a fresh process with an empty cache (``RBM_TUI_HOME`` under FOLDER): the first load (parse +
cache write), and the cached reload. It reports wall time, peak RSS (``ru_maxrss``), resident
memory after the load, and the size of the loaded arrays, against the bars: first load ≤ 30 s,
cached reload ≤ 3 s, loaded form ≤ 1.5 GB resident.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _memory import maxrss, rss_now

REPO = Path(__file__).resolve().parent.parent
BARS = {"first": 30.0, "cached": 3.0, "resident_gb": 1.5}


def child(folder: Path) -> None:
    """Load once and print a JSON line of figures."""
    import gc

    sys.path.insert(0, str(REPO))
    import numpy as np

    from engine.data.loaders import load_ratings

    base = rss_now()
    t0 = time.perf_counter()
    r = load_ratings(folder / "ratings.csv")
    seconds = time.perf_counter() - t0
    gc.collect()
    arrays = sum(
        a.nbytes
        for a in (r.users, r.items, r.values, r.timestamps, r.user_ids, r.item_ids)
        if isinstance(a, np.ndarray)
    )
    movies = int(r.movies.memory_usage(deep=True).sum())
    print(
        json.dumps(
            {
                "seconds": seconds,
                "from_cache": r.report.from_cache,
                "n_users": r.n_users,
                "n_items": r.n_items,
                "n_ratings": r.n_ratings,
                "maxrss": maxrss(),
                "rss_after": rss_now(),
                "rss_before": base,
                "arrays": arrays,
                "movies": movies,
            }
        )
    )


def run_child(folder: Path, home: Path) -> dict:
    env = dict(os.environ, RBM_TUI_HOME=str(home))
    out = subprocess.run(
        [sys.executable, __file__, str(folder), "--child"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"load failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--users", type=int, default=162_000)
    ap.add_argument("--items", type=int, default=59_000)
    ap.add_argument("--ratings", type=int, default=25_000_000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    folder: Path = a.folder
    if a.child:
        child(folder)
        return
    if not (folder / "ratings.csv").is_file():
        sys.path.insert(0, str(REPO))
        from benchmarks.make_synthetic import write

        print(f"generating {a.ratings:,} ratings into {folder} ...", file=sys.stderr)
        write(folder, a.users, a.items, a.ratings)
    home = folder / "rbm_home"
    shutil.rmtree(home, ignore_errors=True)
    first = run_child(folder, home)
    cached = run_child(folder, home)
    shutil.rmtree(home, ignore_errors=True)
    assert not first["from_cache"] and cached["from_cache"]

    import numpy as np
    import pandas as pd

    size = (folder / "ratings.csv").stat().st_size
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs ({cpu_name()})")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(
        f"file: {folder / 'ratings.csv'} ({size / 1e6:.0f} MB): {first['n_ratings']:,} ratings, "
        f"{first['n_users']:,} users, {first['n_items']:,} movies"
    )
    loaded = first["arrays"] + first["movies"]
    rows = [
        (
            "first load (parse + cache)",
            f"{first['seconds']:.1f} s",
            f"≤ {BARS['first']:.0f} s",
            first["seconds"] <= BARS["first"],
        ),
        (
            "cached reload",
            f"{cached['seconds']:.2f} s",
            f"≤ {BARS['cached']:.0f} s",
            cached["seconds"] <= BARS["cached"],
        ),
        ("loaded arrays + movies", gb(loaded), "", None),
        (
            "resident after first load",
            gb(first["rss_after"]),
            f"≤ {BARS['resident_gb']} GB",
            first["rss_after"] <= BARS["resident_gb"] * 1e9,
        ),
        (
            "resident after cached reload",
            gb(cached["rss_after"]),
            f"≤ {BARS['resident_gb']} GB",
            cached["rss_after"] <= BARS["resident_gb"] * 1e9,
        ),
        ("peak RSS, first load", gb(first["maxrss"]), "", None),
        ("peak RSS, cached reload", gb(cached["maxrss"]), "", None),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>10}  {'bar':>9}  ok")
    for name, val, bar, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{w}}  {val:>10}  {bar:>9}  {mark}")


if __name__ == "__main__":
    main()
