"""Like/dislike on validation splits carved from ML-100K training files (never a test file).

For each fold k, ``uk.base`` is split at random, 80/20 over its ratings (as ``uk.test`` is cut
from the whole set); the model trains on the 80% and P(like) is scored on the 20%. This is
how the P(like) features and their settings were chosen (see the README's model section).

    python benchmarks/tune_like.py                           # defaults, folds 1-5
    python benchmarks/tune_like.py --set neighbours=0        # a variant
    python benchmarks/tune_like.py --folds 1,2 --set neighbours_shrink=50 --set seed=1

Prints AUC, accuracy, per-user error and ECE per fold and their means.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.data.splits import official_fold  # noqa: E402
from engine.evaluation import evaluate  # noqa: E402
from engine.settings import SETTINGS_BY_NAME, TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ml-100k"


def parse_setting(text: str) -> tuple[str, object]:
    """``name=value`` of a setting (:mod:`engine.settings`), the value parsed by it."""
    name, _, value = text.partition("=")
    if name not in SETTINGS_BY_NAME or not value:
        raise SystemExit(f"--set {text!r}: expected NAME=VALUE with a training setting")
    return name, SETTINGS_BY_NAME[name].parse(value)


def carve(base, fraction: float = 0.2, seed: int = 7):
    """``(train, validation)``: a random ``fraction`` of ``base``'s ratings held out."""
    held = np.random.default_rng(seed).random(base.n_ratings) < fraction
    return base.subset(~held), base.subset(held)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", default="1,2,3,4,5")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = ap.parse_args(argv)
    config = TrainConfig(**dict(parse_setting(s) for s in args.set))
    keys = ("auc", "accuracy", "per_user_error", "ece")
    rows = []
    for fold in (int(f) for f in args.folds.split(",")):
        base, _ = official_fold(args.data, fold)
        tr, va = carve(base)
        t0 = time.perf_counter()
        model = train(tr, config).model
        m = evaluate(model, tr, va)
        rows.append([m[k] for k in keys])
        figures = "  ".join(f"{k} {m[k]:.5f}" for k in keys)
        print(f"u{fold}: {figures}  ({time.perf_counter() - t0:.1f} s)", flush=True)
    mean = np.mean(rows, axis=0)
    print("mean: " + "  ".join(f"{k} {v:.5f}" for k, v in zip(keys, mean)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
