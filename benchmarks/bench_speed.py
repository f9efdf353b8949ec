"""Training speed on ML-100K u1.base, side by side with the original project, and on a busy
machine.

    python benchmarks/bench_speed.py [--rounds 5] [--data ../shared/data/ml-100k] [--busy]

Each round runs, one after the other, three whole processes on the same data: the original
project's script (``original_train_rbm.py``: 10 epochs of CD-10, 100 hidden units, dense
input), ``rbm-tui train u1.base`` with the default settings, and ``rbm-tui train u1.base`` with
the original's settings (``--hidden 100 --batch-size 100 --epochs 10 --cd-k 10``). Rounds
alternate so that a neighbour's load hits all three alike; the figures are the medians of the
per-round times and of the per-round ratios (BENCHMARKS.md section 3: default ≤ 1.0×, the
original's settings ≤ 0.4× the original's whole process).

With ``--busy``, each round also runs the default training while one busy-looping process
keeps a core busy; the ratio busy / quiet must stay ≤ 1.5.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "ml-100k"
ORIGINAL_SETTINGS = ["--hidden", "100", "--batch-size", "100", "--epochs", "10", "--cd-k", "10"]


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--busy", action="store_true", help="also train beside a busy loop")
    args = ap.parse_args(argv)
    base = args.data / "u1.base"
    if not base.exists():
        raise SystemExit(f"{base}: not found (see ../shared/BENCHMARKS.md)")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "RBM_TUI_HOME": home, "PYTHONPATH": str(REPO)}
        rbm = [sys.executable, "-m", "rbm_tui", "train", str(base), "--json"]
        runs = {
            "original train_rbm.py": [
                sys.executable, str(REPO / "benchmarks" / "original_train_rbm.py"), str(args.data)
            ],
            "rbm-tui, default settings": [*rbm, "--model-out", f"{home}/d.pt"],
            "rbm-tui, the original's settings": [
                *rbm, *ORIGINAL_SETTINGS, "--model-out", f"{home}/o.pt"
            ],
        }  # fmt: skip
        timed(runs["rbm-tui, default settings"], env)  # warms the ratings cache and .pyc files
        times: dict[str, list[float]] = {k: [] for k in runs}
        busy: list[float] = []
        for i in range(args.rounds):
            for name, cmd in runs.items():
                times[name].append(timed(cmd, env))
            if args.busy:
                loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                try:
                    time.sleep(1.0)
                    busy.append(timed(runs["rbm-tui, default settings"], env))
                finally:
                    loop.kill()
                    loop.wait()
            print(
                f"round {i + 1}: "
                + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
                + (f", default beside a busy loop {busy[-1]:.2f} s" if busy else ""),
                flush=True,
            )
    orig = times["original train_rbm.py"]
    print(f"\nmachine: {platform.platform()}, {os.cpu_count()} CPUs; {args.rounds} rounds")
    print("\n| process | median wall | median ratio to the original | bar |")
    print("|---|---|---|---|")
    bars = {"rbm-tui, default settings": 1.0, "rbm-tui, the original's settings": 0.4}
    for name, t in times.items():
        ratio = statistics.median(a / b for a, b in zip(t, orig))
        bar = f"≤ {bars[name]}×" if name in bars else ""
        print(f"| {name} | {statistics.median(t):.2f} s | {ratio:.3f}× | {bar} |")
    if busy:
        quiet = times["rbm-tui, default settings"]
        ratio = statistics.median(b / q for b, q in zip(busy, quiet))
        print(
            f"| rbm-tui default beside a busy loop | {statistics.median(busy):.2f} s | "
            f"{ratio:.3f}× its quiet time | ≤ 1.5× |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
