"""Watch together (issue 36.5) and ``recommend --profile``: the soft minimum, the together
list's exclusions and order, whose taste a pick came from, and the CLI for one profile (the
same list as ``recommend`` of its exported thumbs) and for two."""

from __future__ import annotations

import contextlib
import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ModelError, UserStoreError
from engine.together import rank_together, soft_min, together
from engine.userstore import UserStore
from rbm_tui.cli import main


def run(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- arrays
def test_soft_min_lies_between_the_minimum_and_the_mean():
    m = np.array([[0.9, 0.2, 0.5], [0.1, 0.2, 0.6]])
    s = soft_min(m, -4.0)
    assert np.all(s >= m.min(0) - 1e-12) and np.all(s <= m.mean(0) + 1e-12)
    assert s[1] == pytest.approx(0.2)  # equal matches: that match
    assert soft_min(m, -np.inf).tolist() == [0.1, 0.2, 0.5]
    # the harmonic mean of 0.9 and 0.1
    assert soft_min(m, -1.0)[0] == pytest.approx(2 / (1 / 0.9 + 1 / 0.1))
    with pytest.raises(ValueError):
        soft_min(m, 1.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.floats(1e-6, 1.0), min_size=3, max_size=3), min_size=2, max_size=4),
    st.sampled_from([-0.5, -1.0, -4.0, -np.inf]),
)
def test_soft_min_is_bounded_symmetric_and_monotone(rows, power):
    m = np.array(rows)
    s = soft_min(m, power)
    assert np.all(s >= m.min(0) * (1 - 1e-9)) and np.all(s <= m.max(0) * (1 + 1e-9))
    assert np.allclose(soft_min(m[::-1], power), s)  # the people's order does not matter
    lower = m.copy()
    lower[0] *= 0.5  # one person less keen: the together match never goes up
    assert np.all(soft_min(lower, power) <= s * (1 + 1e-9))


def test_a_movie_one_person_strongly_dislikes_does_not_lead():
    # movie 0: person 0's favourite by far, person 1 would hardly pick or like it
    match = np.array([[0.95, 0.40, 0.35, 0.30], [0.02, 0.38, 0.30, 0.10]])
    p_like = np.array([[0.99, 0.80, 0.70, 0.6], [0.05, 0.75, 0.70, 0.5]])
    picks = rank_together(match, p_like, np.zeros(4, bool), 4)
    assert [p.index for p in picks][:2] == [1, 2]
    assert picks[-1].index == 0  # last, below movie 3 that both find lukewarm
    assert picks[0].match == (0.40, 0.38) and picks[0].p_like == (0.80, 0.75)
    scores = [p.score for p in picks]
    assert scores == sorted(scores, reverse=True)


def test_excluded_and_unscorable_movies_never_appear():
    match = np.array([[0.9, 0.8, np.nan, 0.1], [0.9, 0.8, 0.7, 0.1]])
    excluded = np.array([True, False, False, False])
    picks = rank_together(match, match, excluded, 10)
    assert [p.index for p in picks] == [1, 3]  # 0 rated by someone, 2 unknown to the model
    assert rank_together(match, match, np.ones(4, bool), 10) == []


def test_source_is_the_person_whose_own_list_ranks_the_pick_highest():
    match = np.array([[0.5, 0.4, 0.3], [0.1, 0.35, 0.2]])
    by_index = {p.index: p for p in rank_together(match, match, np.zeros(3, bool), 3)}
    assert by_index[0].source == 0  # person 0's first
    assert by_index[1].source == 1  # person 1's first (person 0's second)


# --------------------------------------------------------------------------- sessions
@pytest.fixture(scope="module")
def planted_model():
    """The tiny seeded model trained on two planted tastes (movies 0-29 vs 30-59)."""
    from helpers import SEEDED_CONFIG, planted

    from engine.settings import TrainConfig
    from engine.training.loop import train

    r = planted()
    cfg = TrainConfig(**{**SEEDED_CONFIG, "n_hidden": 16, "epochs": 20})
    return r, train(r, cfg).model


def _person(ratings, model, likes, dislikes=(), marks=()):
    from engine.session import Session

    s = Session(ratings, None, None, model)
    for i in likes:
        s.rate(ratings.lookup_item(i), True)
    for i in dislikes:
        s.rate(ratings.lookup_item(i), False)
    for i in marks:
        s.mark(ratings.lookup_item(i), "not_interested")
    return s


def test_together_leaves_out_every_rated_or_marked_movie_of_everyone(planted_model):
    r, model = planted_model
    a = _person(r, model, likes=range(0, 8), dislikes=[30, 31], marks=[10, 11])
    b = _person(r, model, likes=range(20, 26), dislikes=[40])
    picks = together([a, b], n=60)
    shown = {int(r.item_ids[p.index]) for p in picks}
    gone = set(range(0, 8)) | {30, 31, 10, 11} | set(range(20, 26)) | {40}
    assert shown and not shown & gone
    assert len(shown) == 60 - len(gone)


