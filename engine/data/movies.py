"""Movie metadata read from the files beside the ratings: titles, years and genres.

``u.item`` (+ ``u.genre``) for ML-100K, ``movies.dat`` for ML-1M/10M, ``movies.csv`` for the
MovieLens "latest" layout and any CSV with an ID and a title column. The result is a frame
indexed by the original movie ID with columns ``title``, ``year`` (Int64) and ``genres``
(``|``-separated).
"""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import numpy as np

from engine._lazy import lazy_module
from engine.data.columns import ITEM_NAMES, normalise
from engine.data.sources import Source

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

_YEAR = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")

ML100K_GENRES = (
    "unknown|Action|Adventure|Animation|Children's|Comedy|Crime|Documentary|Drama|Fantasy|"
    "Film-Noir|Horror|Musical|Mystery|Romance|Sci-Fi|Thriller|War|Western"
).split("|")


def parse_year(title: str) -> int | None:
    """The year ending a MovieLens title: ``"Heat (1995)"`` -> 1995; a range gives its first."""
    m = _YEAR.search(title)
    return int(m.group(1)) if m else None


def read_movies(src: Source, kind: str) -> tuple[pd.DataFrame | None, str]:
    """Movie metadata beside the ratings file: (frame indexed by movie ID, how it was read)."""
    if kind == "ml100k" or src.name.lower() in ("u.data",):
        s = src.sibling("u.item")
        if s is not None:
            return _read_u_item(s, src.sibling("u.genre")), "u.item"
    if kind == "dat":
        s = src.sibling("movies.dat")
        if s is not None:
            return _read_movies_dat(s)
    s = src.sibling("movies.csv")
    if s is not None and s.display != src.display:
        return _read_movies_csv(s), "csv"
    if kind == "delimited":
        s = src.sibling("u.item")
        if s is not None:
            return _read_u_item(s, src.sibling("u.genre")), "u.item"
    return None, ""


#: Characters a title must not carry into a terminal: control characters (a tab moved the
#: columns after it) and the marks that reverse the direction of the text after them.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_title(title: str) -> str:
    """``title`` with :data:`_UNPRINTABLE` characters as spaces, runs of spaces as one."""
    return " ".join(_UNPRINTABLE.sub(" ", title).split())


def _movie_df(ids: list, titles: list[str], genres: list[str]) -> pd.DataFrame:
    titles = [clean_title(t) for t in titles]
    years = [parse_year(t) for t in titles]
    df = pd.DataFrame(
        {
            "title": titles,
            "year": pd.array(years, dtype="Int64"),
            "genres": genres,
        },
        index=_id_index(ids),
    )
    return df[~df.index.duplicated(keep="first")]


def _id_index(ids: list) -> pd.Index:
    try:
        return pd.Index(np.asarray([int(str(i).strip()) for i in ids], dtype=np.int64))
    except (ValueError, OverflowError):  # a word, or a number beyond int64: IDs as text
        return pd.Index([str(i).strip() for i in ids], dtype=object)


