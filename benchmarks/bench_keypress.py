"""Browse screen: time of one thumb key press, from the key to the redrawn screen.

    python benchmarks/bench_keypress.py [DATA] [--presses 60]

Runs the app headless at 80x24 (``App.run_test``) on DATA (default: ML-100K's ``u.data`` from
``../shared/data`` when present, else the bundled demo), trains a default model in the app,
opens Browse and presses like / dislike on successive movies. Each press runs from the key
to the end of the refresh it causes (``pilot.press`` then ``pilot.pause``): the SQLite
transaction, the fold-in, the P(like) cells, the recommendations with their "because" lines
and the rendering, all on the app's one event loop. Its work is measured as the process's
CPU time over the press (target: within 50 ms); the wall time is printed too, but
``pilot.pause`` ends only after a 20 ms window without work (``textual._wait``), so it
overstates the latency by 20-60 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


async def run(data: str, presses: int) -> np.ndarray:
    from rbm_tui.app import RbmTuiApp
    from rbm_tui.screens.browse import BrowseScreen
    from rbm_tui.screens.train import TrainScreen

    app = RbmTuiApp(dataset=data, warmup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 120
        while app.ratings is None and time.monotonic() < deadline:
            await pilot.pause(0.1)
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        await pilot.press("ctrl+s")
        deadline = time.monotonic() + 300
        run = app.training_run
        if run is None:
            raise SystemExit("the Train screen did not start a training")
        while not (run.ended and app.model is not None) and time.monotonic() < deadline:
            await pilot.pause(0.2)
        if app.model is None:
            raise SystemExit("no model after the training")
        await pilot.press("3")
        await pilot.pause(0.5)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.query_one("#movies").focus()
        await pilot.pause()
        walls, cpus = [], []
        for n in range(presses):
            t0, c0 = time.perf_counter(), time.process_time()
            await pilot.press("minus" if n % 3 == 2 else "plus")  # like, like, dislike, ...
            await pilot.pause()
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        return np.asarray(walls), np.asarray(cpus)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = REPO.parent / "shared" / "data" / "ml-100k"
    ap.add_argument("data", nargs="?", default=str(default) if default.is_dir() else "demo")
    ap.add_argument("--presses", type=int, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["RBM_TUI_HOME"] = home
        walls, cpus = asyncio.run(run(args.data, args.presses))
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"data: {args.data}; {len(cpus)} presses")
    print()
    print("| measure | median | p95 | target |")
    print("|---|---|---|---|")
    print(
        f"| work of a press (the process's CPU time, key to redrawn screen) | "
        f"{np.median(cpus):.1f} ms | {np.percentile(cpus, 95):.1f} ms | ≤ 50 ms |"
    )
    print(
        f"| wall time of press + pause (the pilot waits for 20 ms without work) | "
        f"{np.median(walls):.1f} ms | {np.percentile(walls, 95):.1f} ms | |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
