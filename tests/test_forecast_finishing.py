"""The forecast's finishing steps follow what the negative phase looks at."""

from __future__ import annotations

import pytest

from engine.settings import TrainConfig
from engine.training.forecast import FINISH_PER_HUB2, FINISH_PER_HUB2_SAMPLED, Forecast
from engine.training.sampling import visits_every_movie


def test_a_sampled_negative_phase_counts_more_finishing_passes():
    """The same hubs, but a pass over sampled movies costs less against the finishing steps
    than one over every movie: more passes are counted for them."""
    config = TrainConfig()
    assert visits_every_movie(config, 671, 9_066)
    assert not visits_every_movie(config, 10_000, 9_066)  # people x movies past the bound
    every = Forecast(config, n_items=9_066, n_users=671).finish_passes
    sampled = Forecast(config, n_items=9_066, n_users=10_000).finish_passes
    hubs2 = (min(9_066, config.item_item_hubs) / 1000) ** 2
    assert sampled - every == pytest.approx((FINISH_PER_HUB2_SAMPLED - FINISH_PER_HUB2) * hubs2)
    assert sampled > every
    assert Forecast(config, n_items=9_066).finish_passes == every  # people unknown
