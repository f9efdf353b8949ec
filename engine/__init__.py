"""rbm-tui's engine: ratings loaders, the RBM, the CD-k trainer, evaluation, recommendation, storage.

The engine never imports Textual, and importing it does not import torch: the modules that
need torch import it themselves.
"""

from engine.ratings import LIKE_THRESHOLD, LoadReport, Ratings, RatingsError, from_arrays

__all__ = ["LIKE_THRESHOLD", "LoadReport", "Ratings", "RatingsError", "from_arrays"]
__version__ = "0.1.0"
