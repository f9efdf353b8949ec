"""The ratings store's schema version is read and migrated step by step (v1 -> v2 ...), each
step in one transaction; a store written by the previous release keeps every thumb and its
undo stack.

``fixtures/ratings-v1.sqlite`` was written by the previous release's ``engine/userstore.py``
(``git show 7d431a1:engine/userstore.py``): datasets ``demo`` (likes 1, 2, 4, dislike 3,
with an undo stack of 7 changes), ``ml-100k``, a path key with string IDs, and ``gone``
(every thumb cleared).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

import engine.store.schema as schema
from engine.errors import UserStoreError
from engine.userstore import SCHEMA_VERSION, UserStore

FIXTURE = Path(__file__).parent / "fixtures" / "ratings-v1.sqlite"
PATH_KEY = "/home/ann/My Films/ratings.csv"


@pytest.fixture
def v1(tmp_path) -> Path:
    db = tmp_path / "ratings.sqlite"
    shutil.copyfile(FIXTURE, db)
    return db


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _version(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("PRAGMA user_version").fetchone()[0]


def test_fixture_is_a_v1_store():
    assert _version(FIXTURE) == 1
    assert "datasets" in _tables(FIXTURE)


def test_v1_store_keeps_every_thumb(v1):
    with UserStore(v1) as s:
        assert s.ratings("demo") == {1: True, 2: True, 4: True, 3: False}
        assert s.ratings("ml-100k") == {50: False, 181: True}
        assert s.ratings(PATH_KEY) == {"tt0111161": True, "tt0068646": False}
        assert s.ratings("gone") == {}
        assert s.profiles() == ["me"]
    assert _version(v1) == SCHEMA_VERSION
    tables = _tables(v1)
    assert {"thumbs", "profiles", "undo"} <= tables
    assert not [t for t in tables if t == "datasets" or t.startswith("r_")]


def test_v1_undo_stack_survives(v1):
    with UserStore(v1) as s:
        assert s.undo_depth("demo") == 7
        assert s.undo_depth("gone") == 2
        c = s.undo("demo")  # the last v1 change: 5 cleared
        assert (c.item_id, c.before, c.after) == (5, None, True)
        c = s.undo("demo")  # 3 disliked
        assert (c.item_id, c.after) == (3, True)
        assert s.ratings("demo") == {1: True, 2: True, 3: True, 4: True, 5: True}
        for _ in range(5):
            s.undo("demo")
        assert s.ratings("demo") == {}
        assert s.undo("demo") is None
        s.undo("gone")
        assert s.ratings("gone") == {9: True}


def test_a_failed_step_changes_nothing(v1, monkeypatch):
    """Each step is one transaction: a step that fails leaves the v1 file as it was."""
    before = v1.read_bytes()

    def broken(conn):
        schema._to_v2(conn)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(schema.MIGRATIONS, 1, broken)
    with pytest.raises(UserStoreError, match="disk I/O error"):
        UserStore(v1)
    assert _version(v1) == 1
    assert "datasets" in _tables(v1)
    monkeypatch.undo()
    with UserStore(v1) as s:
        assert s.ratings("demo") == {1: True, 2: True, 4: True, 3: False}
    assert before  # the copy was read


def test_chain_covers_every_version():
    assert sorted(schema.MIGRATIONS) == list(range(SCHEMA_VERSION))


def test_new_store_runs_the_whole_chain(tmp_path):
    db = tmp_path / "new.sqlite"
    with UserStore(db) as s:
        assert s.profiles() == ["me"]
        s.like("demo", 1)
    assert _version(db) == SCHEMA_VERSION


def test_newer_store_is_refused_unchanged(tmp_path):
    db = tmp_path / "future.sqlite"
    with UserStore(db) as s:
        s.like("demo", 1)
    with sqlite3.connect(db) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(UserStoreError, match="newer rbm-tui"):
        UserStore(db)
    assert _version(db) == SCHEMA_VERSION + 1


def test_migration_ignores_a_forged_table_name(tmp_path):
    """v1's ``datasets`` table names other tables; a name that is not v1's pattern is
    never put into SQL."""
    db = tmp_path / "forged.sqlite"
    shutil.copyfile(FIXTURE, db)
    with sqlite3.connect(db) as c:
        c.execute(
            "INSERT INTO datasets (key, tbl, created) VALUES ('x', ?, 0)",
            ('thumbs"; DROP TABLE undo; --',),
        )
    with UserStore(db) as s:
        assert s.ratings("x") == {}
        assert s.ratings("demo") == {1: True, 2: True, 4: True, 3: False}
        assert s.undo_depth("demo") == 7


def test_no_sql_is_formatted_with_names():
    """No f-string SQL that puts a name into a statement is left in the store."""
    root = Path(schema.__file__).parents[1]
    sources = [root / "userstore.py", *sorted((root / "store").glob("*.py"))]
    sql = re.compile(
        r"""f(["'])(?:(?!\1).)*\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|FROM|INTO)\b"""
        r"""(?:(?!\1).)*\{"""
    )
    offenders = [
        f"{p.name}: {line.strip()}"
        for p in sources
        for line in p.read_text(encoding="utf-8").splitlines()
        if sql.search(line)
    ]
    assert offenders == []
