"""engine.splits: shared index space, determinism, per-group fractions, the official folds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data import splits
from engine.data.loaders import load_ratings
from engine.data.ratings import from_arrays


def keyset(r) -> set:
    return set(zip(r.user_ids[r.users].tolist(), r.item_ids[r.items].tolist()))


def toy(n_users: int = 40, n_items: int = 60, seed: int = 3, ts: bool = True):
    rng = np.random.default_rng(seed)
    rows = set()
    while len(rows) < n_users * 12:
        rows.add((int(rng.integers(n_users)), int(rng.integers(n_items))))
    rows = sorted(rows)
    u = np.array([r[0] for r in rows]) + 100
    i = np.array([r[1] for r in rows]) * 7
    v = rng.integers(1, 6, size=len(rows)).astype(np.float32)
    t = rng.permutation(len(rows)).astype(np.int64) + 1000 if ts else None
    return from_arrays(u, i, v, t)


def check_partition(r, train, test) -> None:
    assert train.user_ids is r.user_ids and test.user_ids is r.user_ids
    assert train.item_ids is r.item_ids and test.movies is r.movies
    assert len(train) + len(test) == len(r)
    a, b = keyset(train), keyset(test)
    assert not (a & b)
    assert a | b == keyset(r)


@pytest.mark.parametrize(
    "fn",
    [
        lambda r, s: splits.random_holdout(r, 0.2, seed=s),
        lambda r, s: splits.stratified_item_holdout(r, 0.25, seed=s),
        lambda r, s: splits.leave_k_out(r, 2, seed=s),
        lambda r, s: splits.last_by_time(r, 0.2),
    ],
)
def test_partition_and_determinism(fn) -> None:
    r = toy()
    tr, te = fn(r, 5)
    check_partition(r, tr, te)
    tr2, te2 = fn(r, 5)
    np.testing.assert_array_equal(tr.users, tr2.users)
    np.testing.assert_array_equal(te.items, te2.items)
    assert len(te) > 0


def test_random_holdout_per_user_fraction() -> None:
    r = toy()
    tr, te = splits.random_holdout(r, 0.25, seed=1)
    n_all = np.bincount(r.users, minlength=r.n_users)
    n_te = np.bincount(te.users, minlength=r.n_users)
    want = np.minimum(np.floor(0.25 * n_all + 0.5), n_all - 1)
    np.testing.assert_array_equal(n_te, want)
    assert keyset(splits.random_holdout(r, 0.25, seed=2)[1]) != keyset(te)


def test_random_holdout_keeps_a_train_rating() -> None:
    r = from_arrays(np.array([1, 2, 2]), np.array([1, 1, 2]), np.array([3, 4, 5]))
    tr, te = splits.random_holdout(r, 0.9)
    assert set(tr.users.tolist()) == {0, 1}


def test_stratified_item_per_item_counts() -> None:
    r = toy()
    tr, te = splits.stratified_item_holdout(r, 0.25, seed=7)
    n_all = np.bincount(r.items, minlength=r.n_items)
    n_tr = np.bincount(tr.items, minlength=r.n_items)
    np.testing.assert_array_equal(n_tr, np.rint(0.75 * n_all))


def test_leave_k_out() -> None:
    r = toy()
    tr, te = splits.leave_k_out(r, k=3, seed=0)
    n_all = np.bincount(r.users, minlength=r.n_users)
    n_te = np.bincount(te.users, minlength=r.n_users)
    np.testing.assert_array_equal(n_te, np.where(n_all > 3, 3, 0))


def test_last_by_time() -> None:
    r = toy()
    tr, te = splits.last_by_time(r, 0.2)
    for u in range(r.n_users):
        a = tr.timestamps[tr.users == u]
        b = te.timestamps[te.users == u]
        if len(b):
            assert a.max() < b.min()
    with pytest.raises(ValueError, match="timestamps"):
        splits.last_by_time(toy(ts=False))


def test_bad_arguments() -> None:
    r = toy()
    with pytest.raises(ValueError):
        splits.random_holdout(r, 1.5)
    with pytest.raises(ValueError):
        splits.leave_k_out(r, 0)
    with pytest.raises(ValueError):
        splits.official_fold("/nowhere", 9)


def test_aligned_unions_ids(tmp_path: Path) -> None:
    a = tmp_path / "train.csv"
    b = tmp_path / "test.csv"
    a.write_text("user,item,rating\n1,10,4\n2,20,3\n")
    b.write_text("user,item,rating\n3,10,5\n1,30,2\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n10,Ten (2000),Drama\n")
    tr, te = splits.aligned(a, b)
    assert tr.user_ids is te.user_ids and tr.movies is te.movies
    assert tr.user_ids.tolist() == [1, 2, 3]
    assert tr.item_ids.tolist() == [10, 20, 30]
    assert keyset(tr) == {(1, 10), (2, 20)} and keyset(te) == {(3, 10), (1, 30)}
    assert tr.movies.loc[0, "title"] == "Ten (2000)"
    assert tr.movies.loc[2, "title"] == "30"


def test_aligned_mixed_id_kinds(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("user,item,rating\n1,10,4\n")
    b.write_text("user,item,rating\nbob,10,5\n")
    tr, te = splits.aligned(a, b)
    assert sorted(tr.user_ids.tolist()) == ["1", "bob"]
    assert tr.item_ids.tolist() == [10]
    assert keyset(te) == {("bob", 10)}


# --------------------------------------------------------------------------- real ML-100K
def test_official_fold(ml100k_dir: Path) -> None:
    tr, te = splits.official_fold(ml100k_dir, 1)
    assert (len(tr), len(te)) == (80_000, 20_000)
    assert tr.user_ids is te.user_ids and tr.item_ids is te.item_ids
    assert tr.n_users == 943 and tr.n_items == 1682
    full = load_ratings(ml100k_dir)
    np.testing.assert_array_equal(tr.user_ids, full.user_ids)
    np.testing.assert_array_equal(tr.item_ids, full.item_ids)
    assert keyset(tr) | keyset(te) == keyset(full)
    assert tr.movies.iloc[tr.lookup_item(543)]["title"] == "Misérables, Les (1995)"


def test_stratified_matches_published_benchmark(ml100k_dir: Path, bench_dir: Path) -> None:
    r = load_ratings(ml100k_dir)
    tr, te = splits.stratified_item_holdout(r)  # defaults: 0.25, seed 42
    want_tr = pd.read_csv(bench_dir / "train.csv")
    want_te = pd.read_csv(bench_dir / "test.csv")
    assert keyset(tr) == set(zip(want_tr.user, want_tr.item))
    assert keyset(te) == set(zip(want_te.user, want_te.item))


def test_aligned_benchmark_files(bench_dir: Path) -> None:
    tr, te = splits.aligned(bench_dir / "train.csv", bench_dir / "test.csv")
    assert (len(tr), len(te)) == (75_066, 24_934)
    assert tr.n_users == 943 and tr.n_items == 1682
    assert tr.user_ids is te.user_ids