def test_together_favours_what_both_like_over_one_persons_favourite(planted_model):
    r, model = planted_model
    # person a: taste A (movies 0-29); person b: taste B (30-59) but also likes 20-24
    a = _person(r, model, likes=range(0, 10), dislikes=range(30, 36))
    b = _person(r, model, likes=[*range(40, 48), *range(20, 24)], dislikes=range(0, 6))
    own_first = a.recommendations(1).picks[0].index
    picks = together([a, b], n=10)
    first = picks[0]
    assert first.index != own_first
    # the least keen person's match of the together pick beats theirs of a's own favourite
    assert min(first.match) > min(a.match[own_first], b.match[own_first])
    assert b.p_like[first.index] > b.p_like[own_first]
    assert first.source in (0, 1)
    if first.because is not None:  # a liked movie of the person whose taste it came from
        assert [a, b][first.source].thumbs[r.item_ids[first.because].item()] is True


def test_together_needs_two_people_and_a_model(planted_model):
    r, model = planted_model
    a = _person(r, model, likes=[0])
    with pytest.raises(UserStoreError, match="two or more people"):
        together([a], 5)
    with pytest.raises(ModelError):
        together([a, _person(r, None, likes=[1])], 5)


# --------------------------------------------------------------------------- the CLI
@pytest.fixture
def profiles(seeded_model_file):
    """Two profiles on the demo with thumbs and a mark; the model the demo's tiny one."""
    from engine import catalogue
    from engine.data.loaders import load_ratings

    ids = load_ratings(catalogue.demo_path()).item_ids.tolist()
    with UserStore() as s:
        s.create_profile("anna")
        s.create_profile("ben")
        for i in ids[:6]:
            s.like("demo", i, profile="anna")
        s.dislike("demo", ids[6], profile="anna")
        s.mark("demo", ids[7], "seen", profile="anna")
        for i in ids[20:26]:
            s.like("demo", i, profile="ben")
        s.dislike("demo", ids[2], profile="ben")
    return ids


