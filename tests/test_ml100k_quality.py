"""The default model on real MovieLens 100K, clearly above the simple baselines.

Baselines on u1 (docs/benchmarks.md): always "like" has AUC 0.5, accuracy 0.821, per-user
error 0.159; the user + item bias model AUC 0.800, accuracy 0.844, per-user error 0.147; the
original project's RBM has AUC 0.623. The full benchmark figures come from
``benchmarks/run_benchmarks.py``; this test guards against regressions at a lower bar.

Measured with the default settings on u1 (seeds 0-3; the test trains seed 0): AUC
0.821-0.824 (seed 0: 0.8212), accuracy 0.848-0.851 (0.8490), per-user error 0.143-0.145
(0.1447), ECE 0.007-0.011 (0.0075); nDCG@10 0.568-0.570 with the movie-to-movie part and
0.553-0.558 without it, MAP 0.138-0.139 against 0.132-0.133.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def u1(ml100k_dir):
    from engine.data.splits import official_fold
    from engine.training.loop import train

    tr, te = official_fold(ml100k_dir, 1)
    return tr, te, train(tr)


@pytest.mark.slow
def test_like_dislike_on_u1_beats_baselines(u1):
    from engine.evaluation import evaluate

    tr, te, res = u1
    m = evaluate(res.model, tr, te)
    assert m["skipped_rows"] == 0 and m["test_rows"] == 20_000
    assert m["auc"] > 0.815  # bias model 0.800, original RBM 0.623, always-like 0.5
    assert m["accuracy"] > 0.845  # bias model 0.844, always-like 0.821
    assert m["per_user_error"] < 0.147  # bias model 0.147, always-like 0.159
    assert m["ece"] < 0.02  # calibrated P(like)
    weights = res.model.calibration
    assert weights["person_rating"] == 0.0  # fitted for a person known by thumbs alone
    assert weights["seen"] > 0  # tastes that point at a movie raise P(like)


def test_recommendations_are_personal_and_exclude_rated(u1):
    from engine.recommender import recommend_all

    tr, _, res = u1
    recs = recommend_all(res.model, tr, k=10, users=[1, 2, 3])
    for user, items in recs.items():
        assert len(items) == 10
        rated = set(tr.item_ids[tr.user_items(tr.lookup_user(user))[0]].tolist())
        assert not rated & set(items)
    assert recs[1] != recs[2]


def test_model_round_trip_predicts_the_same(u1, tmp_path):
    import numpy as np

    from engine.model.storage import load_model, save_model
    from engine.recommender import predict_pairs

    tr, te, res = u1
    back = load_model(save_model(res.model, tmp_path / "m.pt"), device="cpu")
    uid, iid = te.user_ids[te.users[:500]], te.item_ids[te.items[:500]]
    a, ok_a = predict_pairs(res.model, tr, uid, iid)
    b, ok_b = predict_pairs(back, tr, uid, iid)
    assert ok_a.all() and ok_b.all()
    np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.slow
def test_the_movie_to_movie_part_lifts_the_top_n_ranking(u1):
    """The same model ranks u1.test's movies better with the sparse movie-to-movie part of its
    seen log-odds than with the hidden units alone, and its P(like) (whose calibration weighs
    the person's thumbs on each movie's partners) is better with it."""
    from engine.evaluation import evaluate

    tr, te, res = u1
    model = res.model
    assert model.rbm.item_item is not None and model.rbm.item_item.n_items == model.n_items
    with_part = evaluate(model, tr, te)
    part, model.rbm.item_item = model.rbm.item_item, None
    try:
        alone = evaluate(model, tr, te)
    finally:
        model.rbm.item_item = part
    assert with_part["ndcg@10"] > 0.56 and alone["ndcg@10"] > 0.54
    assert with_part["ndcg@10"] > alone["ndcg@10"] + 0.008
    assert with_part["map"] > alone["map"] + 0.004
    assert model.calibration["partners"] > 0
    assert with_part["auc"] > alone["auc"] + 0.005 and with_part["auc"] > 0.825
