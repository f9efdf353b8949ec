"""How ``recommend`` writes its ranked lists, for a user of DATA (:mod:`rbm_tui.cli.score`)
and for profiles of the ratings store (:mod:`rbm_tui.cli.together`): the CSV and the table."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable

from rbm_tui.cli.common import printable, shorten, table

#: What each ``--by`` ranks by: its CSV column and its table heading.
RANKED_BY = {"seen": ("p_seen", "P(seen)"), "liked": ("match", "Match")}


def recommend_columns(by: str) -> list[str]:
    """The CSV header of ``recommend --by BY``: the number the rows are sorted by first."""
    return ["user", "item", "title", RANKED_BY[by][0], "p_like"]


def ranked_value(by: str, score: float) -> float:
    """The number ``--by`` ranks by, from :func:`engine.recommender.recommend_all`'s score:
    P(seen) = σ(seen log-odds) for ``seen``; the match = exp(its log) for ``liked``. Both
    rise with the score, so the rows stay sorted by them."""
    if by == "liked":
        return math.exp(score)
    return 1.0 / (1.0 + math.exp(-score)) if score >= -700 else 0.0


def titles(ratings) -> Callable[[object], str]:
    """``title(item ID)``: the movie's title in ``ratings``, or its ID when it has none."""
    names = ratings.title_list()

    def title(item) -> str:
        try:
            return names[ratings.lookup_item(item)]
        except KeyError:
            return str(item)

    return title


def write_recommendations(fh, by: str, recs: dict, title: Callable[[object], str]) -> None:
    """``recs`` (``{user: [(item, score, p_like), ...]}``, as :func:`recommend_all` gives
    them) as the CSV of :func:`recommend_columns`."""
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(recommend_columns(by))
    for uid, items in recs.items():
        for item, score, p in items:
            w.writerow([uid, item, title(item), f"{ranked_value(by, score):.6f}", f"{p:.6f}"])


def print_top(by: str, intro: str, recs: list, title: Callable[[object], str]) -> None:
    """One person's recommendations as a table under ``intro``: the number they are sorted
    by, then P(like)."""
    heading = RANKED_BY[by][1]
    rows = [
        [str(rank), str(item), shorten(printable(title(item)), 50),
         f"{100 * ranked_value(by, score):.0f}%", f"{100 * p:.0f}%"]
        for rank, (item, score, p) in enumerate(recs, 1)
    ]  # fmt: skip
    print(f"{intro}, by {heading}:")
    print(table(rows, ["#", "movie", "title", heading, "P(like)"], right={0, 1, 3, 4}))
