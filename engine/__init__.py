"""rbm-tui's engine: loaders, the RBM, the CD-k trainer, evaluation, recommendation, storage.

The engine never imports Textual, and ``import engine`` imports nothing but itself: every
name below loads its module on first use, and the modules that need torch import it inside
their functions.

>>> import engine
>>> ratings = engine.load_ratings("ml-100k/u1.base")
>>> result = engine.train(ratings, engine.TrainConfig(epochs=20), callback=print)
>>> engine.evaluate(result.model, ratings, engine.load_ratings("ml-100k/u1.test"))
>>> engine.recommend(result.model, likes=[0, 49], dislikes=[171], n=10)  # model indices
>>> model = engine.load_model(engine.save_model(result.model))
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "LIKE_THRESHOLD": "engine.settings",
    "SETTINGS": "engine.settings",
    "Setting": "engine.settings",
    "TrainConfig": "engine.settings",
    "Ratings": "engine.data.ratings",
    "LoadReport": "engine.data.ratings",
    "from_arrays": "engine.data.ratings",
    "load_ratings": "engine.data.loaders",
    "train": "engine.training.loop",
    "EpochReport": "engine.training.loop",
    "BatchProgress": "engine.training.loop",
    "TrainResult": "engine.training.loop",
    "Model": "engine.model.trained",
    "save_model": "engine.model.storage",
    "load_model": "engine.model.storage",
    "Session": "engine.session",
    "evaluate": "engine.evaluation",
    "explain": "engine.explanations",
    "fold_in": "engine.recommender",
    "predict_pairs": "engine.recommender",
    "recommend": "engine.recommender",
    "recommend_all": "engine.recommender",
    "RbmTuiError": "engine.errors",
    "RatingsError": "engine.errors",
    "DatasetError": "engine.errors",
    "ModelError": "engine.errors",
    "SettingError": "engine.errors",
    "TrainingError": "engine.errors",
    "UserStoreError": "engine.errors",
    "UsageError": "engine.errors",
    "MovieIndexError": "engine.errors",
    "UnknownIdError": "engine.errors",
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
    "SETTINGS",
    "BatchProgress",
    "DatasetError",
    "EpochReport",
    "LoadReport",
    "Model",
    "ModelError",
    "Ratings",
    "RatingsError",
    "RbmTuiError",
    "Session",
    "Setting",
    "SettingError",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "UsageError",
    "UserStoreError",
    "MovieIndexError",
    "UnknownIdError",
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


def __dir__() -> list[str]:
    """The public API (loaded on first use), for ``dir(engine)`` and ``help(engine)``."""
    return sorted(__all__)
