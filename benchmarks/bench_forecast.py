"""How honest the training's time left is: real default trainings, the forecast after each
epoch against the time really left (the epochs, the calibration and the save).

    python benchmarks/bench_forecast.py [--data DATA ...] [--set F=V ...] [--json]

Default DATA: ML-100K and ml-latest-small (2016), from ``../shared/data``. Each run trains
with the default settings (``--set`` changes some), feeding every batch and epoch report to
the same :class:`engine.training.forecast.Forecast` the app and the CLI show, then saves the
model (to a temporary folder). After each epoch the forecast of the time left is compared
with the time the run really took from there to the saved file. Printed per run: one line
per epoch (elapsed, forecast, real, the error of the time left and of the end of the run,
elapsed + forecast against the run's real length), then the worst of each; ``--json``: one
JSON line per run. The bar (issue 38): within 30 % from the first epoch on. Exit status 1
when a run misses it (on the time left).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
DATA = [SHARED / "ml-100k", SHARED / "ml-latest-small-2016"]
BAR = 0.30


def run(data: str, values: dict[str, str]) -> dict:
    """One training of ``data``: the forecast after each epoch and the real time left."""
    from engine.catalogue import resolve
    from engine.data.loaders import load_ratings
    from engine.model.storage import save_model
    from engine.settings import TrainConfig
    from engine.training.forecast import Forecast
    from engine.training.loop import train

    ratings = load_ratings(resolve(data))
    config = TrainConfig.from_strings(values)
    forecast = Forecast(config, n_items=ratings.n_items)
    seen: list[tuple[int, float, float | None]] = []  # (epoch, elapsed, forecast left)

    def on_epoch(r) -> None:
        forecast.on_epoch(r)
        seen.append((r.epoch, time.monotonic() - forecast.start, forecast.seconds_left()))

    result = train(ratings, config, callback=on_epoch, progress=forecast.on_batch)
    with tempfile.TemporaryDirectory() as tmp:
        save_model(result.model, Path(tmp) / "m.pt")
    total = time.monotonic() - forecast.start
    rows = []
    for epoch, elapsed, left in seen:
        real = total - elapsed
        error = abs((left or 0.0) - real) / real if real > 0 else 0.0
        end_error = abs(elapsed + (left or 0.0) - total) / total
        rows.append({"epoch": epoch, "elapsed": elapsed, "forecast": left, "real": real,
                     "error": error, "end_error": end_error})  # fmt: skip
    return {
        "data": Path(data).name,
        "ratings": ratings.n_ratings,
        "epochs": len(result.history),
        "seconds": total,
        "finishing": total - seen[-1][1],
        "finishing_passes": (total - seen[-1][1]) / (forecast.pass_seconds() or 1.0),
        "forecast_passes": forecast.finish_passes,
        "worst_error": max(r["error"] for r in rows),
        "worst_end_error": max(r["end_error"] for r in rows),
        "per_epoch": rows,
    }


def report(res: dict) -> None:
    print(
        f"{res['data']} ({res['ratings']:,} ratings): {res['seconds']:.1f} s, "
        f"{res['epochs']} epochs, {res['finishing']:.1f} s after the last one "
        f"({res['finishing_passes']:.1f} passes; forecast {res['forecast_passes']:.1f})"
    )
    print("  epoch  elapsed  forecast left  real left  error  end error")
    for r in res["per_epoch"]:
        fc = "?" if r["forecast"] is None else f"{r['forecast']:.1f}"
        print(
            f"  {r['epoch']:>5}  {r['elapsed']:>7.1f}  {fc:>13}  {r['real']:>9.1f}  "
            f"{r['error']:>5.0%}  {r['end_error']:>9.0%}"
        )
    print(
        f"  worst error from the first epoch on: time left {res['worst_error']:.0%}, "
        f"end of the run {res['worst_end_error']:.0%} (bar: {BAR:.0%})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="append", help="what rbm-tui train takes as DATA")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--json", action="store_true", help="one JSON line per run")
    args = ap.parse_args(argv)
    values = dict(item.split("=", 1) for item in args.set)
    ok = True
    for data in args.data or [str(d) for d in DATA]:
        res = run(data, values)
        ok = ok and res["worst_error"] <= BAR
        if args.json:
            print(json.dumps(res), flush=True)
        else:
            report(res)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
