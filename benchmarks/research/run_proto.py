"""Prototype variants on the research validation carves.

    python benchmarks/research/run_proto.py --seeds 0,1 --which topn,like,new --set n_hidden=200 ...
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
import proto  # noqa: E402
import torch  # noqa: E402


def parse(text):
    name, _, value = text.partition("=")
    types = {f.name: type(f.default) for f in dataclasses.fields(proto.Cfg)}
    kind = types[name]
    if kind is bool:
        return name, value.lower() in ("1", "true", "yes")
    return name, kind(value)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--which", default="topn,like,new")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--name", default="")
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sets = dict(parse(s) for s in a.set)
    infos = []

    def fn(r, seed):
        p = proto.train(r, proto.Cfg(**{**sets, "seed": seed}))
        infos.append(p.info)
        return p

    rows = []
    for s in map(int, a.seeds.split(",")):
        rows.append(harness.run_all(fn, s, a.which.split(",")))
    line = harness.summarize(rows, (a.name or "proto") + " " + " ".join(a.set))
    print(line)
    print("times", {k: round(sum(i["times"][k] for i in infos) / len(infos), 2) for k in infos[0]["times"]},
          "gain", [round(i["gain"], 2) for i in infos])
    if a.out:
        Path(a.out).write_text(json.dumps({"rows": rows, "infos": infos, "sets": a.set}, indent=1))
    with open(Path(__file__).resolve().parent / "results" / "log.txt", "a") as f:
        f.write(time.strftime("%H:%M ") + line + "\n")


if __name__ == "__main__":
    main()
