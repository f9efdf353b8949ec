"""Step by step: how a training's mini-batch steps cost as an epoch goes, and whether the
negative phase picks as many movies as the people rated.

    python benchmarks/bench_steps.py RATINGS [--epochs 2] [--group 16]

Trains in this process (default settings, ``--epochs`` epochs, all on the training part) and
prints per epoch its seconds, the median step time of each group of ``--group`` steps, and
the negative phase's expected picks over the people's ratings (1.00 when every person's
activity offset is right; see ``engine.training.step.activity``), as the mean over the
epoch's steps and the worst step. On the 25M-shaped file of ``bench_scale.py``:
``python benchmarks/bench_steps.py benchmarks/out/synthetic-25M/ratings.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ratings", type=Path)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--group", type=int, default=16)
    args = ap.parse_args(argv)

    from rbm_tui.runtime import tune_process

    tune_process()  # as the rbm-tui entry point does, before torch loads
    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training import loop, step

    steps: list[float] = []
    picks: list[float] = []
    original_step, original_activity = step.SampledCD.step, step.activity

    def timed_step(self, *a, **k):
        t0 = time.perf_counter()
        out = original_step(self, *a, **k)
        steps.append(time.perf_counter() - t0)
        return out

    def counted_activity(ml, D, *a, **k):
        pi = original_activity(ml, D, *a, **k)
        picks.append(float(pi.sum() / D.sum()))
        return pi

    def report(epoch) -> None:
        ms = np.asarray(steps) * 1e3
        groups = [int(np.median(ms[i : i + args.group])) for i in range(0, len(ms), args.group)]
        print(
            f"epoch {epoch.epoch}: {epoch.seconds:.1f} s, {len(ms)} steps, median ms by "
            f"{args.group}: {groups}; picks / ratings {np.mean(picks):.2f} "
            f"(worst step {max(picks, key=lambda x: abs(x - 1)):.2f})",
            flush=True,
        )
        steps.clear()
        picks.clear()

    step.SampledCD.step, step.activity = timed_step, counted_activity
    try:
        r = load_ratings(args.ratings)
        loop.train(r, TrainConfig(epochs=args.epochs, refit_share=0.0), callback=report)
    finally:
        step.SampledCD.step, step.activity = original_step, original_activity
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
