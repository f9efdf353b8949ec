"""Faults of data and catalogue input (issue 34): damaged zips read in place, hostile folders
on import, endless lines, numeric warnings, nested zips, crafted ``imported.json`` entries and
repeated (person, movie) rows. Each gets one clear line (exit 2 on the command line) and
leaves nothing half-done."""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import pytest
from helpers import write_dataset

from engine import archive, paths
from engine import catalogue as ds
from engine.catalogue import importer
from engine.data import linelength
from engine.data.loaders import load_ratings
from engine.errors import DatasetError, RatingsError
from rbm_tui.cli import main

REPO = Path(__file__).resolve().parent.parent
ROWS = "userId,movieId,rating\n" + "".join(
    f"{u},{i},{1 + (u * 7 + i) % 5}\n" for u in range(1, 41) for i in range(1, 31)
)


def run(argv: list) -> tuple[int, str, str]:
    """``main(argv)`` with stdout/stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def one_error_line(err: str) -> bool:
    lines = err.splitlines()
    return len(lines) == 1 and lines[0].startswith("rbm-tui: error:") and "Traceback" not in err


def imported_names() -> list[str]:
    return [d.name for d in ds.catalogue() if d.kind == "imported"]


# ------------------------------------------------------------- 1. damaged zips in place
def damaged_zip(path: Path, kind: str) -> Path:
    """A zip whose ratings.csv has a flipped byte ("crc") or headers that understate its
    size ("size"): the central directory reads fine, the member does not."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("ml/ratings.csv", ROWS)
    b = bytearray(path.read_bytes())
    if kind == "crc":
        i = b.index(b"userId") + 500
        b[i] = ord("9") if b[i] != ord("9") else ord("8")
    else:
        c = b.index(b"PK\x01\x02")
        half = struct.unpack_from("<I", b, c + 24)[0] // 2
        for offset in (c + 20, c + 24, 18, 22):  # central and local: compressed, plain sizes
            struct.pack_into("<I", b, offset, half)
    path.write_bytes(bytes(b))
    return path


@pytest.mark.parametrize("kind", ["crc", "size"])
def test_a_damaged_zip_read_in_place_is_one_line_naming_the_zip(kind, tmp_path):
    z = damaged_zip(tmp_path / "ml.zip", kind)
    with pytest.raises(RatingsError) as e:
        load_ratings(z, cache=False)
    assert str(e.value).startswith(f"{z}: ") and "damaged" in str(e.value)
    for argv in (["train", z, "--epochs", "1"], ["datasets", "info", z]):
        rc, out, err = run(argv)
        assert rc == 2 and one_error_line(err), err
        assert str(z) in err and "damaged" in err


def test_recommend_on_a_damaged_zip_is_one_line(seeded_model_file, tmp_path):
    z = damaged_zip(tmp_path / "ml.zip", "crc")
    rc, out, err = run(["recommend", z, "--model", seeded_model_file, "--user", "1"])
    assert rc == 2 and one_error_line(err) and str(z) in err, err


