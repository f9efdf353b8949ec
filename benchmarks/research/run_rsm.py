"""The lean trainer (rsm.py) on the research validation carves.

    python benchmarks/research/run_rsm.py --seeds 0,1,2 --which topn,like,new --set FIELD=VALUE
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import rsm  # noqa: E402
import torch  # noqa: E402


def parse(text):
    name, _, value = text.partition("=")
    kind = {f.name: type(f.default) for f in dataclasses.fields(rsm.RCfg)}[name]
    return name, (value.lower() in ("1", "true", "yes") if kind is bool else kind(value))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--which", default="topn,like,new")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--name", default="rsm")
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sets = dict(parse(s) for s in a.set)
    infos = []

    def fn(r, seed):
        p = rsm.train(r, rsm.RCfg(**{**sets, "seed": seed}))
        infos.append(p.info)
        return p

    rows = [harness.run_all(fn, s, a.which.split(",")) for s in map(int, a.seeds.split(","))]
    line = harness.summarize(rows, a.name + " " + " ".join(a.set))
    print(line)
    print("times", {k: round(sum(i["times"].get(k, 0) for i in infos) / len(infos), 2)
                    for k in infos[0]["times"]})
    if a.out:
        Path(a.out).write_text(json.dumps({"rows": rows, "infos": infos, "sets": a.set}, indent=1))
    with open(Path(__file__).resolve().parent / "results" / "log.txt", "a") as f:
        f.write(time.strftime("%H:%M ") + line + "\n")


if __name__ == "__main__":
    main()
