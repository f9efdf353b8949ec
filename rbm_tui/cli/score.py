"""Commands that use a trained model: ``recommend``, ``predict`` and ``evaluate``."""

from __future__ import annotations

import argparse
import csv

from rbm_tui.cli.common import (
    DATA_HELP,
    EXIT_OK,
    MODEL_HELP,
    add_device,
    add_json,
    check_fits,
    check_output,
    fmt_num,
    info,
    load_data,
    load_model,
    lookup_user,
    output,
    positive_int,
    print_json,
    subcommand,
    table,
    warn,
)
from rbm_tui.cli.ranked import print_top, titles, write_recommendations
from rbm_tui.cli.ranked import recommend_columns as recommend_columns
from rbm_tui.cli.together import EPILOG as EPILOG_PROFILES
from rbm_tui.cli.together import add_profile

#: What each column of ``recommend``'s output is (its help shows them).
RECOMMEND_COLUMNS = (
    ("user, item", "the original user and movie IDs"),
    ("title", "the movie's title (its ID when DATA has none)"),
    ("p_seen", "the chance the user picks (watches) the movie: what --by seen ranks by"),
    ("match", "the app's Match: the chance the user picks the movie weighed by the chance "
     "they like it, P(seen) x P(like)^(1/4) as the browser reckons them (P(seen) with the "
     "movie-to-movie part of the liked movies only, P(like) from its own fit), so not the "
     "printed columns' product: what --by liked and the app's recommendations rank by"),
    ("p_like", "the calibrated chance the user likes the movie once seen"),
)  # fmt: skip

EPILOG_RECOMMEND = (
    """\
examples:
  rbm-tui recommend ml-100k --model m.pt > top10.csv
  rbm-tui recommend ml-100k --model m.pt --by liked --k 20 --output top20.csv
  rbm-tui recommend ml-100k --model m.pt --user 196
  rbm-tui recommend ml-100k --model m.pt --profile anna --profile ben

CSV: the k best movies for every user, leaving out what they rated in DATA, best first; \
the first number is the one the rows are sorted by:
  user,item,title,p_seen,p_like  (--by seen)
  user,item,title,match,p_like   (--by liked)
"""
    + "".join(f"{name}: {text}\n" for name, text in RECOMMEND_COLUMNS)
    + "With --user and no --output: a table of the same numbers, as percentages.\n"
)

EPILOG_PREDICT = """\
examples:
  rbm-tui predict ml-100k/u1.base --model m.pt --pairs ml-100k/u1.test > p.csv
  rbm-tui predict ratings.csv --model m.pt --pairs pairs.csv --output p.csv

FILE: any ratings file, or a CSV of user,item pairs (header optional; extra columns
ignored). Output: header user,item,p_like, one row per row of FILE in the same order.
Pairs whose user is not in DATA or whose movie the model does not know keep their row with an
empty p_like, and are counted on stderr.
"""

EPILOG_EVALUATE = """\
examples:
  rbm-tui evaluate --model m.pt --train ml-100k/u1.base --test ml-100k/u1.test
  rbm-tui evaluate --model m.pt --train train.csv --test test.csv --json
  rbm-tui evaluate --model m.pt --train u1.base --test u1.test --thumbs-only

Like/dislike metrics over the test rows (AUC, accuracy, per-user error, ECE) and top-N
metrics over the test users (P@k, R@k, nDCG@k, MAP), as in BENCHMARKS.md. Users and movies are
matched between the two files by their original IDs; TRAIN gives each user's known ratings
as likes and dislikes (the P(like) the browser shows; --thumbs-only also drops the star
values that model files of earlier versions weighed).
"""


