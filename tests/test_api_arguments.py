"""The Python API refuses what it cannot use with an engine error that names it, and never
answers quietly wrong: another catalogue's ratings, strings or floats for movie indices,
indices out of range, counts below their least, unknown rankings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import write_dataset

import engine
from engine import catalogue
from engine.errors import ModelError, MovieIndexError, UnknownIdError, UsageError


@pytest.fixture(scope="module")
def model(seeded_model_file: Path):
    return engine.load_model(seeded_model_file, device="cpu")


@pytest.fixture(scope="module")
def demo():
    return engine.load_ratings(catalogue.demo_path(), cache=False)


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory):
    """A catalogue whose movie IDs 1-30 are the demo's IDs under other titles."""
    folder = write_dataset(tmp_path_factory.mktemp("other") / "other")
    return engine.load_ratings(folder, cache=False)


def test_the_batch_api_refuses_ratings_of_another_catalogue(model, other):
    with pytest.raises(ModelError, match="another catalogue"):
        engine.recommend_all(model, other, k=3)
    with pytest.raises(ModelError, match="another catalogue"):
        engine.predict_pairs(model, other, other.user_ids[:2], other.item_ids[:2])
    with pytest.raises(ModelError, match="another catalogue"):
        engine.evaluate(model, other, other)
    with pytest.raises(ModelError, match="another catalogue"):
        engine.Session(other, None, None, model)


def test_evaluate_refuses_a_test_file_of_another_catalogue(model, demo, other):
    with pytest.raises(ModelError, match="another catalogue"):
        engine.evaluate(model, demo, other)


def test_the_batch_api_scores_the_catalogue_it_was_trained_on(model, demo):
    top = engine.recommend_all(model, demo, k=3, users=demo.user_ids[:2].tolist())
    assert [len(v) for v in top.values()] == [3, 3]
    assert set(top) == set(demo.user_ids[:2].tolist())


@pytest.mark.parametrize(
    "likes",
    [["5"], "5", [1.5], [True], [None]],
    ids=["string-in-list", "string", "float", "bool", "none"],
)
def test_a_thumb_that_is_not_a_whole_number_is_refused(model, likes):
    with pytest.raises(UsageError, match="likes"):
        engine.fold_in(model, likes=likes)


@pytest.mark.parametrize("index", [-1, 10**6])
def test_an_index_outside_the_model_names_the_range(model, index):
    with pytest.raises(MovieIndexError, match=f"{index} is outside this model's 0..") as e:
        engine.recommend(model, likes=[index])
    assert isinstance(e.value, IndexError)  # still what an IndexError handler catches
    with pytest.raises(MovieIndexError):
        engine.fold_in(model, stars={index: 4.0})
    with pytest.raises(MovieIndexError):
        engine.explain(model, [0], [], index)


def test_numpy_integer_indices_are_whole_numbers(model):
    a = engine.fold_in(model, likes=np.array([0, 5], np.int32))
    b = engine.fold_in(model, likes=[np.int64(0), 5])
    np.testing.assert_array_equal(a.p_like, b.p_like)


def test_a_thumb_given_twice_counts_once(model):
    once = engine.fold_in(model, likes=[0])
    thrice = engine.fold_in(model, likes=[0, 0, 0])
    np.testing.assert_array_equal(once.p_like, thrice.p_like)
    np.testing.assert_array_equal(once.seen_logit, thrice.seen_logit)


def test_a_movie_both_liked_and_disliked_is_refused(model):
    with pytest.raises(UsageError, match="both liked and disliked"):
        engine.fold_in(model, likes=[0], dislikes=[0])


@pytest.mark.parametrize(
    "call",
    [
        lambda m, r: engine.recommend(m, n=-3),
        lambda m, r: engine.recommend(m, likes=[0], n=-1),
        lambda m, r: engine.recommend(m, likes=[0], n=2.5),
        lambda m, r: engine.explain(m, [0, 5], [], 9, n=-1),
        lambda m, r: engine.recommend_all(m, r, k=0, users=r.user_ids[:1].tolist()),
        lambda m, r: engine.evaluate(m, r, r, k=0),
        lambda m, r: engine.Session(r, None, None, m).recommendations(-2),
    ],
    ids=["popular", "recommend", "fraction", "explain", "recommend_all", "evaluate", "session"],
)
def test_counts_below_their_least_are_refused(model, demo, call):
    with pytest.raises(UsageError):
        call(model, demo)


