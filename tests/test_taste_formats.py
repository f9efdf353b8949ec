"""Reading rating exports: each format sniffed from its header, bad files refused with one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.errors import RatingsError
from engine.taste.formats import parse

FIX = Path(__file__).parent / "fixtures" / "taste"


def test_imdb_export_is_read_with_ids_titles_years_and_title_types():
    """IMDb's export: tt ids as numbers, 1-10 ratings, original titles, TV series flagged."""
    p = parse(FIX / "imdb_ratings.csv")
    assert p.format.name == "imdb" and (p.format.low, p.format.high) == (1, 10)
    first, lost = p.rows[0], p.rows[1]
    assert (first.imdb, first.rating, first.title, first.year) == (133093, 9.0, "The Matrix", 1999)
    assert lost.original_title == "La cité des enfants perdus"
    assert [r.film for r in p.rows] == [True, True, True, False, True]
    assert first.line == 2 and p.rows[-1].line == 6


def test_the_pre_2017_imdb_export_is_read_too():
    """The old export (``const``, ``You rated``, ``Title type``) is still an IMDb export."""
    p = parse(FIX / "imdb_ratings_2016.csv")
    assert p.format.name == "imdb"
    assert (p.rows[0].imdb, p.rows[0].rating, p.rows[0].year) == (133093, 4.0, 1999)


def test_letterboxd_ratings_are_read_with_names_years_and_half_stars():
    p = parse(FIX / "letterboxd_ratings.csv")
    assert p.format.name == "letterboxd"
    assert [r.rating for r in p.rows] == [4.5, 2.5, 3.0, 5.0, 0.5]
    assert p.rows[3].title == "Lock, Stock and Two Smoking Barrels" and p.rows[3].year == 1998
    assert all(r.imdb is None for r in p.rows)


def test_a_letterboxd_diary_skips_unrated_entries():
    p = parse(FIX / "letterboxd_diary.csv")
    assert p.format.name == "letterboxd"
    assert len(p.rows) == 2 and p.unrated == 1


def test_movielens_export_splits_its_titles_into_names_and_year():
    p = parse(FIX / "movielens_export.csv")
    assert p.format.name == "movielens"
    lost = p.rows[1]
    assert (lost.imdb, lost.tmdb, lost.year) == (112682, 902, 1995)
    assert (lost.title, lost.original_title) == (
        "City of Lost Children, The",
        "Cité des enfants perdus, La",
    )


def test_rbm_tui_thumbs_export_gives_the_datasets_own_ids():
    p = parse(FIX / "rbm_tui_thumbs.csv")
    assert p.format.name == "rbm-tui"
    assert [(r.item, r.rating) for r in p.rows] == [("2571", 5.0), ("29", 1.0), ("47", 5.0)]


def test_a_utf8_bom_and_windows_line_ends_are_read(tmp_path: Path):
    text = (FIX / "letterboxd_ratings.csv").read_text(encoding="utf-8")
    f = tmp_path / "ratings.csv"
    f.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    p = parse(f)
    assert p.format.name == "letterboxd" and p.rows[4].title == "Léon: The Professional"


def _refused(tmp_path: Path, text: str | bytes, name: str = "export.csv") -> RatingsError:
    f = tmp_path / name
    if isinstance(text, bytes):
        f.write_bytes(text)
    else:
        f.write_text(text, encoding="utf-8")
    with pytest.raises(RatingsError) as info:
        parse(f)
    assert str(f) in str(info.value) and "\n" not in str(info.value)
    return info.value


def test_a_foreign_csv_is_refused_naming_file_and_header(tmp_path: Path):
    e = _refused(tmp_path, "name,price\nbread,2\n")
    assert e.line == 1 and "not a ratings export" in str(e)


def test_a_letterboxd_watched_list_is_refused_as_having_no_ratings(tmp_path: Path):
    shutil.copy(FIX / "letterboxd_watched.csv", tmp_path / "watched.csv")
    with pytest.raises(RatingsError, match="without ratings"):
        parse(tmp_path / "watched.csv")


