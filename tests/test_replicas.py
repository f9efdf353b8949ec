"""Replicas: RBMs trained side by side and joined into one (engine/training/replicas.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data.ratings import from_arrays
from engine.formatting import format_chosen
from engine.model.rbm import RBM
from engine.settings import TrainConfig
from engine.training.loop import train
from engine.training.replicas import MAX_HIDDEN, join, replica_seed, replicas_for


def _random_rbm(n_items: int, n_hidden: int, like_units: int, seed: int) -> RBM:
    g = torch.Generator().manual_seed(seed)
    rbm = RBM(n_items, n_hidden, seed=seed, init_std=0.5)
    rbm.b = torch.randn(2 * n_items, generator=g)
    rbm.c = torch.randn(n_hidden, generator=g)
    rbm.keep, rbm.like_units, rbm.rate_weight = 0.7, like_units, 0.2 * (seed + 1)
    return rbm


def test_the_joined_rbms_free_energy_is_the_mean_of_theirs():
    a, b = _random_rbm(7, 5, 2, 0), _random_rbm(7, 5, 2, 1)
    joined = join([a, b], RBM(7, 1, seed=None))
    v = torch.zeros(6, 14)
    for p in range(6):  # a few people, each with a disliked or liked state on some movies
        for i in range(7):
            if (p + i) % 3:
                v[p, 2 * i + (p * i) % 2] = 1.0
    assert joined.n_hidden == 10 and joined.like_units == 4
    assert joined.keep == pytest.approx(0.35)
    assert joined.rate_weight == pytest.approx(0.3)
    expected = (a.free_energy(v) + b.free_energy(v)) / 2
    torch.testing.assert_close(joined.free_energy(v), expected)
    # the like units of both come first: the first replica's, then the second's
    torch.testing.assert_close(joined.W[:, 2:4], b.W[:, :2])
    torch.testing.assert_close(joined.W[:, 4:7], a.W[:, 2:])


def test_sparse_data_gets_two_replicas_and_dense_data_one():
    cfg = TrainConfig()
    assert replicas_for(cfg, n_ratings=80_000, n_items=9_066) == 2  # latest-small: 9 a movie
    assert replicas_for(cfg, n_ratings=80_000, n_items=1_682) == 1  # ML-100K: 48 a movie
    assert replicas_for(cfg, n_ratings=25_000_000, n_items=59_047) == 1  # 25M: 423 a movie
    assert replicas_for(TrainConfig(replicas=3), 80_000, 1_682) == 3  # asked for: kept
    assert replicas_for(TrainConfig(replicas=1), 80_000, 9_066) == 1
    assert replicas_for(TrainConfig(replicas_below=0), 80_000, 9_066) == 1
    # never more hidden units than a model may hold
    assert replicas_for(TrainConfig(n_hidden=MAX_HIDDEN // 2 + 1), 10, 1_000) == 1
    assert replica_seed(5, 0) == 5 and replica_seed(5, 1) != 5


def _sparse(seed: int = 0):
    """120 people × 80 movies, 8 ratings each: 12 ratings a movie."""
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(120), 8)
    items = np.concatenate([rng.choice(80, 8, replace=False) for _ in range(120)])
    values = rng.integers(1, 6, len(users)).astype(float)
    return from_arrays(users, items, values)


SMALL = dict(n_hidden=6, epochs=3, device="cpu", threads=1, seed=3)


def test_training_on_sparse_data_joins_two_replicas_and_says_so():
    r = _sparse()
    model = train(r, TrainConfig(**SMALL)).model
    assert model.rbm.n_hidden == 12
    assert model.rbm.like_units == 2 * round(0.4 * 6)
    assert model.rbm.keep == pytest.approx(0.7 / 2)
    assert model.meta["chosen"]["replicas"] == 2
    assert "2 replicas joined" in format_chosen(model.meta)
    one = train(r, TrainConfig(**SMALL, replicas=1)).model
    assert one.rbm.n_hidden == 6 and one.meta["chosen"]["replicas"] == 1
    assert "replicas" not in format_chosen(one.meta)


def test_one_replica_trains_the_plain_model_bit_for_bit():
    r = _sparse()
    first = train(r, TrainConfig(**SMALL, replicas=1)).model.rbm
    again = train(r, TrainConfig(**SMALL, replicas=1, replicas_below=0)).model.rbm
    assert torch.equal(first.W, again.W) and torch.equal(first.b, again.b)


def test_the_same_seed_gives_the_same_joined_model(tmp_path):
    from engine.model.storage import load_model, save_model

    r = _sparse()
    a = train(r, TrainConfig(**SMALL)).model
    b = train(r, TrainConfig(**SMALL)).model
    assert torch.equal(a.rbm.W, b.rbm.W)
    # the two replicas learned different weights (they are not one model twice)
    assert not torch.allclose(a.rbm.W[:, 2:4], a.rbm.W[:, :2])
    path = save_model(a, tmp_path / "m.pt")
    back = load_model(path)
    assert back.rbm.n_hidden == 12 and back.rbm.keep == pytest.approx(a.rbm.keep)
    assert back.meta["chosen"]["replicas"] == 2
