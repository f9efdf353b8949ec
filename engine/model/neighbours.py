"""Movie-to-movie neighbours on rating residuals: a P(like) feature for people known by stars.

The RBM sees a person's likes and dislikes; the star values behind them carry more: someone
who gave the neighbours of a movie more stars than expected tends to like it. The residual of
a rating is ``r - m_i - b_u`` (``m_i`` the movie's smoothed mean rating, ``b_u`` the
person's rating bias, :func:`engine.model.calibration.person_rating_bias`). Movies ``i`` and
``j`` have the similarity ``s_ij``: the cosine of their residual columns times
``c_ij / (c_ij + shrink)`` (``c_ij`` people who rated both: similarities from few people
shrink to 0). Each movie keeps its ``k`` most similar movies (by ``|s|``). The feature of a
person and a movie ``i`` is::

    Σ_j s_ij · resid_j / (1 + Σ_j |s_ij|)      over the person's rated neighbours j of i

(item-based collaborative filtering on baseline residuals, as in Koren 2008). It enters the
P(like) calibration (:func:`engine.model.calibration.like_features`); people known only by
thumbs have no residuals, and for them it is 0. Fitting takes two ``n_items²`` float32
arrays, so it is done for catalogues up to ``lateral_max_items`` movies, like the lateral
weights.
"""

from __future__ import annotations

import numpy as np


def residuals(lm, movie_means: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``float32 (nnz,)`` residual of each rating of ``lm`` (a LikeMatrix with values):
    ``value - movie_means[item] - the person's rating bias`` (``bias (n_users,)`` when the
    caller has it, else computed here)."""
    from engine.model.calibration import person_rating_bias

    owners, items = lm.owners(), lm.cols // 2
    means = np.asarray(movie_means, np.float64)
    if bias is None:
        bias = person_rating_bias(owners, items, lm.values, means, lm.n_users)
    return (lm.values - means[items] - bias[owners]).astype(np.float32)


def fit(lm, resid: np.ndarray, k: int = 100, shrink: float = 20.0, batch: int = 4096):
    """The ``k`` neighbours of every movie: ``(items int64 (N, k), sims float32 (N, k))``,
    from the residuals ``resid`` of the ratings of ``lm`` (see the module doc), built
    ``batch`` people at a time (never a whole people × movies array). ``k`` is capped at
    ``N - 1``."""
    import torch

    n = lm.n_items
    num = torch.zeros(n, n)
    co = torch.zeros(n, n)
    for s in range(0, lm.n_users, batch):
        users = np.arange(s, min(s + batch, lm.n_users))
        R, M, (row, item), vals = _rows(lm, resid, users)
        # the transposed batch as a sparse matrix: cost ~ its ratings × N, not users × N²
        at = torch.stack((item, row))
        shape = (n, len(users))
        Rt = torch.sparse_coo_tensor(at, vals, shape, check_invariants=True).coalesce()
        Mt = torch.sparse_coo_tensor(at, torch.ones(len(vals)), shape, check_invariants=True)
        num.add_(torch.sparse.mm(Rt, R))
        co.add_(torch.sparse.mm(Mt.coalesce(), M))
    norm = num.diagonal().sqrt() + 1e-9
    sim = num.div_(norm[:, None]).div_(norm[None, :]).mul_(co)  # in place: no N² temporaries
    sim.div_(co.add_(shrink).clamp_(min=1e-9))
    sim.fill_diagonal_(0.0)
    k = max(1, min(k, n - 1))
    top = sim.abs().topk(k, dim=1).indices.sort(dim=1).values
    return top, sim.gather(1, top).contiguous()


def _rows(lm, resid: np.ndarray, users: np.ndarray):
    """Dense ``(len(users), N)`` float32 residuals and rated indicators of ``users``, with
    the ``(row, item)`` coordinates and residual values they were filled from."""
    import torch

    row, pos = lm._positions(users)
    R = torch.zeros(len(users), lm.n_items)
    M = torch.zeros(len(users), lm.n_items)
    at = (torch.from_numpy(row), torch.from_numpy(lm.cols[pos] // 2))
    vals = torch.from_numpy(np.asarray(resid, np.float32)[pos])
    R[at] = vals
    M[at] = 1.0
    return R, M, at, vals


def scores(items, sims, lm, resid: np.ndarray, users: np.ndarray):
    """``float64 (len(users), N)`` the feature of each of ``users`` (rows of ``lm``, whose
    ratings have residuals ``resid``) for every movie."""
    import torch

    n = lm.n_items
    R, M = _rows(lm, resid, users)[:2]
    at = torch.stack((torch.arange(n).repeat_interleave(items.shape[1]), items.reshape(-1)))
    S = torch.sparse_coo_tensor(at, sims.reshape(-1), (n, n), check_invariants=True).coalesce()
    A = torch.sparse_coo_tensor(at, sims.abs().reshape(-1), (n, n), check_invariants=True)
    A = A.coalesce()
    numer = torch.sparse.mm(S, R.T).T
    den = torch.sparse.mm(A, M.T).T + 1.0
    return (numer / den).double().numpy()


def pair_scores(items, sims, lm, resid, users: np.ndarray, movies: np.ndarray, block: int = 1024):
    """``float64 (P,)`` the feature of pairs (``users[p]`` a row of ``lm``, ``movies[p]`` a
    movie index), ``block`` people at a time; cost ~ pairs × neighbours."""
    import torch

    out = np.zeros(len(users))
    uniq, inv = np.unique(users, return_inverse=True)
    for s in range(0, len(uniq), block):
        sel = np.nonzero((inv >= s) & (inv < s + block))[0]
        R, M = _rows(lm, resid, uniq[s : s + block])[:2]
        row = torch.from_numpy(inv[sel] - s)[:, None]
        mv = torch.from_numpy(np.asarray(movies)[sel])
        nb, sim = items[mv], sims[mv]  # (p, k)
        numer = (R[row, nb] * sim).sum(1)
        den = (M[row, nb] * sim.abs()).sum(1) + 1.0
        out[sel] = (numer / den).double().numpy()
    return out
