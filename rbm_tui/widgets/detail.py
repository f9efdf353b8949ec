"""What Browse says about one movie: the detail pane's two lines and a recommendation's line.

One score leads everywhere: the *match* (the chance the person picks the movie, weighed by
P(like)), which the recommendations are ranked by and the table's "Match" column shows;
*P(like)* (the chance they like it once they watch it) is named as such beside it.
"""

from __future__ import annotations

import math

from textual.content import Content

from engine.browse import Catalogue, Query
from engine.formatting import format_count
from rbm_tui.widgets.likebar import fit, like_bar, percent, thumb

#: The colour of a match: not a P(like), so not its red-to-green scale.
MATCH_STYLE = "$accent"
#: The line under the table naming the two scores.
LEGEND = "♥ ✗ yours · Match: you'd pick it and like it · P(like): you'd like it once seen"
#: The recommendations panel's subtitle when the list is personal (wide, narrow screens).
MATCH_HINT = "Match: the chance you'd pick it, weighed by P(like) · tab: rate here"
MATCH_HINT_SHORT = "Match: you'd pick it and like it · tab: rate"


def rec_hint(personal: bool, width: int) -> str:
    """The recommendations panel's subtitle on a screen ``width`` cells wide."""
    if not personal:
        return "tab: rate from here (+ -)"
    return MATCH_HINT if width >= len(MATCH_HINT) + 8 else MATCH_HINT_SHORT


def match_cell(m: float | None) -> Content:
    """A 4-cell match percentage in the match colour (– when there is none)."""
    if m is None or not math.isfinite(m):
        return percent(None)
    return percent(m, MATCH_STYLE)


def detail(cat: Catalogue, session, i: int) -> Content:
    """The detail pane for movie ``i``: its title, genres and raters, then the person's thumb
    or the match and P(like), with the liked movie that pushes it up most."""
    n, liked = int(cat.counts[i]), int(cat.like_counts[i])
    share = f", {liked / n:.0%} liked it" if n else ""
    genres = cat.genre_lists[i].replace("|", ", ") or "no genres"
    head = Content.assemble(
        (cat.full_titles[i], "bold"),
        (f" · {genres} · {_raters(n)}{share}", "$text-muted"),
    )
    return Content.assemble(head, "\n", _scores_line(cat, session, i))


def _scores_line(cat: Catalogue, session, i: int) -> Content:
    mine = session.thumb(i)
    yours = "you liked it · " if mine else "you disliked it · " if mine is False else ""
    if session.p_like is None or not math.isfinite(session.p_like[i]):
        return Content.styled(f"{yours}no match: no model for it yet", "$text-muted")
    why = session.reason(i) if mine is None else None
    because = f" · more likely because you liked {cat.titles[why]}" if why is not None else ""
    return Content.assemble(
        (yours, "$text-muted"),
        "Match ",
        _tight(match_cell(float(session.match[i]))),
        " · P(like) ",
        _tight(percent(float(session.p_like[i]))),
        (because, "$text-muted"),
    )


def rec_words(cat: Catalogue, pick, personal: bool) -> tuple[int, float | None, str]:
    """``(dataset index, match or None, words)`` for a recommendation ``pick``: a personal
    one with its match and the liked movie behind it, a popular one with its raters."""
    if not personal:
        return (
            pick.index,
            None,
            f"liked by {pick.liked_share:.0%} of {_raters(pick.raters)}",
        )
    because = ""
    if pick.because is not None:
        because = f"because you liked {cat.titles[pick.because]}"
    return pick.index, pick.match, because


def _tight(c: Content) -> Content:
    """``c`` without its leading spaces (a percentage in running text)."""
    return c[len(c.plain) - len(c.plain.lstrip()) :]


def rec_line(cat: Catalogue, i: int, match: float | None, words: str, width: int) -> Content:
    """A recommendation ``width`` cells wide: the title, the match (bar and percentage) of a
    personal pick, and ``words`` (why it is there)."""
    w_title = min(34, max(16, width // 2 - 12))
    parts: list = [(fit(cat.titles[i], w_title), "bold"), " "]
    rest = width - w_title - 1
    if match is not None:
        parts += [like_bar(match, 8, MATCH_STYLE), " ", match_cell(match), "  "]
        rest -= 8 + 1 + 4 + 2
    parts.append((fit(words, max(0, rest)), "$text-muted"))
    return Content.assemble(*parts)


def empty_text(q: Query, watchlist: bool = False) -> str:
    """What an empty list says: nothing matches, and the key that shows more (``watchlist``:
    the "mine" view lists the watchlist)."""
    # the key back to every movie first: a narrow terminal cuts the end of the line
    if q.mine and watchlist and not q.text and not q.genre:
        return "W: all movies · nothing on your watchlist yet: w adds the highlighted movie"
    if q.mine and not q.text and not q.genre:
        return "m: all movies · no ratings yet: + or - rates the highlighted movie"
    what = f"“{q.text}”" if q.text else "this view"
    where = f" in {q.genre}" if q.genre else ""
    how = "esc clears the search" if q.text else "m: all movies" if q.mine else "g: genre"
    return f"Nothing matches {what}{where} · {how}"


def row_cells(cat: Catalogue, session, i: int, genres: bool) -> list[Content | str]:
    """The table's cells for movie ``i``: thumb, title, year, genres (when ``genres``),
    raters, Match and P(like)."""
    cells: list[Content | str] = [
        thumb(session.thumb(i) if session is not None else None),
        cat.titles[i],
        cat.years[i],
    ]
    if genres:
        cells.append(cat.genre_lists[i].replace("|", ","))
    match = None if session is None or session.match is None else float(session.match[i])
    p = None if session is None or session.p_like is None else float(session.p_like[i])
    return cells + [f"{int(cat.counts[i]):,}", match_cell(match), percent(p)]


def _raters(n: int) -> str:
    """``1 rater``, ``2,345 raters``."""
    return format_count(n, "rater")
