"""``rbm-tui thumbs import``: IMDb, Letterboxd and rbm-tui exports read into a profile in one
step; counts, the unmatched file, --json, --threshold, --replace; re-importing changes
nothing; an unreadable or foreign file changes nothing (one line, exit 2)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest

from engine import paths
from engine.userstore import DB_NAME, UserStore
from rbm_tui.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "taste"
LETTERBOXD = """\
Date,Name,Year,Letterboxd URI,Rating
2024-01-02,The Gold Rush,1925,https://boxd.it/aaaa,4.5
2024-01-03,Metropolis,1927,https://boxd.it/bbbb,1
2024-01-04,A Film That Is Not There,2021,https://boxd.it/cccc,5
"""


def run(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def _thumbs(key: str, profile: str | None = None) -> dict:
    with UserStore() as s:
        return s.ratings(key, profile)


@pytest.fixture
def letterboxd(tmp_path) -> Path:
    path = tmp_path / "ratings.csv"
    path.write_text(LETTERBOXD, encoding="utf-8")
    return path


@pytest.fixture
def linked(tmp_path) -> Path:
    """A tiny dataset with a ``links.csv``: The Matrix, The City of Lost Children, Seven."""
    d = tmp_path / "linked"
    d.mkdir()
    (d / "ratings.csv").write_text(
        "userId,movieId,rating\n" + "".join(f"{u},{i},4\n" for u in (1, 2) for i in (29, 47, 2571))
    )
    (d / "movies.csv").write_text(
        'movieId,title,genres\n2571,"Matrix, The (1999)",Action\n'
        '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Drama\n'
        "47,Seven (a.k.a. Se7en) (1995),Thriller\n",
        encoding="utf-8",
    )
    (d / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n2571,0133093,603\n29,0112682,902\n47,0114369,807\n"
    )
    return d


def test_letterboxd_import_into_a_new_profile(letterboxd):
    rc, out, err = run(["thumbs", "import", letterboxd, "--dataset", "demo", "--profile", "anna"])
    assert rc == 0, err
    assert "3 rated rows, 2 matched" in out and "1 unmatched" in out
    assert "anna on demo: 2 thumbs written" in out
    assert _thumbs("demo", "anna") == {1: True, 2: False}  # The Gold Rush, Metropolis
    assert _thumbs("demo", "me") == {}  # the active profile is untouched
    unmatched = next(paths.data_dir().glob("imports/*unmatched.csv"))
    assert str(unmatched) in out
    rows = list(csv.DictReader(unmatched.open(encoding="utf-8")))
    assert [r["Name"] for r in rows] == ["A Film That Is Not There"]


def test_json_is_one_line_with_the_counts(letterboxd):
    rc, out, err = run(["thumbs", "import", letterboxd, "--dataset", "demo", "--json"])
    assert rc == 0, err
    assert len(out.strip().splitlines()) == 1
    got = json.loads(out)
    assert list(got) == ["rows", "matched", "unmatched", "unmatched_file", "profile"]
    assert (got["rows"], got["matched"], got["unmatched"], got["profile"]) == (3, 2, 1, "me")
    assert Path(got["unmatched_file"]).is_file()
    assert _thumbs("demo") == {1: True, 2: False}


def test_reimporting_changes_nothing_and_undo_takes_the_import_back(letterboxd):
    argv = ["thumbs", "import", letterboxd, "--dataset", "demo"]
    assert run(argv)[0] == 0
    with UserStore() as s:
        depth = s.undo_depth("demo")
    rc, out, _ = run(argv)
    assert rc == 0 and "0 thumbs written, 2 already there" in out
    with UserStore() as s:
        assert s.undo_depth("demo") == depth
    assert _thumbs("demo") == {1: True, 2: False}
    assert run(["thumbs", "undo", "--dataset", "demo"])[0] == 0
    assert _thumbs("demo") == {}  # the whole import was one step


def test_hand_thumbs_are_kept_unless_replace(letterboxd):
    with UserStore() as s:
        s.like("demo", 2)  # the file says dislike
    rc, out, _ = run(["thumbs", "import", letterboxd, "--dataset", "demo"])
    assert rc == 0 and "1 kept as given by hand" in out
    assert _thumbs("demo") == {1: True, 2: True}
    rc, out, _ = run(["thumbs", "import", letterboxd, "--dataset", "demo", "--replace"])
    assert rc == 0 and "1 thumb written" in out
    assert _thumbs("demo") == {1: True, 2: False}


def test_threshold_moves_the_line_between_like_and_dislike(letterboxd):
    rc, out, _ = run(["thumbs", "import", letterboxd, "--dataset", "demo", "--threshold", "5"])
    assert rc == 0 and "a like is 5 or more" in out
    assert _thumbs("demo") == {1: False, 2: False}  # 4.5 is below 5


def test_imdb_export_matched_by_id_through_links(linked):
    rc, out, err = run(["thumbs", "import", FIXTURES / "imdb_ratings.csv", "--dataset", linked])
    assert rc == 0, err
    # The Matrix 9 and City of Lost Children 8 are likes, Se7en 5 a dislike (IMDb: like >= 6)
    assert _thumbs(str(linked)) == {2571: True, 29: True, 47: False}
    assert "3 matched" in out


def test_rbm_tui_export_round_trip(letterboxd):
    assert run(["thumbs", "import", letterboxd, "--dataset", "demo"])[0] == 0
    with UserStore() as s:
        s.dislike("demo", 5)
    exported = letterboxd.parent / "me.csv"
    assert run(["thumbs", "export", "--dataset", "demo", "-o", exported])[0] == 0
    rc, _, err = run(["thumbs", "import", exported, "--dataset", "demo", "--profile", "ben"])
    assert rc == 0, err
    assert _thumbs("demo", "ben") == _thumbs("demo", "me") == {1: True, 2: False, 5: False}


def _store_bytes() -> bytes | None:
    db = paths.data_dir() / DB_NAME
    return db.read_bytes() if db.exists() else None


@pytest.mark.parametrize(
    "content, words",
    [
        ("name,title,when\nx,y,z\n", "ratings.csv"),  # foreign columns
        (b"\x00\x01\x02PK\x03\x04 binary", "ratings.csv"),  # not text
        ("", "empty"),
    ],
)
def test_unreadable_or_foreign_file_changes_nothing(tmp_path, content, words):
    with UserStore() as s:
        s.like("demo", 7)
    before = _store_bytes()
    path = tmp_path / "ratings.csv"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    rc, out, err = run(["thumbs", "import", path, "--dataset", "demo", "--profile", "new"])
    assert rc == 2 and not out
    assert len(err.strip().splitlines()) == 1 and words in err
    assert _store_bytes() == before
    with UserStore() as s:
        assert s.profiles() == ["me"] and s.ratings("demo") == {7: True}
    assert not (paths.data_dir() / "imports").exists()


def test_missing_file_and_bad_threshold_are_one_line(letterboxd, tmp_path):
    rc, out, err = run(["thumbs", "import", tmp_path / "nope.csv", "--dataset", "demo"])
    assert rc == 2 and "nope.csv" in err and len(err.strip().splitlines()) == 1
    rc, out, err = run(["thumbs", "import", letterboxd, "--dataset", "demo", "--threshold", "9"])
    assert rc == 2 and "threshold" in err and len(err.strip().splitlines()) == 1
    assert _thumbs("demo") == {}


@pytest.fixture(scope="module")
def mls16(tmp_path_factory):
    """``(ml-latest-small-2016, the exports helper module, a tiny seeded model file of it)``."""
    import sys

    sys.path.insert(0, str(FIXTURES))
    import exports
    from helpers import SEEDED_CONFIG

    from engine.data.loaders import load_ratings
    from engine.model.storage import save_model
    from engine.settings import TrainConfig
    from engine.training.loop import train

    data = exports.MLS16
    if not (data / "links.csv").is_file() or not (exports.NEWUSERS / "thumbs.csv").is_file():
        pytest.skip("the shared mls16 data is absent")
    r = load_ratings(data / "ratings.csv", cache=False)
    model = train(r, TrainConfig(**SEEDED_CONFIG)).model
    return data, exports, save_model(model, tmp_path_factory.mktemp("mls16") / "m.pt")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["imdb", "letterboxd"])
def test_bar_imported_profile_recommends_as_its_exported_thumbs(fmt, mls16, tmp_path):
    """Issue 36's bar on real data: a held-out person of mls16-newusers, exported as IMDb or
    Letterboxd would write it, imported into a profile of ml-latest-small-2016; `recommend
    --profile` then gives the list `recommend` gives for the profile's exported thumbs."""
    data, exports, model = mls16
    rows = exports.held_out_rows()
    person = [r for r in rows if r["user"] == rows[0]["user"]]
    export = getattr(exports, f"write_{fmt}")(tmp_path / f"{fmt}.csv", person)
    rc, out, err = run(["thumbs", "import", export, "--dataset", data, "--profile", "p", "--json"])
    assert rc == 0, err
    got = json.loads(out)
    assert got["rows"] == len(person) and got["matched"] >= 0.97 * len(person)
    exported, a, b = tmp_path / "p.csv", tmp_path / "a.csv", tmp_path / "b.csv"
    assert run(["thumbs", "export", "--dataset", data, "--profile", "p", "-o", exported])[0] == 0
    m = ["--model", model, "--k", 20]
    assert run(["recommend", data, *m, "--profile", "p", "-o", a])[0] == 0
    assert run(["recommend", exported, *m, "-o", b])[0] == 0
    untitled = [[r[:2] + r[3:] for r in csv.reader(io.StringIO(f.read_text()))] for f in (a, b)]
    assert untitled[0] == untitled[1] and len(untitled[0]) == 21  # (p.csv has no titles)
