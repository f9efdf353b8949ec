"""The person's ratings store: SQLite, one thumbs table keyed by dataset, profile and movie; one
transaction per change; profiles, marks, the watchlist, undo steps, import and export."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from engine import paths
from engine.errors import UserStoreError
from engine.userstore import DB_NAME, NOT_INTERESTED, SEEN, UNDO_LIMIT, UserStore


@pytest.fixture
def store():
    s = UserStore()
    yield s
    s.close()


def test_default_location_is_the_data_dir(store):
    assert store.path == paths.data_dir() / DB_NAME
    assert store.path.is_file()


def test_like_dislike_clear(store):
    c = store.like("demo", 7)
    assert (c.before, c.after, c.changed) == (None, True, True)
    store.dislike("demo", 8)
    assert store.ratings("demo") == {7: True, 8: False}
    assert store.get("demo", 7) is True
    assert store.get("demo", 8) is False
    assert store.get("demo", 9) is None
    c = store.clear("demo", 7)
    assert (c.before, c.after) == (True, None)
    assert store.ratings("demo") == {8: False}
    assert store.count("demo") == 1


def test_same_value_records_no_undo_step(store):
    store.like("demo", 1)
    c = store.like("demo", 1)
    assert not c.changed
    assert store.undo_depth("demo") == 1


def test_ids_keep_their_type(store):
    store.like("k", np.int64(5))
    store.like("k", "tt0111161")
    got = store.ratings("k")
    assert got == {5: True, "tt0111161": True}
    assert {type(k) for k in got} == {int, str}
    assert store.get("k", 5) is True


def test_datasets_are_separate(store):
    store.like("demo", 1)
    store.dislike("ml-100k", 1)
    store.like("/some/path with spaces/ratings.csv", 1)
    assert store.ratings("demo") == {1: True}
    assert store.ratings("ml-100k") == {1: False}
    assert store.ratings("/some/path with spaces/ratings.csv") == {1: True}
    assert store.ratings("never") == {}
    assert store.count("never") == 0
    assert set(store.keys()) == {"demo", "ml-100k", "/some/path with spaces/ratings.csv"}


def test_hostile_key_is_harmless(store):
    key = 'x"; DROP TABLE thumbs; --'
    store.like(key, 1)
    assert store.ratings(key) == {1: True}
    assert "thumbs" in {
        r[0] for r in store._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }


def test_undo_restores_each_step(store):
    store.like("demo", 1)
    store.dislike("demo", 1)
    store.clear("demo", 1)
    store.like("demo", 2)
    assert store.undo_depth("demo") == 4
    c = store.undo("demo")
    assert (c.item_id, c.before, c.after) == (2, True, None)
    c = store.undo("demo")
    assert (c.item_id, c.before, c.after) == (1, None, False)
    assert store.ratings("demo") == {1: False}
    store.undo("demo")
    assert store.ratings("demo") == {1: True}
    store.undo("demo")
    assert store.ratings("demo") == {}
    assert store.undo("demo") is None


def test_undo_is_per_dataset(store):
    store.like("a", 1)
    store.like("b", 2)
    store.undo("a")
    assert store.ratings("a") == {}
    assert store.ratings("b") == {2: True}


def test_undo_stack_is_capped(store, monkeypatch):
    import engine.userstore as us

    monkeypatch.setattr(us, "UNDO_LIMIT", 5)
    for i in range(12):
        store.like("demo", i)
    assert store.undo_depth("demo") == 5
    assert UNDO_LIMIT >= 100


def test_survives_reopen_with_undo(tmp_path):
    db = tmp_path / "r.sqlite"
    with UserStore(db) as s:
        s.like("demo", 1)
        s.dislike("demo", 2)
    with UserStore(db) as s:
        assert s.ratings("demo") == {1: True, 2: False}
        s.undo("demo")
        assert s.ratings("demo") == {1: True}


def test_in_memory_store():
    with UserStore(":memory:") as s:
        s.like("demo", 3)
        assert s.ratings("demo") == {3: True}


def test_each_change_is_committed_at_once(tmp_path):
    """Another connection sees every change immediately: nothing waits for a close."""
    db = tmp_path / "r.sqlite"
    s = UserStore(db)
    s.like("demo", 1)
    s.dislike("demo", 2)
    other = sqlite3.connect(db)
    rows = dict(other.execute("SELECT item, state FROM thumbs WHERE dataset = 'demo'").fetchall())
    assert rows == {"1": "like", "2": "dislike"}
    other.close()
    s.close()


def test_killed_process_loses_nothing(tmp_path):
    db = tmp_path / "r.sqlite"
    code = textwrap.dedent(
        f"""
        import os
        from engine.userstore import UserStore
        s = UserStore({str(db)!r})
        for i in range(20):
            s.like("demo", i)
        s.dislike("demo", 3)
        os._exit(9)  # no close, no cleanup
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=paths.__file__.rsplit("/", 2)[0])
    assert proc.returncode == 9
    with UserStore(db) as s:
        got = s.ratings("demo")
    assert len(got) == 20
    assert got[3] is False


