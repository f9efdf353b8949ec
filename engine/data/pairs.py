"""Pairs files: the (person, movie) rows ``rbm-tui predict`` scores.

A pairs file may be any ratings file (MovieLens ``u1.test``, ``ratings.dat``, a CSV) or just
``user,item`` rows. The separator is sniffed (``::``, tab, comma, semicolon, ``|`` or spaces);
a header naming user and movie columns is used when present, else the first two columns are
user and movie. Extra columns are ignored; IDs are kept as the text of the file.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from engine.data.columns import FIX_ROW, ITEM_NAMES, USER_NAMES, is_number, normalise
from engine.data.sources import check_readable
from engine.errors import RatingsError


def _split_line(line: str, sep: str | None) -> list[str]:
    if sep == ",":
        return [f.strip() for f in next(csv.reader([line]), [])]
    if sep is None:
        return line.split()
    return [f.strip() for f in line.split(sep)]


def read_pairs(path: str | os.PathLike[str]) -> tuple[list, list]:
    """``(user_ids, item_ids)`` of each row of a pairs file, in file order.

    A folder or ``.zip`` is read with the ratings loader. Raises
    :class:`~engine.errors.RatingsError` (file and line) for rows without two IDs.
    """
    p = Path(path).expanduser()
    check_readable(p)
    if p.is_dir() or p.suffix.lower() == ".zip":
        from engine.data.loaders import load_ratings

        r = load_ratings(p)
        return r.user_ids[r.users].tolist(), r.item_ids[r.items].tolist()
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise RatingsError(p, f"cannot read the file: {e.strerror}") from None
    if b"\x00" in raw[:65536]:
        raise RatingsError(p, "it holds NUL bytes: not a text file", hint="save it as UTF-8 text")
    text = raw.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    numbered = [(n, ln) for n, ln in enumerate(lines, 1) if ln.strip()]
    if not numbered:
        raise RatingsError(p, "the file is empty", hint="give one user,item pair per line")
    first = numbered[0][1]
    sep: str | None
    if "::" in first:
        sep = "::"
    else:
        sep = next((s for s in ("\t", ",", ";", "|") if s in first), None)
    head = _split_line(first, sep)
    norm = [normalise(h) for h in head]
    ucol = next((i for i, h in enumerate(norm) if h in USER_NAMES), None)
    icol = next((i for i, h in enumerate(norm) if h in ITEM_NAMES), None)
    has_header = ucol is not None and icol is not None
    if not has_header:
        ucol, icol = 0, 1
        second = _split_line(numbered[1][1], sep) if len(numbered) > 1 else []
        if not any(is_number(h) for h in head) and any(is_number(f) for f in second):
            has_header = True  # a header with other names: first two columns
    rows = numbered[1:] if has_header else numbered
    assert ucol is not None and icol is not None  # set above when there is no header
    need = max(ucol, icol) + 1
    users: list = []
    items: list = []
    for n, ln in rows:
        f = _split_line(ln, sep)
        if len(f) < need:
            raise RatingsError(
                p, f"expected a user and a movie ID, found {len(f)} field(s)", line=n, hint=FIX_ROW
            )
        u, i = f[ucol], f[icol]
        if not u or not i:
            raise RatingsError(p, "empty user or movie ID", line=n, hint=FIX_ROW)
        users.append(u)
        items.append(i)
    return users, items
