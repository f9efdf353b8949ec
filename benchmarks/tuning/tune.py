"""Tune training settings on validation carves of the benchmarks' training files.

    python benchmarks/tuning/tune.py --seeds 0,1,2 --which topn,like,new --name defaults
    python benchmarks/tuning/tune.py --set item_item_weight=5 --name iiw5
    python benchmarks/tuning/tune.py --data ml100k,mls16 --which topn --seeds 0,1,2,3,4

For each seed, each carve (see :mod:`carves`) is cut from a benchmark's *own training file*
and a model is trained on the carve's training part (``TrainConfig(seed=seed,
device="cpu", threads=1, **--set values)``) and scored on its held-out part:

- ``topn``: ``ml100k-msr/train.csv`` (``--data mls16``: ``mls16-msr/train.csv``) with 25%
  of each movie's rows held out; nDCG@10, P@10, MAP and R@10 ranking by seen log-odds
  (``full``), by the hidden units alone (``hid``, the movie-to-movie part off) and by liked
  with liked rows relevant (``1b``);
- ``like``: ``ml-100k/u1.base`` with a random 20% of its rows held out; thumbs-only P(like)
  AUC, accuracy, per-user error and ECE;
- ``new``: ``ml100k-newusers/train.csv`` (``mls16-newusers`` with ``--data mls16``) with 150
  people held out, each known by 10 random thumbs; nDCG@10 ranking by liked, liked test rows
  relevant.

No test file (``test.csv``, ``u1.test``, ``thumbs.csv``) is read, so choosing settings here
does not fit them to the benchmarks' test rows. Prints the per-seed figures and mean (min-max)
over the seeds of each metric, and appends one line to ``benchmarks/out/tuning.log`` (not tracked).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import carves  # noqa: E402
import torch  # noqa: E402

from engine.settings import SETTINGS_BY_NAME  # noqa: E402

LOG = HERE.parent / "out" / "tuning.log"
CARVES = ("topn", "like", "new")


def parse_setting(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` of a training setting, the value parsed by the setting itself."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in SETTINGS_BY_NAME:
        raise SystemExit(f"--set {text!r}: expected NAME=VALUE with a training setting")
    if name in ("seed", "device", "threads"):
        raise SystemExit(f"--set {name}: fixed by the harness (use --seeds)")
    return name, SETTINGS_BY_NAME[name].parse(value)


def run_dataset(dataset: str, seeds, which, overrides: dict, name: str, log: Path) -> None:
    """Every seed's carves of ``dataset``; prints and logs the summary line."""
    print(f"{name} [{dataset}]: seeds {seeds}, carves {which}, settings {overrides or 'defaults'}",
          flush=True)  # fmt: skip
    rows = [
        carves.run_seed(s, overrides, which, lambda t: print(t, flush=True), dataset) for s in seeds
    ]
    line = carves.summarize(rows, f"{name} [{dataset}]")
    print(line, flush=True)
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    sets = " ".join(f"{k}={v}" for k, v in overrides.items()) or "-"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as f:
        f.write(
            f"{stamp} data={dataset} seeds={','.join(map(str, seeds))} which={','.join(which)} "
            f"set={sets} | {line}\n"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated carve/training seeds")
    ap.add_argument("--which", default=",".join(CARVES), help="carves: topn,like,new")
    ap.add_argument("--data", default="ml100k", help="datasets of the topn/new carves")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--name", default="", help="label of the run in the log")
    ap.add_argument("--log", type=Path, default=LOG)
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    which = tuple(w.strip() for w in args.which.split(",") if w.strip())
    bad = [w for w in which if w not in CARVES]
    if bad or not which or not seeds:
        raise SystemExit(f"--which: use some of {', '.join(CARVES)}; --seeds: at least one")
    overrides = dict(parse_setting(s) for s in args.set)
    name = args.name or (",".join(args.set) if args.set else "defaults")

    for dataset in [d.strip() for d in args.data.split(",") if d.strip()]:
        if dataset not in carves.TOPN_TRAIN:
            raise SystemExit(f"--data {dataset}: use some of {', '.join(carves.TOPN_TRAIN)}")
        run_dataset(dataset, seeds, which, overrides, name, args.log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
