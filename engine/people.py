"""Profiles of the ratings store as people a model can score: one profile as a ratings file of
one user (what ``rbm-tui thumbs export`` writes, read back), several as sessions.

Nothing here imports Textual or torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.data.ratings import Ratings, from_arrays
from engine.errors import UserStoreError
from engine.settings import LIKE_THRESHOLD
from engine.store.transfer import ratings_rows

__all__ = ["profile_ratings", "profile_sessions"]


def profile_ratings(
    store, key: str, profile: str, like_threshold: float = LIKE_THRESHOLD
) -> Ratings:
    """``profile``'s thumbs on dataset ``key`` of ``store`` (an
    :class:`engine.userstore.UserStore`) as :class:`Ratings` of one user named ``profile``,
    5 stars a like and 1 a dislike, in the store's order: the ratings of the file
    ``rbm-tui thumbs export`` writes, so that a model recommends the same for both. A model
    whose likes start above 5 or at 1 or below (``like_threshold``, the model's) gets its
    thumbs on its own side of it (:func:`engine.store.transfer.thumb_stars`), as the export
    writes them for such a dataset.

    Raises:
        UserStoreError: no such profile, or it has no thumbs on ``key``.
    """
    rows = ratings_rows(profile, store.ratings(key, profile).items(), None, like_threshold)[1:]
    if not rows:
        raise UserStoreError(f"{profile} has no thumbs on {key}: rate some movies first")
    users, items, values = zip(*rows)
    return from_arrays(
        np.asarray(users, dtype=object),
        np.asarray(items),
        np.asarray(values, np.float32),
        source=f"{key} ({profile})",
    )


def profile_sessions(ratings: Ratings, store, key: str, model, profiles: Sequence[str]) -> list:
    """One :class:`engine.session.Session` per name of ``profiles`` (distinct), each with its
    thumbs and marks on ``key`` folded into ``model``.

    Raises:
        UserStoreError: a name twice, or no such profile.
    """
    from engine.session import Session

    seen: set[str] = set()
    for name in profiles:
        if name in seen:
            raise UserStoreError(f"the profile {name} is named twice: name each person once")
        seen.add(name)
        store.ratings(key, name)  # an unknown profile: one clear line before any fold-in
    return [Session(ratings, store, key, model, profile=name) for name in profiles]