def test_export_csv(store, tmp_path):
    store.like("demo", 1)
    store.dislike("demo", 2)
    out = tmp_path / "out" / "mine.csv"
    n = store.export_csv("demo", out, titles={1: "Metropolis (1927)", 2: "Heat, The (1995)"})
    assert n == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["movieId"] for r in rows] == ["1", "2"]
    assert rows[1]["title"] == "Heat, The (1995)"
    assert [r["liked"] for r in rows] == ["1", "0"]
    assert [r["rating"] for r in rows] == ["5", "1"]
    assert rows[0]["updated"].endswith("Z")


def test_export_loads_as_ratings(store, tmp_path):
    """The export is a ratings file the loader reads (user column added by the reader)."""
    store.like("demo", 1)
    out = tmp_path / "mine.csv"
    store.export_csv("demo", out, titles=lambda i: None)
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "movieId,title,liked,rating,updated"


def test_import_items_is_one_undo_step(store):
    got = store.import_items("demo", None, [(1, True), (2, False)])
    assert (got.written, got.kept, got.unchanged) == (2, 0, 0)
    assert store.ratings("demo") == {1: True, 2: False}
    assert store.undo_depth("demo") == 1
    assert len(store.undo_step("demo")) == 2
    assert store.ratings("demo") == {}


def test_import_keeps_hand_thumbs_unless_replace(store):
    store.dislike("demo", 1)
    store.mark("demo", 3, SEEN)
    got = store.import_items("demo", "me", [(1, True), (2, True), (3, False)])
    assert (got.written, got.kept, got.unchanged) == (1, 2, 0)
    assert store.ratings("demo") == {1: False, 2: True}
    assert store.state("demo", 3) == SEEN
    got = store.import_items("demo", "me", [(1, True), (3, False)], replace=True)
    assert got.written == 2
    assert store.ratings("demo") == {1: True, 2: True, 3: False}


def test_reimport_changes_nothing(store):
    items = [(i, i % 3 != 0) for i in range(50)]
    store.import_items("demo", None, items)
    depth = store.undo_depth("demo")
    before = store.ratings("demo")
    got = store.import_items("demo", None, items)
    assert (got.written, got.kept, got.unchanged) == (0, 0, 50)
    assert store.ratings("demo") == before
    assert store.undo_depth("demo") == depth


def test_reimport_updates_earlier_import(store):
    """A thumb that came from a file follows the file; one given by hand does not."""
    store.import_items("demo", None, [(1, True), (2, True)])
    store.dislike("demo", 2)
    got = store.import_items("demo", None, [(1, False), (2, True)])
    assert (got.written, got.kept) == (1, 1)
    assert store.ratings("demo") == {1: False, 2: False}


def test_import_is_all_or_nothing(store):
    store.like("demo", 1)

    def items():
        yield 2, True
        raise RuntimeError("the reader failed")

    with pytest.raises(RuntimeError):
        store.import_items("demo", None, items())
    assert store.ratings("demo") == {1: True}


