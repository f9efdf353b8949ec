"""The ratings store under faults: a damaged page (header intact) is detected on open, the
file kept aside, the readable rows salvaged and the fact reported; a store that cannot be
written opens read-only, thumbs shown, writes refused with one line."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

import engine.store.opening as opening
from engine import paths
from engine.errors import UserStoreError
from engine.userstore import DB_NAME, UserStore

FIXTURE_V1 = Path(__file__).parent / "fixtures" / "ratings-v1.sqlite"
N_DEMO = 3000


def _page_size(db: Path) -> int:
    size = int.from_bytes(db.read_bytes()[16:18], "big")
    return 65536 if size == 1 else size


def _smash_page(db: Path, page: int) -> None:
    """Overwrite page ``page`` (1-based) with noise; the header page stays intact."""
    assert page > 1
    data = bytearray(db.read_bytes())
    size = _page_size(db)
    noise = random.Random(page).randbytes(size)
    data[(page - 1) * size : page * size] = noise
    db.write_bytes(bytes(data))


def _full_store(db: Path) -> None:
    with UserStore(db) as s:
        s.import_items("demo", None, [(i, i % 4 != 0) for i in range(N_DEMO)])
        s.like("ml-100k", 50)
    assert not db.with_name(db.name + "-wal").exists()


def _root_page(db: Path, table: str) -> int:
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    return row[0]


# --------------------------------------------------------------------------- damage
def _middle_leaf(db: Path, table: str) -> int:
    """The middle leaf page of ``table`` (its rows, not an index)."""
    with sqlite3.connect(db) as c:
        pages = [
            r[0]
            for r in c.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                (table,),
            )
        ]
    return pages[len(pages) // 2]


def test_damaged_page_is_repaired_on_open(tmp_path):
    """One page of rows in the middle of the thumbs table is noise: the rows on either side
    are read back (from both ends), only that page's rows are lost."""
    db = tmp_path / "ratings.sqlite"
    _full_store(db)
    _smash_page(db, _middle_leaf(db, "thumbs"))
    smashed = db.read_bytes()
    with UserStore(db) as s:
        rec = s.recovery
        assert rec is not None
        assert rec.damaged_copy.name.startswith("ratings.sqlite.damaged-")
        assert rec.damaged_copy.read_bytes() == smashed  # the damaged file is kept as it was
        got = s.ratings("demo")
        assert N_DEMO - 150 <= len(got) < N_DEMO  # one page of rows lost
        assert all(got[i] == (i % 4 != 0) for i in got)  # what came back is right
        assert rec.recovered == len(got) + len(s.ratings("ml-100k"))
        assert "damaged" in s.notice and str(rec.damaged_copy) in s.notice
        assert f"{rec.recovered} thumbs recovered" in s.notice
        s.like("demo", 10**6)  # the new store works
    with UserStore(db) as s:
        assert s.recovery is None
        assert s.get("demo", 10**6) is True


def test_a_repaired_store_keeps_its_profiles_and_the_active_one(tmp_path):
    """The default profile deleted, an empty profile made, another active: after a damaged
    page is repaired the profiles and the active one are as they were."""
    db = tmp_path / "ratings.sqlite"
    with UserStore(db) as s:
        s.create_profile("anna")
        s.create_profile("empty")
        s.switch_profile("anna")
        s.delete_profile("me")
        s.import_items("demo", "anna", [(i, i % 4 != 0) for i in range(N_DEMO)])
    _smash_page(db, _middle_leaf(db, "thumbs"))
    with UserStore(db) as s:
        assert s.recovery is not None
        assert s.active_profile() == "anna"
        assert set(s.profile_counts()) == {"anna", "empty"}


def test_damaged_table_root_recovers_the_other_rows(tmp_path):
    """A v1 store (the previous release's) whose ``ml-100k`` table page is damaged: the other
    datasets come back, migrated."""
    db = tmp_path / "ratings.sqlite"
    shutil.copyfile(FIXTURE_V1, db)
    _smash_page(db, _root_page(db, "r_ml_100k_3e7cca79"))
    with UserStore(db) as s:
        assert s.recovery is not None
        assert s.ratings("demo") == {1: True, 2: True, 4: True, 3: False}
        assert s.ratings("ml-100k") == {}
        assert s.recovery.recovered == 6
        assert s.undo_depth("demo") == 0  # a salvaged store starts a new undo stack


