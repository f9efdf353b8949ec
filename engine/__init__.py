"""rbm-tui's engine: loaders, the RBM, the CD-k trainer, evaluation, recommendation, storage.

The engine never imports Textual, and ``import engine`` does not import torch: the names
below are loaded on first use.

>>> import engine
>>> ratings = engine.load_ratings("ml-100k/u1.base")
>>> result = engine.train(ratings, callback=print)            # EpochReport per epoch
>>> engine.evaluate(result.model, ratings, engine.load_ratings("ml-100k/u1.test"))
>>> engine.recommend(result.model, likes=[0, 49], dislikes=[171], n=10)
>>> model = engine.load_model(engine.save_model(result.model))
"""

from __future__ import annotations

import importlib

from engine.ratings import LIKE_THRESHOLD, LoadReport, Ratings, RatingsError, from_arrays

__version__ = "0.1.0"

_LAZY = {
    "load_ratings": "engine.loaders",
    "TrainConfig": "engine.trainer",
    "EpochReport": "engine.trainer",
    "train": "engine.trainer",
    "evaluate": "engine.evaluate",
    "fold_in": "engine.recommend",
    "recommend": "engine.recommend",
    "explain": "engine.recommend",
    "recommend_all": "engine.recommend",
    "predict_pairs": "engine.recommend",
    "save_model": "engine.storage",
    "load_model": "engine.storage",
    "ModelError": "engine.storage",
}

__all__ = ["LIKE_THRESHOLD", "LoadReport", "Ratings", "RatingsError", "from_arrays", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
