"""The calibration's partners feature: each movie's positive movie-to-movie weights summed over
the partners a person liked and disliked, the same on every path that computes it (every movie
at once, pairs, pairs with held-out ratings taken out, the explanations' leave-one-out), and a
trained model weighs it."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from helpers import planted  # noqa: E402

from engine.data.likes import LikeMatrix  # noqa: E402
from engine.explanations import explain_many  # noqa: E402
from engine.model import calibration as cal  # noqa: E402
from engine.model.inference import pair_partner_mass  # noqa: E402
from engine.model.itemitem import ItemItem  # noqa: E402
from engine.recommender import _partner_feature, fold_in  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402

N, K = 40, 6


def random_item_item(seed: int = 0) -> ItemItem:
    """Each of N movies with K distinct other movies as partners, weights of both signs."""
    g = torch.Generator().manual_seed(seed)
    part = torch.stack(
        [torch.tensor([i for i in torch.randperm(N, generator=g).tolist() if i != j][:K])
         for j in range(N)]
    )  # fmt: skip
    return ItemItem(part, torch.randn(N, K, generator=g), gamma=0.5)


def dense_mass(ii: ItemItem, thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: ``(L, D)`` ``(people, N)`` by loops over movies and partners."""
    L = np.zeros(thumbs.shape)
    D = np.zeros(thumbs.shape)
    for u in range(thumbs.shape[0]):
        for j in range(N):
            for i, w in zip(ii.partners[j].tolist(), ii.weights[j].tolist()):
                if w > 0 and thumbs[u, i] > 0:
                    L[u, j] += w
                elif w > 0 and thumbs[u, i] < 0:
                    D[u, j] += w
    return L, D


