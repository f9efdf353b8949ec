"""Scale benchmark: a MovieLens-25M-shaped file loads, trains one epoch and writes a model.

    python benchmarks/bench_scale.py [FOLDER] [--epochs 1] [--threads N]

Generates the synthetic set into FOLDER (default ``benchmarks/out/``) with
``make_synthetic.py`` if it is missing, then runs ``rbm-tui train FOLDER/ratings.csv --epochs 1``
(default settings otherwise) in a fresh process with an empty ``RBM_TUI_HOME``, and reports the
load time, the epoch time, the whole run and the peak RSS of that process, against the bars of
BENCHMARKS.md (epoch ≤ 10 minutes, peak memory ≤ 4 GB on the CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default=str(REPO / "benchmarks" / "out"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    folder = Path(args.folder)
    ratings = folder / "ratings.csv"
    if not ratings.is_file():
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "make_synthetic.py"), "--out", str(folder)],
            check=True,
        )
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, RBM_TUI_HOME=home, PYTHONPATH=str(REPO))
        model = Path(home) / "scale.pt"
        cmd = [sys.executable, "-m", "rbm_tui", "train", str(ratings), "--epochs", str(args.epochs)]
        cmd += ["--model-out", str(model), "--json"]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        if proc.returncode != 0:
            print(proc.stderr[-4000:], file=sys.stderr)
            return proc.returncode
        out = json.loads(proc.stdout)
        sys.path.insert(0, str(REPO))
        from engine.model.storage import read_header

        header = read_header(model)
        history = header["meta"]["history"]
        size = model.stat().st_size
    epoch_s = [h["seconds"] for h in history]
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"data: {ratings} ({header['meta']['dataset']['n_users']} users, "
        f"{header['n_items']} movies, {header['meta']['dataset']['n_ratings']} ratings)"
    )
    print()
    print("| measure | value | bar |")
    print("|---|---|---|")
    print(f"| whole run (load, train, validate, calibrate, save) | {wall:.0f} s | |")
    for i, s in enumerate(epoch_s, 1):
        print(f"| epoch {i} | {s:.0f} s | ≤ 600 s |")
    print(f"| training reported by the CLI | {out.get('seconds', float('nan')):.0f} s | |")
    print(f"| peak RSS | {peak / 1e9:.2f} GB | ≤ 4 GB |")
    print(f"| model file | {size / 1e6:.0f} MB | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
