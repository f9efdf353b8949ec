"""How honest the training ETA is: a real default training, its forecast checked against the
time the run really took.

    python benchmarks/bench_forecast.py [--data ../shared/data/ml-100k/u1.base] [--set F=V ...]

Trains once with the default settings (any DATA argument ``rbm-tui train`` takes: a catalogue
name, a folder or a ratings file), feeding every batch and epoch report to the same
:class:`engine.training.forecast.Forecast` the app and the CLI show. After the run, each
forecast (time elapsed + time left) is compared with the true end of training. Printed: the
epochs expected at the start and at the end, the epochs run, and the worst and median error of
the forecast end after the first tenth of the run (the bar: within 25 %).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "ml-100k" / "u1.base"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA), help="what rbm-tui train takes as DATA")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = ap.parse_args(argv)

    from engine.catalogue import resolve
    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.forecast import Forecast
    from engine.training.loop import train

    ratings = load_ratings(resolve(args.data))
    values = dict(item.split("=", 1) for item in args.set)
    config = TrainConfig.from_strings(values)
    forecast = Forecast(config)
    seen: list[tuple[float, float | None, int]] = []  # (elapsed, left, expected epochs)

    def note() -> None:
        elapsed = time.monotonic() - forecast.start
        seen.append((elapsed, forecast.seconds_left(), forecast.expected_epochs))

    def on_batch(p) -> None:
        forecast.on_batch(p)
        note()

    def on_epoch(r) -> None:
        forecast.on_epoch(r)
        note()

    result = train(ratings, config, callback=on_epoch, progress=on_batch)
    total = seen[-1][0]
    errors = [
        abs(elapsed + left - total) / total
        for elapsed, left, _ in seen
        if left is not None and elapsed >= 0.1 * total
    ]
    print(f"data: {args.data} ({ratings.n_ratings:,} ratings); settings: defaults {args.set}")
    print(
        f"training: {total:.1f} s, {len(result.history)} epochs run "
        f"(configured {config.epochs}; expected {seen[0][2]} at the start)"
    )
    print(
        f"forecast end after the first tenth of the run: worst error {max(errors):.1%}, "
        f"median {statistics.median(errors):.1%} over {len(errors)} reports (bar: 25%)"
    )
    return 0 if max(errors) <= 0.25 else 1


if __name__ == "__main__":
    raise SystemExit(main())
