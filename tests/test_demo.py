"""The bundled demo dataset (data/demo): small, synthetic, deterministic, loadable, and with
the planted tastes visible in the ratings."""

from __future__ import annotations

import csv
import importlib.util
from collections import defaultdict
from pathlib import Path

import pytest

from engine import catalogue as ds

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
FILES = ["README.md", "movies.csv", "ratings.csv", "tastes.csv"]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RBM_TUI_HOME", str(tmp_path / "home"))


def _make_demo():
    spec = importlib.util.spec_from_file_location("make_demo", ROOT / "scripts" / "make_demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _rows(name: str) -> list[dict[str, str]]:
    with open(DEMO / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def demo():
    movies = {
        int(r["movieId"]): (r["title"], int(r["title"][-5:-1]), set(r["genres"].split("|")))
        for r in _rows("movies.csv")
    }
    ratings = [
        (int(r["userId"]), int(r["movieId"]), float(r["rating"]), int(r["timestamp"]))
        for r in _rows("ratings.csv")
    ]
    tastes = {}
    for r in _rows("tastes.csv"):
        lo, hi = (int(x) for x in r["era"].split("-"))
        tastes[int(r["userId"])] = (set(r["genres"].split("|")), (lo, hi))
    return movies, ratings, tastes


def test_files_small_and_labelled_synthetic():
    present = sorted(p.name for p in DEMO.iterdir() if not p.name.startswith((".", "__")))
    assert present == FILES
    assert sum((DEMO / f).stat().st_size for f in FILES) <= 1_000_000
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "not MovieLens data" in readme
    assert ds.demo_path() == DEMO and ds.local_path("demo") == DEMO


def test_movielens_latest_layout():
    with open(DEMO / "ratings.csv", encoding="utf-8") as fh:
        assert fh.readline() == "userId,movieId,rating,timestamp\n"
    with open(DEMO / "movies.csv", encoding="utf-8") as fh:
        assert fh.readline() == "movieId,title,genres\n"
        body = fh.read()
    assert '"The Good, the Bad and the Ugly (1966)"' in body  # commas are quoted
    assert (DEMO / "tastes.csv").read_text().startswith("userId,genres,era\n")


def test_deterministic(tmp_path):
    mod = _make_demo()
    written = mod.write(tmp_path / "again")
    assert sorted(p.name for p in written) == FILES
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (DEMO / name).read_bytes(), name
    # the command line writes the same bytes too
    assert mod.main(["--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "ratings.csv").read_bytes() == (DEMO / "ratings.csv").read_bytes()


def test_shape_and_catalogue_counts(demo):
    movies, ratings, tastes = demo
    info = ds.get("demo")
    users = {u for u, *_ in ratings}
    assert info.kind == "demo" and info.url is None
    assert (info.users, info.movies, info.ratings) == (len(users), len(movies), len(ratings))
    assert 300 <= len(movies) <= 400 and 300 <= len(users) <= 500
    assert users == set(tastes)
    per_user = defaultdict(list)
    for u, m, r, _ in ratings:
        assert m in movies and r in (1.0, 2.0, 3.0, 4.0, 5.0)
        per_user[u].append(m)
    for items in per_user.values():
        assert 20 <= len(items) <= 80 and len(set(items)) == len(items)
    for genres, (lo, hi) in tastes.values():
        assert 1 <= len(genres) <= 2 and lo < hi
    assert abs(info.size - sum((DEMO / f).stat().st_size for f in FILES)) < 50_000


def test_loads_with_load_ratings():
    loaders = pytest.importorskip("engine.data.loaders")
    r = loaders.load_ratings(ds.resolve("demo"), cache=False)
    info = ds.get("demo")
    assert (r.n_users, r.n_items, r.n_ratings) == (info.users, info.movies, info.ratings)
    assert r.scale == (1.0, 5.0)
    titles = r.movies["title"].tolist()
    i = next(k for k, t in enumerate(titles) if t.startswith("The Good, the Bad and the Ugly"))
    assert r.movies["year"].iloc[i] == 1966
    assert "Western" in r.movies["genres"].iloc[i]
    assert any(t.startswith("Léon") for t in titles)  # UTF-8 read as such


def test_planted_taste_visible(demo):
    movies, ratings, tastes = demo
    stats = defaultdict(lambda: [[0, 0], [0, 0]])  # user -> [[likes, n] off-taste, on-taste]
    for u, m, r, _ in ratings:
        on = bool(movies[m][2] & tastes[u][0])
        s = stats[u][on]
        s[0] += r >= 4
        s[1] += 1
    gaps = []
    for off, on in stats.values():
        if off[1] >= 5 and on[1] >= 5:
            gaps.append(on[0] / on[1] - off[0] / off[1])
    assert len(gaps) >= 0.9 * len(tastes)
    assert sum(gaps) / len(gaps) > 0.4
    assert sum(g > 0 for g in gaps) >= 0.9 * len(gaps)
    # with the app's like threshold (rating >= 3) too
    on = [r >= 3 for u, m, r, _ in ratings if movies[m][2] & tastes[u][0]]
    off = [r >= 3 for u, m, r, _ in ratings if not movies[m][2] & tastes[u][0]]
    assert sum(on) / len(on) - sum(off) / len(off) > 0.3


def test_era_preference_visible(demo):
    movies, ratings, tastes = demo

    def like_rate(in_era: bool, genre_match: bool | None = None) -> float:
        sel = [
            r >= 4
            for u, m, r, _ in ratings
            if (tastes[u][1][0] <= movies[m][1] <= tastes[u][1][1]) == in_era
            and (genre_match is None or bool(movies[m][2] & tastes[u][0]) == genre_match)
        ]
        return sum(sel) / len(sel)

    assert like_rate(True) - like_rate(False) > 0.1
    # among movies outside the favourite genres, the preferred era is what makes the likes
    assert like_rate(True, False) - like_rate(False, False) > 0.15


def test_fans_of_a_genre_like_that_genre(demo):
    movies, ratings, tastes = demo
    genres = sorted({g for gs, _ in tastes.values() for g in gs})
    shares = []
    for g in genres:
        fans = {u for u, (gs, _) in tastes.items() if g in gs}
        likes = defaultdict(int)
        for u, m, r, _ in ratings:
            if u in fans and r >= 4:
                likes[m] += 1
        top = sorted(likes, key=lambda m: (-likes[m], m))[:10]
        share = sum(g in movies[m][2] for m in top) / len(top)
        assert share >= 0.6, (g, [movies[m][0] for m in top])
        shares.append(share)
    assert sum(shares) / len(shares) >= 0.85
