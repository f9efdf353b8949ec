"""engine.loaders: every supported format, bad input, duplicates and the parse cache."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data import cache as rcache
from engine.data.loaders import load_ratings
from engine.data.movies import parse_year
from engine.data.parsing import (
    FORMAT_CSV,
    FORMAT_ML1M,
    FORMAT_ML10M,
    FORMAT_ML100K,
    FORMAT_ML_LATEST,
)
from engine.errors import RatingsError

MISERABLES = "Misérables, Les (1995)"


# --------------------------------------------------------------------------- fixtures
def write_ml100k(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    rows = [
        (1, 1, 5, 874965758),
        (1, 2, 3, 876893171),
        (2, 1, 4, 888550871),
        (2, 3, 1, 888551000),
        (3, 2, 2, 889237455),
    ]
    (d / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows))
    (d / "u1.base").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows[:4]))
    (d / "u1.test").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows[4:]))
    flags = ["0"] * 19
    comedy = flags.copy()
    comedy[3] = comedy[5] = "1"  # Animation, Comedy
    drama = flags.copy()
    drama[8] = drama[12] = "1"  # Drama, Musical
    unknown = flags.copy()
    unknown[0] = "1"
    lines = [
        "1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(comedy),
        f"2|{MISERABLES}|01-Jan-1995||http://x|" + "|".join(drama),
        "3|Nameless|12-Mar-1997||http://x|" + "|".join(flags),
        "4|unknown||||" + "|".join(unknown),
    ]
    (d / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    genres = (
        "unknown|Action|Adventure|Animation|Children's|Comedy|Crime|Documentary|Drama|"
        "Fantasy|Film-Noir|Horror|Musical|Mystery|Romance|Sci-Fi|Thriller|War|Western"
    ).split("|")
    (d / "u.genre").write_bytes(
        "".join(f"{g}|{k}\n" for k, g in enumerate(genres)).encode("latin-1") + b"\n"
    )
    return d


def write_ml1m(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "ratings.dat").write_text(
        "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n3::661::2::978297867\n"
    )
    (d / "movies.dat").write_bytes(
        (
            "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
            f"1193::{MISERABLES}::Drama|Musical\n"
            "2000::Star Wars: Episode IV - A New Hope (1977)::Action|Sci-Fi\n"
        ).encode("latin-1")
    )
    (d / "users.dat").write_text("1::F::1::10::48067\n")
    return d


def write_ml10m(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "ratings.dat").write_text(
        "1::122::5::838985046\n1::185::4.5::838983525\n2::122::0.5::868245777\n"
    )
    (d / "movies.dat").write_text(
        "122::Boomerang (1992)::Comedy|Romance\n"
        "185::Net, The (1995)::Action|Crime|Thriller\n"
        "186::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::Comedy|Romance\n",
        encoding="utf-8",
    )
    return d


def write_latest(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n"
        "1,11,4.0,964982703\n"
        "1,209171,3.5,964981247\n"
        "7,11,0.5,964982224\n"
        "7,3,5.0,964983815\n"
    )
    (d / "movies.csv").write_text(
        "movieId,title,genres\n"
        "3,Grumpier Old Men (1995),Comedy|Romance\n"
        '11,"American President, The (1995)",Comedy|Drama|Romance\n'
        '209171,"Babylon 5 (2006-2007) ",(no genres listed)\n'
        "209172,Never Rated (2019),Drama\n",
        encoding="utf-8",
    )
    return d


def zip_dir(src: Path, zpath: Path, prefix: str) -> Path:
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(prefix + "/", "")
        for f in sorted(src.iterdir()):
            zf.write(f, f"{prefix}/{f.name}")
    return zpath


def pairs(r) -> dict:
    """{(user ID, movie ID): rating} with original IDs."""
    return {
        (u, i): float(v)
        for u, i, v in zip(
            r.user_ids[r.users].tolist(), r.item_ids[r.items].tolist(), r.values.tolist()
        )
    }


def movie(r, item_id) -> dict:
    return r.movies.iloc[r.lookup_item(item_id)].to_dict()


# --------------------------------------------------------------------------- small formats
def test_ml100k_dir_file_and_zip(tmp_path: Path) -> None:
    d = write_ml100k(tmp_path / "ml-100k")
    z = zip_dir(d, tmp_path / "ml-100k.zip", "ml-100k")
    for path in (d, d / "u.data", z):
        r = load_ratings(path, cache=False)
        assert r.report.format == FORMAT_ML100K
        assert (r.n_users, r.n_items, r.n_ratings) == (3, 4, 5)
        assert r.user_ids.dtype == np.int64 and r.item_ids.dtype == np.int64
        assert pairs(r)[(2, 3)] == 1.0
        assert movie(r, 2)["title"] == MISERABLES
        assert movie(r, 2)["year"] == 1995
        assert movie(r, 2)["genres"] == "Drama|Musical"
        assert movie(r, 1)["genres"] == "Animation|Comedy"
        assert movie(r, 3)["year"] == 1997  # from the release date
        assert movie(r, 4)["title"] == "unknown" and pd.isna(movie(r, 4)["year"])
        assert movie(r, 4)["genres"] == ""
        assert r.timestamps is not None and r.timestamps[0] == 874965758
        assert r.report.rows_read == 5


def test_ml100k_fold_file_takes_sibling_titles(tmp_path: Path) -> None:
    d = write_ml100k(tmp_path / "ml-100k")
    r = load_ratings(d / "u1.base", cache=False)
    assert r.n_ratings == 4
    assert r.n_items == 4  # movies in u.item are kept even when unrated here
    assert movie(r, 2)["title"] == MISERABLES


def test_ml1m_latin1_titles(tmp_path: Path) -> None:
    d = write_ml1m(tmp_path / "ml-1m")
    z = zip_dir(d, tmp_path / "ml-1m.zip", "ml-1m")
    for path in (d, d / "ratings.dat", z):
        r = load_ratings(path, cache=False)
        assert r.report.format == FORMAT_ML1M
        assert r.n_ratings == 4 and r.n_users == 3
        assert r.n_items == 3  # 2000 is listed but never rated
        assert movie(r, 1193)["title"] == MISERABLES
        assert movie(r, 1193)["genres"] == "Drama|Musical"
        assert movie(r, 2000)["title"] == "Star Wars: Episode IV - A New Hope (1977)"
        assert movie(r, 2000)["year"] == 1977
        assert pairs(r)[(3, 661)] == 2.0


def test_ml10m_utf8_half_stars(tmp_path: Path) -> None:
    d = write_ml10m(tmp_path / "ml-10M100K")
    r = load_ratings(d, cache=False)
    assert r.report.format == FORMAT_ML10M
    assert pairs(r)[(1, 185)] == 4.5 and pairs(r)[(2, 122)] == 0.5
    assert movie(r, 186)["title"].startswith("Amélie")
    assert movie(r, 186)["year"] == 2001


def test_ml_latest_quoted_titles(tmp_path: Path) -> None:
    d = write_latest(tmp_path / "ml-latest-small")
    z = zip_dir(d, tmp_path / "ml-latest-small.zip", "ml-latest-small")
    for path in (d, d / "ratings.csv", z):
        r = load_ratings(path, cache=False)
        assert r.report.format == FORMAT_ML_LATEST
        assert r.n_ratings == 4 and r.n_users == 2 and r.n_items == 4
        assert movie(r, 11)["title"] == "American President, The (1995)"
        assert movie(r, 11)["genres"] == "Comedy|Drama|Romance"
        assert movie(r, 209171)["year"] == 2006
        assert movie(r, 209171)["genres"] == ""
        assert movie(r, 209172)["title"] == "Never Rated (2019)"
        assert pairs(r)[(1, 209171)] == 3.5
        assert r.values.dtype == np.float32


@pytest.mark.parametrize(
    "header,sep",
    [
        ("user,item,rating,timestamp", ","),
        ("UserID;MovieID;Score", ";"),
        ("user_id\titem_id\tstars\tts", "\t"),
        ("userid,movie_id,rating,comment", ","),
    ],
)
def test_generic_headers_and_delimiters(tmp_path: Path, header: str, sep: str) -> None:
    cols = header.split(sep)
    rows = [["1", "10", "4", "100"], ["2", "10", "2.5", "200"], ["2", "30", "5", "300"]]
    text = header + "\n" + "".join(sep.join(r[: len(cols)]) + "\n" for r in rows)
    f = tmp_path / "mine.csv"
    f.write_text(text)
    r = load_ratings(f, cache=False)
    assert r.report.format == FORMAT_CSV
    assert pairs(r) == {(1, 10): 4.0, (2, 10): 2.5, (2, 30): 5.0}
    has_ts = cols[-1].lower() in ("timestamp", "ts")
    assert (r.timestamps is not None) == has_ts


def test_generic_string_ids_and_sibling_movies(tmp_path: Path) -> None:
    f = tmp_path / "likes.csv"
    f.write_text('user,item,rating\nalice,m1,4\n"bob, jr",m2,1\nalice,7,3\n')
    (tmp_path / "movies.csv").write_text("movieId,title,genres\nm1,First (2001),Drama\n")
    r = load_ratings(f, cache=False)
    assert r.user_ids.dtype == object and set(r.user_ids) == {"alice", "bob, jr"}
    assert set(r.item_ids) == {"m1", "m2", "7"}
    assert movie(r, "m1")["title"] == "First (2001)"
    assert movie(r, "m2")["title"] == "m2"
    assert r.lookup_item("7") == r.lookup_item(7)


def test_generic_int_users_string_items(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("user,item,rating\n1,tt01,4\n2,tt02,3\n")
    r = load_ratings(f, cache=False)
    assert r.user_ids.dtype == np.int64
    assert r.item_ids.dtype == object


def test_big_int_ids_stay_int64(tmp_path: Path) -> None:
    f = tmp_path / "big.csv"
    f.write_text("user,item,rating\n3000000000,1,4\n2,-5000000000,3\n")
    r = load_ratings(f, cache=False)
    assert r.user_ids.dtype == np.int64 and r.item_ids.dtype == np.int64
    assert pairs(r) == {(3_000_000_000, 1): 4.0, (2, -5_000_000_000): 3.0}
    d = write_ml1m(tmp_path / "ml-1m")
    (d / "ratings.dat").write_text("1::1193::5::978300760\n9000000000::661::3::978302109\n")
    r = load_ratings(d, cache=False)
    assert r.user_ids.tolist() == [1, 9_000_000_000]


def test_headerless_tsv(tmp_path: Path) -> None:
    f = tmp_path / "plain.tsv"
    f.write_text("1\t5\t3\t881250949\n2\t5\t4\t881250950\n")
    r = load_ratings(f, cache=False)
    assert r.n_ratings == 2 and r.timestamps is not None


def test_bom_and_crlf(tmp_path: Path) -> None:
    f = tmp_path / "win.csv"
    f.write_bytes(b"\xef\xbb\xbfuser,item,rating\r\n1,2,3\r\n\r\n4,5,1.5\r\n")
    r = load_ratings(f, cache=False)
    assert pairs(r) == {(1, 2): 3.0, (4, 5): 1.5}


def test_parse_year() -> None:
    assert parse_year("Heat (1995)") == 1995
    assert parse_year("Babylon 5 (2006-2007) ") == 2006
    assert parse_year("Nameless") is None
    assert parse_year("Movie (1999) extra") is None


# --------------------------------------------------------------------------- duplicates
def test_duplicates_keep_latest_timestamp(tmp_path: Path) -> None:
    f = tmp_path / "dup.csv"
    f.write_text("user,item,rating,timestamp\n1,1,2,300\n1,1,5,100\n2,1,3,1\n1,1,4,200\n2,1,1,1\n")
    r = load_ratings(f, cache=False)
    assert r.report.duplicates_dropped == 3
    assert r.report.rows_read == 5
    assert pairs(r) == {(1, 1): 2.0, (2, 1): 1.0}  # latest time; a tie keeps the last row


def test_duplicates_without_timestamps_keep_last_row(tmp_path: Path) -> None:
    f = tmp_path / "dup.csv"
    f.write_text("user,item,rating\n1,1,2\n1,2,5\n1,1,4\n")
    r = load_ratings(f, cache=False)
    assert r.report.duplicates_dropped == 1
    assert pairs(r) == {(1, 1): 4.0, (1, 2): 5.0}


# --------------------------------------------------------------------------- bad input
def check_error(path: Path, line: int | None, *words: str) -> RatingsError:
    with pytest.raises(RatingsError) as ei:
        load_ratings(path)
    e = ei.value
    msg = str(e)
    assert Path(e.path).name in msg or e.path in msg
    assert e.line == line, msg
    if line is not None:
        assert f"line {line}" in msg
    for w in words:
        assert w in msg, msg
    assert e.hint, msg
    return e


def test_missing_file(tmp_path: Path) -> None:
    e = check_error(tmp_path / "nope.csv", None, "no such file")
    assert e.path.endswith("nope.csv")


def test_empty_files(tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_text("")
    check_error(f, None, "empty")
    g = tmp_path / "header_only.csv"
    g.write_text("user,item,rating\n")
    check_error(g, None, "no ratings")
    h = tmp_path / "u.data"
    h.write_text("")
    check_error(h, None, "empty")


@pytest.mark.parametrize(
    "text,line,words",
    [
        ("user,item,rating\n1,2,3\n1,3\n", 3, ("expected 3 fields", "found 2")),
        ("user,item,rating\n1,2,3\n1,3,4,5\n", 3, ("found 4",)),
        ("user,item,rating\n1,2,3,9\n1,3,4,5\n", 2, ("found 4",)),
        ("user,item,rating\n1,2,3\n\n1,3,good\n", 4, ("'good' is not a number",)),
        ("user,item,rating\n1,2,3\n1,3,-1\n", 3, ("outside the 0-10 scale",)),
        ("user,item,rating\n1,2,11\n", 2, ("outside",)),
        ("user,item,rating\n1,2,nan\n", 2, ("outside",)),
        ("user,item,rating\na,b,3\nc,,4\n", 3, ("movie ID is empty",)),
        ("user,item,rating,timestamp\n1,2,3,4\n1,3,4,yesterday\n", 3, ("timestamp",)),
        ("user,item,rating,timestamp\n1,2,3,4\n1,3,4\n", 3, ("expected 4 fields",)),
        ("name,title,when\nx,y,z\n", 1, ("unknown column layout", "user", "rating")),
        ("1,2\n", 1, ("no header",)),
    ],
)
def test_generic_bad_rows(tmp_path: Path, text: str, line: int, words: tuple) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    check_error(f, line, "bad.csv", *words)


def test_undecodable_text(tmp_path: Path) -> None:
    f = tmp_path / "bytes.csv"
    f.write_bytes(b"user,item,rating\nalice,m1,4\nb\xffb,m2,3\n")
    check_error(f, 3, "UTF-8")


def test_ml100k_bad_rows(tmp_path: Path) -> None:
    d = write_ml100k(tmp_path / "ml-100k")
    with open(d / "u.data", "a") as fh:
        fh.write("4\t1\t5\n")
    check_error(d, 6, "u.data", "expected 4 fields", "tabs")
    (d / "u.data").write_text("1\t1\t5\t1\n1\tx\t5\t1\n")
    check_error(d, 2, "'x' is not a whole number")
    (d / "u.data").write_text("1\t1\t5\t1\n1\t2\t55\t1\n")
    check_error(d, 2, "outside")


def test_dat_bad_rows(tmp_path: Path) -> None:
    d = write_ml1m(tmp_path / "ml-1m")
    with open(d / "ratings.dat", "a") as fh:
        fh.write("4::1193::4\n")
    check_error(d, 5, "ratings.dat", "expected 4 fields", "'::'")
    (d / "ratings.dat").write_text("1::1193::5::1\n1:x:2::3::4\n")
    check_error(d, 2, "expected 4 fields")
    (d / "ratings.dat").write_text("1::1193::5::1\n1::2::five::4\n")
    check_error(d, 2, "'five' is not a number")


@pytest.mark.parametrize("block", [1, 2, 3, 1000])
def test_bad_line_found_across_scan_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    import engine.data.parsing as loaders

    monkeypatch.setattr(loaders, "_SCAN_BLOCK", block)
    f = tmp_path / "blocks.csv"
    f.write_bytes(b"\xef\xbb\xbfuser,item,rating\n1,1,4\n\n2,2,3\n3,3,2\n4,4,1,9\n5,5,5\n")
    check_error(f, 6, "found 4")
    d = write_ml1m(tmp_path / "ml-1m")
    (d / "ratings.dat").write_text("1::1::5::1\n2::2::4::2\n3::3::4::3\n4::4::4\n5::5::5::5\n")
    check_error(d, 4, "expected 4 fields")
    (d / "ratings.dat").write_text("1::1::5::1\n2::2::4::2\n3::3::4::3\n4::4::44::4\n")
    check_error(d, 4, "outside")


def test_zip_errors(tmp_path: Path) -> None:
    z = tmp_path / "nothing.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ml-x/README.txt", "hi")
    check_error(z, None, "no ratings file")
    d = write_ml100k(tmp_path / "ml-100k")
    (d / "u.data").write_text("1\t1\t5\t1\n1\t1\n")
    z2 = zip_dir(d, tmp_path / "ml-100k.zip", "ml-100k")
    e = check_error(z2, 2, "ml-100k.zip", "u.data")
    assert "ml-100k.zip" in e.path


def test_folder_without_ratings(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("user,item,rating\n1,1,1\n")
    (tmp_path / "b.csv").write_text("user,item,rating\n1,1,1\n")
    check_error(tmp_path, None, "no ratings file")


# --------------------------------------------------------------------------- cache
def test_cache_roundtrip(tmp_path: Path, rbm_home: Path) -> None:
    d = write_latest(tmp_path / "ml-latest-small")
    a = load_ratings(d)
    assert not a.report.from_cache
    files = list((rbm_home / "cache" / "ratings").glob("*.npz"))
    assert len(files) == 1
    b = load_ratings(d)
    assert b.report.from_cache
    assert b.report.format == a.report.format and b.report.rows_read == a.report.rows_read
    for name in ("users", "items", "values", "timestamps", "user_ids", "item_ids"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y)
    pd.testing.assert_frame_equal(a.movies, b.movies)
    c = load_ratings(d, cache=False)
    assert not c.report.from_cache


def test_cache_string_ids(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text("user,item,rating\nélodie,m1,4\nbob,m2,1\n")
    a = load_ratings(f)
    b = load_ratings(f)
    assert b.report.from_cache
    assert b.user_ids.tolist() == a.user_ids.tolist() and b.user_ids.dtype == object
    assert b.timestamps is None
    pd.testing.assert_frame_equal(a.movies, b.movies)


def test_cache_invalidated_by_change(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("user,item,rating\n1,1,4\n")
    load_ratings(f)
    f.write_text("user,item,rating\n1,1,4\n2,2,2\n")
    os.utime(f, ns=(1, 1))
    r = load_ratings(f)
    assert not r.report.from_cache and r.n_ratings == 2


def test_corrupt_cache_is_rebuilt(tmp_path: Path, rbm_home: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("user,item,rating\n1,1,4\n2,1,3\n")
    load_ratings(f)
    (cf,) = (rbm_home / "cache" / "ratings").glob("*.npz")
    cf.write_bytes(b"garbage")
    r = load_ratings(f)
    assert not r.report.from_cache and r.n_ratings == 2
    assert load_ratings(f).report.from_cache
    cf.write_bytes(cf.read_bytes()[:200])  # truncated
    assert not load_ratings(f).report.from_cache


def test_no_cache_written_on_failure(tmp_path: Path, rbm_home: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("user,item,rating\n1,1,x\n")
    with pytest.raises(RatingsError):
        load_ratings(f)
    assert not list((rbm_home / "cache").rglob("*.npz"))


def test_cache_key_depends_on_content(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("user,item,rating\n1,1,4\n")
    k1 = rcache.cache_key(f, [f])
    st = f.stat()
    f.write_text("user,item,rating\n1,1,5\n")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime
    assert rcache.cache_key(f, [f]) != k1


# --------------------------------------------------------------------------- real ML-100K
def test_real_ml100k(ml100k_dir: Path) -> None:
    r = load_ratings(ml100k_dir)
    assert (r.n_users, r.n_items, r.n_ratings) == (943, 1682, 100_000)
    assert r.report.format == FORMAT_ML100K and r.report.duplicates_dropped == 0
    assert r.like_share() == pytest.approx(0.825, abs=5e-4)
    assert r.scale == (1.0, 5.0)
    assert movie(r, 543)["title"] == MISERABLES
    assert movie(r, 1)["title"] == "Toy Story (1995)"
    assert movie(r, 1)["genres"] == "Animation|Children's|Comedy"
    assert r.movies["year"].notna().sum() >= 1680
    again = load_ratings(ml100k_dir)
    assert again.report.from_cache and again.n_ratings == 100_000
    base = load_ratings(ml100k_dir / "u1.base")
    assert base.n_ratings == 80_000 and base.n_items == 1682


def test_real_ml100k_zip(ml100k_dir: Path, tmp_path: Path) -> None:
    z = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("u.data", "u.item", "u.genre", "u1.base", "README"):
            zf.write(ml100k_dir / name, f"ml-100k/{name}")
    r = load_ratings(z, cache=False)
    assert (r.n_users, r.n_items, r.n_ratings) == (943, 1682, 100_000)
    assert movie(r, 543)["title"] == MISERABLES


def test_real_benchmark_csv(bench_dir: Path) -> None:
    r = load_ratings(bench_dir / "train.csv")
    assert r.report.format == FORMAT_CSV
    assert r.n_ratings == 75_066
    assert r.timestamps is not None


def test_one_bad_row_of_movies_csv_keeps_the_other_titles(tmp_path):
    """A sheet's blank ``,,`` line (or an ID like ``x``) made every movie ID text, and then
    every title, year and genre was dropped without a word; only that row goes now."""
    from engine.data.loaders import load_ratings

    d = tmp_path / "set"
    d.mkdir()
    (d / "ratings.csv").write_text("userId,movieId,rating\n1,1,4\n2,2,3\n")
    (d / "movies.csv").write_text(
        'movieId,title,genres\n1,Toy Story (1995),Comedy\n2,"Heat, The (1995)",Crime\n,,\nx,y,z\n'
    )
    r = load_ratings(d, cache=False)
    assert r.title_list() == ["Toy Story (1995)", "Heat, The (1995)"]
    assert r.movies["year"].tolist() == [1995, 1995]
    assert r.movies["genres"].tolist() == ["Comedy", "Crime"]