def _items(path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [row["item"] for row in csv.DictReader(fh)]


def _untitled(path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [{k: v for k, v in row.items() if k != "title"} for row in csv.DictReader(fh)]


def test_recommend_profile_equals_recommend_of_its_exported_thumbs(
    profiles, seeded_model_file, tmp_path
):
    with UserStore() as s:  # without the mark: the exact list of the exported file
        s.mark("demo", profiles[7], None, profile="anna")
    exported, a, b = tmp_path / "anna.csv", tmp_path / "a.csv", tmp_path / "b.csv"
    rc, _, err = run(["thumbs", "export", "--dataset", "demo", "--profile", "anna", "-o", exported])
    assert rc == 0, err
    m = ["--model", seeded_model_file, "--k", 15]
    rc, _, err = run(["recommend", "demo", *m, "--profile", "anna", "-o", a])
    assert rc == 0, err
    rc, _, err = run(["recommend", exported, *m, "-o", b])
    assert rc == 0, err
    assert _untitled(a) == _untitled(b)  # (the exported file has no titles)
    assert len(_items(a)) == 15
    # the table lists the same movies
    rc, out, _ = run(["recommend", "demo", *m, "--profile", "anna"])
    assert rc == 0 and "Top 15 for anna (7 thumbs on demo)" in out
    assert [line.split()[1] for line in out.splitlines()[2:]] == _items(a)


def test_recommend_profile_leaves_out_marked_movies(profiles, seeded_model_file, tmp_path):
    exported, a, b = tmp_path / "e.csv", tmp_path / "a.csv", tmp_path / "b.csv"
    run(["thumbs", "export", "--dataset", "demo", "--profile", "anna", "-o", exported])
    m = ["--model", seeded_model_file, "--k", 20]
    assert run(["recommend", exported, *m, "-o", b])[0] == 0
    plain = _items(b)
    with UserStore() as s:  # the model's third pick: anna is not interested
        s.mark("demo", int(plain[2]), "not_interested", profile="anna")
    assert run(["recommend", "demo", *m, "--profile", "anna", "-o", a])[0] == 0
    mine = _items(a)
    assert plain[2] not in mine and str(profiles[7]) not in mine
    assert mine[:19] == [i for i in plain if i != plain[2]]
    assert len(mine) == 20  # still k movies


def test_recommend_two_profiles_prints_the_together_list(profiles, seeded_model_file, tmp_path):
    m = ["--model", seeded_model_file, "--k", 8]
    rc, out, err = run(["recommend", "demo", *m, "--profile", "anna", "--profile", "ben"])
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Together: 8 movies none of anna, ben rated on demo")
    assert lines[1].split()[:6] == ["#", "movie", "title", "together", "anna", "match"]
    out_csv = tmp_path / "t.csv"
    rc, _, err = run(
        ["recommend", "demo", *m, "--profile", "anna", "--profile", "ben", "-o", out_csv]
    )
    assert rc == 0, err
    with open(out_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert list(rows[0])[:8] == [
        "rank", "item", "title", "together", "match:anna", "p_like:anna", "match:ben", "p_like:ben"
    ]  # fmt: skip
    rated = {str(i) for i in [*profiles[:8], *profiles[20:26]]}
    assert not rated & {r["item"] for r in rows}
    for r in rows:
        low = min(float(r["match:anna"]), float(r["match:ben"]))
        assert low <= float(r["together"]) <= max(float(r["match:anna"]), float(r["match:ben"]))
        assert r["from"] in ("anna", "ben")
    together_scores = [float(r["together"]) for r in rows]
    assert together_scores == sorted(together_scores, reverse=True)


@pytest.mark.parametrize(
    "profile_args, words",
    [
        (["--profile", "nobody"], "nobody"),
        (["--profile", "anna", "--profile", "anna"], "twice"),
        (["--profile", "me"], "no thumbs"),
        (["--profile", "anna", "--user", "1"], "not both"),
    ],
)
def test_recommend_profile_refuses_bad_profiles_in_one_line(
    profiles, seeded_model_file, profile_args, words
):
    rc, out, err = run(["recommend", "demo", "--model", seeded_model_file, *profile_args])
    assert rc == 2 and not out
    assert len(err.strip().splitlines()) == 1 and words in err


@pytest.mark.parametrize("threshold", [6.0, 0.5, 3.0])
def test_a_profile_keeps_its_likes_on_the_models_side_of_its_threshold(profiles, threshold):
    """A model of 1-10 ratings likes from 6 up: the profile's thumbs up (5 stars in the
    exported file) must still be likes to it, and its thumbs down dislikes."""
    from engine.people import profile_ratings

    with UserStore() as s:
        r = profile_ratings(s, "demo", "anna", threshold)
    liked = r.liked(threshold)
    assert liked.sum() == 6 and (~liked).sum() == 1
    assert ((r.values >= 0) & (r.values <= 10)).all()


def test_a_profile_whose_thumbs_the_model_does_not_know_still_gets_a_list(tmp_path):
    """The catalogue check ran on the profile's few thumbs: none known to a model trained
    without those movies read as "another catalogue", exit 2; the dataset is what to check."""
    from engine import catalogue
    from engine.data.loaders import load_ratings
    from engine.data.ratings import from_arrays
    from engine.settings import TrainConfig
    from engine.training.run import train_and_save

    demo = load_ratings(catalogue.demo_path())
    ids = demo.item_ids.tolist()
    users, items = demo.user_ids[demo.users], demo.item_ids[demo.items]
    keep = ~np.isin(items, ids[:20])
    sub = from_arrays(users[keep], items[keep], demo.values[keep], source="sub")
    cfg = TrainConfig(n_hidden=4, epochs=2, item_item_weight=0.0)
    model = train_and_save(sub, cfg, dataset="sub", model_out=tmp_path / "sub.pt").path
    with UserStore() as s:
        for i in ids[:4]:
            s.like("demo", i)
    rc, out, err = run(["recommend", "demo", "--model", model, "--profile", "me", "--k", "5"])
    assert rc == 0, err
    assert out.startswith("Top 5 for me")


def test_on_a_ten_point_scale_the_export_and_the_profile_recommend_alike(tmp_path):
    """A 1-10 dataset likes from 6: the export wrote thumbs up as 5 stars, dislikes there,
    and `recommend FILE` of it disagreed with `recommend --profile`."""
    from helpers import write_dataset

    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.run import train_and_save

    folder = write_dataset(tmp_path / "ten")
    text = (folder / "ratings.csv").read_text().splitlines()
    doubled = [text[0]] + [f"{u},{i},{2 * int(r)}" for u, i, r in (x.split(",") for x in text[1:])]
    (folder / "ratings.csv").write_text("\n".join(doubled) + "\n")
    ratings = load_ratings(folder)
    cfg = TrainConfig(n_hidden=4, epochs=2, item_item_weight=0.0)
    model = train_and_save(ratings, cfg, dataset="ten", model_out=tmp_path / "ten.pt").path
    with UserStore() as s:
        for i in (1, 2, 3):
            s.like(str(folder), i)
        s.dislike(str(folder), 4)
    exported, a, b = tmp_path / "me.csv", tmp_path / "a.csv", tmp_path / "b.csv"
    rc, _, err = run(["thumbs", "export", "--dataset", folder, "-o", exported])
    assert rc == 0, err
    stars = sorted(row["rating"] for row in csv.DictReader(exported.open()))
    assert stars == ["1", "6", "6", "6"]
    m = ["--model", model, "--k", 8]
    assert run(["recommend", folder, *m, "--profile", "me", "-o", a])[0] == 0
    assert run(["recommend", exported, *m, "-o", b])[0] == 0
    assert _untitled(a) == _untitled(b)
