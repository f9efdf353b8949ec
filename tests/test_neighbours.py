"""Movie neighbours on rating residuals (engine.neighbours) against plain NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from helpers import random_ratings  # noqa: E402

from engine.data.likes import LikeMatrix  # noqa: E402
from engine.model import neighbours  # noqa: E402
from engine.model.calibration import PERSON_RATING_PRIOR  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402


def reference(r, means, k, shrink):
    """Dense residual matrix, similarities and kept neighbours, written out plainly."""
    R = np.zeros((r.n_users, r.n_items))
    M = np.zeros((r.n_users, r.n_items))
    for u, i, v in zip(r.users, r.items, r.values):
        M[u, i] = 1.0
        R[u, i] = v - means[i]
    bias = R.sum(1) / (M.sum(1) + PERSON_RATING_PRIOR)
    R = (R - bias[:, None]) * M
    S = np.zeros((r.n_items, r.n_items))
    for a in range(r.n_items):
        for b in range(r.n_items):
            if a == b:
                continue
            cos = R[:, a] @ R[:, b] / (np.linalg.norm(R[:, a]) * np.linalg.norm(R[:, b]) + 1e-12)
            common = M[:, a] @ M[:, b]
            S[a, b] = cos * common / (common + shrink)
    keep = np.zeros_like(S, dtype=bool)
    for a in range(r.n_items):
        keep[a, np.argsort(-np.abs(S[a]), kind="stable")[:k]] = True
    return R, M, np.where(keep, S, 0.0)


def test_fit_and_scores_match_the_plain_formula():
    r = random_ratings()
    lm = LikeMatrix.from_ratings(r)
    means = np.random.default_rng(1).uniform(2.5, 4.0, r.n_items)
    resid = neighbours.residuals(lm, means)
    R, M, S = reference(r, means, k=4, shrink=5.0)
    owners = lm.owners()
    np.testing.assert_allclose(resid, R[owners, lm.cols // 2], atol=1e-5)

    items, sims = neighbours.fit(lm, resid, k=4, shrink=5.0)
    assert items.shape == sims.shape == (r.n_items, 4)
    got = np.zeros((r.n_items, r.n_items))
    np.put_along_axis(got, items.numpy(), sims.numpy(), 1)
    np.testing.assert_allclose(got, S, atol=1e-5)

    users = np.arange(r.n_users)
    F = neighbours.scores(items, sims, lm, resid, users)
    expect = (R @ S.T) / (M @ np.abs(S).T + 1.0)
    np.testing.assert_allclose(F, expect, atol=1e-5)
    # pairs, in any order and in several blocks, read the same numbers
    rng = np.random.default_rng(2)
    pu, pi = rng.integers(0, r.n_users, 200), rng.integers(0, r.n_items, 200)
    np.testing.assert_allclose(
        neighbours.pair_scores(items, sims, lm, resid, pu, pi, block=7), expect[pu, pi], atol=1e-5
    )


def test_k_is_capped_by_the_catalogue():
    r = random_ratings(n_items=3, n=60)
    lm = LikeMatrix.from_ratings(r)
    resid = neighbours.residuals(lm, np.full(3, 3.0))
    items, _ = neighbours.fit(lm, resid, k=100)
    assert items.shape == (3, 2)
    assert not (items == torch.arange(3)[:, None]).any()  # a movie is not its own neighbour


def test_training_fits_them_and_p_like_uses_them_only_with_stars():
    from engine.recommender import fold_in, predict_pairs

    r = random_ratings(n_users=80, n_items=10, n=500, seed=3)
    cfg = dict(n_hidden=4, epochs=4, patience=0)
    model = train(r, TrainConfig(**cfg)).model
    items, sims = model.neighbours
    assert items.shape == (10, 9)
    off = train(r, TrainConfig(**cfg, neighbours=0)).model
    assert off.neighbours is None
    assert off.calibration["neighbours"] == 0.0
    big = train(r, TrainConfig(**cfg, lateral_max_items=5)).model
    assert big.neighbours is None

    # a person's stars move P(like) through the neighbours; their thumbs alone do not
    u = r.lookup_user(r.user_ids[0])
    its, vals = r.user_items(u)
    liked = vals >= 3
    weight = model.calibration["neighbours"]
    assert weight != 0.0
    stars = dict(zip(its.tolist(), vals.tolist()))
    with_stars = fold_in(model, its[liked], its[~liked], stars=stars).p_like
    p, ok = predict_pairs(model, r, np.full(10, r.user_ids[0]), r.item_ids)
    assert ok.all()
    np.testing.assert_allclose(with_stars, p, rtol=1e-6)
    model.neighbours = None
    p_without, _ = predict_pairs(model, r, np.full(10, r.user_ids[0]), r.item_ids)
    assert not np.allclose(p_without, p)
