"""The RBM applied to people of a :class:`~engine.data.likes.LikeMatrix`: hidden inputs,
movie-to-movie inputs and the like and seen log-odds of (person, movie) pairs, batch after batch."""

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


def like_offset(rbm, lm: LikeMatrix, users: np.ndarray):
    """``(len(users),)`` the people's own term of their like log-odds
    (:meth:`engine.model.rbm.RBM.like_offset`) from their likes and ratings in ``lm``, or
    None when the model has none."""
    if not rbm.rate_weight:
        return None
    row, col = lm.rows(users)
    likes = np.bincount(row, weights=col % 2, minlength=len(users))
    return rbm.like_offset(likes, np.bincount(row, minlength=len(users)))


def item_item_input(rbm, lm: LikeMatrix, users: np.ndarray):
    """``(len(users), N)`` movie-to-movie term of ``users``' seen log-odds
    (:meth:`engine.model.rbm.RBM.item_item_input`), None when the RBM has none."""
    import torch

    if rbm.item_item is None:
        return None
    row, col = lm.rows(users)
    return rbm.item_item_input(
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
    offset = like_offset(rbm, lm, users)
    logits = rbm.pair_like_logits(
        x, torch.from_numpy(pos).to(device), torch.from_numpy(vi).to(device), parts=parts,
        offset=offset,
    )  # fmt: skip
    return logits.cpu().numpy().astype(np.float64)


def pair_seen(rbm, lm: LikeMatrix, vu, vi, batch: int = 65536) -> np.ndarray:
    """``float64 (P,)`` the hidden units' share of movie ``vi[p]``'s seen log-odds for person
    ``vu[p]`` (profiles from ``lm``): the exact seen log-odds of the RBM minus the movie's own
    bias part (:meth:`engine.model.rbm.RBM.seen_bias`), no movie-to-movie term. A feature of
    the P(like) calibration: how much this person's tastes point at the movie."""
    import torch
    import torch.nn.functional as F

    from engine.model.rbm import logaddexp_pair

    users, pos = np.unique(vu, return_inverse=True)
    out = np.zeros(len(vu))  # made up front: see RBM.conditionals
    with torch.no_grad():
        x = torch.cat(
            [hidden_input(rbm, lm, users[s : s + 4096]) for s in range(0, len(users), 4096)]
        )
        base = rbm.keep * F.softplus(x).sum(1)
        own = rbm.seen_bias()
        for s in range(0, len(vu), batch):
            p = torch.from_numpy(pos[s : s + batch]).to(rbm.device)
            it = torch.from_numpy(np.asarray(vi[s : s + batch], np.int64)).to(rbm.device)
            sc = rbm.pair_scores(x[p], it)
            out[s : s + batch] = (logaddexp_pair(sc) - base[p] - own[it]).double().cpu().numpy()
    return out


def pair_partner_mass(rbm, lm: LikeMatrix, vu, vi, exclude=None, batch: int = 1024) -> np.ndarray:
    """``float64 (P, 2)`` liked and disliked partner mass
    (:meth:`engine.model.itemitem.ItemItem.like_mass`) of movie ``vi[p]`` for person
    ``vu[p]``, the people's thumbs taken from ``lm`` without the (person, movie) pairs of
    ``exclude`` (two ``(E,)`` arrays, or None). Zeros without a movie-to-movie part. Cost:
    pairs × partners, and one people × movies int8 array per ``batch`` people."""
    import torch

    out = np.zeros((len(vu), 2))
    ii = rbm.item_item
    if ii is None or not len(vu):
        return out
    users, pos = np.unique(vu, return_inverse=True)
    order = np.argsort(pos, kind="stable")
    pos_sorted = pos[order]
    vi = np.asarray(vi, np.int64)
    if exclude is not None:
        ex = np.argsort(exclude[0], kind="stable")
        eu, ei = np.asarray(exclude[0])[ex], np.asarray(exclude[1])[ex]
    dev = rbm.device
    for s in range(0, len(users), batch):
        ub = users[s : s + batch]
        row, col = lm.rows(ub)
        T = torch.zeros(len(ub), lm.n_items, dtype=torch.int8)
        T[torch.from_numpy(row), torch.from_numpy(col // 2)] = torch.from_numpy(
            np.where(col % 2 == 1, 1, -1).astype(np.int8)
        )
        if exclude is not None:
            lo, hi = np.searchsorted(eu, ub[0]), np.searchsorted(eu, ub[-1], "right")
            local = np.minimum(np.searchsorted(ub, eu[lo:hi]), len(ub) - 1)
            mine = ub[local] == eu[lo:hi]
            T[torch.from_numpy(local[mine]), torch.from_numpy(ei[lo:hi][mine])] = 0
        a, b = np.searchsorted(pos_sorted, s), np.searchsorted(pos_sorted, s + len(ub))
        idx = order[a:b]
        out[idx] = ii.pair_like_mass(
            T.to(dev),
            torch.from_numpy(pos[idx] - s).to(dev),
            torch.from_numpy(vi[idx]).to(dev),
        )
    return out