# --------------------------------------------------------------------------- recommend
def cmd_recommend(args: argparse.Namespace) -> int:
    check_output(args.output)
    if args.profile:  # the thumbs of profiles of the ratings store
        from rbm_tui.cli.together import cmd_recommend_profiles

        return cmd_recommend_profiles(args)
    from engine.recommender import recommend_all

    ratings, _path, name = load_data(args.data)
    model, model_path = load_model(args.model, args.device)
    check_fits(model, model_path, ratings, args.data)
    users: list | None = None
    if args.user is not None:
        u = lookup_user(ratings, args.user, args.data)
        users = ratings.user_ids[u : u + 1].tolist()
    recs = recommend_all(
        model, ratings, k=args.k, users=users, by=args.by, with_scores=True,
        thumbs_only=args.thumbs_only,
    )  # fmt: skip
    title = titles(ratings)
    if users is not None and args.output is None:
        uid = users[0]
        n_rated = len(ratings.user_items(ratings.lookup_user(uid))[0])
        if not recs[uid]:
            info(f"user {uid} rated every movie the model {model_path.name} knows: none left")
            return EXIT_OK
        intro = f"Top {len(recs[uid])} for user {uid} ({n_rated} rated in {name}; model "
        print_top(args.by, intro + f"{model_path.name})", recs[uid], title)
        return EXIT_OK
    with output(args.output) as fh:
        write_recommendations(fh, args.by, recs, title)
    if args.output is not None:
        n = sum(len(v) for v in recs.values())
        info(f"wrote {n:,} recommendations for {len(recs):,} users to {args.output}")
    return EXIT_OK


# --------------------------------------------------------------------------- predict


def some(values: list, n: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (", ..." if len(values) > n else "")


def cmd_predict(args: argparse.Namespace) -> int:
    check_output(args.output)

    import numpy as np

    from engine.recommender import predict_pairs

    ratings, _path, _name = load_data(args.data)
    model, model_path = load_model(args.model, args.device)
    check_fits(model, model_path, ratings, args.data)
    from engine.data.pairs import read_pairs

    users, items = read_pairs(args.pairs)
    p, ok = predict_pairs(
        model,
        ratings,
        np.asarray(users, dtype=object),
        np.asarray(items),
        thumbs_only=args.thumbs_only,
    )
    if not ok.all():
        bad_users: dict = {}
        bad_items: dict = {}
        unknown_item = model.map_items(np.asarray(items, dtype=object)) < 0
        for j in np.nonzero(~ok)[0].tolist():
            try:
                ratings.lookup_user(users[j])
            except KeyError:
                bad_users[users[j]] = bad_users.get(users[j], 0) + 1
            if unknown_item[j]:
                bad_items[items[j]] = bad_items.get(items[j], 0) + 1
        msg = f"{int((~ok).sum()):,} of {len(ok):,} pairs have no prediction (empty p_like):"
        if bad_users:
            msg += f" {len(bad_users)} user(s) not in {args.data} ({some(list(bad_users))})"
        if bad_items:
            msg += (";" if bad_users else "") + (
                f" {len(bad_items)} movie(s) unknown to the model ({some(list(bad_items))})"
            )
        warn(msg)
    with output(args.output) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["user", "item", "p_like"])
        for u, i, pl, good in zip(users, items, p.tolist(), ok.tolist()):
            w.writerow([u, i, f"{pl:.6f}" if good else ""])
    if args.output is not None:
        info(f"wrote {int(ok.sum()):,} predictions for {len(ok):,} pairs to {args.output}")
    return EXIT_OK


# --------------------------------------------------------------------------- evaluate
_METRIC_NAMES = {
    "auc": "AUC of P(like)",
    "accuracy": "accuracy (P(like) > 0.5)",
    "per_user_error": "per-user error",
    "ece": "ECE (10 bins)",
    "map": "MAP",
    "users": "users ranked",
    "test_rows": "test rows",
    "skipped_rows": "skipped test rows",
}


