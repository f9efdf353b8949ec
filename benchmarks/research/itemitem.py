"""Item-item ("lateral") parts for the seen log-odds, sparse: each movie keeps k partners.

``L[i, j]``: rated movie ``i`` adds ``L[i, j]`` to movie ``j``'s seen log-odds. Column ``j``
(the target) has at most ``k`` non-zeros. Variants (all from the co-occurrence Gram
``G = XᵀX`` of the seen indicators; ML-100K prototypes build ``G`` densely, see
``gram_sparse_topk`` for the scalable candidate search):

- ``ease_topk``: today's dense EASE-like weights (emphasized ridge), then each column's k
  largest kept (a quality reference: needs the N×N inverse);
- ``local``: for target ``j``, partners ``N(j)`` = its k most co-occurring movies; the ridge
  regression of ``X_j`` on ``X_N(j)`` in closed form from ``G[N, N]`` and ``G[N, j]`` (penalty
  ``l2 + l2_pop·n_i`` on regressor ``i``), one k×k solve per movie (batched);
- ``knn``: cosine-like co-occurrence ``G_ij / (sqrt(n_i n_j) + shrink)``, k largest per column.
"""

from __future__ import annotations

import numpy as np


def dense_gram(lm):
    from engine.lateral import gram

    return gram(lm)


def partners_by_count(G, k: int, norm: float = 0.0):
    """``(N, k)`` partner indices of every target column j: the k largest ``G[i, j]`` (i≠j),
    optionally divided by ``n_i^norm`` (favouring less popular partners)."""
    import torch

    S = G.clone()
    S.fill_diagonal_(-1.0)
    if norm:
        n = G.diagonal().clamp_min(1.0)
        S = S / n[:, None] ** norm
    return torch.topk(S, k, dim=0).indices.T.contiguous()  # (N, k): partners of column j


def local_ridge(G, part, l2: float, l2_pop: float, batch: int = 2048):
    """``(N, k)`` weights: column j's ridge regression on its partners ``part[j]``."""
    import torch

    N, k = part.shape
    n = G.diagonal()
    out = torch.empty(N, k)
    for s in range(0, N, batch):
        p = part[s : s + batch]  # (b, k)
        A = G[p[:, :, None], p[:, None, :]]  # (b, k, k)
        A = A + torch.diag_embed(l2 + l2_pop * n[p])
        rhs = G[p, torch.arange(s, s + len(p))[:, None]]  # (b, k)
        out[s : s + batch] = torch.linalg.solve(A, rhs[:, :, None])[:, :, 0]
    return out


def to_dense(part, wts, N):
    """Dense ``(N, N)`` L with ``L[part[j, t], j] = wts[j, t]``."""
    import torch

    L = torch.zeros(N, N)
    cols = torch.arange(N)[:, None].expand_as(part)
    L[part.reshape(-1), cols.reshape(-1)] = wts.reshape(-1)
    return L


def fit(lm, method: str = "local", k: int = 100, l2: float = 150.0, l2_pop: float = 2.0,
        norm: float = 0.0, shrink: float = 10.0, G=None):
    import torch

    from engine.lateral import fit_lateral

    N = lm.n_items
    if G is None:
        G = dense_gram(lm)
    if method == "ease_topk":
        B = fit_lateral(lm, l2, l2_pop)
        if k >= N:
            return B
        idx = torch.topk(B, k, dim=0).indices.T
        return to_dense(idx, B.gather(0, idx.T).T, N)
    if method == "local":
        part = partners_by_count(G, min(k, N - 1), norm)
        w = local_ridge(G, part, l2, l2_pop)
        return to_dense(part, w, N)
    if method == "knn":
        n = G.diagonal().clamp_min(1.0)
        S = G / (torch.sqrt(n[:, None] * n[None, :]) + shrink)
        S.fill_diagonal_(0.0)
        idx = torch.topk(S, k, dim=0).indices.T
        return to_dense(idx, S.gather(0, idx.T).T, N)
    raise ValueError(method)


