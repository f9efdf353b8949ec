"""The RBM applied to people of a :class:`~engine.data.likes.LikeMatrix`: hidden inputs,
lateral inputs and the like log-odds of (person, movie) pairs, batch after batch."""

from __future__ import annotations

import numpy as np

from engine.data.likes import LikeMatrix


def hidden_input(rbm, lm: LikeMatrix, users: np.ndarray):
    """``(len(users), H)`` hidden input ``c + vW`` of ``users``, summed from the sparse
    ratings (cost ~ their ratings × H, no dense visible batch). A person's profile is
    always their hard likes and dislikes, as thumbs give it; soft targets only shape
    training."""
    import torch

    row, col = lm.rows(users)
    return rbm.sparse_hidden_input(
        torch.from_numpy(row).to(rbm.device), torch.from_numpy(col).to(rbm.device), len(users)
    )


def lateral_input(rbm, lm: LikeMatrix, users: np.ndarray):
    """``(len(users), N)`` lateral term of ``users``' seen log-odds
    (:meth:`engine.model.rbm.RBM.lateral_input`), None when the RBM has no lateral weights."""
    import torch

    if rbm.lateral is None:
        return None
    row, col = lm.rows(users)
    return rbm.lateral_input(
        torch.from_numpy(row).to(rbm.device),
        torch.from_numpy(col // 2).to(rbm.device),
        len(users),
    )


def pair_logits(rbm, lm: LikeMatrix, vu, vi, device, *, parts: bool = False) -> np.ndarray:
    """Uncalibrated like log-odds for (user, item) pairs, the users' profiles taken from
    ``lm``: ``(P,)``, or with ``parts`` ``(P, 2)``
    (see :meth:`engine.model.rbm.RBM.pair_like_logits`)."""
    import torch

    users, pos = np.unique(vu, return_inverse=True)
    x = torch.cat([hidden_input(rbm, lm, users[s : s + 4096]) for s in range(0, len(users), 4096)])
    logits = rbm.pair_like_logits(
        x, torch.from_numpy(pos).to(device), torch.from_numpy(vi).to(device), parts=parts
    )
    return logits.cpu().numpy().astype(np.float64)
