"""The benchmarks of ``BENCHMARKS.md`` (sections 1, 1b, 1c and 2), default settings, seeds 0-4.

Every model is trained with the defaults of ``rbm-tui train`` (only the seed changes) through
the engine's API, the same code the command runs, and scored with the benchmark protocols:

Sections 1, 1b and 1c run on both datasets (``--data``): ML-100K (``ml100k-msr``,
``ml100k-newusers``) and MovieLens latest-small 2016 (``mls16-msr``, ``mls16-newusers``).

- 1: top-N on ``*-msr`` (train ``train.csv``, every ``test.csv`` row relevant), the whole
  model, its **hidden units alone** (the same model with the movie-to-movie part taken out,
  as ``--set item_item_weight=0`` ranks) and its **movie-to-movie part alone** (its term of
  the seen log-odds, the hidden units taken out);
- 1b: the same models ranking as the browser ranks (``--by liked``), relevant = test rows
  rated >= 3;
- 1c: ``*-newusers``: train on ``train.csv``, each held-out person known by the 10
  thumbs of ``thumbs.csv`` only, ranked by liked, relevant = their test rows rated >= 3;
- 2: like / dislike on ``ml-100k`` fold u1 (and, without ``--quick``, u2..u5): thumbs only
  (the browser's P(like)), stars, and the AUC of the RBM's own like log-odds as trained
  (what Platt scaling alone would give; the calibration's gain of the like units is part of
  the calibration, and its figure is printed beside).

Each figure is the mean over seeds 0-4 with the spread (min-max); the anchors of
``BENCHMARKS.md`` are printed next to them. Writes markdown to stdout (and ``--out FILE.md``).

Usage::

    python benchmarks/run_benchmarks.py                 # all sections, seeds 0-4, 5 folds
    python benchmarks/run_benchmarks.py --quick         # fold u1 only for section 2
    python benchmarks/run_benchmarks.py --seeds 0 --sections 1,2
    python benchmarks/run_benchmarks.py --data mls16 --sections 1,1c   # one dataset
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"

TOPN = ("map", "ndcg@10", "precision@10", "recall@10")
LIKE = ("auc", "accuracy", "per_user_error", "ece")
#: the benchmark folders of each dataset: (top-N split, new-people split)
DATASETS = {"ml100k": ("ml100k-msr", "ml100k-newusers"), "mls16": ("mls16-msr", "mls16-newusers")}
ANCHORS = {
    "ml100k/1": [("EASE λ=300", (0.150, 0.484, 0.422, 0.230)),
                 ("BiVAE", (0.146, 0.475, 0.412, 0.219))],
    "ml100k/1b": [("EASE λ=300, all interactions", (0.154, 0.451, 0.381, 0.245))],
    "ml100k/1c": [("EASE λ=300, fold-in of the likes", (0.103, 0.563, 0.531, 0.142)),
                  ("popularity", (0.054, 0.422, 0.389, 0.089))],
    "mls16/1": [("EASE λ=300", (None, 0.390, 0.338, None)),
                ("popularity", (None, 0.205, 0.180, None))],
    "mls16/1b": [("EASE λ=300, all interactions", (None, 0.374, None, None))],
    "mls16/1c": [("EASE λ=300, fold-in of the likes", (None, 0.507, None, None)),
                 ("popularity", (None, 0.375, None, None))],
    "2": [("user + item bias model", (0.800, 0.844, 0.147, None))],
}  # fmt: skip
BARS = {
    "ml100k/1": "nDCG@10 ≥ 0.493",
    "ml100k/1h": "nDCG@10 ≥ 0.470",
    "ml100k/1b": "nDCG@10 ≥ 0.462",
    "ml100k/1c": "nDCG@10 ≥ 0.60",
    "mls16/1": "nDCG@10 ≥ 0.410, P@10 ≥ 0.350",
    "mls16/1h": "nDCG@10 ≥ 0.375",
    "mls16/1b": "nDCG@10 ≥ 0.390",
    "mls16/1c": "nDCG@10 ≥ 0.53",
    "2": "thumbs only: AUC ≥ 0.828",
}


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


#: torch threads of every training (``--threads``): a fixed count, so that a seed's model is
#: the same from run to run (the automatic count follows the machine's load, and sums taken
#: over other thread counts differ in the last bits)
THREADS = 1


def train(path: Path, seed: int):
    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.loop import train as fit

    t0 = time.perf_counter()
    r = load_ratings(path)
    model = fit(r, TrainConfig(seed=seed, device="cpu", threads=THREADS)).model
    return r, model, time.perf_counter() - t0


def ranking(model, known, relevant_rows, *, by: str, thumbs_only: bool) -> dict:
    """Ranking metrics of ``model`` for the people of ``relevant_rows`` (a Ratings), known by
    ``known``."""
    from engine.metrics import ranking_metrics
    from engine.recommender import recommend_all

    users = relevant_rows.user_ids[relevant_rows.users]
    items = relevant_rows.item_ids[relevant_rows.items]
    relevant: dict = {}
    for u, i in zip(users.tolist(), items.tolist()):
        relevant.setdefault(u, set()).add(i)
    people = [u for u in relevant if u in known.user_index]
    recs = recommend_all(model, known, k=10, users=people, by=by, thumbs_only=thumbs_only)
    return ranking_metrics([recs[u] for u in people], [relevant[u] for u in people], 10)


def liked_rows(r):
    from engine.data.ratings import from_arrays

    keep = r.values >= 3
    return from_arrays(r.user_ids[r.users[keep]], r.item_ids[r.items[keep]], r.values[keep], None)


def item_item_alone(model, known, relevant_rows) -> dict:
    """Ranking metrics of the movie-to-movie term of the seen log-odds alone (the hidden
    units taken out; every test row relevant)."""
    import torch

    from engine.metrics import ranking_metrics
    from engine.model.inference import item_item_input
    from engine.recommender import _user_visible

    relevant: dict = {}
    for u, i in zip(relevant_rows.user_ids[relevant_rows.users].tolist(),
                    relevant_rows.item_ids[relevant_rows.items].tolist()):  # fmt: skip
        relevant.setdefault(known.user_index[u], set()).add(i)
    lm = _user_visible(model, known)
    people = np.array(sorted(relevant), np.int64)
    recs = []
    with torch.no_grad():
        for s in range(0, len(people), 256):
            us = people[s : s + 256]
            score = item_item_input(model.rbm, lm, us)
            row, col = lm.rows(us)
            score[torch.from_numpy(row), torch.from_numpy(col // 2)] = -float("inf")
            top = torch.topk(score, 10, dim=1).indices.cpu().numpy()
            recs += [model.item_ids[t].tolist() for t in top]
    return ranking_metrics(recs, [relevant[u] for u in people], 10)


def section_topn(seeds, name: str) -> dict:
    from engine.data.loaders import load_ratings

    msr = DATA / "benchmarks" / DATASETS[name][0]
    test = load_ratings(msr / "test.csv")
    test_liked = liked_rows(test)
    out: dict = {"1": [], "1h": [], "1i": [], "1b": [], "seconds": []}
    for s in seeds:
        known, model, sec = train(msr / "train.csv", s)
        out["seconds"].append(sec)
        out["1"].append(ranking(model, known, test, by="seen", thumbs_only=False))
        out["1b"].append(ranking(model, known, test_liked, by="liked", thumbs_only=False))
        out["1i"].append(item_item_alone(model, known, test))
        part, model.rbm.item_item = model.rbm.item_item, None
        out["1h"].append(ranking(model, known, test, by="seen", thumbs_only=False))
        model.rbm.item_item = part
        _log(
            f"{name} top-N seed {s}: nDCG {out['1'][-1]['ndcg@10']:.4f}, hidden alone "
            f"{out['1h'][-1]['ndcg@10']:.4f}, movie-to-movie alone "
            f"{out['1i'][-1]['ndcg@10']:.4f}, by liked {out['1b'][-1]['ndcg@10']:.4f} "
            f"({sec:.1f} s)"
        )
    return out


def section_new(seeds, name: str) -> dict:
    from engine.data.loaders import load_ratings

    d = DATA / "benchmarks" / DATASETS[name][1]
    thumbs = load_ratings(d / "thumbs.csv")
    test_liked = liked_rows(load_ratings(d / "test.csv"))
    out: dict = {"1c": []}
    for s in seeds:
        _, model, _ = train(d / "train.csv", s)
        out["1c"].append(ranking(model, thumbs, test_liked, by="liked", thumbs_only=True))
        _log(f"{name} new people seed {s}: nDCG {out['1c'][-1]['ndcg@10']:.4f}")
    return out


def section_like(seeds, folds) -> dict:
    import torch

    from engine.data.loaders import load_ratings
    from engine.metrics import auc, like_metrics
    from engine.model.inference import pair_logits
    from engine.recommender import _user_visible, predict_pairs

    out: dict = {f"u{k}": {"thumbs": [], "stars": [], "raw_auc": [], "gain_auc": []} for k in folds}
    for k in folds:
        test = load_ratings(DATA / "ml-100k" / f"u{k}.test")
        for s in seeds:
            known, model, _ = train(DATA / "ml-100k" / f"u{k}.base", s)
            users = test.user_ids[test.users]
            items = test.item_ids[test.items]
            labels = test.values >= 3
            for name, thumbs in (("thumbs", True), ("stars", False)):
                p, ok = predict_pairs(model, known, users, items, thumbs_only=thumbs)
                out[f"u{k}"][name].append(like_metrics(users[ok], labels[ok], p[ok]))
            lm = _user_visible(model, known, True)
            uidx = np.fromiter((known.user_index[u] for u in users.tolist()), np.int64)
            iidx = model.map_items(items)
            with torch.no_grad():  # the RBM as trained: no calibration, nor its like gain
                z, z_like = pair_logits(model.rbm, lm, uidx, iidx, "cpu", parts=True).T
            out[f"u{k}"]["raw_auc"].append(auc(labels, z))
            gain = model.rbm.like_gain - 1.0
            out[f"u{k}"]["gain_auc"].append(auc(labels, z + gain * z_like))
            _log(f"u{k} seed {s}: thumbs AUC {out[f'u{k}']['thumbs'][-1]['auc']:.4f}")
    return out


def _stat(values) -> str:
    v = np.asarray(values, np.float64)
    return f"{v.mean():.4f} ({v.min():.3f}-{v.max():.3f})" if len(v) > 1 else f"{v[0]:.4f}"


def _table(title, rows_by_name, metrics, anchors, bar) -> list[str]:
    head = "| | " + " | ".join(metrics) + " |"
    lines = [f"### {title}", "", head, "|" + "---|" * (len(metrics) + 1)]
    for name, rows in rows_by_name:
        lines.append(
            f"| {name} | " + " | ".join(_stat([r[m] for r in rows]) for m in metrics) + " |"
        )
    for name, vals in anchors:
        lines.append(
            f"| {name} | " + " | ".join("" if v is None else f"{v:.3f}" for v in vals) + " |"
        )
    lines += ["", f"Bar: {bar}.", ""]
    return lines


def _dataset_tables(name: str, seeds, sections, raw: dict) -> list[str]:
    """Sections 1 (with 1b, the hidden units alone, the movie-to-movie part alone) and 1c of
    dataset ``name``, as markdown; their figures go to ``raw[name]``."""
    lines: list[str] = []
    msr, newusers = DATASETS[name]
    if "1" in sections:
        r = raw[f"{name}/1"] = section_topn(seeds, name)
        rows = [("rbm-tui", r["1"]), ("hidden units alone (item_item_weight=0)", r["1h"]),
                ("movie-to-movie part alone", r["1i"])]  # fmt: skip
        bar = BARS[f"{name}/1"] + "; hidden units alone " + BARS[f"{name}/1h"]
        lines += _table(f"1. Top-N ({msr})", rows, TOPN, ANCHORS[f"{name}/1"], bar)
        lines += _table(f"1b. Ranked as the browser ranks ({msr}, relevant: rated ≥ 3)",
                        [("rbm-tui", r["1b"])], TOPN, ANCHORS[f"{name}/1b"],
                        BARS[f"{name}/1b"])  # fmt: skip
        lines += [f"Training time ({msr}, whole, 1 thread): {_stat(r['seconds'])} s.", ""]
    if "1c" in sections:
        r = raw[f"{name}/1c"] = section_new(seeds, name)
        lines += _table(f"1c. New people known by 10 thumbs ({newusers})", [("rbm-tui", r["1c"])],
                        TOPN, ANCHORS[f"{name}/1c"], BARS[f"{name}/1c"])  # fmt: skip
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--sections", default="1,1c,2", help="of 1 (with 1b), 1c, 2")
    ap.add_argument("--data", default="ml100k,mls16", help="datasets of sections 1 and 1c")
    ap.add_argument("--quick", action="store_true", help="section 2 on fold u1 only")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--out", metavar="FILE.md")
    ap.add_argument("--json", metavar="FILE.json", help="also every seed's figures, unrounded")
    a = ap.parse_args(argv)
    import torch

    global THREADS
    THREADS = a.threads
    torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(",")]
    sections = a.sections.split(",")
    t0 = time.perf_counter()
    lines = [
        "# rbm-tui benchmarks", "",
        f"{time.strftime('%Y-%m-%d %H:%M %z')}, `python benchmarks/run_benchmarks.py "
        + " ".join(argv if argv is not None else sys.argv[1:]) + "`: default settings, seeds "
        + ", ".join(map(str, seeds)) + f", {a.threads} thread(s); {platform.processor() or ''} "
        + f"{platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}.",
        "Figures: mean over the seeds (min-max).", "",
    ]  # fmt: skip
    raw: dict = {}
    for name in a.data.split(","):
        lines += _dataset_tables(name, seeds, sections, raw)
    if "2" in sections:
        folds = [1] if a.quick else [1, 2, 3, 4, 5]
        r = raw["2"] = section_like(seeds, folds)
        u1 = r["u1"]
        lines += _table("2. Like / dislike, ML-100K u1", [("thumbs only", u1["thumbs"]),
                        ("stars", u1["stars"])], LIKE, ANCHORS["2"], BARS["2"])  # fmt: skip
        lines += [
            f"The RBM's own like log-odds as trained (Platt scaling alone), AUC: "
            f"{_stat(u1['raw_auc'])}; with the like units' gain that the calibration fits "
            f"beside its other features: {_stat(u1['gain_auc'])}.",
            "",
        ]
        if len(folds) > 1:
            means = [np.mean([m["auc"] for m in r[f"u{k}"]["thumbs"]]) for k in folds]
            lines += [
                "5 folds, thumbs only, AUC (mean of the seeds): "
                + ", ".join(f"u{k} {m:.4f}" for k, m in zip(folds, means))
                + f"; mean {np.mean(means):.4f}.",
                "",
            ]
    lines.append(f"Wall time: {time.perf_counter() - t0:.0f} s.")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text, encoding="utf-8")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(raw, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
