"""Settings training chooses on its validation split (engine.training.autotune)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data.likes import LikeMatrix
from engine.model.rbm import RBM
from engine.settings import TrainConfig
from engine.training import autotune
from engine.training.loop import train
from engine.training.validation import split_validation
from tests.helpers import planted

SMALL = dict(n_hidden=16, epochs=8, batch_size=20, patience=0, device="cpu", threads=1)


@pytest.fixture(scope="module")
def planted_split():
    lm = LikeMatrix.from_ratings(planted(), 3.0)
    train_part, vu, vi, _ = split_validation(lm, 0.2, seed=0)
    return train_part, vu, vi


def test_training_records_the_weight_it_chose_and_fits_the_part_with_it():
    cfg = TrainConfig(seed=3, **SMALL)
    model = train(planted(), cfg).model
    chosen = model.config["item_item_weight"]
    assert chosen in [s * cfg.item_item_weight for s in autotune.SCALES]
    again = train(planted(), cfg).model
    assert again.config["item_item_weight"] == chosen  # the same seed, the same choice
    assert torch.equal(again.rbm.item_item.weights, model.rbm.item_item.weights)


def test_off_it_keeps_the_weight_given():
    cfg = TrainConfig(seed=3, item_item_auto=False, item_item_weight=7, **SMALL)
    model = train(planted(), cfg).model
    assert model.config["item_item_weight"] == 7


def test_an_untrained_rbm_leaves_the_ranking_to_the_movie_to_movie_part(planted_split):
    """Hidden units that know nothing (zero weights, equal biases): only the movie-to-movie
    part orders the movies, so every scale ranks alike and the smallest wins the tie; with
    the biases favouring the movies nobody holds out, the biggest scale ranks best."""
    lm, vu, vi = planted_split
    cfg = TrainConfig(seed=0, **SMALL)
    rbm = RBM(lm.n_items, 4, device="cpu", seed=0)
    rbm.W.zero_()
    rbm.b.zero_()
    rbm.c.zero_()
    assert autotune.choose_item_item_weight(rbm, lm, vu, vi, cfg) == 0.5 * cfg.item_item_weight
    held = np.bincount(vi, minlength=lm.n_items)
    # seen log-odds that put the least held-out movies first: the part must outweigh them
    rbm.b[0::2] = torch.from_numpy(-held.astype(np.float32) / held.max() * 3.0)
    rbm.b[1::2] = rbm.b[0::2]
    assert autotune.choose_item_item_weight(rbm, lm, vu, vi, cfg) == 4.0 * cfg.item_item_weight


def test_no_part_or_no_validation_changes_nothing(planted_split):
    lm, vu, vi = planted_split
    rbm = RBM(lm.n_items, 4, device="cpu", seed=0)
    none = np.empty(0, np.int64)
    assert autotune.choose_item_item_weight(rbm, lm, none, none, TrainConfig()) == 10.0
    off = TrainConfig(item_item_weight=0)
    assert autotune.choose_item_item_weight(rbm, lm, vu, vi, off) == 0.0