# ----------------------------------------------------------------- scalable version
def fit_hub_local(lm, k: int = 100, hubs: int = 8192, l2: float = 150.0, l2_pop: float = 2.0,
                  norm: float = 0.5, cap: int = 0, block: int = 512, seed: int = 0,
                  gram: str = "sparse", targets: str = "hubs", log=None):
    """Sparse item-item weights for any catalogue size, never an N×N array.

    Partners may only be "hub" movies: the ``hubs`` most rated ones (all movies when the
    catalogue is smaller). For every target movie j: its ``k`` partners are the hubs with the
    largest co-occurrence ``G[i, j] / n_i^norm`` (i ≠ j), and its weights the ridge regression
    of j's seen indicator on theirs, ``β = (G[P, P] + diag(l2 + l2_pop·n_P))⁻¹ G[P, j]``, with
    ``G[P, P]`` from the dense hub Gram (hubs² floats: 256 MB for 8,192). ``cap`` > 0: people
    with more ratings count only a random ``cap`` of them in the co-occurrences (bounds the
    cost, which is Σ_people ratings × hub ratings).

    Returns ``(partners int64 (N, k) global movie indices, weights float32 (N, k))``.
    """
    import time

    import torch

    t0 = time.perf_counter()
    N, U = lm.n_items, lm.n_users
    owners = lm.owners()
    items = lm.cols // 2
    if cap:
        rng = np.random.default_rng(seed)
        lens = np.diff(lm.indptr)
        key = rng.random(len(items))
        order = np.lexsort((key, owners))
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order)) - np.repeat(lm.indptr[:-1], lens)
        keep = rank < cap
        owners, items = owners[keep], items[keep]
    n = np.bincount(items, minlength=N).astype(np.float64)
    M = min(hubs, N)
    hub = np.argsort(-n, kind="stable")[:M]
    hub_rank = np.full(N, -1, np.int64)
    hub_rank[hub] = np.arange(M)
    hr = hub_rank[items]
    ish = hr >= 0
    ho, hi = owners[ish], hr[ish]
    # CSR matrices built directly from the person-sorted ratings (int32 indices: no COO copy)
    o = np.lexsort((hi, ho))  # rows by person, columns sorted within a row
    ho32 = ho[o].astype(np.int32)
    hi32 = hi[o].astype(np.int32)
    del o, ho, hi, hr, ish
    if targets == "hubs":
        del owners, items
    crow_u = np.zeros(U + 1, np.int64)
    np.cumsum(np.bincount(ho32, minlength=U), out=crow_u[1:])
    ordr = np.lexsort((ho32, hi32))
    crow_h = np.zeros(M + 1, np.int64)
    np.cumsum(np.bincount(hi32, minlength=M), out=crow_h[1:])
    XhT = torch.sparse_csr_tensor(torch.from_numpy(crow_h.astype(np.int32)),
                                  torch.from_numpy(ho32[ordr]), torch.ones(len(ordr)), (M, U))
    del ordr
    if gram == "sparse":  # exact counts, cost Σ_people hub ratings²
        G = torch.zeros(M, M)
        Xh = torch.sparse_csr_tensor(torch.from_numpy(crow_u.astype(np.int32)),
                                     torch.from_numpy(hi32), torch.ones(len(hi32)), (U, M))
        for r0 in range(0, M, block):
            G[r0:r0 + block] = torch.sparse.mm(_csr_rows(XhT, r0, min(M, r0 + block)), Xh).to_dense()
        del Xh
    else:  # dense chunks of people; int8 products accumulate exactly in int32
        G = torch.zeros(M, M)
        chunk = 4096
        bounds = np.searchsorted(ho32, np.arange(0, U + chunk, chunk))
        for a in range(len(bounds) - 1):
            s, e = bounds[a], bounds[a + 1]
            if s == e:
                continue
            Xc = torch.zeros(chunk, M, dtype=torch.int8 if gram == "int8" else torch.float32)
            Xc[torch.from_numpy(ho32[s:e].astype(np.int64) - a * chunk), torch.from_numpy(hi32[s:e].astype(np.int64))] = 1
            if gram == "int8":
                G += torch._int_mm(Xc.T.contiguous(), Xc).float()
            else:
                G += Xc.T @ Xc
    t1 = time.perf_counter()
    if targets != "hubs":
        order = np.argsort(items, kind="stable")
        it_sorted, ow_sorted = items[order], owners[order]
    kk = min(k, M - 1) if M > 1 else 0
    part = np.zeros((N, max(kk, 1)), np.int64)
    wts = np.zeros((N, max(kk, 1)), np.float32)
    nh = torch.from_numpy(n[hub]).float()
    pen = l2 + l2_pop * nh
    if targets == "hubs":  # only hub movies are targets: their columns of the hub Gram
        tgt_all = hub
    else:
        tgt_all = np.arange(N)
    for b0 in range(0, len(tgt_all), block):
        b1 = min(len(tgt_all), b0 + block)
        tgt = tgt_all[b0:b1]
        if targets == "hubs":
            C = G[:, b0:b1].clone()
        else:
            s, e = np.searchsorted(it_sorted, [b0, b1])
            XJ = torch.sparse_coo_tensor(
                torch.from_numpy(np.stack([ow_sorted[s:e], it_sorted[s:e] - b0])),
                torch.ones(e - s), (U, b1 - b0),
            ).coalesce().to_sparse_csr()
            C = torch.sparse.mm(XhT, XJ).to_dense()  # (M, |J|): G[hub, J]
        S = C / nh.clamp_min(1.0)[:, None] ** norm
        self_hub = hub_rank[tgt]
        has = self_hub >= 0
        S[torch.from_numpy(self_hub[has]), torch.from_numpy(np.flatnonzero(has))] = -1.0
        P = torch.topk(S, kk, dim=0).indices.T  # (|J|, k) hub ranks
        A = G[P[:, :, None], P[:, None, :]] + torch.diag_embed(pen[P])
        rhs = C.T.gather(1, P)  # (|J|, k)
        beta = torch.linalg.solve(A, rhs[:, :, None])[:, :, 0]
        part[tgt] = hub[P.numpy()]
        wts[tgt] = beta.numpy()
    if log:
        log(f"hub Gram {t1 - t0:.1f} s, targets {time.perf_counter() - t1:.1f} s (M={M}, k={kk})")
    return part, wts


def _csr_rows(A, r0, r1):
    """Rows [r0, r1) of a CSR tensor as a CSR tensor."""
    import torch

    crow = A.crow_indices()
    a, b = int(crow[r0]), int(crow[r1])
    return torch.sparse_csr_tensor(crow[r0:r1 + 1] - a, A.col_indices()[a:b], A.values()[a:b],
                                   (r1 - r0, A.shape[1]))


def partners_to_dense(part, wts, N):
    import torch

    return to_dense(torch.from_numpy(part), torch.from_numpy(wts), N)
