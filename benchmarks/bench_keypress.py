"""Browse screen: time of one thumb key press, from the key to the redrawn screen.

    python benchmarks/bench_keypress.py [DATA] [--presses 60]

Runs the app headless at 80x24 (``App.run_test``) on DATA (default: ML-100K's ``u.data`` from
``../shared/data`` when present, else the bundled demo), trains a default model in the app,
opens Browse and presses like / dislike on successive movies. Each press is timed from the
key to the end of the refresh it causes (``pilot.press`` then ``pilot.pause``): the SQLite
transaction, the fold-in, the P(like) cells, the recommendations with their "because" lines
and the rendering. Target: within 50 ms.
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
        while (screen.training or app.model is None) and time.monotonic() < deadline:
            await pilot.pause(0.2)
        await pilot.press("3")
        await pilot.pause(0.5)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.query_one("#movies").focus()
        await pilot.pause()
        times = []
        for n in range(presses):
            t0 = time.perf_counter()
            await pilot.press("minus" if n % 3 == 2 else "plus")  # like, like, dislike, ...
            await pilot.pause()
            times.append((time.perf_counter() - t0) * 1000)
        return np.asarray(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = REPO.parent / "shared" / "data" / "ml-100k"
    ap.add_argument("data", nargs="?", default=str(default) if default.is_dir() else "demo")
    ap.add_argument("--presses", type=int, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["RBM_TUI_HOME"] = home
        ms = asyncio.run(run(args.data, args.presses))
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"data: {args.data}; {len(ms)} presses")
    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| key to redrawn screen, median | {np.median(ms):.1f} ms | |")
    print(f"| key to redrawn screen, p95 | {np.percentile(ms, 95):.1f} ms | ≤ 50 ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
