"""The person's ratings store: SQLite, one table per dataset, one transaction per change."""

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
from engine.userstore import DB_NAME, UNDO_LIMIT, UserStore


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
    key = 'x"; DROP TABLE datasets; --'
    store.like(key, 1)
    assert store.ratings(key) == {1: True}
    assert "datasets" in {
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
    tbl = other.execute("SELECT tbl FROM datasets WHERE key='demo'").fetchone()[0]
    rows = dict(other.execute(f'SELECT item, liked FROM "{tbl}"').fetchall())
    assert rows == {"1": 1, "2": 0}
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


def test_import_items(store):
    assert store.import_items("demo", [(1, True), (2, False)]) == 2
    assert store.ratings("demo") == {1: True, 2: False}
    assert store.undo_depth("demo") == 0


def test_clear_all(store):
    store.like("demo", 1)
    store.like("demo", 2)
    assert store.clear_all("demo") == 2
    assert store.ratings("demo") == {}
    assert store.undo("demo") is None
    assert store.clear_all("nothing") == 0


def test_unwritable_location_raises_clear_error(tmp_path):
    bad = tmp_path / "file"
    bad.write_text("x")
    with pytest.raises(UserStoreError, match="file"):
        UserStore(bad / "r.sqlite")


def test_bool_id_refused(store):
    with pytest.raises(TypeError):
        store.like("demo", True)