def test_noise_after_the_header_starts_empty(tmp_path):
    db = tmp_path / "ratings.sqlite"
    _full_store(db)
    data = bytearray(db.read_bytes())
    data[100:] = random.Random(1).randbytes(len(data) - 100)
    db.write_bytes(bytes(data))
    with UserStore(db) as s:
        assert s.recovery is not None and s.recovery.recovered == 0
        assert s.ratings("demo") == {}
        assert s.profiles() == ["me"]
        s.like("demo", 1)


@pytest.mark.slow
def test_app_starts_on_a_damaged_store(tmp_path):
    """The app remembers a dataset and its store is damaged: it starts, says so, and goes on
    with the salvaged thumbs (the previous release crashed on every start)."""
    import asyncio

    from helpers import SIZE, make_app, wait_for

    from rbm_tui.preferences import Preferences

    db = paths.data_dir() / DB_NAME
    db.parent.mkdir(parents=True, exist_ok=True)
    _full_store(db)
    _smash_page(db, db.stat().st_size // _page_size(db) // 2)
    Preferences(dataset="demo").save()

    async def run() -> list[str]:
        app = make_app()
        said: list[str] = []  # every notice, also one that timed out on a slow machine
        notify = app.notify

        def record(message, **kw):
            said.append(str(message))
            return notify(message, **kw)

        app.notify = record
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.session is not None, what="the session")
            assert app.session.store is not None
            assert len(app.session.thumbs) > 0
            return said

    messages = asyncio.run(run())
    assert any("was damaged" in m and "recovered" in m for m in messages), messages


# --------------------------------------------------------------------------- read-only
def _small_store(db: Path) -> bytes:
    with UserStore(db) as s:
        s.like("demo", 1)
        s.dislike("demo", 2)
    return db.read_bytes()


def _assert_read_only(s: UserStore) -> None:
    assert s.read_only
    assert "new thumbs will not be saved" in s.notice
    assert s.ratings("demo") == {1: True, 2: False}
    with pytest.raises(UserStoreError, match="read-only") as e:
        s.like("demo", 3)
    assert "\n" not in str(e.value)
    for write in (
        lambda: s.undo("demo"),
        lambda: s.clear_all("demo"),
        lambda: s.create_profile("x"),
        lambda: s.import_items("demo", None, [(5, True)]),
    ):
        with pytest.raises(UserStoreError, match="read-only"):
            write()


def test_read_only_store_shows_thumbs_and_refuses_writes(tmp_path):
    db = tmp_path / "ratings.sqlite"
    before = _small_store(db)
    with UserStore(db, read_only=True) as s:
        _assert_read_only(s)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ratings.sqlite"]