def test_a_zip_with_too_many_entries_is_refused_before_extracting(monkeypatch, tmp_path):
    monkeypatch.setattr(archive, "MAX_ENTRIES", 10)
    z = tmp_path / "many.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ml/ratings.csv", ROWS)
        for k in range(10):
            zf.writestr(f"ml/extra{k}.txt", "x")
    with pytest.raises(DatasetError, match="11 entries, more than 10"):
        ds.safe_extract(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(DatasetError, match="11 entries"):
        ds.import_dataset(z, "many")
    assert imported_names() == []
    with pytest.raises(RatingsError, match="11 entries"):
        load_ratings(z, cache=False)


# ------------------------------------------------------------------ 3. folder imports
def test_a_link_to_dev_zero_in_a_folder_is_refused(tmp_path):
    src = write_dataset(tmp_path / "src")
    (src / "zero.bin").symlink_to("/dev/zero")
    with pytest.raises(DatasetError, match="zero.bin is a link to /dev/zero, outside"):
        ds.import_dataset(src, "z")
    assert imported_names() == [] and not (paths.datasets_dir() / "z").exists()


def test_a_link_to_the_parent_folder_is_refused_not_followed(tmp_path):
    src = write_dataset(tmp_path / "src")
    (src / "up").symlink_to("..", target_is_directory=True)
    with pytest.raises(DatasetError, match="up is a link to"):
        ds.import_dataset(src, "up")
    assert imported_names() == []


def test_a_link_to_a_folder_inside_is_refused(tmp_path):
    src = write_dataset(tmp_path / "src")
    (src / "sub").mkdir()
    (src / "again").symlink_to("sub", target_is_directory=True)
    with pytest.raises(DatasetError, match="not a regular file"):
        ds.import_dataset(src, "again")


@pytest.mark.parametrize(
    "links", [{"a": "b", "b": "a"}, {"gone": "nowhere.csv"}], ids=["loop", "dangling"]
)
def test_a_link_that_leads_nowhere_is_one_line(links, tmp_path):
    src = write_dataset(tmp_path / "src")
    for name, target in links.items():
        (src / name).symlink_to(target)
    rc, out, err = run(["datasets", "import", src, "--name", "nowhere"])
    assert rc == 2 and one_error_line(err) and "leads nowhere" in err, err
    assert imported_names() == []


def test_a_fifo_in_a_folder_is_refused_without_blocking(tmp_path):
    src = write_dataset(tmp_path / "src")
    os.mkfifo(src / "pipe")
    with pytest.raises(DatasetError, match="pipe is not a regular file"):
        ds.import_dataset(src, "fifo")
    assert imported_names() == []


def test_a_link_to_a_file_inside_is_copied_as_that_file(tmp_path):
    src = write_dataset(tmp_path / "src")
    (src / "docs").mkdir()
    (src / "docs" / "README.txt").write_text("read me")
    (src / "README").symlink_to("docs/README.txt")
    ds.import_dataset(src, "inside")
    copy = paths.datasets_dir() / "inside"
    assert not (copy / "README").is_symlink() and (copy / "README").read_text() == "read me"
    assert (copy / "ratings.csv").read_bytes() == (src / "ratings.csv").read_bytes()
    assert load_ratings(copy, cache=False).n_ratings == load_ratings(src, cache=False).n_ratings


def test_an_import_stops_at_the_byte_cap_and_leaves_nothing(monkeypatch, tmp_path):
    src = write_dataset(tmp_path / "src")
    (src / "big.bin").write_bytes(b"x" * 300_000)
    monkeypatch.setattr(importer, "MAX_IMPORT_BYTES", 200_000)
    with pytest.raises(DatasetError, match="more than 200,000 bytes"):
        ds.import_dataset(src, "big")
    assert imported_names() == [] and not (paths.datasets_dir() / "big").exists()
    assert [p.name for p in paths.datasets_dir().iterdir() if p.name != "imported.json"] == []
    f = src / "ratings.csv"  # a single file and its metadata count against the cap too
    monkeypatch.setattr(importer, "MAX_IMPORT_BYTES", f.stat().st_size + 10)
    with pytest.raises(DatasetError, match="more than"):
        ds.import_dataset(f, "one")


# ---------------------------------------------------------------- 6. an endless line
def test_an_endless_line_is_named_with_little_memory(monkeypatch, tmp_path):
    monkeypatch.setattr(linelength, "MAX_LINE_BYTES", 64 * 1024)
    f = tmp_path / "ratings.csv"
    with open(f, "wb") as fh:
        fh.write(b"userId,movieId,rating\n1,1,5\n1,2,")
        for _ in range(128):
            fh.write(b"7" * 65536)  # 8 MiB without a line break
    tracemalloc.start()
    try:
        with pytest.raises(RatingsError) as e:
            load_ratings(f, cache=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.value.line == 3 and "longer than 65,536 bytes" in str(e.value)
    assert peak < 2 << 20, peak  # the line is 8 MiB; the check holds a few blocks at most


def test_an_endless_line_inside_a_zip_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(linelength, "MAX_LINE_BYTES", 4096)
    z = tmp_path / "ml.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml/ratings.csv", ROWS + "1,1," + "5" * 10_000 + "\n")
    with pytest.raises(RatingsError) as e:
        load_ratings(z, cache=False)
    assert e.value.line == ROWS.count("\n") + 1 and str(e.value).startswith(f"{z}:ml/ratings")
    assert "longer than 4,096 bytes" in str(e.value)


def test_lines_up_to_the_limit_still_load(monkeypatch, tmp_path):
    monkeypatch.setattr(linelength, "MAX_LINE_BYTES", 64)
    f = tmp_path / "ratings.csv"
    long_id = "9" * (64 - len(",1,5"))
    f.write_text("user,item,rating\n" + f"{long_id},1,5\n" * 3 + "2,1,4\n")
    assert load_ratings(f, cache=False).n_ratings == 2
    f.write_text("user,item,rating\n" + f"{long_id}0,1,5\n2,1,4\n")
    with pytest.raises(RatingsError, match="line 2: this line is longer than 64 bytes"):
        load_ratings(f, cache=False)


# ---------------------------------------------------------------- 7. numeric warnings
def test_an_overflowing_rating_is_one_line_on_stderr(tmp_path):
    f = tmp_path / "ratings.csv"
    f.write_text("userId,movieId,rating\n1,1,5\n1,2,1e308\n2,1,3\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "default"}
    proc = subprocess.run(
        [sys.executable, "-m", "rbm_tui", "datasets", "info", str(f)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and one_error_line(proc.stderr), proc.stderr
    assert "line 3" in proc.stderr and "1e308" in proc.stderr


def test_a_threshold_beyond_float32_counts_no_likes_without_a_warning(tmp_path):
    r = load_ratings(write_dataset(tmp_path / "d"), cache=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not r.liked(1e308).any() and r.like_share(1e308) == 0.0
        assert r.liked(-1e308).all()


# ------------------------------------------------------------------ 12. nested zips
def test_a_nested_zip_import_error_names_the_zip_not_a_temp_folder(tmp_path):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("ml/ratings.csv", ROWS)
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "data/inner.zip")
    rc, out, err = run(["datasets", "import", outer])
    assert rc == 2 and one_error_line(err), err
    assert str(outer) in err and ".import-" not in err and str(paths.datasets_dir()) not in err
    bad = tmp_path / "bad.zip"  # a bad line inside a zip: named as zip:member, line
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("ml/ratings.csv", ROWS + "1,2,x\n")
    with pytest.raises(DatasetError) as e:
        ds.import_dataset(bad)
    assert f"{bad}:ml/ratings.csv, line {ROWS.count(chr(10)) + 1}" in str(e.value)
    assert ".import-" not in str(e.value)


# ------------------------------------------------------------ 14. imported.json entries
@pytest.mark.parametrize("entry", ["../../secret.csv", "/etc/passwd", "a/../../b.csv"])
def test_an_imported_entry_outside_its_folder_is_refused(entry, tmp_path):
    src = write_dataset(tmp_path / "src")
    ds.import_dataset(src / "ratings.csv", "mine")
    reg_file = paths.datasets_dir() / "imported.json"
    doc = json.loads(reg_file.read_text())
    doc["datasets"]["mine"]["entry"] = entry
    reg_file.write_text(json.dumps(doc))
    assert ds.local_path("mine") is None
    with pytest.raises(DatasetError, match="refused: its entry"):
        ds.resolve("mine")
    rc, out, err = run(["datasets", "info", "mine"])
    assert rc == 2 and one_error_line(err) and "imported.json" in err, err


# ------------------------------------------------------------------ 15. duplicates
@pytest.mark.parametrize(
    "text, winner",
    [
        ("user,item,rating,timestamp\n1,1,5,1\n1,1,3,2\n2,1,3,3\n1,1,2,0\n", "latest timestamp"),
        ("user,item,rating\n1,1,5\n1,1,3\n2,1,3\n1,1,2\n", "the last row"),
    ],
    ids=["timestamps", "no-timestamps"],
)
def test_merged_duplicates_are_counted_on_one_line(text, winner, tmp_path):
    f = tmp_path / "dups.csv"
    f.write_text(text)
    for _ in range(2):  # the second load comes from the cache and says it again
        rc, out, err = run(["datasets", "info", f])
        assert rc == 0
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("rbm-tui: warning: 2 repeated"), err
        assert winner in lines[0]
    r = load_ratings(f)
    assert r.report.from_cache and r.report.duplicates_dropped == 2
    kept = float(r.values[(r.users == 0) & (r.items == 0)][0])
    assert kept == (3.0 if "timestamp" in text else 2.0)


def _folder_with_movies(folder: Path, movies: str, sep: str = ",") -> Path:
    folder.mkdir()
    (folder / "ratings.csv").write_text(ROWS.replace(",", sep))
    (folder / "movies.csv").write_text(movies)
    return folder


def test_a_movie_id_beyond_int64_in_the_movie_list_is_no_traceback(tmp_path):
    """``int()`` of 2**64 overflowed int64 and the loader let the OverflowError out."""
    movies = "movieId,title,genres\n1,Film 1 (1990),Drama\n18446744073709551616,Huge (1993),Drama\n"
    r = load_ratings(_folder_with_movies(tmp_path / "d", movies), cache=False)
    assert r.title_list()[r.lookup_item(1)] == "Film 1 (1990)"
    rc, _out, err = run(["datasets", "info", str(tmp_path / "d")])
    assert rc == 0 and "Traceback" not in err


def test_a_semicolon_separated_movie_list_gives_its_titles(tmp_path):
    """Europe's spreadsheets write ``;``: the ratings were read, the titles silently lost."""
    movies = "movieId;title;genres\n" + "".join(
        f"{i};Film {i}, The (1990);Drama\n" for i in range(1, 31)
    )
    r = load_ratings(_folder_with_movies(tmp_path / "d", movies, ";"), cache=False)
    assert r.title_list()[r.lookup_item(7)] == "Film 7, The (1990)"
    assert set(r.movies["genres"]) == {"Drama"}


def test_a_time_column_of_dates_is_left_out_not_refused(tmp_path):
    """A header column ``datetime`` of ISO dates was taken for Unix times, and every line
    was refused ("fix or delete this line")."""
    rows = "".join(f"{u},{i},{1 + (u + i) % 5},2019-0{1 + i % 9}-01T10:00:00\n"
                   for u in range(1, 21) for i in range(1, 16))  # fmt: skip
    f = tmp_path / "dated.csv"
    f.write_text("user,item,rating,datetime\n" + rows)
    r = load_ratings(f, cache=False)
    assert r.n_ratings == 300 and r.timestamps is None
    f.write_text("user,item,rating,timestamp\n1,2,4,874965758\n2,2,3,874965759\n")
    assert load_ratings(f, cache=False).timestamps.tolist() == [874965758, 874965759]
