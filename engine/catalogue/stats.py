"""A dataset's figures: size, like share, sparsity, scale; one home for the command line's
``datasets info`` and the app's Datasets screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.settings import like_threshold_for

if TYPE_CHECKING:
    from engine.data.ratings import Ratings


@dataclass(frozen=True)
class DatasetStats:
    """Figures of one loaded dataset.

    Attributes:
        format: the file format the loader found (``movielens-100k``, ``csv``, ...).
        users, movies, ratings: counts (movies include those nobody rated but the metadata lists).
        like_threshold: a rating at or above it is a like.
        like_share: the fraction of ratings that are likes.
        sparsity: the fraction of the users × movies table that is unrated.
        scale: the lowest and highest rating seen.
        timestamps: whether the ratings carry times.
        duplicates_dropped: repeated (person, movie) rows merged by the loader.
        seconds: how long the load took; from_cache: whether it came from the parse cache.
    """

    format: str
    users: int
    movies: int
    ratings: int
    like_threshold: float
    like_share: float
    sparsity: float
    scale: tuple[float, float]
    timestamps: bool
    duplicates_dropped: int
    seconds: float = 0.0
    from_cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON values (the scale as a list; the load's timing left out)."""
        return {
            "format": self.format,
            "users": self.users,
            "movies": self.movies,
            "ratings": self.ratings,
            "like_threshold": self.like_threshold,
            "like_share": self.like_share,
            "sparsity": self.sparsity,
            "scale": list(self.scale),
            "timestamps": self.timestamps,
            "duplicates_dropped": self.duplicates_dropped,
        }


def dataset_stats(r: Ratings, like_threshold: float | None = None) -> DatasetStats:
    """The figures of ``r``, likes counted at ``like_threshold`` (default: the automatic
    threshold a run would use on ``r``, :func:`engine.settings.like_threshold_for`)."""
    threshold = like_threshold_for(like_threshold or 0.0, r.scale[1])
    return DatasetStats(
        format=r.report.format,
        users=r.n_users,
        movies=r.n_items,
        ratings=r.n_ratings,
        like_threshold=threshold,
        like_share=r.like_share(threshold),
        sparsity=r.sparsity,
        scale=r.scale,
        timestamps=r.timestamps is not None,
        duplicates_dropped=r.report.duplicates_dropped,
        seconds=r.report.seconds,
        from_cache=r.report.from_cache,
    )