def random_thumbs(people: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice([-1, 0, 0, 1], size=(people, N)).astype(np.int8)


def test_like_mass_and_pair_mass_match_the_dense_reference():
    ii = random_item_item()
    thumbs = random_thumbs(5, 1)
    L_ref, D_ref = dense_mass(ii, thumbs)
    rows, items = np.nonzero(thumbs)
    liked = thumbs[rows, items] > 0
    L, D = ii.like_mass(
        torch.from_numpy(rows), torch.from_numpy(items), torch.from_numpy(liked), len(thumbs)
    )
    np.testing.assert_allclose(L.numpy(), L_ref, atol=1e-5)
    np.testing.assert_allclose(D.numpy(), D_ref, atol=1e-5)
    pos = torch.tensor([0, 4, 2, 2])
    tgt = torch.tensor([3, 0, 39, 7])
    got = ii.pair_like_mass(torch.from_numpy(thumbs), pos, tgt)
    np.testing.assert_allclose(got[:, 0], L_ref[pos, tgt], atol=1e-5)
    np.testing.assert_allclose(got[:, 1], D_ref[pos, tgt], atol=1e-5)


def test_pair_mass_with_held_out_ratings_is_the_mass_of_the_rest():
    """What the calibration computes: people known by every rating but the held-out ones."""

    class Holder:
        item_item = random_item_item(3)
        device = torch.device("cpu")

    thumbs = random_thumbs(7, 4)
    rows, items = np.nonzero(thumbs)
    lm = LikeMatrix(
        np.searchsorted(rows, np.arange(8)), 2 * items + (thumbs[rows, items] > 0), 7, N
    )
    rng = np.random.default_rng(5)
    out = rng.random(len(rows)) < 0.3  # the held-out ratings
    rest = thumbs.copy()
    rest[rows[out], items[out]] = 0
    L_ref, D_ref = dense_mass(Holder.item_item, rest)
    vu = np.array([6, 0, 3, 3, 1])
    vi = np.array([2, 11, 30, 5, 0])
    got = pair_partner_mass(Holder, lm, vu, vi, exclude=(rows[out], items[out]), batch=2)
    np.testing.assert_allclose(got[:, 0], L_ref[vu, vi], atol=1e-5)
    np.testing.assert_allclose(got[:, 1], D_ref[vu, vi], atol=1e-5)
    full = pair_partner_mass(Holder, lm, vu, vi)
    L_all, _ = dense_mass(Holder.item_item, thumbs)
    np.testing.assert_allclose(full[:, 0], L_all[vu, vi], atol=1e-5)


def test_partner_odds_are_the_prior_without_rated_partners_and_rise_with_likes():
    prior = 0.8
    none = cal.partner_odds(0.0, 0.0, prior)
    assert none == pytest.approx(np.log(prior / (1 - prior)))
    assert cal.partner_odds(1.0, 0.0, prior) > none > cal.partner_odds(0.0, 1.0, prior)


@pytest.fixture(scope="module")
def planted_model():
    r = planted()
    cfg = TrainConfig(n_hidden=16, epochs=20, batch_size=20, patience=0, seed=2)
    return r, train(r, cfg).model


def test_a_trained_model_weighs_its_partners_on_the_browsers_path(planted_model):
    r, model = planted_model
    assert model.rbm.item_item is not None
    assert model.calibration["partners"] > 0  # liked partners raise P(like)
    likes = [r.lookup_item(i) for i in (0, 1, 2, 3)]
    dislikes = [r.lookup_item(i) for i in (40, 41)]
    items = np.array(likes + dislikes)
    liked = np.arange(len(items)) < len(likes)
    feature = _partner_feature(model, np.zeros(len(items), np.int64), items, liked, 1)
    assert feature.shape == (1, model.n_items) and np.ptp(feature) > 0
    with_partners = fold_in(model, likes, dislikes).p_like
    weights = dict(model.calibration)
    model.calibration = {**weights, "partners": 0.0}
    try:
        without = fold_in(model, likes, dislikes).p_like
    finally:
        model.calibration = weights
    z = np.log(with_partners / (1 - with_partners)) - np.log(without / (1 - without))
    np.testing.assert_allclose(z, weights["partners"] * feature[0], atol=1e-6)
    target = int(np.argmax(np.where(fold_in(model, likes, dislikes).rated, -1, with_partners)))
    assert all(x.effect > 0 for x in explain_many(model, likes, dislikes, [target])[0])


def test_the_match_calibration_survives_a_save_and_load(planted_model, tmp_path):
    from engine.model.storage import load_model, save_model

    _, model = planted_model
    assert model.match_calibration is not None and model.match_calibration["partners"] == 0.0
    back = load_model(save_model(model, tmp_path / "m.pt"), device="cpu")
    assert back.match_calibration == model.match_calibration
    assert back.calibration == model.calibration


def test_the_calibrations_linear_form_is_the_features_times_the_weights():
    """:func:`cal.linear_logit` (what P(like) is computed with) equals ``like_features(...) @ w +
    bias`` for pairs and for one person's scalars broadcast over every movie."""
    rng = np.random.default_rng(0)
    P = 50
    names = (*cal.FEATURES, cal.BIAS)
    weights = dict(zip(names, rng.normal(size=len(names))))
    z, seen, partners = rng.normal(size=(3, P))
    pl = rng.integers(0, 20, P)
    pn = pl + rng.integers(0, 20, P)
    ml = rng.integers(0, 50, P)
    mn = ml + rng.integers(0, 50, P)
    msum = mn * rng.uniform(1, 5, P)
    bias = rng.normal(size=P)
    prior, mean = 0.7, 3.4
    X = cal.like_features(z, pl, pn, ml, mn, msum, prior, mean, bias, seen, partners)
    w = np.array([weights[n] for n in cal.FEATURES])
    want = X @ w + weights[cal.BIAS]
    terms = cal.movie_terms(ml, mn, msum, prior, mean)
    got = cal.linear_logit(weights, z, pl, pn, terms, prior, bias, seen, partners)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # one person: scalars against every movie
    one = cal.linear_logit(weights, z, pl[0], pn[0], terms, prior, bias[0], seen, partners)
    X1 = cal.like_features(z, np.full(P, pl[0]), np.full(P, pn[0]), ml, mn, msum, prior, mean,
                           bias[0], seen, partners)  # fmt: skip
    np.testing.assert_allclose(one, X1 @ w + weights[cal.BIAS], rtol=1e-12, atol=1e-12)
