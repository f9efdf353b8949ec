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
