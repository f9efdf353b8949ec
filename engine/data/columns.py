"""The column vocabulary of ratings and pairs files: which header names mean user, movie,
rating and timestamp, and the small text checks both readers share."""

from __future__ import annotations

import re

USER_NAMES = frozenset({"user", "userid", "users", "uid", "username", "customerid", "reviewerid"})
ITEM_NAMES = frozenset(
    {"item", "itemid", "items", "iid", "movie", "movieid", "movies", "mid", "film", "filmid"}
)
RATING_NAMES = frozenset({"rating", "ratings", "score", "stars", "star", "rate"})
TIME_NAMES = frozenset({"timestamp", "time", "ts", "unixtime", "unixtimestamp", "datetime"})

#: The hint that ends an error about one bad line.
FIX_ROW = "fix or delete this line"

_INT = re.compile(r"^[+-]?\d+(\.0*)?$")


def normalise(name: str) -> str:
    """A header name reduced to lower-case letters and digits (``"User ID"`` -> ``userid``)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_number(s: str) -> bool:
    """Whether ``s`` parses as a float."""
    try:
        float(s)
    except ValueError:
        return False
    return True


def is_int(s: str) -> bool:
    """Whether ``s`` is a whole number (``"12"``, ``"-3"``, ``"7.0"``)."""
    return bool(_INT.match(s))


def shown(value: str, limit: int = 40) -> str:
    """``value`` quoted for an error message, cut to ``limit`` characters."""
    if len(value) <= limit:
        return repr(value)
    return repr(value[:limit]) + f"… ({len(value):,} characters)"
