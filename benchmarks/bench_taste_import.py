"""Importing a person's ratings export: seconds for 5,000 rows, per format, and match rates.

    python benchmarks/bench_taste_import.py [--rows 5000] [--trials 5] [--scale 10]

Exports are built from the held-out people of ``../shared/data/benchmarks/mls16-newusers``
(titles, years and ids from ``ml-latest-small-2016``, as ``tests/fixtures/taste/exports.py``
writes them), cut or repeated to ``--rows`` rows, and imported into that dataset's 9,125
movies with :func:`engine.taste.import_file`, which times everything a ``thumbs import`` does
after the dataset is loaded: read and sniff the file, build the dataset's lookups, match every
row, write the unmatched rows. Bar (issue 36): under 2 s for 5,000 rows. Prints one JSON
object: per format the median and worst seconds, rows, matched share and how rows matched.

The last line imports the Letterboxd file into a catalogue ``--scale`` times larger (the
9,125 movies copied, each copy's titles given a number so that no copy matches: MovieLens
32M has 87,585 movies), to show how the title lookups grow with the catalogue.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "taste"))

import exports  # noqa: E402

WRITERS = {
    "imdb (ids via links.csv)": (exports.write_imdb, True),
    "letterboxd (titles)": (exports.write_letterboxd, True),
    "movielens (ids via links.csv)": (exports.write_movielens, True),
    "imdb without links.csv (titles)": (exports.write_imdb, False),
}


def _rows(n: int) -> list[dict[str, str]]:
    rows = exports.held_out_rows()
    return (rows * (n // len(rows) + 1))[:n]


def _time(f: Path, movies, links, trials: int, out: Path) -> tuple[list[float], object]:
    from engine.taste import import_file
    from engine.taste.titles import title_key

    times, result = [], None
    for _ in range(trials):
        title_key.cache_clear()  # each trial cold, as a fresh process is
        t0 = time.perf_counter()
        result = import_file(f, movies, links, unmatched_dir=out)
        times.append(time.perf_counter() - t0)
    return times, result


def _scaled(movies, k: int):
    """``movies`` and k-1 renamed copies ("Heat 2 (1995)"), IDs shifted past the originals."""
    import pandas as pd

    step = int(movies.index.max()) + 1
    copies = [movies]
    for c in range(1, k):
        copy = movies.copy()
        copy.index = movies.index + c * step
        copy["title"] = [f"{t[:-7]} {c} {t[-6:]}" for t in movies["title"]]
        copies.append(copy)
    return pd.concat(copies)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--scale", type=int, default=10)
    args = ap.parse_args(argv)
    if not (exports.NEWUSERS / "test.csv").is_file():
        print(f"shared data not found at {exports.SHARED}", file=sys.stderr)
        return 2
    from engine.data.movies import read_movies
    from engine.data.sources import plan_source
    from engine.taste import read_links

    plan = plan_source(exports.MLS16 / "ratings.csv")
    movies = read_movies(plan.source, plan.kind)[0]
    links = read_links(exports.MLS16)
    rows = _rows(args.rows)
    report: dict[str, object] = {"rows": len(rows), "movies": len(movies), "trials": args.trials,
                                 "python": platform.python_version(), "formats": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name, (write, use_links) in WRITERS.items():
            f = write(Path(tmp) / f"{name.split()[0]}.csv", rows)
            times, r = _time(f, movies, links if use_links else None, args.trials, Path(tmp))
            report["formats"][name] = {
                "median_s": round(statistics.median(times), 3),
                "worst_s": round(max(times), 3),
                "matched_share": round(r.matched / r.rows, 4),
                "methods": r.methods,
            }
        big = _scaled(movies, args.scale)
        f = exports.write_letterboxd(Path(tmp) / "big.csv", rows)
        times, r = _time(f, big, None, args.trials, Path(tmp))
        report["formats"][f"letterboxd (titles), {len(big):,} movies"] = {
            "median_s": round(statistics.median(times), 3),
            "worst_s": round(max(times), 3),
            "matched_share": round(r.matched / r.rows, 4),
            "methods": r.methods,
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
