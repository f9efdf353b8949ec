"""Today's model (engine.trainer defaults) on the research validation carves.

    python benchmarks/research/run_baseline.py --seeds 0,1,2,3,4 [--set FIELD=VALUE ...]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import torch  # noqa: E402

from engine.trainer import TrainConfig, train  # noqa: E402
from benchmarks.tune_like import parse_setting  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--which", default="topn,like,new")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sets = dict(parse_setting(s) for s in a.set)

    def fn(r, seed):
        cfg = TrainConfig(device="cpu", **{**sets, "seed": seed})
        return harness.EnginePredictor(train(r, cfg).model)

    rows = []
    for s in map(int, a.seeds.split(",")):
        rows.append(harness.run_all(fn, s, a.which.split(",")))
    print(harness.summarize(rows, "baseline " + " ".join(a.set)))
    if a.out:
        Path(a.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
