"""The movie-to-movie part of the seen log-odds: sparse, at every catalogue size.

The hidden units explain which movies a person picks through a few hundred broad tastes. A
sparse item-item part adds direct movie-to-movie terms to each movie's seen log-odds, as the
lateral connections of a semi-restricted Boltzmann machine (Osindero & Hinton 2008) would::

    seen_logit[j] += (d_ref / D)^γ · Σ_{i rated by the person, i a partner of j} w[j, i]

``D`` is the person's number of rated movies (the term's weight falls as more is known about
them; ``d_ref = 50``). Every movie ``j`` keeps ``k`` partners: among the ``hubs`` most rated
movies, those with the largest co-occurrence ``G[i, j] / n_i^norm`` (``G = XᵀX`` of the seen
indicators, ``n_i`` movie i's raters). Its weights are the ridge regression of j's seen
indicator on its partners', ``w = (G[P, P] + diag(l2 + l2_pop·n_P))⁻¹ G[P, j]`` (a local,
sparse form of the closed-form estimator of Steck 2019, "Embarrassingly shallow
autoencoders", with the popularity-growing penalty of Steck 2020), times ``scale``. Memory is
``movies × k`` weights and ``hubs²`` floats while fitting (256 MB for 8,192 hubs); the Gram
of the hubs costs Σ_people (hub ratings)². Movies outside the hubs are only targets when they
are hubs themselves: a movie few people rated gets no partners (its row is zero).
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from engine.device import torch_threads

if TYPE_CHECKING:
    import torch

    from engine.data.likes import LikeMatrix

#: The person's number of rated movies at which the term has its fitted scale.
D_REF = 50.0


class ItemItem:
    """Sparse item-item weights: ``partners (N, k)`` int64 movie indices and ``weights (N, k)``
    float32 (the scale included) of every target movie, and the exponent ``gamma`` of the
    per-person factor ``(D_REF / D)^gamma``."""

    def __init__(self, partners, weights, gamma: float = 0.5) -> None:
        if partners.shape != weights.shape or partners.dim() != 2:
            raise ValueError("item-item: partners and weights must be (movies, k) alike")
        self.partners = partners.long().contiguous()
        self.weights = weights.float().contiguous()
        self.gamma = float(gamma)
        self._matrix = None

    @property
    def n_items(self) -> int:
        return self.partners.shape[0]

    def to(self, device) -> ItemItem:
        self.partners, self.weights = self.partners.to(device), self.weights.to(device)
        self._matrix = None
        return self

    def state_dict(self) -> dict:
        return {"partners": self.partners.cpu(), "weights": self.weights.cpu()}

    @classmethod
    def from_state(cls, state: dict, n_items: int, gamma: float) -> ItemItem:
        """Checked: shapes, partner indices within the catalogue, finite weights."""
        import torch

        p, w = state.get("partners"), state.get("weights")
        if not isinstance(p, torch.Tensor) or not isinstance(w, torch.Tensor):
            raise ValueError("item-item: missing partners or weights")
        if p.dtype != torch.int64:
            raise ValueError(f"item-item: partners are {p.dtype}, not int64 movie indices")
        if p.dim() != 2 or p.shape[0] != n_items or p.shape != w.shape:
            raise ValueError(
                f"item-item: shapes {tuple(p.shape)}, {tuple(w.shape)} do not fit {n_items} movies"
            )
        if p.numel() and (int(p.min()) < 0 or int(p.max()) >= n_items):
            raise ValueError("item-item: a partner index is outside the catalogue")
        if not torch.isfinite(w).all():
            raise ValueError("item-item: weights hold NaN or infinite values")
        return cls(p, w, gamma)

    def _by_partner(self):
        """The weights grouped by partner (built once): ``(starts (N+1,), targets, weights)``;
        movie ``i`` is a partner of ``targets[starts[i]:starts[i+1]]`` with those weights
        (zero weights left out)."""
        import torch

        if self._matrix is None:
            N, k = self.partners.shape
            dev = self.partners.device
            keep = (self.weights != 0).reshape(-1)
            partner = self.partners.reshape(-1)[keep]
            target = torch.arange(N, device=dev).repeat_interleave(k)[keep]
            weight = self.weights.reshape(-1)[keep]
            order = torch.argsort(partner, stable=True)
            starts = torch.zeros(N + 1, dtype=torch.long, device=dev)
            starts[1:] = torch.cumsum(torch.bincount(partner, minlength=N), 0)
            self._matrix = (starts, target[order].contiguous(), weight[order].contiguous())
        return self._matrix

    def seen_term(self, rows, items, n: int):
        """``(n, N)`` the term added to the seen log-odds for a sparse batch: person ``rows[t]``
        (in ``[0, n)``) rated movie ``items[t]`` (each movie once per person). Cost: the
        number of (rated movie, movie it is a partner of) pairs, not the catalogue."""
        import torch

        out = self._spread(rows, items, n, positive=False)
        if self.gamma:
            D = torch.bincount(rows, minlength=n).clamp_min(1).float()
            out = out * (D_REF / D).pow(self.gamma)[:, None]
        return out

    def like_mass(self, rows, items, liked, n: int):
        """``(liked mass, disliked mass)``, each ``(n, N)``: for every movie ``j``, the sum of
        its positive partner weights ``max(w[j, i], 0)`` over the movies ``i`` person
        ``rows[t]`` liked (``liked[t]`` True) or disliked, ``items[t]`` the rated movies (see
        :func:`engine.model.calibration.partner_odds`). Same cost as :meth:`seen_term`."""
        return (
            self._spread(rows[liked], items[liked], n, positive=True),
            self._spread(rows[~liked], items[~liked], n, positive=True),
        )

    def pair_like_mass(self, thumbs, pos, targets) -> np.ndarray:
        """``float64 (P, 2)`` liked and disliked mass (:meth:`like_mass`) of pairs: person
        ``pos[p]``, a row of ``thumbs`` (``(people, N)`` int8: 1 liked, -1 disliked, 0 not
        rated), and movie ``targets[p]``. Cost: pairs × partners."""
        import torch

        part = self.partners.index_select(0, targets)  # (P, k)
        w = self.weights.index_select(0, targets).clamp_min(0.0)
        t = thumbs[pos[:, None], part]
        return torch.stack(((w * (t > 0)).sum(1), (w * (t < 0)).sum(1)), 1).double().cpu().numpy()

    def _spread(self, rows, items, n: int, positive: bool):
        """``(n, N)``: each rated movie ``items[t]`` adds its weight as a partner of every movie
        it is a partner of to person ``rows[t]``'s row (only positive weights if asked)."""
        import torch

        N = self.n_items
        starts, targets, weights = self._by_partner()
        first, lens = starts[items], starts[items + 1] - starts[items]
        total = int(lens.sum())
        out = torch.zeros(n * N, device=self.partners.device)
        if total:
            offset = torch.cumsum(lens, 0) - lens
            pos = torch.repeat_interleave(first - offset, lens) + torch.arange(
                total, device=out.device
            )
            where = torch.repeat_interleave(rows, lens) * N + targets[pos]
            w = weights[pos]
            out.index_add_(0, where, w.clamp_min(0.0) if positive else w)
        return out.view(n, N)


