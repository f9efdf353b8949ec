"""The import bars on real data: exports built from the held-out people of mls16-newusers (and
ML-100K's own titles) in each format, as people see the titles (see
``tests/fixtures/taste/exports.py``). Skipped when the shared data is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.data.movies import read_movies
from engine.data.sources import plan_source
from engine.taste import import_file, read_links
from engine.taste.formats import parse
from engine.taste.match import Matcher

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "taste"))
import exports  # noqa: E402


def _movies(ratings_file: Path):
    plan = plan_source(ratings_file)
    return read_movies(plan.source, plan.kind)[0]


@pytest.fixture(scope="module")
def mls16():
    if not (exports.NEWUSERS / "test.csv").is_file() or not (exports.MLS16 / "links.csv").is_file():
        pytest.skip("the shared mls16 data is absent")
    return (
        _movies(exports.MLS16 / "ratings.csv"),
        read_links(exports.MLS16),
        exports.held_out_rows(),
    )


def test_held_out_rows_cover_several_people(mls16):
    rows = mls16[2]
    assert len(rows) > 5000 and len({r["user"] for r in rows}) > 50


def test_imdb_export_matches_by_id(mls16, tmp_path: Path):
    """IMDb by id: >= 99% of the held-out people's rows matched, every match by its id and to
    the movie the row came from."""
    movies, links, rows = mls16
    f = exports.write_imdb(tmp_path / "imdb.csv", rows)
    r = import_file(f, movies, links, unmatched_dir=tmp_path)
    assert r.rows == len(rows) and r.matched / r.rows >= 0.99
    assert set(r.methods) == {"imdb"}
    assert set(r.thumbs) <= {int(x["item"]) for x in rows}


def test_letterboxd_export_matches_by_title_and_year(mls16, tmp_path: Path):
    """Letterboxd by title and year (no ids): >= 97% matched, and every match the right movie."""
    movies, links, rows = mls16
    f = exports.write_letterboxd(tmp_path / "ratings.csv", rows)
    r = import_file(f, movies, links, unmatched_dir=tmp_path)
    assert r.matched / r.rows >= 0.97
    assert "imdb" not in r.methods
    matcher = Matcher(movies, links)
    found = [matcher.match(row).item for row in parse(f).rows]
    wrong = [(x["item"], m) for x, m in zip(rows, found) if m is not None and m != int(x["item"])]
    assert wrong == []


def test_movielens_export_matches(mls16, tmp_path: Path):
    movies, links, rows = mls16
    f = exports.write_movielens(tmp_path / "movielens.csv", rows)
    r = import_file(f, movies, links, unmatched_dir=tmp_path)
    assert r.matched / r.rows >= 0.99 and set(r.thumbs) <= {int(x["item"]) for x in rows}


def test_one_person_imports_to_their_own_thumbs(mls16, tmp_path: Path):
    """One held-out person's Letterboxd export gives exactly their likes and dislikes."""
    movies, links, rows = mls16
    person = rows[0]["user"]
    mine = [x for x in rows if x["user"] == person]
    f = exports.write_letterboxd(tmp_path / "ratings.csv", mine)
    r = import_file(f, movies, links, unmatched_dir=tmp_path)
    expected = {int(x["item"]): float(x["rating"]) >= 3 for x in mine}
    assert {i: r.thumbs[i] for i in r.thumbs} == {i: expected[i] for i in r.thumbs}
    assert len(r.thumbs) >= 0.97 * len(expected)


def test_ml100k_titles_match_without_links(tmp_path: Path):
    """ML-100K has no links.csv: >= 95% of an IMDb export of its own titles matched by title,
    each to the movie of that title."""
    if not (exports.ML100K / "u.item").is_file():
        pytest.skip("the shared ML-100K data is absent")
    movies = _movies(exports.ML100K / "u.data")
    f, ids = exports.write_ml100k_imdb(tmp_path / "imdb.csv")
    r = import_file(f, movies, None, unmatched_dir=tmp_path)
    assert r.matched / r.rows >= 0.95
    assert set(r.methods) <= {"title", "title, year ±1", "title in parts"}
    matcher = Matcher(movies, None)
    found = [matcher.match(row).item for row in parse(f).rows]
    title = movies["title"].to_dict()
    wrong = [(i, m) for i, m in zip(ids, found) if m is not None and title[m] != title[i]]
    assert wrong == []  # the right movie, or the same film listed twice under one title


#: Names as Letterboxd shows them -> the ml-latest-small-2016 movie; None: not in that set
#: (a remake or a later film of the same name must stay unmatched).
KNOWN = {
    "Amélie": 4973, "Harry Potter and the Philosopher's Stone": 4896, "Star Wars": 260,
    "The Empire Strikes Back": 1196, "Return of the Jedi": 1210,
    "Star Wars: Episode I – The Phantom Menace": 2628, "Spirited Away": 5618,
    "Crouching Tiger, Hidden Dragon": 3996, "Pan's Labyrinth": 48394, "City of God": 6016,
    "The Good, the Bad and the Ugly": 1201,
    "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb": 750,
    "WALL·E": 60069, "The Lord of the Rings: The Fellowship of the Ring": 4993,
    "Lock Stock and Two Smoking Barrels": 2542, "Mad Max 2": 3703,
    "Raiders of the Lost Ark": 1198, "Life Is Beautiful": 2324, "Seven Samurai": 2019,
    "The Godfather Part II": 1221, "Kill Bill: Vol. 1": 6874,
    "Harry Potter and the Deathly Hallows: Part 1": 81834, "Léon: The Professional": 293,
    "Se7en": 47, "12 Monkeys": 32, ("The Avengers", 2012): 89745, ("The Avengers", 1998): 2153,
    ("Batman", 1989): 592, ("Batman", 1966): 26152, "Fast & Furious": 67923,
    "Mission: Impossible – Ghost Protocol": 91630, "The Hobbit: An Unexpected Journey": 98809,
    "Pirates of the Caribbean: The Curse of the Black Pearl": 6539,
    "Wallace & Gromit: The Curse of the Were-Rabbit": 38038, ("Batman", 2022): None,
    "Dune": None,
}  # fmt: skip


def test_names_as_letterboxd_writes_them_find_their_movie(mls16):
    """A hand-written export of well-known films under the names Letterboxd gives them: every
    match is the right movie, films absent from the set stay unmatched, >= 90% found."""
    movies, links, _ = mls16
    matcher = Matcher(movies, links)
    rows = parse(exports.HERE / "letterboxd_known_names.csv").rows
    got = {(r.title, r.year): matcher.match(r).item for r in rows}
    want = {(n, y): KNOWN.get((n, y), KNOWN.get(n)) for n, y in got}
    wrong = {k: (got[k], want[k]) for k in got if got[k] is not None and got[k] != want[k]}
    assert wrong == {}
    found = sum(1 for k in got if got[k] is not None and got[k] == want[k])
    assert found >= 0.9 * sum(v is not None for v in want.values())
