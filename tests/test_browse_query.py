"""Browse's query in the engine (engine/browse.py): filters, search and sorts over arrays."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engine.browse import SORTS, Catalogue, Query, next_sort, select


def catalogue(n: int = 8) -> Catalogue:
    titles = [f"Film {i} ({1990 + i % 5})" for i in range(n)]
    titles[1] = "The Lion King (1994)"
    titles[2] = "lion in winter, The (1968)"
    titles[3] = "Untitled"  # no year
    genres = ["Drama|War" if i % 2 else "Comedy" for i in range(n)]
    genres[4] = ""
    movies = pd.DataFrame(
        {
            "title": titles,
            "year": pd.array([None if i == 3 else 1990 + i % 5 for i in range(n)], "Int64"),
            "genres": genres,
        }
    )
    counts = np.array([5, 9, 9, 1, 7, 3, 2, 8][:n] + [0] * max(0, n - 8))
    return Catalogue(movies, counts, counts // 2)


def test_search_is_any_case_on_the_full_title_and_typing_on_narrows_it():
    cat = catalogue()
    assert sorted(select(cat, Query(text="LION")).tolist()) == [1, 2]
    assert select(cat, Query(text="lion k")).tolist() == [1]  # typed on: from the last matches
    assert select(cat, Query(text="1968")).tolist() == [2]  # the year is in the full title
    assert sorted(select(cat, Query(text="lion")).tolist()) == [1, 2]  # back again
    assert select(cat, Query(text="nothing like it")).tolist() == []


def test_genre_and_mine_filter_and_compose():
    cat = catalogue()
    drama = select(cat, Query(genre="Drama"))
    assert sorted(drama.tolist()) == [1, 3, 5, 7]
    assert select(cat, Query(genre="Dram")).tolist() == []  # a whole genre, not a substring
    mine = select(cat, Query(genre="Drama", mine=True), mine=[1, 2, 5])
    assert sorted(mine.tolist()) == [1, 5]
    assert select(cat, Query(mine=True), mine=[]).tolist() == []
    assert cat.genres == ["Comedy", "Drama", "War"]


def test_sorts_order_what_they_name():
    cat = catalogue()
    popular = select(cat, Query(sort="popular")).tolist()
    assert popular == [1, 2, 7, 4, 0, 5, 6, 3]  # raters down, ties by index
    titles = [cat.titles_lower.iat[i] for i in select(cat, Query(sort="title"))]
    assert titles == sorted(titles)
    years = [cat.year_values[i] for i in select(cat, Query(sort="year"))]
    assert years == sorted(years, reverse=True) and years[-1] == -1  # no year: last
    scores = np.array([0.1, np.nan, 0.9, 0.5, 0.5, 0.2, 0.3, 0.0])
    by_score = select(cat, Query(sort="match"), scores).tolist()
    assert by_score[:3] == [2, 4, 3]  # ties (0.5) by raters
    assert by_score[-1] == 1  # no score: last


def test_a_score_sort_follows_new_scores_and_falls_back_without_them():
    cat = catalogue()
    a = np.linspace(0, 1, 8)
    assert select(cat, Query(sort="p_like"), a).tolist()[0] == 7
    b = a[::-1].copy()
    assert select(cat, Query(sort="p_like"), b).tolist()[0] == 0
    assert select(cat, Query(sort="p_like")).tolist() == select(cat, Query()).tolist()


def test_next_sort_cycles_and_skips_the_score_sorts_without_scores():
    seen = ["popular"]
    for _ in SORTS:
        seen.append(next_sort(seen[-1], have_scores=True))
    assert seen == [*SORTS, "popular"]
    assert next_sort("popular", have_scores=False) == "title"


@pytest.mark.parametrize("text", ["", "movie 12", "9 (", "zz"])
def test_a_big_catalogue_answers_whole(text):
    """87,000 movies: nothing capped, every match listed (search narrows, never truncates)."""
    n = 87_000
    movies = pd.DataFrame(
        {
            "title": [f"Movie {i} ({1950 + i % 70})" for i in range(n)],
            "year": pd.array([1950 + i % 70 for i in range(n)], "Int64"),
            "genres": ["Drama" if i % 3 else "Comedy|Drama" for i in range(n)],
        }
    )
    cat = Catalogue(movies, np.arange(n)[::-1] % 1000, np.zeros(n, int))
    got = select(cat, Query(text=text))

    def spaced(t: str) -> str:  # words of letters and digits, as a search reads a title
        return " ".join(re.findall(r"[^\W_]+", t.lower()))

    want = [i for i, t in enumerate(movies["title"]) if spaced(text) in spaced(t)]
    assert sorted(got.tolist()) == want
    assert len(set(got.tolist())) == len(got)


@pytest.mark.parametrize(
    ("text", "found"),
    [("the matrix", "Matrix, The (1999)"), ("THE GODFATHER", "Godfather, The (1972)"),
     ("leon", "Léon: The Professional (1994)"), ("wall-e", "WALL·E (2008)"),
     ("l'auberge", "Auberge espagnole, L' (2002)"), ("matrix (1999)", "Matrix, The (1999)")],
)  # fmt: skip
def test_search_finds_titles_as_people_type_them(text, found):
    """Articles in front, accents and punctuation aside: "the matrix" found nothing in
    MovieLens's "Matrix, The (1999)", "leon" missed "Léon", "wall-e" missed "WALL·E"."""
    titles = [found, "Napoleon (1927)", "Miracle on 34th Street (1947)", "Heat (1995)"]
    movies = pd.DataFrame(
        {"title": titles, "year": pd.array([None] * 4, "Int64"), "genres": [""] * 4}
    )
    cat = Catalogue(movies, np.ones(4), np.zeros(4, int))
    got = [titles[i] for i in select(cat, Query(text=text))]
    assert found in got and "Miracle on 34th Street (1947)" not in got and "Heat (1995)" not in got