def test_clear_all_is_one_undo_step(store):
    store.like("demo", 1)
    store.dislike("demo", 2)
    store.mark("demo", 3, NOT_INTERESTED)
    store.set_watch("demo", 4, True)
    store.like("other", 1)
    assert store.clear_all("demo") == 2
    assert store.ratings("demo") == {}
    assert store.marks("demo") == {3: NOT_INTERESTED}
    assert store.watchlist("demo") == [4]
    changes = store.undo_step("demo")
    assert {(c.item_id, c.after) for c in changes} == {(1, True), (2, False)}
    assert store.ratings("demo") == {1: True, 2: False}
    assert store.ratings("other") == {1: True}
    assert store.clear_all("nothing") == 0


def test_unwritable_location_raises_clear_error(tmp_path):
    bad = tmp_path / "file"
    bad.write_text("x")
    with pytest.raises(UserStoreError, match="file"):
        UserStore(bad / "r.sqlite")


def test_bool_id_refused(store):
    with pytest.raises(TypeError):
        store.like("demo", True)


# --------------------------------------------------------------------------- marks
def test_marks_and_watchlist_are_undoable(store):
    store.like("demo", 1)
    c = store.mark("demo", 1, SEEN)
    assert (c.before, c.after, c.state_after) == (True, None, SEEN)
    assert store.ratings("demo") == {}
    assert store.marks("demo") == {1: SEEN}
    store.mark("demo", 2, NOT_INTERESTED)
    store.set_watch("demo", 5, True)
    store.set_watch("demo", 2, True)
    assert store.watchlist("demo") == [5, 2]
    assert store.state("demo", 2) == NOT_INTERESTED
    store.undo("demo")
    assert store.watchlist("demo") == [5]
    store.undo("demo")
    store.undo("demo")
    assert store.marks("demo") == {1: SEEN}
    store.undo("demo")
    assert store.ratings("demo") == {1: True}
    assert store.marks("demo") == {}


def test_watchlist_keeps_the_thumb(store):
    store.like("demo", 1)
    store.set_watch("demo", 1, True)
    store.clear("demo", 1)
    assert store.ratings("demo") == {}
    assert store.watchlist("demo") == [1]
    store.set_watch("demo", 1, False)
    assert store.watchlist("demo") == []
    assert store._conn.execute("SELECT COUNT(*) FROM thumbs").fetchone()[0] == 0


def test_unknown_mark_refused(store):
    with pytest.raises(ValueError, match="unknown mark"):
        store.mark("demo", 1, "loved")


# --------------------------------------------------------------------------- profiles
def test_default_profile_is_me(store):
    assert store.profiles() == ["me"]
    assert store.active_profile() == "me"
    store.like("demo", 1)
    assert store.ratings("demo", "me") == {1: True}


def test_profiles_have_their_own_thumbs_and_undo(store):
    store.create_profile("anna")
    store.like("demo", 1)
    store.dislike("demo", 1, profile="anna")
    store.like("demo", 2, profile="anna")
    assert store.ratings("demo") == {1: True}
    assert store.ratings("demo", "anna") == {1: False, 2: True}
    store.undo("demo", "anna")
    assert store.ratings("demo", "anna") == {1: False}
    assert store.ratings("demo") == {1: True}
    assert store.profile_counts("demo") == {"me": 1, "anna": 1}


def test_switch_rename_delete_profiles(store):
    store.create_profile("anna")
    store.switch_profile("anna")
    store.like("demo", 7)
    assert store.ratings("demo", "anna") == {7: True}
    store.rename_profile("anna", "Anna B")
    assert store.active_profile() == "Anna B"
    assert store.ratings("demo") == {7: True}
    assert store.undo_depth("demo") == 1
    assert store.delete_profile("Anna B") == 1
    assert store.profiles() == ["me"]
    assert store.active_profile() == "me"
    assert store.ratings("demo") == {}


def test_profile_errors_are_one_line(store):
    with pytest.raises(UserStoreError, match="no profile 'bob'"):
        store.like("demo", 1, profile="bob")
    with pytest.raises(UserStoreError, match="only profile"):
        store.delete_profile("me")
    store.create_profile("bob")
    with pytest.raises(UserStoreError, match="exists already"):
        store.create_profile(" bob ")
    with pytest.raises(UserStoreError, match="exists already"):
        store.rename_profile("me", "bob")
    for bad in ("", "   ", "x" * 41, "a\nb", "-rf"):
        with pytest.raises(UserStoreError, match="profile name"):
            store.create_profile(bad)
    assert store.profiles() == ["me", "bob"]