def fit(lm, cfg) -> ItemItem:
    """The item-item part of the ratings in ``lm`` (a :class:`engine.data.likes.LikeMatrix`)
    with the settings ``item_item_*`` of ``cfg`` (:class:`engine.settings.TrainConfig`)."""
    import torch

    part, wts = fit_partners(
        lm, k=cfg.item_item_k, hubs=cfg.item_item_hubs, l2=cfg.item_item_l2,
        l2_pop=cfg.item_item_l2_pop, norm=cfg.item_item_norm,
    )  # fmt: skip
    weights = torch.from_numpy(wts) * cfg.item_item_weight
    return ItemItem(torch.from_numpy(part), weights, cfg.item_item_gamma)


def fit_partners(
    lm: LikeMatrix,
    k: int = 100,
    hubs: int = 8192,
    l2: float = 150.0,
    l2_pop: float = 2.0,
    norm: float = 0.5,
    block: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """``(partners int64 (N, k'), weights float32 (N, k'))`` of every target movie (see the
    module doc; ``k' = min(k, hubs - 1)``, at least 1), never an N × N array."""
    import torch

    N = lm.n_items
    n = np.bincount(lm.cols // 2, minlength=N).astype(np.float64)  # (N,) raters per movie
    M = min(hubs, N)
    hub = np.argsort(-n, kind="stable")[:M]  # (M,) the most rated movies
    G = _hub_gram(lm, hub, block)
    kk = max(1, min(k, M - 1))
    part = np.zeros((N, kk), np.int64)
    wts = np.zeros((N, kk), np.float32)
    if M < 2:
        return part, wts
    ridge = _Ridge(G, n[hub], kk, l2, l2_pop, norm)
    # the blocks in parallel, one torch thread each: many small factorisations run several
    # times faster side by side than each on every thread. Small blocks (64 targets: 10 MB of
    # Gram matrices) come from memory malloc keeps; big ones were fresh pages every time
    # (ML-100K: 0.8 s → 0.65 s; 5M ratings: 17.7 s → 14.8 s and 0.5 GB less at the peak)
    workers = max(1, torch.get_num_threads())
    block = max(64, min(block, math.ceil(M / (2 * workers))))
    with torch_threads(1), ThreadPoolExecutor(workers) as pool:
        solve = partial(ridge.solve, block=block)
        for b0, P, beta in pool.map(solve, range(0, M, block)):
            tgt = hub[b0 : b0 + len(P)]
            part[tgt] = hub[P.numpy()]
            wts[tgt] = beta.numpy()
    return part, wts


def _hub_gram(lm: LikeMatrix, hub: np.ndarray, block: int) -> torch.Tensor:
    """``(M, M)`` float32: the exact co-occurrence counts ``XᵀX`` of the hubs ``hub (M,)``,
    X the people × hubs seen indicators, built ``block`` rows at a time."""
    import torch

    XhT, Xh = _hub_indicators(lm, hub)
    M = len(hub)
    G = torch.zeros(M, M)
    for r0 in range(0, M, block):
        G[r0 : r0 + block] = torch.sparse.mm(_csr_rows(XhT, r0, min(M, r0 + block)), Xh).to_dense()
    return G


def _hub_indicators(lm: LikeMatrix, hub: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Xᵀ (M, U), X (U, M))``: the people × hubs seen indicators as CSR tensors with
    int32 indices (torch's CSR product is many times faster with them than with int64)."""
    import torch

    U, M = lm.n_users, len(hub)
    hub_rank = np.full(lm.n_items, -1, np.int64)
    hub_rank[hub] = np.arange(M)
    hr = hub_rank[lm.cols // 2]
    ish = hr >= 0
    ho, hi = lm.owners()[ish], hr[ish]
    o = np.lexsort((hi, ho))
    ho32, hi32 = ho[o].astype(np.int32), hi[o].astype(np.int32)
    del o, ho, hi, hr, ish
    crow_u = np.zeros(U + 1, np.int64)
    np.cumsum(np.bincount(ho32, minlength=U), out=crow_u[1:])
    by_hub = np.lexsort((ho32, hi32))
    crow_h = np.zeros(M + 1, np.int64)
    np.cumsum(np.bincount(hi32, minlength=M), out=crow_h[1:])
    ones = torch.ones(len(hi32))
    warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
    XhT = _csr(crow_h, ho32[by_hub], ones, (M, U))
    Xh = _csr(crow_u, hi32, ones, (U, M))
    return XhT, Xh


def _csr(crow: np.ndarray, cols: np.ndarray, values: torch.Tensor, shape: tuple[int, int]):
    """A CSR tensor of int32 row pointers ``crow`` and column indices ``cols``."""
    import torch

    return torch.sparse_csr_tensor(
        torch.from_numpy(crow.astype(np.int32)),
        torch.from_numpy(cols),
        values,
        shape,
        check_invariants=False,
    )


class _Ridge:
    """Each hub's ``kk`` partners and ridge weights from the hubs' Gram ``G (M, M)`` and
    raters ``n_hub (M,)`` (see the module doc)."""

    def __init__(
        self, G: torch.Tensor, n_hub: np.ndarray, kk: int, l2: float, l2_pop: float,
        norm: float,
    ) -> None:  # fmt: skip
        import torch

        self.G, self.Gn, self.kk = G, G.numpy(), kk
        self.pen = l2 + l2_pop * torch.from_numpy(n_hub).float()  # (M,) the ridge penalty
        # 1 / raters^norm, the same float for the same count (a vectorised power may round
        # two equal inputs apart, and the partners' ties would then fall by the memory layout)
        counts, which = np.unique(np.maximum(n_hub, 1.0), return_inverse=True)
        self.scale = torch.tensor([float(c) ** -norm for c in counts], dtype=torch.float32)[which]

    def solve(self, b0: int, block: int) -> tuple[int, torch.Tensor, torch.Tensor]:
        """``(b0, partners (b, kk) hub ranks, weights (b, kk))`` of the targets ``b0 ..
        b0 + block`` (hub ranks)."""
        import torch

        torch.set_num_threads(1)  # this thread's own setting (OpenMP's is per thread)
        M = self.G.shape[0]
        b1 = min(M, b0 + block)
        C = self.G[:, b0:b1].clone()
        S = C * self.scale[:, None]
        S[torch.arange(b0, b1), torch.arange(b1 - b0)] = -1.0  # not its own partner
        # (b, k) hub ranks; a stable sort breaks ties by rank, whatever the threads (topk's
        # choice among equal scores is not fixed)
        P = torch.sort(S, dim=0, descending=True, stable=True).indices[: self.kk].T.contiguous()
        A = torch.from_numpy(self._gram_of_partners(P))
        A.diagonal(dim1=1, dim2=2).add_(self.pen[P])
        rhs = C.T.gather(1, P)
        # A is symmetric positive definite (a Gram matrix plus a positive diagonal)
        beta = torch.cholesky_solve(rhs[:, :, None], torch.linalg.cholesky(A))[:, :, 0]
        return b0, P, beta

    def _gram_of_partners(self, P: torch.Tensor) -> np.ndarray:
        """``(b, kk, kk)`` float32: ``G[p, p]`` of each target's partners ``p``."""
        kk = self.kk
        A = np.empty((len(P), kk, kk), np.float32)
        for t, p in enumerate(P.numpy()):  # numpy's take is the fastest gather here
            A[t] = np.take(np.take(self.Gn, p, axis=0), p, axis=1)
        return A


def _csr_rows(A, r0: int, r1: int):
    """Rows ``[r0, r1)`` of a CSR tensor as a CSR tensor."""
    import torch

    crow = A.crow_indices()
    a, b = int(crow[r0]), int(crow[r1])
    return torch.sparse_csr_tensor(
        crow[r0 : r1 + 1] - a,
        A.col_indices()[a:b],
        A.values()[a:b],
        (r1 - r0, A.shape[1]),
        check_invariants=False,
    )
