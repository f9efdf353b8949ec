"""Markdown table of the result files (results/*.json): mean ± sd over seeds."""
import json
import sys
from pathlib import Path

import numpy as np

R = Path(__file__).parent / "results"
COLS = [("full_ndcg@10", "full nDCG"), ("full_precision@10", "full P@10"), ("full_map", "MAP"),
        ("full_recall@10", "R@10"), ("hid_ndcg@10", "hidden nDCG"), ("hid_precision@10", "hidden P@10"),
        ("1b_ndcg@10", "1b nDCG"), ("new_ndcg@10", "1c nDCG"), ("like_auc", "AUC"),
        ("like_accuracy", "acc"), ("like_per_user_error", "per-user err"), ("like_ece", "ECE"),
        ("like_raw_auc", "raw AUC"), ("topn_s", "train s (top-N carve)")]


def main(names):
    print("| variant | " + " | ".join(c[1] for c in COLS) + " |")
    print("|---" * (len(COLS) + 1) + "|")
    for name in names:
        f = R / f"{name}.json"
        if not f.exists():
            continue
        d = json.loads(f.read_text())
        rows = d["rows"] if isinstance(d, dict) else d
        cells = []
        for k, _ in COLS:
            v = [r[k] for r in rows if k in r]
            cells.append(f"{np.mean(v):.4f}±{np.std(v):.4f}" if v else "")
        print(f"| {name} ({len(rows)} seeds) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or [p.stem for p in sorted(R.glob("*.json"))])
