"""rbm-tui's engine: loaders, the RBM, the CD-k trainer, evaluation, recommendation, storage.

The engine never imports Textual, and ``import engine`` does not import torch: the modules
that need it import it on first use.

>>> import engine
>>> ratings = engine.load_ratings("ml-100k/u1.base")
>>> result = engine.train(ratings, callback=print)  # an EpochReport per epoch
>>> engine.evaluate(result.model, ratings, engine.load_ratings("ml-100k/u1.test"))
>>> engine.recommend(result.model, likes=[0, 49], dislikes=[171], n=10)
>>> model = engine.load_model(engine.save_model(result.model))
"""

from __future__ import annotations

# ``evaluate`` and ``recommend`` share their module's name, so they are bound here (neither
# module imports torch or the trainer at import time); the rest loads on first use.
from engine.evaluate import evaluate  # noqa: E402
from engine.recommend import explain, fold_in, predict_pairs, recommend, recommend_all  # noqa: E402

__version__ = "0.1.0"

_LAZY = {
    "load_ratings": "engine.loaders",
    "TrainConfig": "engine.trainer",
    "EpochReport": "engine.trainer",
    "train": "engine.trainer",
    "save_model": "engine.storage",
    "load_model": "engine.storage",
    "ModelError": "engine.storage",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "LIKE_THRESHOLD",
    "EpochReport",
    "LoadReport",
    "ModelError",
    "Ratings",
    "RatingsError",
    "TrainConfig",
    "evaluate",
    "explain",
    "fold_in",
    "from_arrays",
    "load_model",
    "load_ratings",
    "predict_pairs",
    "recommend",
    "recommend_all",
    "save_model",
    "train",
]