def _read_u_item(src: Source, genre_src: Source | None) -> pd.DataFrame:
    names = list(ML100K_GENRES)
    if genre_src is not None:
        gmap: dict[int, str] = {}
        for line in genre_src.read_bytes().decode("latin-1").splitlines():
            parts = line.strip().split("|")
            if len(parts) == 2 and parts[1].strip().isdigit():
                gmap[int(parts[1])] = parts[0].strip()
        if gmap:
            names = [gmap.get(k, "") for k in range(max(gmap) + 1)]
    ids, titles, genres, dates = [], [], [], []
    for line in src.read_bytes().decode("latin-1").splitlines():
        parts = line.rstrip("\r\n").split("|")
        if len(parts) < 5 or not parts[0].strip().isdigit():
            continue
        flags = parts[5:]
        g = [
            names[k]
            for k, f in enumerate(flags)
            if f.strip() == "1" and k < len(names) and names[k] and names[k] != "unknown"
        ]
        ids.append(parts[0])
        titles.append(parts[1])
        genres.append("|".join(g))
        m = re.search(r"(\d{4})\s*$", parts[2])
        dates.append(int(m.group(1)) if m else None)
    df = _movie_df(ids, titles, genres)
    # Titles without a year: take it from the release date ("01-Jan-1995").
    miss = df["year"].isna().to_numpy()
    if miss.any():
        by_id = dict(zip(_id_index(ids), dates))
        year = df["year"].copy()
        year[miss] = pd.array([by_id.get(i) for i in df.index[miss]], dtype="Int64")
        df["year"] = year
    return df


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_movies_dat(src: Source) -> tuple[pd.DataFrame, str]:
    raw = src.read_bytes()
    try:
        text, how = raw.decode("utf-8"), "dat-utf8"
    except UnicodeDecodeError:
        text, how = raw.decode("latin-1"), "dat-latin1"
    ids, titles, genres = [], [], []
    for line in text.splitlines():
        parts = line.split("::")
        if len(parts) < 2 or not parts[0].strip():
            continue
        ids.append(parts[0])
        if len(parts) >= 3:
            titles.append("::".join(parts[1:-1]))
            genres.append(_clean_genres(parts[-1]))
        else:
            titles.append(parts[1])
            genres.append("")
    try:
        return _movie_df(ids, titles, genres), how
    except ValueError:
        return _movie_df([], [], []), how


def _clean_genres(g: str) -> str:
    g = g.strip()
    if g in ("(no genres listed)", ""):
        return ""
    return "|".join(x.strip() for x in g.split("|") if x.strip())


def _read_movies_csv(src: Source) -> pd.DataFrame | None:
    text = _decode(src.read_bytes())
    header = text.split("\n", 1)[0]
    sep = max(("\t", ";", ","), key=header.count) if any(c in header for c in "\t;,") else ","
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, on_bad_lines="skip"
        )
    except (ValueError, csv.Error):
        return None
    cols = {normalise(c): c for c in df.columns}
    idc = next((cols[n] for n in cols if n in ITEM_NAMES), None)
    tc = next((cols[n] for n in ("title", "name", "movietitle", "moviename") if n in cols), None)
    gc = next((cols[n] for n in ("genres", "genre") if n in cols), None)
    if idc is None or tc is None:
        return None
    ids = df[idc].tolist()
    titles = df[tc].tolist()
    genres = [_clean_genres(g) for g in df[gc].tolist()] if gc else [""] * len(df)
    return _movie_df(ids, titles, genres)


def _whole_number_ids(movies: pd.DataFrame) -> pd.DataFrame | None:
    """The rows of ``movies`` whose ID is a whole number, indexed by it as int64; None when
    there is none."""
    ids = pd.to_numeric(pd.Series(movies.index, dtype=object), errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(ids) & (ids == np.round(ids)) & (np.abs(ids) < 2.0**63)
    if not keep.any():
        return None
    out = movies[keep].copy()
    out.index = pd.Index(ids[keep].astype(np.int64))
    return out[~out.index.duplicated(keep="first")]


def match_index_dtype(movies: pd.DataFrame, items: np.ndarray) -> pd.DataFrame | None:
    """Make the movies index the same kind (int or str) as the ratings' item IDs."""
    int_items = items.dtype.kind in "iu"
    int_index = movies.index.dtype.kind in "iu"
    if int_items != int_index:
        if int_items:  # a row whose ID is no number (a sheet's blank ",," line) is no movie
            movies = _whole_number_ids(movies)
            if movies is None:
                return None  # no movie ID is a number: the files do not belong together
        else:
            movies = movies.copy()
            movies.index = pd.Index([str(i) for i in movies.index], dtype=object)
    # Metadata that shares no movie with the ratings is for some other dataset: ignore it.
    sample = pd.unique(items[:2000])
    if len(sample) and not bool(movies.index.isin(sample).any()):
        return None
    return movies