def test_unwritable_store_opens_read_only(tmp_path, monkeypatch):
    db = tmp_path / "ratings.sqlite"
    before = _small_store(db)
    monkeypatch.setattr(opening.db, "writable", lambda path: False)
    with UserStore(db) as s:
        _assert_read_only(s)
    assert db.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_read_only_permissions_open_read_only(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "ratings.sqlite"
    _small_store(db)
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        with UserStore(db) as s:
            _assert_read_only(s)
    finally:
        folder.chmod(0o755)


def test_read_only_v1_store_is_migrated_in_memory(tmp_path):
    db = tmp_path / "ratings.sqlite"
    shutil.copyfile(FIXTURE_V1, db)
    before = db.read_bytes()
    with UserStore(db, read_only=True) as s:
        assert s.ratings("demo") == {1: True, 2: True, 4: True, 3: False}
        assert s.undo_depth("demo") == 7
    assert db.read_bytes() == before


def test_read_only_damaged_store_is_salvaged_in_memory(tmp_path):
    db = tmp_path / "ratings.sqlite"
    _full_store(db)
    _smash_page(db, db.stat().st_size // _page_size(db) // 2)
    before = db.read_bytes()
    with UserStore(db, read_only=True) as s:
        assert s.recovery is not None and s.recovery.damaged_copy is None
        assert len(s.ratings("demo")) >= 0.8 * N_DEMO
        assert "read-only" in s.notice
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ratings.sqlite"]


def test_missing_store_in_a_read_only_place_is_empty(tmp_path, monkeypatch):
    monkeypatch.setattr(opening.db, "writable", lambda path: False)
    db = tmp_path / "ratings.sqlite"
    with UserStore(db) as s:
        assert s.read_only and s.ratings("demo") == {}
    assert not db.exists()


def test_damage_found_in_use_is_one_line(tmp_path):
    """SQLite finds damage after the store opened: reading and writing raise the store's
    error in one line that says what to do, never sqlite3's own exception."""

    class Damaged:
        in_transaction = False

        def execute(self, *args):
            raise sqlite3.DatabaseError("database disk image is malformed")

        def close(self):
            pass

    db = tmp_path / "ratings.sqlite"
    s = UserStore(db)
    s._conn.close()
    s._conn = Damaged()
    for use in (lambda: s.ratings("demo"), lambda: s.like("demo", 1), lambda: s.undo("demo")):
        with pytest.raises(UserStoreError, match="damaged.*start rbm-tui again") as e:
            use()
        assert "\n" not in str(e.value)


def _locked_by_another(db_path: Path) -> sqlite3.Connection:
    """Another process's connection holding ``db_path``'s write lock (rollback journal, as a
    store copied with the sqlite3 tool is)."""
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode=DELETE")
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_store_locked_too_long_is_not_taken_for_damaged(tmp_path):
    """A lock held past the busy wait (or a full disk) made quick_check fail, and the store
    was moved aside as damaged: the undo history went, the other process's write failed."""
    from engine.store import db

    path = tmp_path / "ratings.sqlite"
    with UserStore(path) as s:
        s.like("demo", 1)
    other = _locked_by_another(path)
    try:
        conn = sqlite3.connect(path, timeout=0.1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            db.is_damaged(conn)
        conn.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not list(tmp_path.glob("*.damaged-*"))
    with UserStore(path) as s:
        assert s.recovery is None and s.get("demo", 1) is True


def test_a_store_of_a_newer_rbm_tui_is_refused_unchanged(tmp_path):
    path = tmp_path / "ratings.sqlite"
    with UserStore(path) as s:
        s.like("demo", 1)
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA journal_mode=DELETE")
        c.execute("PRAGMA user_version = 99")
    before = path.read_bytes()
    with pytest.raises(UserStoreError, match="newer rbm-tui"):
        UserStore(path)
    assert path.read_bytes() == before  # not even switched to WAL
    assert not path.with_name(path.name + "-wal").exists()


def _open_at(path: str, start: float, item: int) -> None:
    while time.time() < start:
        pass
    with UserStore(Path(path)) as s:
        s.like("demo", item)


@pytest.mark.slow
def test_processes_opening_a_new_store_at_once_all_get_it(tmp_path):
    """Four processes opening a store that does not exist yet: the switch to write-ahead
    logging failed at once with "database is locked" in a third of the rounds (SQLite's busy
    wait does not cover it there)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for r in range(12):
        path = tmp_path / f"r{r}" / "ratings.sqlite"
        path.parent.mkdir()
        start = time.time() + 0.3
        procs = [ctx.Process(target=_open_at, args=(str(path), start, i)) for i in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0], f"round {r}"
        with UserStore(path) as s:
            assert sorted(s.ratings("demo")) == [0, 1, 2, 3]


def test_a_hand_edited_movie_id_that_is_no_number_is_read_not_fatal(tmp_path):
    """``update thumbs set item='abc'`` on an "int" row crashed the app at start-up and
    `thumbs list` and `thumbs undo` with int('abc'); the row is read as a text ID."""
    db = tmp_path / DB_NAME
    with UserStore(db) as s:
        s.like("demo", 1)
        s.like("demo", 2)
        s.dislike("demo", 3)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE thumbs SET item = 'abc' WHERE item = '1'")
        c.execute("UPDATE undo SET item = 'xyz' WHERE item = '2'")
    with UserStore(db) as s:
        assert s.ratings("demo") == {"abc": True, 2: True, 3: False}
        assert s.undo("demo") is not None and s.undo("demo") is not None


@pytest.mark.parametrize("why", ["disk I/O error", "database or disk is full"])
def test_a_store_on_a_full_disk_opens_read_only_with_its_thumbs(tmp_path, monkeypatch, why):
    """On a full disk the WAL switch fails with SQLite's I/O error: `thumbs list` and
    `thumbs export` could not even read the thumbs. They are read from a copy, as on a
    read-only disk."""
    db = tmp_path / DB_NAME
    with UserStore(db) as s:
        s.like("demo", 7)

    def full(*_args):
        raise sqlite3.OperationalError(why)

    monkeypatch.setattr(opening, "_open_writable", full)
    with UserStore(db) as s:
        assert s.read_only and s.ratings("demo") == {7: True}
