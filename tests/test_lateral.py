"""Lateral movie-to-movie weights of the seen states: the closed form, every ranking path,
explanations, training options and model files."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from helpers import planted, random_ratings  # noqa: E402

from engine.data.likes import LikeMatrix  # noqa: E402
from engine.errors import ModelError  # noqa: E402
from engine.model.lateral import fit_lateral  # noqa: E402
from engine.model.storage import load_model, save_model  # noqa: E402
from engine.recommender import explain, fold_in, recommend, recommend_all  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RBM_TUI_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def planted_model():
    r = planted(120)
    cfg = TrainConfig(n_hidden=8, epochs=6, batch_size=20, patience=0, seed=2)
    return r, train(r, cfg).model


@pytest.mark.parametrize("l2_pop", [0.0, 2.0])
def test_lateral_weights_are_each_movies_ridge_regression_on_the_others(l2_pop):
    """Column j of B is scikit-learn's ridge regression (no intercept) of movie j's seen
    indicator on every other movie's, movie i's penalty 3 + l2_pop·(its raters) (a
    per-feature penalty is a unit one on features divided by its square root); the
    diagonal is zero."""
    from sklearn.linear_model import Ridge

    r = random_ratings(n_users=40, n_items=9, n=150)
    lm = LikeMatrix.from_ratings(r)
    B = fit_lateral(lm, l2=3.0, l2_pop=l2_pop).double().numpy()
    X = np.zeros((r.n_users, r.n_items))
    X[r.users, r.items] = 1.0
    scale = np.sqrt(3.0 + l2_pop * X.sum(0))
    assert np.all(np.diag(B) == 0)
    for j in range(r.n_items):
        others = np.delete(np.arange(r.n_items), j)
        fit = Ridge(alpha=1.0, fit_intercept=False).fit(X[:, others] / scale[others], X[:, j])
        np.testing.assert_allclose(B[others, j], fit.coef_ / scale[others], atol=1e-5)
    with pytest.raises(ValueError, match="l2"):
        fit_lateral(lm, l2=0.0)
    with pytest.raises(ValueError, match="l2"):
        fit_lateral(lm, l2=1.0, l2_pop=-1.0)


def test_training_fits_scaled_lateral_weights_on_every_rating(planted_model):
    r, model = planted_model
    L = model.rbm.lateral
    assert L is not None and tuple(L.shape) == (r.n_items, r.n_items)
    cfg = TrainConfig()
    data = LikeMatrix.from_ratings(r)
    expect = cfg.lateral_weight * fit_lateral(data, cfg.lateral_l2, cfg.lateral_l2_pop)
    torch.testing.assert_close(L, expect)
    small = planted(40)
    cfg = dict(n_hidden=4, epochs=1, batch_size=20, patience=0)
    assert train(small, TrainConfig(lateral_weight=0, **cfg)).model.rbm.lateral is None
    assert train(small, TrainConfig(lateral_max_items=59, **cfg)).model.rbm.lateral is None
    with pytest.raises(ValueError, match="lateral_l2"):
        TrainConfig(lateral_l2=0)
    with pytest.raises(ValueError, match="lateral_l2_pop"):
        TrainConfig(lateral_l2_pop=-1)


def test_lateral_term_is_added_on_every_ranking_path(planted_model):
    r, model = planted_model
    L = model.rbm.lateral
    likes, dislikes = [r.lookup_item(i) for i in (0, 3, 7)], [r.lookup_item(i) for i in (40, 44)]
    with_l = fold_in(model, likes, dislikes)
    model.rbm.lateral = None
    try:
        without = fold_in(model, likes, dislikes)
    finally:
        model.rbm.lateral = L
    extra = L[likes + dislikes].sum(0).double().numpy()
    np.testing.assert_allclose(with_l.seen_logit, without.seen_logit + extra, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(with_l.p_like, without.p_like)  # P(like) does not use it
    # the batch path (a known person's ratings) ranks as fold-in does
    items, values = r.user_items(r.lookup_user(5))
    liked = values >= 3
    top = [x.item_id for x in recommend(model, items[liked], items[~liked], n=8)]
    assert recommend_all(model, r, k=8, users=[5])[5] == top


def test_explanations_include_each_rated_movies_lateral_pull(planted_model):
    """By "seen", a reason's effect is exactly how much the movie's seen log-odds drop when
    that rating is taken out of the profile (fold-in with and without it)."""
    r, model = planted_model
    L0 = model.rbm.lateral
    likes, dislikes = [r.lookup_item(i) for i in (1, 2, 9)], [r.lookup_item(45)]
    target = r.lookup_item(12)
    model.rbm.lateral = L0.clone()
    model.rbm.lateral[likes[1], target] += 5.0  # movie 2 now pulls movie 12 up strongly
    try:
        reasons = explain(model, likes, dislikes, target, n=4, by="seen")
        full = fold_in(model, likes, dislikes).seen_logit[target]
        assert reasons[0].item == likes[1]
        for x in reasons:
            lk = [i for i in likes if i != x.item]
            dk = [i for i in dislikes if i != x.item]
            drop = full - fold_in(model, lk, dk).seen_logit[target]
            assert x.effect == pytest.approx(drop, abs=1e-4)
    finally:
        model.rbm.lateral = L0


def test_model_files_keep_and_check_the_lateral_weights(planted_model, tmp_path):
    _, model = planted_model
    path = save_model(model, tmp_path / "m.pt")
    back = load_model(path, device="cpu")
    torch.testing.assert_close(back.rbm.lateral, model.rbm.lateral)
    np.testing.assert_allclose(
        fold_in(back, [0, 1], [50]).seen_logit, fold_in(model, [0, 1], [50]).seen_logit
    )
    blob = torch.load(path, weights_only=True)
    for bad, match in ((torch.zeros(3, 3), "lateral has shape"), ("x", "no tensor .lateral.")):
        blob["lateral"] = bad
        torch.save(blob, tmp_path / "bad.pt")
        with pytest.raises(ModelError, match=match):
            load_model(tmp_path / "bad.pt")
    blob["lateral"] = model.rbm.lateral.clone()
    blob["lateral"][2, 3] = float("inf")
    torch.save(blob, tmp_path / "inf.pt")
    with pytest.raises(ModelError, match="NaN or infinite"):
        load_model(tmp_path / "inf.pt")
    del blob["lateral"]  # files from before the lateral weights: hidden units alone
    assert json.loads(blob["header"])["n_items"] == model.n_items
    torch.save(blob, tmp_path / "old.pt")
    assert load_model(tmp_path / "old.pt", device="cpu").rbm.lateral is None
