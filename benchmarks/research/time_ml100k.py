"""ML-100K u1.base training as whole processes, alternating: the original script (re-created,
original_rbm.py), today's default (`python -m rbm_tui train`), the lean trainer's default.

    python benchmarks/research/time_ml100k.py [--rounds 2] [--threads 1,2]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
U1 = "/work/shared/data/ml-100k/u1.base"


def run(cmd, threads, home):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "RBM_TUI_HOME": home,
           "PYTHONPATH": str(REPO)}
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(p.stderr)
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--skip-today", action="store_true")
    a = ap.parse_args()
    home = tempfile.mkdtemp()
    cmds = {
        "original (re-created)": [PY, "benchmarks/research/original_rbm.py", U1],
        "lean trainer default": [PY, "-W", "ignore", "benchmarks/research/train_rsm_process.py", U1],
    }
    if not a.skip_today:
        cmds["today's default"] = [PY, "-m", "rbm_tui", "train", U1, "--model-out",
                                   f"{home}/m.pt", "--json"]
    run(cmds["lean trainer default"], 1, home)  # warms the ratings cache
    print(f"load average at start: {os.getloadavg()}")
    for th in map(int, a.threads.split(",")):
        res = {k: [] for k in cmds}
        for _ in range(a.rounds):
            for k, c in cmds.items():
                extra = ["--threads", str(th)] if k == "today's default" else []
                res[k].append(run(c + extra, th, home))
        for k, v in res.items():
            print(f"{th} thread(s): {k:24s} whole process median {statistics.median(v):.1f} s  runs {[round(x, 1) for x in v]}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
