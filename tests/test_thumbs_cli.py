"""``rbm-tui thumbs``: list, export, clear and undo a profile's thumbs; profiles listed,
created, switched, renamed and deleted; store faults as one line."""

from __future__ import annotations

import contextlib
import io
import json
import random

import pytest

import engine.store.opening as opening
from engine import paths
from engine.userstore import DB_NAME, UserStore
from rbm_tui.cli import main
from rbm_tui.preferences import Preferences


def run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with stdout/stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture
def store():
    s = UserStore()
    s.like("demo", 1)
    s.dislike("demo", 2)
    s.mark("demo", 3, "not_interested")
    s.set_watch("demo", 4, True)
    s.create_profile("anna")
    s.like("demo", 9, profile="anna")
    yield s
    s.close()


def _listed(*args: str) -> dict:
    rc, out, err = run(["thumbs", "list", "--json", *args])
    assert rc == 0, err
    return json.loads(out)


def test_list_shows_thumbs_marks_and_watchlist(store):
    got = _listed("--dataset", "DEMO")  # catalogue names in any case
    assert got["dataset"] == "demo" and got["profile"] == "me"
    states = {r["item"]: (r["state"], r["watchlist"]) for r in got["thumbs"]}
    assert states == {
        1: ("like", False),
        2: ("dislike", False),
        3: ("not_interested", False),
        4: (None, True),
    }
    assert [r["item"] for r in _listed("--dataset", "demo", "--profile", "anna")["thumbs"]] == [9]
    rc, out, _ = run(["thumbs", "list", "--dataset", "demo"])
    assert rc == 0 and "not interested" in out and "dislike" in out


def test_dataset_defaults_to_the_last_one_used(store):
    rc, _, err = run(["thumbs", "list"])
    assert rc == 2 and "--dataset" in err and len(err.strip().splitlines()) == 1
    Preferences(dataset="demo").save()
    assert len(_listed()["thumbs"]) == 4


def test_export_writes_user_item_rating_and_title(store, tmp_path):
    """A ratings file every loader reads; the titles let another dataset match it by title."""
    from engine.data.loaders import load_ratings

    out = tmp_path / "me.csv"
    rc, _, err = run(["thumbs", "export", "--dataset", "demo", "--output", out])
    assert rc == 0 and "wrote 2 thumbs" in err
    assert out.read_text(encoding="utf-8") == (
        "user,item,rating,title\nme,1,5,The Gold Rush (1925)\nme,2,1,Metropolis (1927)\n"
    )
    r = load_ratings(out)
    assert r.n_ratings == 2 and r.item_ids.tolist() == [1, 2]
    rc, text, _ = run(["thumbs", "export", "--dataset", "demo", "--profile", "anna"])
    assert rc == 0 and text.startswith("user,item,rating,title\nanna,9,5,")


def test_clear_asks_then_undo_brings_back(store):
    rc, _, err = run(["thumbs", "clear", "--dataset", "demo"])  # stdin is not a terminal
    assert rc == 2 and "--yes" in err
    assert store.ratings("demo") == {1: True, 2: False}
    rc, _, err = run(["thumbs", "clear", "--dataset", "demo", "--yes"])
    assert rc == 0 and "cleared 2 thumbs" in err
    assert store.ratings("demo") == {}
    assert store.marks("demo") == {3: "not_interested"}
    assert store.ratings("demo", "anna") == {9: True}
    rc, _, err = run(["thumbs", "undo", "--dataset", "demo"])
    assert rc == 0 and "2 changes" in err
    assert store.ratings("demo") == {1: True, 2: False}


def test_profiles_create_switch_rename_delete(store):
    assert run(["thumbs", "profiles", "create", "kid"])[0] == 0
    assert run(["thumbs", "profiles", "switch", "kid"])[0] == 0
    assert _listed("--dataset", "demo")["profile"] == "kid"
    assert run(["thumbs", "profiles", "rename", "anna", "Anna B"])[0] == 0
    rc, out, _ = run(["thumbs", "profiles", "list", "--dataset", "demo", "--json"])
    assert rc == 0
    assert json.loads(out) == [
        {"name": "me", "active": False, "thumbs": 2},
        {"name": "Anna B", "active": False, "thumbs": 1},
        {"name": "kid", "active": True, "thumbs": 0},
    ]
    rc, _, err = run(["thumbs", "profiles", "delete", "Anna B"])
    assert rc == 2 and "--yes" in err
    rc, _, err = run(["thumbs", "profiles", "delete", "Anna B", "--yes"])
    assert rc == 0 and "1 thumbs" in err
    assert store.profiles() == ["me", "kid"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["thumbs", "list", "--dataset", "demo", "--profile", "bob"], "no profile 'bob'"),
        (["thumbs", "profiles", "create", "me"], "exists already"),
        (["thumbs", "profiles", "switch", "nobody"], "no profile 'nobody'"),
        (["thumbs", "profiles", "create", "x" * 41], "profile name"),
    ],
)
def test_errors_are_one_line(store, argv, message):
    rc, out, err = run(argv)
    assert rc == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_damaged_store_is_one_warning_and_the_command_works(store):
    store.close()
    db = paths.data_dir() / DB_NAME
    data = bytearray(db.read_bytes())
    data[100:] = random.Random(0).randbytes(len(data) - 100)
    db.write_bytes(bytes(data))
    rc, out, err = run(["thumbs", "list", "--dataset", "demo", "--json"])
    assert rc == 0
    assert "was damaged" in err and "a copy was kept at" in err
    assert len(err.strip().splitlines()) == 1
    assert json.loads(out)["thumbs"] == []


def test_read_only_store_lists_and_refuses_to_clear(store, monkeypatch):
    store.close()
    monkeypatch.setattr(opening.db, "writable", lambda path: False)
    assert len(_listed("--dataset", "demo")["thumbs"]) == 4
    rc, _, err = run(["thumbs", "clear", "--dataset", "demo", "--yes"])
    assert rc == 2
    assert "new thumbs will not be saved" in err
    assert "rbm-tui: error:" in err and "read-only" in err
