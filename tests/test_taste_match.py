"""Matching exports to a dataset's movies, and the import's result: thumbs, counts, the file of
unmatched rows, thresholds, round trips."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from engine.data.movies import parse_year
from engine.errors import RatingsError, SettingError
from engine.taste import import_file, read_links
from engine.taste.formats import TasteRow
from engine.taste.links import parse_links
from engine.taste.match import Matcher

FIX = Path(__file__).parent / "fixtures" / "taste"

MOVIES = [
    (2571, "Matrix, The (1999)", "Action|Sci-Fi"),
    (6365, "Matrix Reloaded, The (2003)", "Action|Sci-Fi"),
    (29, "City of Lost Children, The (Cité des enfants perdus, La) (1995)", "Fantasy"),
    (47, "Seven (a.k.a. Se7en) (1995)", "Thriller"),
    (293, "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)", "Crime"),
    (260, "Star Wars: Episode IV - A New Hope (1977)", "Sci-Fi"),
    (1196, "Star Wars: Episode V - The Empire Strikes Back (1980)", "Sci-Fi"),
    (1210, "Star Wars: Episode VI - Return of the Jedi (1983)", "Sci-Fi"),
    (7, "Sabrina (1995)", "Comedy|Romance"),
    (915, "Sabrina (1954)", "Comedy|Romance"),
    (2959, "Fight Club (1999)", "Drama"),
    (100, "Twins (1988)", "Comedy"),
    (101, "Twins (1990)", "Drama"),
    (3598, "Hamlet (2000)", "Crime|Drama|Romance|Thriller"),
    (65665, "Hamlet (2000)", "Drama"),
    (573, "Body Snatchers (1993)", "Horror|Sci-Fi"),
    (670, "Body Snatchers (1993)", "Horror|Sci-Fi"),
    (5000, "Sopranos, The (1999)", "Crime"),
    (1923, "Star Is Born, A (1976)", "Drama"),
    (818, "Fear (1996)", "Thriller"),
    (122886, "Star Wars: Episode VII - The Force Awakens (2015)", "Sci-Fi"),
    (112183, "Birdman: Or (The Unexpected Virtue of Ignorance) (2014)", "Comedy"),
    (6874, "Kill Bill: Vol. 1 (2003)", "Action"),
    (90603, "Batman: Year One (2011)", "Animation"),
    (1100, "Boys (1996)", "Drama"),
]
LINKS = "movieId,imdbId,tmdbId\n2571,0133093,603\n29,0112682,902\n47,0114369,807\n260,0076759,11\n"


def movies_frame() -> pd.DataFrame:
    ids, titles, genres = zip(*MOVIES)
    years = pd.array([parse_year(t) for t in titles], dtype="Int64")
    return pd.DataFrame({"title": titles, "year": years, "genres": genres}, index=list(ids))


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(movies_frame(), parse_links(LINKS))


def _row(title: str, year: int | None, **kw) -> TasteRow:
    return TasteRow(2, 4.0, title=title, year=year, **kw)


@pytest.mark.parametrize(
    ("title", "year", "item", "how"),
    [
        ("The Matrix", 1999, 2571, "title"),
        ("The City of Lost Children", 1995, 29, "title"),
        ("La Cité des enfants perdus", 1995, 29, "title"),
        ("Se7en", 1995, 47, "title"),
        ("Leon: The Professional", 1994, 293, "title"),
        ("Star Wars", 1977, 260, "title in parts"),
        ("The Empire Strikes Back", 1980, 1196, "title in parts"),
        ("Fight Club", 2000, 2959, "title, year ±1"),
        ("Sabrina", 1996, 7, "title, year ±1"),
        ("Sabrina", 1954, 915, "title"),
        ("Body Snatchers", 1993, 573, "title"),
        ("Star Wars: The Force Awakens", 2015, 122886, "title in parts"),
        ("Birdman or (The Unexpected Virtue of Ignorance)", 2014, 112183, "title"),
    ],
)
def test_titles_match_as_people_write_them(matcher, title, year, item, how):
    m = matcher.match(_row(title, year))
    assert (m.item, m.how) == (item, how)


@pytest.mark.parametrize(
    ("title", "year", "why"),
    [
        ("A Star Is Born", 2018, "no movie"),  # a remake of another year is not the film
        ("Sabrina", 1975, "no movie"),
        ("Twins", 1989, "ambiguous"),  # 1988 and 1990 both one year off
        ("Hamlet", 2000, "ambiguous"),  # two films of one name and year, other genres
        ("The Matrix", None, "no year"),
        ("Return of the Jedi", 1984, "no movie"),  # a title in parts needs the exact year
        ("The Fear", 1995, "no movie"),  # a year off needs the title with its article
        ("Les Boys", 1997, "no movie"),
        ("Superman: Year One", 2011, "no movie"),  # one subtitle, another series
        ("Hellboy: Vol. 1", 2003, "no movie"),  # a subtitle too plain to tell a film by
    ],
)
def test_doubtful_titles_stay_unmatched(matcher, title, year, why):
    m = matcher.match(_row(title, year))
    assert m.item is None and why in m.how


def test_ids_come_first_and_veto_a_title_of_another_film(matcher):
    assert matcher.match(_row("Anything", None, imdb=76759)).item == 260
    assert matcher.match(_row("", None, tmdb=603)).item == 2571
    other = matcher.match(_row("The Matrix", 1999, imdb=9999999))
    assert other.item is None  # 2571 is tt0133093: a film with another id is another film
    unlinked = matcher.match(_row("Fight Club", 1999, imdb=137523))
    assert unlinked.item == 2959  # no id known for it: the title decides


def test_a_tv_series_is_matched_by_id_only(matcher):
    m = matcher.match(_row("The Sopranos", 1999, film=False))
    assert m.item is None and "not a film" in m.how


def test_imdb_export_with_links_matches_by_id(matcher, tmp_path: Path):
    r = import_file(FIX / "imdb_ratings.csv", movies_frame(), parse_links(LINKS),
                    unmatched_dir=tmp_path)  # fmt: skip
    assert (r.rows, r.matched, r.unmatched) == (5, 3, 2)
    assert r.methods == {"imdb": 3}
    assert r.thumbs == {2571: True, 29: True, 47: False}  # 9, 8 like; 5 below 6
    assert r.threshold == 6 and "6 or more of 1-10" in r.summary()
    with r.unmatched_file.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(x["line"], x["Title"]) for x in rows] == [
        ("5", "The Sopranos"),
        ("6", "Fake Film Nobody Has"),
    ]
    assert "not a film" in rows[0]["reason"] and rows[1]["Const"] == "tt9999998"
    assert r.to_json("me") == {
        "rows": 5, "matched": 3, "unmatched": 2,
        "unmatched_file": str(r.unmatched_file), "profile": "me",
    }  # fmt: skip


def test_without_links_the_same_export_matches_by_title(tmp_path: Path):
    r = import_file(FIX / "imdb_ratings.csv", movies_frame(), None, unmatched_dir=tmp_path)
    assert r.thumbs == {2571: True, 29: True, 47: False}
    assert r.methods == {"title": 3}


def test_the_threshold_can_be_changed_and_is_checked(tmp_path: Path):
    r = import_file(FIX / "imdb_ratings.csv", movies_frame(), None, 9, unmatched_dir=tmp_path)
    assert r.thumbs == {2571: True, 29: False, 47: False}
    with pytest.raises(
        SettingError, match="letterboxd_ratings.csv: like threshold 6 is outside the Letterboxd"
    ):
        import_file(FIX / "letterboxd_ratings.csv", movies_frame(), threshold=6,
                    unmatched_dir=tmp_path / "none")  # fmt: skip
    assert not (tmp_path / "none").exists()


def test_letterboxd_and_movielens_exports(tmp_path: Path):
    lb = import_file(FIX / "letterboxd_ratings.csv", movies_frame(), unmatched_dir=tmp_path)
    assert lb.thumbs == {2571: True, 29: False, 47: True, 293: False}
    assert lb.unmatched == 1 and lb.unmatched_rows[0].row.title.startswith("Lock, Stock")
    ml = import_file(FIX / "movielens_export.csv", movies_frame(), parse_links(LINKS))
    assert ml.thumbs == {2571: True, 29: False, 47: True} and ml.unmatched_file is None


def test_a_diary_takes_the_last_rating_of_a_film(tmp_path: Path):
    r = import_file(FIX / "letterboxd_diary.csv", movies_frame(), unmatched_dir=tmp_path)
    assert (r.rows, r.unrated, r.thumbs) == (2, 1, {2571: True})


def test_reimporting_gives_the_same_thumbs_and_file(tmp_path: Path):
    a = import_file(FIX / "imdb_ratings.csv", movies_frame(), unmatched_dir=tmp_path)
    first = a.unmatched_file.read_bytes()
    b = import_file(FIX / "imdb_ratings.csv", movies_frame(), unmatched_dir=tmp_path)
    assert a.thumbs == b.thumbs and b.unmatched_file.read_bytes() == first


def test_rbm_tui_export_round_trips(tmp_path: Path):
    """Thumbs written as ``user,item,rating`` (5 like, 1 dislike) read back identically."""
    r = import_file(FIX / "letterboxd_ratings.csv", movies_frame(), unmatched_dir=tmp_path)
    out = tmp_path / "thumbs.csv"
    lines = ["user,item,rating"] + [f"me,{i},{5 if v else 1}" for i, v in r.thumbs.items()]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    back = import_file(out, movies_frame(), unmatched_dir=tmp_path)
    assert back.format.name == "rbm-tui" and back.thumbs == r.thumbs
    assert back.methods == {"item": len(r.thumbs)}


def test_a_foreign_file_writes_nothing(tmp_path: Path):
    f = tmp_path / "prices.csv"
    f.write_text("name,price\nbread,2\n", encoding="utf-8")
    with pytest.raises(RatingsError, match="prices.csv, line 1"):
        import_file(f, movies_frame(), unmatched_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_loaded_dataset_and_its_links_csv(tmp_path: Path):
    """The glue's path: ``Ratings`` from the loader, ``links.csv`` read beside them."""
    from engine.data.loaders import load_ratings

    d = tmp_path / "set"
    d.mkdir()
    (d / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,2571,4,1\n1,29,3,2\n2,47,5,3\n", encoding="utf-8"
    )
    with (d / "movies.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "title", "genres"])
        w.writerows(m for m in MOVIES if m[0] in (2571, 29, 47))
    (d / "links.csv").write_text(LINKS, encoding="utf-8")
    ratings = load_ratings(d)
    links = read_links(d)
    assert links is not None and int(links.loc[2571, "imdb"]) == 133093
    r = import_file(FIX / "imdb_ratings.csv", ratings, links, unmatched_dir=tmp_path)
    assert r.thumbs == {2571: True, 29: True, 47: False} and r.methods == {"imdb": 3}
    assert all(ratings.lookup_item(i) >= 0 for i in r.thumbs)


def test_an_export_of_another_dataset_is_matched_by_its_titles_not_its_ids(tmp_path: Path):
    """Another dataset's movie 100 is not this one's: a row whose title names another film
    than its ID here goes by its title (or stays unmatched), never to the ID's movie."""
    f = tmp_path / "thumbs.csv"
    f.write_text(
        "user,item,rating,title\n"
        'me,2571,5,"Matrix, The (1999)"\n'  # the same movie: by its ID
        'me,100,5,"Fight Club (1999)"\n'  # 100 is Twins here: Fight Club by title
        "me,47,1,Heat (1995)\n",  # 47 is Seven here, Heat is not in the dataset
        encoding="utf-8",
    )
    r = import_file(f, movies_frame(), unmatched_dir=tmp_path)
    assert r.thumbs == {2571: True, 2959: True}
    assert r.methods == {"item": 1, "title": 1}
    assert [u.row.line for u in r.unmatched_rows] == [4]


def test_bare_ids_most_of_which_the_dataset_lacks_are_refused(tmp_path: Path):
    """A file of IDs without titles from another dataset: its few IDs that exist here mean
    other movies, so nothing is imported."""
    f = tmp_path / "other.csv"
    f.write_text("userId,movieId,rating\n1,2571,5\n1,99999,4\n1,88888,2\n", encoding="utf-8")
    with pytest.raises(RatingsError, match="2 of its 3 movie IDs are not in this dataset"):
        import_file(f, movies_frame(), unmatched_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    f.write_text("userId,movieId,rating\n1,2571,5\n1,47,4\n1,88888,2\n", encoding="utf-8")
    assert import_file(f, movies_frame(), unmatched_dir=tmp_path).thumbs == {2571: True, 47: True}


def test_each_dataset_and_profile_keeps_its_own_list_of_unmatched_rows(tmp_path: Path):
    """Every IMDb and Letterboxd export is called ratings.csv: two people's lists must not
    overwrite each other."""
    a = import_file(FIX / "imdb_ratings.csv", movies_frame(), unmatched_dir=tmp_path, tag="d-Anna")
    b = import_file(FIX / "imdb_ratings.csv", movies_frame(), unmatched_dir=tmp_path,
                    tag="d-Ben Smith/2")  # fmt: skip
    assert a.unmatched_file is not None and b.unmatched_file is not None
    assert a.unmatched_file.name == "imdb-imdb_ratings-d-Anna-unmatched.csv"
    assert b.unmatched_file.name == "imdb-imdb_ratings-d-Ben_Smith_2-unmatched.csv"
