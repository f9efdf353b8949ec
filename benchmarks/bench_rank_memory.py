"""Peak memory of scoring every person of a training file at once, as ``rbm-tui evaluate``
and the benchmarks do.

    python benchmarks/bench_rank_memory.py ../shared/data/benchmarks/mls16-msr/train.csv \
        --test ../shared/data/benchmarks/mls16-msr/test.csv

Trains a model on the file with the defaults (seed 0, one thread) and saves it; then a fresh
child process loads it, ranks every person by seen and by liked (``recommend_all``) and, with
``--test``, evaluates it (:func:`engine.evaluation.evaluate`: P(like) of every test pair and
the top-N lists), and prints its peak resident memory above its level after loading.
``--softplus`` makes the exact conditionals take the path of people whose hidden input is
large (heavy raters), ``softplus(x + W)`` rather than ``log1p(e^x · e^W)``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _memory import maxrss, rss_now  # noqa: E402


def _child(ratings_path: Path, model_path: Path, test: Path | None, softplus: bool) -> None:
    import torch

    from engine.data.loaders import load_ratings
    from engine.evaluation import evaluate
    from engine.model import rbm
    from engine.model.storage import load_model
    from engine.recommender import recommend_all

    torch.set_num_threads(1)
    if softplus:
        rbm.EXP_LIMIT = float("-inf")
    ratings = load_ratings(ratings_path, cache=False)
    model = load_model(model_path, device="cpu")
    base = rss_now()
    for by in ("seen", "liked"):
        t0 = time.perf_counter()
        recommend_all(model, ratings, 10, by=by)
        print(f"  by {by}: {time.perf_counter() - t0:.1f} s", flush=True)
    if test is not None:
        t0 = time.perf_counter()
        evaluate(model, ratings, load_ratings(test, cache=False))
        print(f"  evaluate: {time.perf_counter() - t0:.1f} s", flush=True)
    peak = maxrss()
    print(f"peak above the loaded model: {(peak - base) / 2**30:.2f} GiB "
          f"({ratings.n_users:,} people, {model.n_items:,} movies)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ratings", type=Path)
    ap.add_argument("--test", type=Path)
    ap.add_argument("--softplus", action="store_true")
    ap.add_argument("--model", type=Path, help="score this model file instead of training one")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _child(a.ratings, a.child, a.test, a.softplus)
        return 0
    extra = ([f"--test={a.test}"] if a.test else []) + (["--softplus"] if a.softplus else [])
    if a.model:
        cmd = [sys.executable, __file__, str(a.ratings), "--child", str(a.model), *extra]
        return subprocess.run(cmd, check=False).returncode
    import torch

    from engine.data.loaders import load_ratings
    from engine.model.storage import save_model
    from engine.settings import TrainConfig
    from engine.training.loop import train

    torch.set_num_threads(1)
    ratings = load_ratings(a.ratings, cache=False)
    model = train(ratings, TrainConfig(seed=0, device="cpu", threads=1)).model
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.rbm"
        save_model(model, path)
        cmd = [sys.executable, __file__, str(a.ratings), "--child", str(path), *extra]
        return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