def test_an_unknown_ranking_is_refused_everywhere(model, demo):
    with pytest.raises(UsageError, match="by='bogus'"):
        engine.recommend(model, likes=[0], by="bogus")
    with pytest.raises(UsageError, match="by='bogus'"):
        engine.recommend_all(model, demo, by="bogus")
    with pytest.raises(UsageError, match="by='bogus'"):
        engine.explain(model, [0], [], 5, by="bogus")


def test_an_unknown_user_is_an_engine_error_and_still_a_key_error(model, demo):
    with pytest.raises(UnknownIdError, match="unknown user ID 99999") as e:
        engine.recommend_all(model, demo, users=[99999])
    assert isinstance(e.value, KeyError)
    assert str(e.value) == "unknown user ID 99999"  # not quoted as a KeyError would print


def test_a_session_index_outside_the_dataset_is_refused(model, demo):
    session = engine.Session(demo, None, None, model)
    with pytest.raises(MovieIndexError, match="outside the dataset's"):
        session.rate(-1, True)
    with pytest.raises(MovieIndexError):
        session.rate(demo.n_items, True)
    assert session.thumbs == {}


def test_with_no_thumbs_recommend_keeps_to_the_candidates_and_calibrates(model):
    mask = np.zeros(model.n_items, bool)
    mask[model.n_items // 2 :] = True
    picks = engine.recommend(model, n=5, candidates=mask)
    assert len(picks) == 5 and all(mask[p.item] for p in picks)
    calibrated = engine.fold_in(model).p_like
    assert [p.p_like for p in picks] == [float(calibrated[p.item]) for p in picks]


def test_pairs_of_unequal_length_are_refused(model, demo):
    with pytest.raises(UsageError, match="same length"):
        engine.predict_pairs(model, demo, demo.user_ids[:3], demo.item_ids[:2])


def test_from_arrays_refuses_what_load_ratings_refuses():
    u, i = np.arange(4), np.arange(4)
    with pytest.raises(UsageError, match="one length"):
        engine.from_arrays(u, i[:3], np.full(4, 4.0))
    for bad in (np.nan, 11.0, -1.0):
        with pytest.raises(UsageError, match="outside the 0-10 scale"):
            engine.from_arrays(u, i, np.array([4.0, 3.0, bad, 5.0]))
    assert engine.from_arrays(u, i, np.full(4, 4.0)).n_ratings == 4


def test_train_and_save_refuse_objects_of_another_type(tmp_path):
    with pytest.raises(UsageError, match="load_ratings"):
        engine.train("ratings.csv")
    with pytest.raises(UsageError, match="TrainConfig"):
        engine.train(engine.from_arrays([1, 2], [1, 2], [4.0, 2.0]), {"epochs": 1})
    with pytest.raises(UsageError, match="engine.Model"):
        engine.save_model("x", tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("device", ["tpu", "meta"])
def test_an_unusable_device_is_a_setting_error(seeded_model_file, device):
    with pytest.raises(engine.SettingError, match=f"--device {device}"):
        engine.load_model(seeded_model_file, device=device)


def test_help_on_the_engine_lists_the_api():
    assert "recommend" in dir(engine) and "UsageError" in dir(engine)
    assert set(dir(engine)) == set(engine.__all__)


def test_a_checked_model_still_pickles(model, demo):
    """The kept answer of check_fits is a weak reference, which pickle cannot take: a model
    that had scored ratings could no longer go to a process pool."""
    import pickle

    engine.recommend_all(model, demo, k=2, users=demo.user_ids[:1].tolist())
    again = pickle.loads(pickle.dumps(model))
    assert again.n_items == model.n_items and again._fitted is None
