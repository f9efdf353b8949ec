"""Titles as MovieLens writes them and as people know them, reduced to comparable keys.

MovieLens writes ``"Matrix, The (1999)"`` and ``"City of Lost Children, The (Cité des enfants
perdus, La) (1995)"``; IMDb and Letterboxd write ``"The Matrix"`` and ``"The City of Lost
Children"`` with the year in a column of its own. :func:`title_key` reduces either form to the
same key (accents, case, punctuation, symbols and a leading article in several languages
dropped), :func:`split_movielens` splits a MovieLens title into its names and year, and
:func:`short_keys` gives the looser keys of a title with a series name or a subtitle
(``"Star Wars: Episode IV - A New Hope"`` -> ``star wars``, ``new hope``).
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

#: Articles dropped from the front of a title (and moved there from MovieLens's ", The" end).
ARTICLES = frozenset(
    "the a an le la les l el los las il lo gli i un une una uno der die das den det dem des "
    "ein eine einen de het een o os as um uma en ett".split()
)
_TRAILING_ARTICLE = re.compile(r",\s*([^\W\d_]+'?)$")
_YEAR = re.compile(r"\s*\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")
_PAREN = re.compile(r"\s*\(([^()]*)\)\s*$")
_AKA = re.compile(r"^(?:a\.?k\.?a\.?|aka)\s+", re.IGNORECASE)
_ELISION = re.compile(r"\b([ldjnmst])['’`]", re.IGNORECASE)
_APOSTROPHE = re.compile(r"['’`]")
_NON_WORD = re.compile(r"[\W_]+")
_SYMBOLS = str.maketrans(
    {"&": " and ", "+": " and ", "½": " 1/2 ", "³": " 3", "²": " 2", "ø": "o", "æ": "ae",
     "œ": "oe", "ß": "ss", "ł": "l", "đ": "d"}
)  # fmt: skip
_SPLITS = re.compile(r"\s*(?::|\s[-–—]\s)\s*")
#: ASCII punctuation to spaces (the fast path of :data:`_NON_WORD` for ASCII text).
_ASCII_GAPS = str.maketrans({c: " " for c in string.punctuation})


def fold(text: str) -> str:
    """Lower-case ASCII-ish text: accents dropped, a few symbols spelt out."""
    text = text.lower()
    if text.isascii():
        if "&" in text or "+" in text:
            return text.replace("&", " and ").replace("+", " and ")
        return text
    text = unicodedata.normalize("NFKD", text.translate(_SYMBOLS))
    return "".join(c for c in text if not unicodedata.combining(c))


def front_article(title: str) -> str:
    """MovieLens's trailing article moved to the front: ``"Matrix, The"`` -> ``"The Matrix"``,
    ``"Auberge espagnole, L'"`` -> ``"L'Auberge espagnole"``; other titles unchanged."""
    m = _TRAILING_ARTICLE.search(title)
    if m is None or fold(m.group(1)).rstrip("'") not in ARTICLES:
        return title
    art = m.group(1)
    sep = "" if art.endswith("'") else " "
    return f"{art}{sep}{title[: m.start()].strip()}"


@lru_cache(maxsize=1 << 16)
def title_key(title: str, article: bool = False) -> str:
    """The comparable key of one title: ``"The Matrix"``, ``"Matrix, The"`` and
    ``"MATRIX"`` all give ``"matrix"``; ``""`` when nothing is left. With ``article`` the
    leading article stays (``"the matrix"``): "The Fear" and "Fear" are told apart."""
    text = title.strip()
    text = fold(front_article(text) if "," in text else text)
    if "'" in text or "’" in text or "`" in text:
        text = _APOSTROPHE.sub("", _ELISION.sub(r"\1 ", text))
    if text.isascii():
        words = text.translate(_ASCII_GAPS).split()
    else:
        words = _NON_WORD.sub(" ", text).split()
    if not article and len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def split_movielens(title: str) -> tuple[list[str], int | None]:
    """A MovieLens title's names (the main one first, then the alternatives in parentheses,
    ``a.k.a.`` dropped) and its year: ``"Seven (a.k.a. Se7en) (1995)"`` ->
    ``(["Seven", "Se7en"], 1995)``."""
    text = title.strip()
    year = None
    m = _YEAR.search(text)
    if m is not None:
        year = int(m.group(1))
        text = text[: m.start()]
    alts: list[str] = []
    while (m := _PAREN.search(text)) is not None and m.start() > 0:
        alts.insert(0, _AKA.sub("", m.group(1).strip()))
        text = text[: m.start()]
    return [t for t in [text.strip(), *alts] if t], year


def in_parts(title: str) -> bool:
    """Whether a title may be in parts (a ``:`` or a spaced dash): a quick test."""
    return ":" in title or " -" in title or " –" in title or " —" in title


def _parts(title: str) -> list[str]:
    if not in_parts(title):
        return []
    parts = [p for p in _SPLITS.split(front_article(title.strip())) if p]
    return parts if len(parts) > 1 else []


def short_keys(title: str) -> set[str]:
    """Looser keys of a title in parts (a series name and a subtitle): each part on either
    side of a ``:`` or a spaced dash, as a key; none for a title in one part."""
    keys = {title_key(p) for p in _parts(title)}
    keys.discard("")
    return keys


#: First words of subtitles too plain to tell a film by ("Part 2", "Vol. 1", "The Movie").
_PLAIN = frozenset("part vol volume chapter episode book movie film".split())


def tail_keys(title: str) -> set[str]:
    """The subtitles of a title in parts that can tell a film, each with the first word of the
    series name: after the first ``:`` or spaced dash, two words or more, not "Part 2" or
    "Vol. 1" (``"Star Wars: Episode VII - The Force Awakens"`` -> ``star|force awakens``;
    "Batman: Year One" and "Superman: Year One" differ)."""
    parts = _parts(title)
    if not parts:
        return set()
    first = (title_key(parts[0]).split() or [""])[0]
    keys = {title_key(p) for p in parts[1:]}
    return {f"{first}|{k}" for k in keys if len(k.split()) > 1 and k.split()[0] not in _PLAIN}