@pytest.mark.parametrize(
    ("line", "problem"),
    [("2024-01-02,The Matrix,1999,https://boxd.it/x,nine", "not a number"),
     ("2024-01-02,The Matrix,1999,https://boxd.it/x,7", "outside"),
     ("2024-01-02,The Matrix,19xx,https://boxd.it/x,4", "not a year")],
)  # fmt: skip
def test_a_bad_value_names_its_line(tmp_path: Path, line: str, problem: str):
    head = "Date,Name,Year,Letterboxd URI,Rating\n2024-01-01,Heat,1995,https://boxd.it/y,4\n"
    e = _refused(tmp_path, head + line + "\n")
    assert e.line == 3 and problem in e.problem


def test_an_imdb_rating_outside_one_to_ten_is_refused(tmp_path: Path):
    text = (FIX / "imdb_ratings.csv").read_text(encoding="utf-8").replace(",9,2024", ",11,2024")
    assert _refused(tmp_path, text).line == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "empty"), (b"\n\n", "empty"), (b",,,\n", "empty"), (b"Const,Your Rating\x00\n", "NUL")],
)
def test_empty_and_binary_files_are_refused(tmp_path: Path, content: bytes, problem: str):
    assert problem in _refused(tmp_path, content).problem


def test_a_folder_and_a_missing_file_are_refused(tmp_path: Path):
    with pytest.raises(RatingsError, match="folder"):
        parse(tmp_path)
    with pytest.raises(RatingsError, match="no such file"):
        parse(tmp_path / "missing.csv")


def test_a_ratings_file_of_several_people_is_not_a_thumbs_export(tmp_path: Path):
    e = _refused(tmp_path, "user,item,rating\n1,10,5\n2,10,1\n")
    assert "2 people" in e.problem


def test_an_imdb_watchlist_is_refused_as_having_no_ratings(tmp_path: Path):
    e = _refused(tmp_path, "Position,Const,Created,Modified,Description,Title\n1,tt0133093,,,,X\n")
    assert "without ratings" in e.problem and e.line == 1


def test_rbm_tui_thumbs_table_without_a_person_column_is_read(tmp_path: Path):
    """The store's table export (``movieId,title,liked,rating,updated``) reads back too."""
    f = tmp_path / "thumbs.csv"
    f.write_text(
        "movieId,title,liked,rating,updated\n"
        '2571,"Matrix, The (1999)",1,5,2024-01-01T00:00:00Z\n'
        "47,Seven (a.k.a. Se7en) (1995),0,1,2024-01-02T00:00:00Z\n",
        encoding="utf-8",
    )
    p = parse(f)
    assert p.format.name == "rbm-tui"
    rows = [(r.item, r.rating, r.title, r.original_title, r.year) for r in p.rows]
    assert rows == [("2571", 5.0, "Matrix, The", "", 1999), ("47", 1.0, "Seven", "Se7en", 1995)]


LB = "Date,Name,Year,Letterboxd URI,Rating\n"


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        # a quote opened on line 3 and never closed: the rest of the file is not one title
        ('2024-01-01,Heat,1995,u,4\n2024-01-02,"Alien,1979,u,4\n2024-01-03,Jaws,1975,u,5\n',
         3, "never closed"),
        # a quote that swallows a line and closes on the next: one record, named by its first
        ('2024-01-01,"Heat,1995,u,4\n2024-01-02,Alien",1979,u,4\n2024-01-03,Jaws,1975,u,5\n',
         2, "several lines"),
        ("2024-01-01,Heat,1995,u,4\n2024-01-02,Alien,1979,u\n", 3, "4 cells"),
        ('2024-01-01,"Heat"x,1995,u,4\n', 2, "bad CSV"),
    ],
)  # fmt: skip
def test_a_stray_quote_or_a_short_row_is_refused_at_its_first_line(tmp_path, body, line, problem):
    """A row the CSV reader cannot split as the header is never skipped or shifted in silence."""
    e = _refused(tmp_path, LB + body)
    assert e.line == line and problem in e.problem


