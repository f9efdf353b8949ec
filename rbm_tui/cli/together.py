"""``rbm-tui recommend DATA --model MODEL --profile NAME [--profile NAME ...]``: recommendations
for profiles of the ratings store (the person's thumbs as the app keeps them).

One profile: the same list as ``recommend`` of the file ``rbm-tui thumbs export`` writes for
it (its thumbs as ``user,item,rating``), less the movies it marked seen or not interested.
Two or more: one list for all of them (watch together, :mod:`engine.together`).
"""

from __future__ import annotations

import argparse
import csv

from rbm_tui.cli.common import (
    EXIT_OK,
    CLIError,
    check_fits,
    info,
    load_data,
    load_model,
    output,
    shorten,
    table,
)
from rbm_tui.cli.ranked import print_top, titles, write_recommendations

HELP = (
    "recommend for this profile of your thumbs (DATA names the dataset); twice or more: "
    "one list to watch together"
)
EPILOG = """\
--profile NAME: the profile's thumbs on DATA (as `rbm-tui thumbs list
--dataset DATA`), the same list as `recommend` of `rbm-tui thumbs export
--profile NAME`'s file, without the movies it marked seen or not interested.
With --output: the CSV above; else a table.

--profile A --profile B ...: one list for all of them (watch together): movies
none of them rated or marked, ranked by the together match, a soft minimum of
their matches (the least keen person counts most). Columns: together (the
together match), then per person their match (the chance they pick it, weighed
by P(like)) and P(like), and from: whose taste the pick came from (the person
whose own list ranks it highest) and their liked movie that pushed it up most.
With --output, CSV: rank,item,title,together, then match:NAME,p_like:NAME per
person, then from,because (because: that liked movie's ID), probabilities as
decimals.
"""


def add_profile(p: argparse.ArgumentParser) -> None:
    """``--profile NAME`` (repeatable) on ``recommend``."""
    p.add_argument("--profile", action="append", metavar="NAME", help=HELP)


def cmd_recommend_profiles(args: argparse.Namespace) -> int:
    """``recommend`` for ``args.profile`` (a list of one or more profile names)."""
    from engine.userstore import UserStore
    from rbm_tui.cli.thumbs import dataset_key

    if args.user is not None:
        raise CLIError("--user and --profile: name a user of DATA or profiles, not both")
    ratings, _path, _name = load_data(args.data)
    model, model_path = load_model(args.model, args.device)
    check_fits(model, model_path, ratings, args.data)
    key = dataset_key(args.data)
    with UserStore() as store:
        if len(args.profile) == 1:
            return _one(args, ratings, model, store, key)
        return _together(args, ratings, model, store, key)


# --------------------------------------------------------------------------- one profile
def _one(args: argparse.Namespace, ratings, model, store, key: str) -> int:
    from engine.people import profile_ratings
    from engine.recommender import recommend_all

    name = args.profile[0]
    known = profile_ratings(store, key, name, model.like_threshold)
    marked = set(store.marks(key, name))
    recs = recommend_all(
        model,
        known,
        k=args.k + len(marked),
        users=[name],
        by=args.by,
        with_scores=True,
        thumbs_only=args.thumbs_only,
        catalogue=ratings,  # (checked above; the thumbs alone may name no movie it knows)
    )[name]
    recs = [r for r in recs if r[0] not in marked][: args.k]
    if args.output is not None:
        with output(args.output) as fh:
            write_recommendations(fh, args.by, {name: recs}, titles(ratings))
        info(f"wrote {len(recs):,} recommendations for {name} to {args.output}")
        return EXIT_OK
    intro = f"Top {len(recs)} for {name} ({known.n_ratings} thumbs on {key})"
    print_top(args.by, intro, recs, titles(ratings))
    return EXIT_OK


def _title(ratings, item) -> str:
    try:
        return str(ratings.movies["title"].iat[ratings.lookup_item(item)])
    except KeyError:
        return str(item)


# --------------------------------------------------------------------------- together
def _pct(p: float) -> str:
    return "<1%" if 0 < p < 0.005 else f"{100 * p:.0f}%"


def _together(args: argparse.Namespace, ratings, model, store, key: str) -> int:
    from engine.people import profile_sessions
    from engine.together import together

    names = args.profile
    picks = together(profile_sessions(ratings, store, key, model, names), n=args.k)
    item = ratings.item_ids.tolist()
    if args.output is not None:
        return _together_csv(args, names, picks, item, ratings)
    rows = []
    for rank, p in enumerate(picks, 1):
        per = [_pct(v) for pair in zip(p.match, p.p_like) for v in pair]
        src = names[p.source]
        if p.because is not None:
            src += f", because {shorten(_title(ratings, item[p.because]), 30)}"
        title = shorten(_title(ratings, item[p.index]), 40)
        rows.append([str(rank), str(item[p.index]), title, _pct(p.score), *per, src])
    head = ["#", "movie", "title", "together"]
    head += [h for n in names for h in (f"{n} match", "P(like)")]
    print(f"Together: {len(rows)} movies none of {', '.join(names)} rated on {key}:")
    print(table(rows, [*head, "from"], right=set(range(len(head))) - {2}))
    return EXIT_OK


def _together_csv(args, names, picks, item, ratings) -> int:
    head = ["rank", "item", "title", "together"]
    head += [h for n in names for h in (f"match:{n}", f"p_like:{n}")]
    with output(args.output) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([*head, "from", "because"])
        for rank, p in enumerate(picks, 1):
            per = [f"{v:.6f}" for pair in zip(p.match, p.p_like) for v in pair]
            because = "" if p.because is None else item[p.because]
            title = _title(ratings, item[p.index])
            w.writerow(
                [rank, item[p.index], title, f"{p.score:.6f}", *per, names[p.source], because]
            )
    info(f"wrote {len(picks):,} movies to watch together for {', '.join(names)} to {args.output}")
    return EXIT_OK
