"""The default number of updates per epoch follows the number of people (issue 35, round 3)."""

from __future__ import annotations

import math

from engine.settings import TrainConfig
from engine.training.step import batch_size_for


def _updates(cfg: TrainConfig, n_users: int) -> int:
    return math.ceil(n_users / batch_size_for(cfg, n_users))


def test_few_people_get_14_updates_an_epoch_and_ml100k_keeps_its_batches():
    cfg = TrainConfig()
    # ML-100K and u1.base (943 people): batches of 64, 15 updates, as before the rule
    assert batch_size_for(cfg, 943) == 64 and _updates(cfg, 943) == 15
    assert batch_size_for(cfg, 896) == 64  # the rule starts below 14 batches of 64
    # MovieLens latest-small (671 people) and the newusers splits (571, 421): 14 updates
    for n, batch in ((671, 48), (571, 41), (421, 31)):
        assert batch_size_for(cfg, n) == batch and _updates(cfg, n) == 14
    # the old default gave them 11, 9 and 8 updates
    old = TrainConfig(min_batches=8)
    assert [_updates(old, n) for n in (671, 571, 421)] == [11, 9, 8]
    # big data is unchanged: 64 people per batch, then at most max_batches updates
    assert batch_size_for(cfg, 5000) == 64
    assert _updates(cfg, 200_000) == 128


def test_the_chosen_batch_is_recorded_in_the_model(tmp_path):
    from helpers import planted

    from engine.training.loop import train

    r = planted(200)
    res = train(r, TrainConfig(n_hidden=4, epochs=1, seed=3, device="cpu", threads=1))
    assert res.model.meta["chosen"]["batch_size"] == 15  # ceil(200 / 14)
    again = train(r, TrainConfig(n_hidden=4, epochs=1, seed=3, device="cpu", threads=1))
    assert again.model.meta["chosen"] == res.model.meta["chosen"]
