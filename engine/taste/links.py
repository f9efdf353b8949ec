"""A dataset's ``links.csv``: each MovieLens movie ID with its IMDb and TMDb ids.

Every modern MovieLens set ships it (``movieId,imdbId,tmdbId``; ``imdbId`` without its ``tt``,
``tmdbId`` sometimes empty). Imports keep it beside the ratings (see
``engine.catalogue.importer``), downloads keep the whole folder; :func:`read_links` finds it
beside the ratings of a dataset folder, zip or ratings file.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from engine._lazy import lazy_module
from engine.data.columns import normalise
from engine.data.sources import plan_source

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

_ID = re.compile(r"^(?:tt)?0*(\d{1,10})(?:\.0*)?$", re.IGNORECASE)


def _number(text: str) -> int | None:
    m = _ID.match(text.strip())
    return int(m.group(1)) if m else None


def parse_links(text: str) -> pd.DataFrame | None:
    """``links.csv`` text as a frame indexed by movie ID (int) with ``imdb`` and ``tmdb``
    (Int64, NA when missing); None when the header is not a links file's."""
    reader = csv.reader(io.StringIO(text))
    header = [normalise(h) for h in next(reader, [])]
    if not {"movieid", "imdbid"} <= set(header):
        return None
    mi, ii = header.index("movieid"), header.index("imdbid")
    ti = header.index("tmdbid") if "tmdbid" in header else None
    ids, imdb, tmdb = [], [], []
    for cells in reader:
        if len(cells) <= max(mi, ii) or not cells[mi].strip().isdigit():
            continue
        ids.append(int(cells[mi]))
        imdb.append(_number(cells[ii]))
        tmdb.append(_number(cells[ti]) if ti is not None and ti < len(cells) else None)
    frame = pd.DataFrame(
        {"imdb": pd.array(imdb, dtype="Int64"), "tmdb": pd.array(tmdb, dtype="Int64")},
        index=pd.Index(ids, dtype="int64"),
    )
    return frame[~frame.index.duplicated(keep="first")]


def read_links(data: str | Path) -> pd.DataFrame | None:
    """The ``links.csv`` beside the dataset at ``data`` (a folder, a zip or a ratings file, as
    :func:`engine.catalogue.registry.resolve` gives), or None when it has none."""
    plan = plan_source(Path(data))
    src = plan.source.sibling("links.csv")
    if src is None:
        return None
    raw = src.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_links(text)
