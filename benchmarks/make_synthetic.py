"""Write a synthetic ratings set shaped like MovieLens 25M (or smaller).

Files: ``ratings.csv`` (``userId,movieId,rating,timestamp``, sorted by user then movie, like
GroupLens ships it) and ``movies.csv`` (``movieId,title,genres`` with fake titles such as
``"Movie 123 (1999)"``). Movie popularity is Zipf-like, user activity lognormal, ratings
half-stars with MovieLens' overall distribution. Everything is generated with numpy a chunk of
users at a time, so memory stays modest; nothing builds a users × movies array.

    python benchmarks/make_synthetic.py --out benchmarks/out             # 25M ratings
    python benchmarks/make_synthetic.py --users 2000 --items 1000 --ratings 100000 --out /tmp/s
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

GENRES = (
    "Action|Adventure|Animation|Children|Comedy|Crime|Documentary|Drama|Fantasy|Film-Noir|"
    "Horror|IMAX|Musical|Mystery|Romance|Sci-Fi|Thriller|War|Western"
).split("|")
STARS = np.arange(1, 11, dtype=np.float64) / 2.0  # 0.5 .. 5.0
# Share of each half-star rating in MovieLens 25M.
STAR_P = np.array([1.6, 3.1, 1.6, 6.6, 5.0, 19.6, 12.6, 26.6, 8.5, 14.4])
STAR_P = STAR_P / STAR_P.sum()
T0, T1 = 789_652_009, 1_574_327_703  # MovieLens 25M's time span


def user_counts(rng: np.random.Generator, n_users: int, n_items: int, n_ratings: int) -> np.ndarray:
    """Ratings per user: lognormal, at least ``min_per_user``, summing exactly to ``n_ratings``."""
    cap = max(1, n_items // 2)
    if n_ratings > n_users * cap:
        raise SystemExit(f"{n_ratings} ratings do not fit {n_users} users × {n_items} movies")
    floor = int(max(1, min(20, n_ratings // n_users // 2)))
    raw = rng.lognormal(mean=0.0, sigma=1.15, size=n_users)
    extra = n_ratings - floor * n_users
    counts = floor + np.floor(raw / raw.sum() * extra).astype(np.int64)
    counts = np.minimum(counts, cap)
    # Hand out what rounding and capping left over, one rating at a time per user.
    while (short := n_ratings - int(counts.sum())) > 0:
        room = np.flatnonzero(counts < cap)
        pick = rng.choice(room, size=min(short, len(room)), replace=False)
        counts[pick] += 1
    return counts


def item_popularity(rng: np.random.Generator, n_items: int) -> np.ndarray:
    """Zipf-like probabilities, shuffled over the movies so popularity is not ID order."""
    ranks = np.arange(1, n_items + 1, dtype=np.float64)
    p = 1.0 / (ranks + 10.0) ** 1.05
    p /= p.sum()
    return p[rng.permutation(n_items)]


def sample_user_items(
    rng: np.random.Generator, counts: np.ndarray, p: np.ndarray, cdf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct movies for each user of a chunk (row-local user numbers, movie indices)."""
    n_items = len(p)
    n_u = len(counts)
    want = counts.copy()
    got_u = np.empty(0, dtype=np.int64)
    got_i = np.empty(0, dtype=np.int64)
    for attempt in range(60):
        need = np.maximum(want, 0)
        if not need.any():
            break
        draw = np.ceil(need * (1.2 + attempt)).astype(np.int64) + (need > 0) * 4
        u = np.repeat(np.arange(n_u), draw)
        if attempt < 3:
            i = np.searchsorted(cdf, rng.random(len(u)), side="right")
            i = np.minimum(i, n_items - 1)
        else:  # the heaviest users have taken the popular movies: draw the rest uniformly
            i = rng.integers(0, n_items, size=len(u))
        key = np.concatenate([got_u * n_items + got_i, u * n_items + i])
        key.sort()
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
        ku, ki = key // n_items, key % n_items
        # Keep a random subset of at most counts[u] movies per user.
        pri = rng.random(len(key))
        order = np.lexsort((pri, ku))
        first = np.searchsorted(ku[order], np.arange(n_u))
        rank = np.empty(len(key), dtype=np.int64)
        rank[order] = np.arange(len(key)) - first[ku[order]]
        keep = rank < counts[ku]
        got_u, got_i = ku[keep], ki[keep]
        want = counts - np.bincount(got_u, minlength=n_u)
    return got_u, got_i


def write(out: Path, n_users: int, n_items: int, n_ratings: int, seed: int = 0) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    # Movie IDs: sparse and up to 6 digits, like MovieLens 25M (max 209171).
    id_space = max(n_items, min(209_171, n_items * 4))
    movie_ids = np.sort(rng.choice(np.arange(1, id_space + 1), size=n_items, replace=False))
    years = rng.integers(1902, 2020, size=n_items)
    n_gen = rng.integers(1, 4, size=n_items)
    genre_idx = [rng.choice(len(GENRES), size=k, replace=False) for k in n_gen.tolist()]
    titles = [f"Movie {m} ({y})" for m, y in zip(movie_ids.tolist(), years.tolist())]
    genres = ["|".join(GENRES[j] for j in sorted(g.tolist())) for g in genre_idx]
    genres[0] = "(no genres listed)"
    pd.DataFrame({"movieId": movie_ids, "title": titles, "genres": genres}).to_csv(
        out / "movies.csv", index=False
    )

    counts = user_counts(rng, n_users, n_items, n_ratings)
    p = item_popularity(rng, n_items)
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    path = out / "ratings.csv"
    tmp = path.with_suffix(".csv.tmp")
    written = 0
    with open(tmp, "w", newline="") as fh:
        fh.write("userId,movieId,rating,timestamp\n")
        chunk_target = 1_000_000
        start = 0
        while start < n_users:
            stop = start
            acc = 0
            while stop < n_users and (acc < chunk_target or stop == start):
                acc += int(counts[stop])
                stop += 1
            lu, li = sample_user_items(rng, counts[start:stop], p, cdf)
            order = np.lexsort((movie_ids[li], lu))
            lu, li = lu[order], li[order]
            stars = rng.choice(STARS, size=len(lu), p=STAR_P)
            ts = rng.integers(T0, T1, size=len(lu))
            df = pd.DataFrame(
                {
                    "userId": lu + start + 1,
                    "movieId": movie_ids[li],
                    "rating": stars,
                    "timestamp": ts,
                }
            )
            df.to_csv(fh, header=False, index=False, float_format="%.1f")
            written += len(df)
            start = stop
            print(
                f"\r{written:,} / {n_ratings:,} ratings ({time.perf_counter() - t0:.0f} s)",
                end="",
                file=sys.stderr,
                flush=True,
            )
    tmp.replace(path)
    print(
        f"\nwrote {path} ({written:,} ratings, {n_users:,} users, {n_items:,} movies) "
        f"in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=162_000)
    ap.add_argument("--items", type=int, default=59_000)
    ap.add_argument("--ratings", type=int, default=25_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    a = ap.parse_args(argv)
    write(a.out, a.users, a.items, a.ratings, a.seed)


if __name__ == "__main__":
    main()