def test_a_bad_value_after_a_review_over_several_lines_names_the_line_it_starts_on(tmp_path):
    head = "Date,Name,Year,Letterboxd URI,Rating,Review\n"
    body = '2024-01-01,Heat,1995,u,4,"long\n\nand good"\n2024-01-03,Jaws,1975,u,x,ok\n'
    e = _refused(tmp_path, head + body)
    assert e.line == 5 and "not a number" in e.problem


def test_letterboxds_export_zip_is_read_from_its_ratings_csv(tmp_path: Path):
    import zipfile

    z = tmp_path / "letterboxd-anna-2024-05-01-10-00-utc.zip"
    with zipfile.ZipFile(z, "w") as out:
        out.writestr("watched.csv", "Date,Name,Year,Letterboxd URI\n2024-01-01,Heat,1995,u\n")
        out.writestr("deleted/ratings.csv", LB + "2024-01-01,Jaws,1975,u,1\n")
        out.writestr("ratings.csv", LB + "2024-01-01,Heat,1995,u,4.5\n")
    p = parse(z)
    assert p.format.name == "letterboxd"
    assert [(r.title, r.rating) for r in p.rows] == [("Heat", 4.5)]
    bad = tmp_path / "other.zip"
    with zipfile.ZipFile(bad, "w") as out:
        out.writestr("a.csv", "x\n")
        out.writestr("b.csv", "y\n")
    with pytest.raises(RatingsError, match="without ratings.csv"):
        parse(bad)
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(RatingsError, match="without ratings.csv"):
        parse(empty)
    with zipfile.ZipFile(bad, "a") as out:
        out.writestr("ratings.csv", LB + "2024-01-01,Heat,1995,u,nine\n")
    with pytest.raises(RatingsError, match=r"other\.zip/ratings\.csv, line 2"):
        parse(bad)


def test_utf16_and_a_semicolon_sheets_decimal_commas_are_read(tmp_path: Path):
    """Excel's "Unicode text" (UTF-16, tabs) and a European sheet (``;`` and ``4,5``)."""
    from engine.taste.formats import sniff_file

    tabbed = (LB + "2024-01-01,Amélie,2001,u,4.5\n").replace(",", "\t")
    f = tmp_path / "ratings.txt"
    f.write_bytes(tabbed.encode("utf-16"))
    assert sniff_file(f).name == "letterboxd"
    assert [(r.title, r.rating) for r in parse(f).rows] == [("Amélie", 4.5)]
    f.write_text((LB + "2024-01-01,Heat,1995,u,4,5\n").replace(",", ";").replace("4;5", "4,5"))
    assert [(r.title, r.rating) for r in parse(f).rows] == [("Heat", 4.5)]
    f.write_text(LB + '2024-01-01,Heat,1995,u,"4,5"\n')  # a comma file's 4,5 stays refused
    assert "not a number" in _refused(tmp_path, f.read_text()).problem


HEADERS = [
    "Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,"
    "Runtime (mins),Year,Genres,Num Votes,Release Date,Directors",
    "Date,Name,Year,Letterboxd URI,Rating",
    "movie_id,imdb_id,tmdb_id,rating,average_rating,title",
    "user,item,rating",
]


def test_any_body_either_reads_or_is_refused_with_one_line(tmp_path_factory):
    """Whatever follows a known header, parsing returns rows or raises RatingsError."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    folder = tmp_path_factory.mktemp("fuzz")

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from([*HEADERS, ""]),
           st.text(alphabet=st.sampled_from('ab1.5,"\n\r;\ttT -:'), max_size=200))  # fmt: skip
    def check(header: str, body: str) -> None:
        f = folder / "export.csv"
        f.write_text(header + "\n" + body, encoding="utf-8")
        try:
            p = parse(f)
        except RatingsError as e:
            assert "\n" not in str(e) and str(f) in str(e)
            return
        assert all(p.format.low <= r.rating <= p.format.high for r in p.rows)

    check()