def test_switched_profile_is_remembered(tmp_path):
    db = tmp_path / "r.sqlite"
    with UserStore(db) as s:
        s.create_profile("kid")
        s.switch_profile("kid")
        s.like("demo", 3)
    with UserStore(db) as s:
        assert s.active_profile() == "kid"
        assert s.ratings("demo") == {3: True}
        assert s.ratings("demo", "me") == {}


# --------------------------------------------------------------------------- export
def test_export_ratings_reads_back_as_ratings(store, tmp_path):
    """``user,item,rating``: the loaders read it, and importing it gives the same thumbs."""
    from engine.data.loaders import load_ratings

    store.create_profile("anna")
    thumbs = {10: True, 20: False, 30: True}
    for item, liked in thumbs.items():
        store.set("demo", item, liked, profile="anna")
    out = tmp_path / "anna.csv"
    assert store.export_ratings("demo", out, profile="anna") == 3
    assert out.read_text(encoding="utf-8").splitlines()[0] == "user,item,rating"
    r = load_ratings(out)
    assert r.n_ratings == 3
    assert r.user_ids.tolist() == ["anna"]
    items = [int(x) for x in r.item_ids[r.items]]
    store.create_profile("copy")
    store.import_items("demo", "copy", zip(items, r.liked().tolist()))
    assert store.ratings("demo", "copy") == thumbs


# --------------------------------------------------------------------------- the session
@pytest.fixture(scope="module")
def demo():
    from engine.catalogue import resolve
    from engine.data.loaders import load_ratings

    return load_ratings(resolve("demo"))


def test_session_keeps_each_profile_apart(store, demo):
    from engine.session import Session

    store.create_profile("anna")
    s = Session(demo, store, "demo")
    assert s.profile == "me"
    s.rate(0, True)
    s.switch_profile("anna")
    assert s.thumbs == {}
    s.rate(1, False)
    assert store.ratings("demo", "anna") == {s.item_id(1): False}
    assert store.ratings("demo", "me") == {s.item_id(0): True}
    assert Session(demo, store, "demo").profile == "anna"  # the switch is remembered


def test_session_marks_leave_the_recommendations(store, demo):
    from engine.session import Session

    s = Session(demo, store, "demo")
    top = [p.index for p in s.recommendations(5).picks]
    s.mark(top[0], "not_interested")
    s.mark(top[1], "seen")
    s.set_watch(top[2], True)
    after = [p.index for p in s.recommendations(5).picks]
    assert top[0] not in after and top[1] not in after and top[2] in after
    again = Session(demo, store, "demo")
    assert again.marks == {s.item_id(top[0]): "not_interested", s.item_id(top[1]): "seen"}
    assert again.watchlist == {s.item_id(top[2])}


def test_session_clear_all_and_undo(store, demo):
    from engine.session import Session

    s = Session(demo, store, "demo")
    for i in range(5):
        s.rate(i, i % 2 == 0)
    before = dict(s.thumbs)
    assert s.clear_all() == 5
    assert s.thumbs == {} and store.ratings("demo") == {}
    change = s.undo()
    assert change is not None
    assert s.thumbs == before
    assert store.ratings("demo") == before


def test_a_profile_is_named_as_created_and_the_hint_can_be_pasted(tmp_path):
    """`profiles create "  x  "` keeps "x", but switch, delete and --profile took the spaces
    as part of the name; the "create it with" hint broke a name with a space in two."""
    import shlex

    with UserStore(tmp_path / "r.sqlite") as s:
        assert s.create_profile("  spaced name  ") == "spaced name"
        assert s.switch_profile("  spaced name ") == "spaced name"
        with pytest.raises(UserStoreError) as e:
            s.switch_profile("Anna B")
        hint = str(e.value).split("`")[1]
        assert shlex.split(hint)[-1] == "Anna B"
        s.create_profile("other")
        s.delete_profile(" spaced name ")
        assert "spaced name" not in s.profile_counts()
