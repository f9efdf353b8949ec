"""TEST figures of the lean trainer's defaults (run once, at the end; nothing is chosen here).

Sections 1/1b (ml100k-msr train -> test), 1c (ml100k-newusers train, thumbs -> test), 2 (u1..u5
base -> test, thumbs-only P(like) and the RBM's own log-odds AUC). Seeds 0-4 for sections 1,
1b, 1c and u1; seed 0 for u2..u5 (5-fold mean).

    python benchmarks/research/test_final.py [--seeds 0,1,2,3,4] [--out results/test_final.json]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import rsm  # noqa: E402
import torch  # noqa: E402

from engine.ratings import from_arrays  # noqa: E402

D = harness.DATA


def load_parts(paths, sep=",", header="infer"):
    frames = []
    for k, p in enumerate(paths):
        if header is None:
            df = pd.read_csv(p, sep=sep, header=None, names=["user", "item", "rating", "ts"])
        else:
            df = pd.read_csv(p, sep=sep)
            df.columns = ["user", "item", "rating", "ts"]
        df["part"] = k
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    r = from_arrays(df.user.to_numpy(), df.item.to_numpy(), df.rating.to_numpy(), df.ts.to_numpy())
    return [r.subset(df.part.to_numpy() == k) for k in range(len(paths))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "test_final.json"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in a.seeds.split(",")]
    out = {"sections_1": [], "section_1c": [], "u1": [], "folds": {}}
    tr, te = load_parts([D / "benchmarks/ml100k-msr/train.csv", D / "benchmarks/ml100k-msr/test.csv"])
    for s in seeds:
        t0 = time.perf_counter()
        p = rsm.train(tr, rsm.RCfg(seed=s))
        secs = time.perf_counter() - t0
        m = {"train_s": secs}
        m.update({f"full_{k}": v for k, v in harness.topn_eval(p, tr, te).items()})
        m.update({f"hid_{k}": v for k, v in harness.topn_eval(p, tr, te, hidden_only=True).items()})
        m.update({f"1b_{k}": v for k, v in harness.topn_eval(p, tr, te, by="liked", liked_only=True).items()})
        out["sections_1"].append(m)
        print(f"seed {s} sect 1: nDCG {m['full_ndcg@10']:.4f} P {m['full_precision@10']:.4f} MAP "
              f"{m['full_map']:.4f} R {m['full_recall@10']:.4f} | hidden nDCG {m['hid_ndcg@10']:.4f} "
              f"P {m['hid_precision@10']:.4f} | 1b nDCG {m['1b_ndcg@10']:.4f} ({secs:.1f} s)", flush=True)
    tr, th, te = load_parts([D / "benchmarks/ml100k-newusers/train.csv",
                             D / "benchmarks/ml100k-newusers/thumbs.csv",
                             D / "benchmarks/ml100k-newusers/test.csv"])
    for s in seeds:
        p = rsm.train(tr, rsm.RCfg(seed=s))
        m = harness.new_eval(p, tr, th, te)
        out["section_1c"].append(m)
        print(f"seed {s} sect 1c: nDCG {m['ndcg@10']:.4f} P {m['precision@10']:.4f} MAP {m['map']:.4f}", flush=True)
    for fold in range(1, 6):
        base, test = load_parts([D / f"ml-100k/u{fold}.base", D / f"ml-100k/u{fold}.test"],
                                sep="\t", header=None)
        for s in (seeds if fold == 1 else seeds[:1]):
            t0 = time.perf_counter()
            p = rsm.train(base, rsm.RCfg(seed=s))
            m = harness.like_eval(p, base, test)
            m["train_s"] = time.perf_counter() - t0
            (out["u1"] if fold == 1 else out["folds"].setdefault(fold, [])).append(m)
            if fold == 1 and s == seeds[0]:
                out["folds"][1] = [m]
            print(f"u{fold} seed {s}: AUC {m['auc']:.4f} acc {m['accuracy']:.4f} pue "
                  f"{m['per_user_error']:.4f} ECE {m['ece']:.4f} raw AUC {m['raw_auc']:.4f}", flush=True)
    Path(a.out).write_text(json.dumps(out, indent=1, default=float))

    def ms(rows, k):
        v = np.array([r[k] for r in rows])
        return f"{v.mean():.4f} ± {v.std():.4f}"

    S = out["sections_1"]
    print("TEST sect 1 full: nDCG", ms(S, "full_ndcg@10"), "P", ms(S, "full_precision@10"), "MAP",
          ms(S, "full_map"), "R", ms(S, "full_recall@10"))
    print("TEST sect 1 hidden: nDCG", ms(S, "hid_ndcg@10"), "P", ms(S, "hid_precision@10"))
    print("TEST sect 1b: nDCG", ms(S, "1b_ndcg@10"))
    print("TEST sect 1c: nDCG", ms(out["section_1c"], "ndcg@10"))
    U = out["u1"]
    print("TEST u1 thumbs: AUC", ms(U, "auc"), "acc", ms(U, "accuracy"), "pue", ms(U, "per_user_error"),
          "ECE", ms(U, "ece"), "raw AUC", ms(U, "raw_auc"))
    print("TEST 5-fold mean AUC (seed 0):", np.mean([out["folds"][k][0]["auc"] for k in range(1, 6)]))


if __name__ == "__main__":
    main()
