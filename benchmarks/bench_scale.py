"""Scale benchmark: the cost of a whole default training as the data grows, up to MovieLens 25M.

    python benchmarks/bench_scale.py [--scales 1,5,25] [--out DIR] [--threads N]

For each scale (millions of ratings) a synthetic set shaped like MovieLens 25M is generated
by ``make_synthetic.py`` (59,000 movies; people in proportion to the ratings: 162,000 at 25M)
unless it is already in DIR. Then, each in a fresh process with an empty ``RBM_TUI_HOME``:
the first load (parse and cache), the cached load, and a whole default ``rbm-tui train``
(every epoch the defaults run, early stopping included, calibration, save). It prints per
scale: load times, epochs run, seconds per epoch (median), the whole training's wall time and
the peak RSS of the training process, against the bars of ``BENCHMARKS.md`` (25M: a whole
training ≤ 20 minutes, peak memory ≤ 4 GB, on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FULL = {"users": 162_000, "items": 59_000, "ratings": 25_000_000}

LOAD = """
import json, sys, time
sys.path.insert(0, {repo!r})
from engine.data.loaders import load_ratings
t0 = time.perf_counter()
r = load_ratings({path!r})
print(json.dumps({{"seconds": time.perf_counter() - t0, "cached": r.report.from_cache,
                  "users": r.n_users, "movies": r.n_items, "ratings": r.n_ratings}}))
"""


def run(cmd: list[str], env: dict) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``cmd``; returns (the finished process, wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return proc, time.perf_counter() - t0


def dataset(out: Path, scale: float) -> Path:
    folder = out / f"synthetic-{scale:g}M"
    ratings = folder / "ratings.csv"
    if not ratings.is_file():
        users = max(1000, round(FULL["users"] * scale / 25))
        cmd = [sys.executable, str(REPO / "benchmarks" / "make_synthetic.py"), "--out", str(folder)]
        cmd += ["--users", str(users), "--items", str(FULL["items"])]
        cmd += ["--ratings", str(int(scale * 1_000_000))]
        subprocess.run(cmd, check=True)
    return ratings


def one_scale(out: Path, scale: float, threads: int | None) -> dict:
    ratings = dataset(out, scale)
    row: dict = {"scale_m": scale}
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, RBM_TUI_HOME=home, PYTHONPATH=str(REPO))
        for key in ("first", "cached"):
            proc, _ = run(
                [sys.executable, "-c", LOAD.format(repo=str(REPO), path=str(ratings))], env
            )
            if proc.returncode:
                raise SystemExit(proc.stderr[-3000:])
            got = json.loads(proc.stdout)
            row[f"load_{key}_s"] = got["seconds"]
            row.update(users=got["users"], movies=got["movies"], ratings=got["ratings"])
        model = Path(home) / "scale.pt"
        cmd = [sys.executable, "-m", "rbm_tui", "train", str(ratings), "--model-out", str(model)]
        cmd += ["--json"] + (["--threads", str(threads)] if threads else [])
        # a fresh measuring process per training, so its peak RSS is its own
        wrapper = (
            "import resource, subprocess, sys, json; "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-3000:], "
            "'peak': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))"
        )
        proc, wall = run([sys.executable, "-c", wrapper, *cmd], env)
        got = json.loads(proc.stdout)
        if got["rc"]:
            raise SystemExit(got["err"])
        summary = json.loads(got["out"])
        sys.path.insert(0, str(REPO))
        from engine.model.storage import read_header

        history = read_header(model)["meta"]["history"]
        row.update(
            train_wall_s=wall,
            peak_rss_gb=got["peak"] / 1e9,
            epochs=len(history),
            epoch_s=statistics.median(h["seconds"] for h in history),
            trainer_s=summary["seconds"],
            model_mb=model.stat().st_size / 1e6,
        )
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,5,25", help="millions of ratings, comma-separated")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    rows = [one_scale(args.out, float(s), args.threads) for s in args.scales.split(",")]
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {platform.processor()}")
    print()
    print(
        "| ratings | people | movies | first load | cached load | epochs | s/epoch | "
        "whole training | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['ratings']:,} | {r['users']:,} | {r['movies']:,} | {r['load_first_s']:.1f} s | "
            f"{r['load_cached_s']:.1f} s | {r['epochs']} | {r['epoch_s']:.1f} | "
            f"{r['train_wall_s']:.0f} s | {r['peak_rss_gb']:.2f} GB |"
        )
    big = [r for r in rows if r["scale_m"] >= 25]
    if big:
        r = big[0]
        ok = r["train_wall_s"] <= 1200 and r["peak_rss_gb"] <= 4
        print(
            f"\n25M bar (whole training ≤ 1200 s, peak ≤ 4 GB): {r['train_wall_s']:.0f} s, "
            f"{r['peak_rss_gb']:.2f} GB: {'met' if ok else 'MISSED'}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
