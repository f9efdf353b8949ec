"""The default model on real MovieLens 100K, clearly above the simple baselines.

Baselines on u1 (BENCHMARKS.md): always "like" has AUC 0.5, accuracy 0.821, per-user error
0.159; the original project's RBM has AUC 0.623. The full benchmark figures come from
``benchmarks/run_benchmarks.py``; this test guards against regressions at a lower bar.
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


def test_like_dislike_on_u1_beats_baselines(u1):
    from engine.evaluation import evaluate

    tr, te, res = u1
    m = evaluate(res.model, tr, te)
    assert m["skipped_rows"] == 0 and m["test_rows"] == 20_000
    assert m["auc"] > 0.75  # original RBM 0.623, always-like 0.5
    assert m["accuracy"] > 0.825  # always-like 0.821
    assert m["per_user_error"] < 0.159  # always-like 0.159
    assert m["ece"] < 0.03  # calibrated P(like)
    weights = res.model.calibration
    assert weights["person_rating"] > 0  # who rates above the movies' means likes more
    assert weights["neighbours"] > 0  # who rates a movie's neighbours up likes it more


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


def test_lateral_weights_lift_the_top_n_ranking(u1):
    """The same model ranks u1.test's movies better with its lateral movie-to-movie weights
    than with the hidden units alone (measured: nDCG@10 0.573 against 0.546)."""
    from engine.evaluation import evaluate

    tr, te, res = u1
    model = res.model
    with_lateral = evaluate(model, tr, te)
    lateral, model.rbm.lateral = model.rbm.lateral, None
    try:
        alone = evaluate(model, tr, te)
    finally:
        model.rbm.lateral = lateral
    assert with_lateral["ndcg@10"] > alone["ndcg@10"] + 0.01
    assert with_lateral["map"] > alone["map"] + 0.005
    assert with_lateral["auc"] == alone["auc"]  # P(like) does not use them
