"""How fast does ``rbm-tui`` show its first screen?

Starts the app in a fresh process, headless, through a small harness (:data:`CODE`): a
subclass of the app that exits on Textual's ``Ready`` event (the first screen mounted and
painted) and prints the seconds since ``T0``, the ``time.time()`` taken here just before the
process is spawned, so the figure includes the interpreter start and every import. Two cases:

- ``first run``: an empty home, the Datasets screen comes first;
- ``returning``: the demo remembered, the Browse screen comes first (the dataset and model
  then load in the background).

Usage::

    python benchmarks/bench_startup.py [--runs 7] [--limit 1.5] [--json out.json]

Exits with status 1 when a median exceeds ``--limit`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CODE = """
import sys, time
T0 = float(sys.argv[1])
from pathlib import Path
from rbm_tui import app as app_module
from rbm_tui.app import RbmTuiApp

class FirstScreen(RbmTuiApp):
    CSS_PATH = str(Path(app_module.__file__).with_name(RbmTuiApp.CSS_PATH))

    def on_ready(self) -> None:
        self.exit(time.time() - T0)

app = FirstScreen(warmup=False)
print(f"first screen after {app.run(headless=True):.3f} s")
"""


def one_run(home: Path) -> float:
    env = {
        **os.environ,
        "RBM_TUI_HOME": str(home),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.run(
        [sys.executable, "-c", CODE, repr(time.time())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the app failed:\n{proc.stdout}\n{proc.stderr}")
    for line in proc.stdout.splitlines():
        if line.startswith("first screen after"):
            return float(line.split()[3])
    raise SystemExit(f"no timing in the output:\n{proc.stdout}\n{proc.stderr}")


def prepare_returning(home: Path) -> None:
    cfg = home / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "settings.json").write_text(json.dumps({"dataset": "demo"}), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--limit", type=float, default=1.5, help="seconds allowed (median)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)

    results = {}
    with tempfile.TemporaryDirectory(prefix="rbm-bench-") as tmp:
        for case in ("first run", "returning"):
            times = []
            for i in range(args.runs + 1):
                home = Path(tmp) / f"{case.replace(' ', '-')}-{i}"
                home.mkdir()
                if case == "returning":
                    prepare_returning(home)
                t = one_run(home)
                if i > 0:  # the first run warms the OS file cache and .pyc files
                    times.append(t)
            results[case] = {
                "runs": len(times),
                "min_s": min(times),
                "median_s": statistics.median(times),
                "max_s": max(times),
            }
    print(f"first screen of rbm-tui (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    for case, r in results.items():
        print(
            f"  {case:<10} median {r['median_s']:.3f} s   min {r['min_s']:.3f} s   "
            f"max {r['max_s']:.3f} s   ({r['runs']} runs)"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    worst = max(r["median_s"] for r in results.values())
    if worst > args.limit:
        print(f"SLOW: {worst:.3f} s > {args.limit} s")
        return 1
    print(f"ok: <= {args.limit} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