def cmd_evaluate(args: argparse.Namespace) -> int:
    from engine.evaluation import evaluate

    train, _tp, _tn = load_data(args.train)
    test, _sp, _sn = load_data(args.test)
    model, model_path = load_model(args.model, args.device)
    check_fits(model, model_path, train, args.train)
    check_fits(model, model_path, test, args.test)  # another catalogue's IDs are other movies
    metrics = evaluate(model, train, test, k=args.k, thumbs_only=args.thumbs_only)
    if metrics.get("skipped_rows"):
        warn(
            f"{metrics['skipped_rows']:,} test rows were skipped (user not in {args.train} "
            "or movie unknown to the model)"
        )
    if args.json:
        print_json(
            {
                "model": str(model_path),
                "train": str(args.train),
                "test": str(args.test),
                "k": args.k,
                "thumbs_only": args.thumbs_only,
                "metrics": metrics,
            }
        )
        return EXIT_OK
    k = args.k
    order = ["auc", "accuracy", "per_user_error", "ece"]
    order += [f"precision@{k}", f"recall@{k}", f"ndcg@{k}", "map"]
    order += ["users", "test_rows", "skipped_rows"]
    order += [m for m in metrics if m not in order]
    rows = []
    for m in order:
        if m in metrics:
            label = _METRIC_NAMES.get(m, m.replace("precision@", "P@").replace("recall@", "R@"))
            label = label.replace("ndcg@", "nDCG@")
            rows.append([label, fmt_num(metrics[m])])
    known = "  (thumbs only)" if args.thumbs_only else ""
    print(f"model {model_path}  train {args.train}  test {args.test}{known}")
    print(table(rows, ["metric", "value"], right={1}))
    return EXIT_OK


def _add_scoring(p: argparse.ArgumentParser, *, data: bool = True, out: bool = True) -> None:
    """The arguments every scoring command shares: DATA, --model, --output, --thumbs-only,
    --device and --threads (the callers add their own between)."""
    if data:
        p.add_argument("data", metavar="DATA", help=DATA_HELP)
    p.add_argument("--model", required=True, metavar="MODEL", help=MODEL_HELP)
    if out:
        p.add_argument("--output", "-o", metavar="FILE.csv", help="write the CSV here, not stdout")


def _add_knowing(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--thumbs-only",
        action="store_true",
        help="drop the star values: a model file of an earlier version weighed them; today's "
        "P(like) is calibrated on likes and dislikes either way",
    )
    add_device(p)


def add_parser(sub) -> None:
    """The ``recommend``, ``predict`` and ``evaluate`` subcommands."""
    p = subcommand(
        sub,
        "recommend",
        "top-k movies for every user of DATA (or one)",
        description="The top-k movies for each user of DATA, leaving out what they rated.",
        epilog=EPILOG_RECOMMEND + "\n" + EPILOG_PROFILES,
    )
    _add_scoring(p)
    p.add_argument("--k", type=positive_int, default=10, metavar="N", help="movies per user")
    p.add_argument("--user", metavar="ID", help="only this user (original ID)")
    add_profile(p)
    p.add_argument(
        "--by",
        choices=("seen", "liked"),
        default="seen",
        help="rank by P(seen), how likely the user picks the movie, or by the app's match "
        "(liked), P(seen) x P(like)^(1/4) as the browser reckons them",
    )
    _add_knowing(p)
    p.set_defaults(func=cmd_recommend)

    p = subcommand(
        sub,
        "predict",
        "P(like) for (user, movie) pairs",
        description="P(like) for each (user, movie) row of a pairs file, DATA giving each "
        "user's known ratings.",
        epilog=EPILOG_PREDICT,
    )
    _add_scoring(p)
    p.add_argument("--pairs", required=True, metavar="FILE", help="the (user, movie) pairs")
    _add_knowing(p)
    p.set_defaults(func=cmd_predict)

    p = subcommand(
        sub,
        "evaluate",
        "like/dislike and top-N metrics on a train/test pair",
        description="Evaluate a model: TRAIN gives each user's known ratings, TEST the truth.",
        epilog=EPILOG_EVALUATE,
    )
    _add_scoring(p, data=False, out=False)
    p.add_argument("--train", required=True, metavar="DATA", help="the known ratings")
    p.add_argument("--test", required=True, metavar="DATA", help="the held-out ratings")
    p.add_argument("--k", type=positive_int, default=10, metavar="N", help="list length")
    add_json(p, "print the metrics as JSON")
    _add_knowing(p)
    p.set_defaults(func=cmd_evaluate)
