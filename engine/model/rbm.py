"""The Restricted Boltzmann Machine.

Visible layer: one three-state softmax unit per movie with states {unseen, disliked, liked}.
"Unseen" is the reference state with zero weights and zero bias, so a movie nobody told us
about contributes nothing to the energy (it is not an input of value -1). Hidden layer: binary.

Energy of a visible configuration ``v`` (one-hot over disliked/liked, ``(2·n_items,)``, entry
``2·i + s`` with s = 0 disliked, 1 liked) and hidden ``h`` (``(n_hidden,)``)::

    E(v, h) = - v·b - h·c - vᵀ W h

From one model we read two things for a movie ``j`` a person has not rated:

- ``P(seen_j | v)``, the chance they would pick it at all (top-N recommendation), and
- ``P(like_j | seen_j, v)``, the chance they like it once they watch it (the P(like) shown).

Both are exact conditionals of the RBM (the hidden units are summed out, not sampled), see
:meth:`RBM.conditionals`. The like log-odds also take a visible bias conditioned on the
person, :meth:`RBM.like_offset` (how easily they like anything, from their like rate). An
optional sparse movie-to-movie part (:attr:`RBM.item_item`, fitted by
:mod:`engine.model.itemitem`) adds direct terms between the movies' seen states to the seen
log-odds where recommendations are ranked. All tensors are on :attr:`RBM.device`, float32.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from engine.model.itemitem import ItemItem

DISLIKE, LIKE = 0, 1
#: up to this many people, :meth:`RBM.mean_field_conditionals` multiplies by a transposed copy
#: of the weights (a fold-in), above by ``W.T`` (batches, which gain nothing from the copy)
FEW_PEOPLE = 8
#: :meth:`RBM.conditionals` takes softplus(x + W) as log1p(e^x · e^W) while x + W stays below
#: this (e^88.7 overflows float32)
EXP_LIMIT = 80.0


#: The weights' derived tensors (see :meth:`RBM._cached`): a weak reference to the ``W`` they
#: come from, its version and like units, and the tensors by name.
_WCache = tuple["weakref.ref[torch.Tensor]", tuple[int, int], dict[str, torch.Tensor]]


class RBM:
    """Weights of the three-state RBM.

    Attributes:
        W: ``(2·n_items, n_hidden)`` weights; rows ``2i`` (disliked) and ``2i+1`` (liked).
        b: ``(2·n_items,)`` visible biases.
        c: ``(n_hidden,)`` hidden biases.
    """

    def __init__(
        self,
        n_items: int,
        n_hidden: int = 100,
        *,
        device: str | torch.device = "cpu",
        seed: int | None = 0,
        init_std: float = 0.01,
    ) -> None:
        self.n_items = int(n_items)
        self.n_hidden = int(n_hidden)
        self.device = torch.device(device)
        gen = torch.Generator(device="cpu")
        if seed is not None:
            gen.manual_seed(int(seed))
        W = torch.randn(2 * self.n_items, self.n_hidden, generator=gen) * init_std
        self.W = W.to(self.device)
        self.b = torch.zeros(2 * self.n_items, device=self.device)
        self.c = torch.zeros(self.n_hidden, device=self.device)
        #: share of hidden units kept in training (1 - dropout); at use every unit is present
        #: and its contribution to the free energy is scaled by ``keep``
        self.keep = 1.0
        #: the first ``like_units`` hidden units learn like vs dislike only; their share of
        #: every like log-odds is multiplied by ``like_gain`` (fitted with the P(like)
        #: calibration; it leaves P(seen) alone)
        self.like_units = 0
        self.like_gain = 1.0
        #: the sparse movie-to-movie part of the seen log-odds
        #: (:class:`engine.model.itemitem.ItemItem`), or None
        self.item_item: ItemItem | None = None
        self.rate_weight, self.rate_prior, self.rate_share = 0.0, 0.0, 0.5

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], device: str | torch.device = "cpu") -> RBM:
        """An RBM holding ``state``'s ``W (2N, H)``, ``b (2N,)`` and ``c (H,)`` (checked by
        :meth:`load_state_dict`), nothing allocated at another size first."""
        W = state.get("W")
        if not isinstance(W, torch.Tensor) or W.dim() != 2 or W.shape[0] % 2:
            raise ValueError("weights: W must be a (2·movies, hidden) tensor")
        rbm = cls.__new__(cls)
        rbm.n_items, rbm.n_hidden = W.shape[0] // 2, W.shape[1]
        rbm.device = torch.device(device)
        rbm.keep, rbm.like_units, rbm.like_gain, rbm.item_item = 1.0, 0, 1.0, None
        rbm.rate_weight, rbm.rate_prior, rbm.rate_share = 0.0, 0.0, 0.5
        rbm.load_state_dict(state)
        return rbm

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, torch.Tensor]:
        """The weights as CPU tensors: ``W (2N, H)``, ``b (2N,)``, ``c (H,)``."""
        return {"W": self.W.cpu(), "b": self.b.cpu(), "c": self.c.cpu()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load weights, checking every shape and that no value is NaN or infinite."""
        expect = {
            "W": (2 * self.n_items, self.n_hidden),
            "b": (2 * self.n_items,),
            "c": (self.n_hidden,),
        }
        for name, shape in expect.items():
            t = state.get(name)
            if not isinstance(t, torch.Tensor):
                raise ValueError(f"weights: missing tensor {name!r}")
            if tuple(t.shape) != shape:
                raise ValueError(f"weights: {name} has shape {tuple(t.shape)}, expected {shape}")
            if t.numel() and not all(math.isfinite(float(x)) for x in torch.aminmax(t)):
                raise ValueError(f"weights: {name} holds NaN or infinite values")
        self.W = state["W"].to(self.device, torch.float32).contiguous()
        self.b = state["b"].to(self.device, torch.float32).contiguous()
        self.c = state["c"].to(self.device, torch.float32).contiguous()

    def to(self, device: str | torch.device) -> RBM:
        self.device = torch.device(device)
        self.W, self.b, self.c = (t.to(self.device) for t in (self.W, self.b, self.c))
        if self.item_item is not None:
            self.item_item.to(self.device)
        return self

    # ------------------------------------------------------------ conditionals
    def hidden_input(self, v: torch.Tensor) -> torch.Tensor:
        """``(B, H)`` total input ``c + v W`` to the hidden units for visible ``v (B, 2N)``."""
        return torch.addmm(self.c, v, self.W)

    def sparse_hidden_input(
        self,
        rows: torch.Tensor,
        cols: torch.Tensor,
        n: int,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(n, H)`` hidden input ``c + vW`` for a sparse batch: person ``rows[t]`` has visible
        unit ``cols[t]`` on (``rows`` sorted ascending, values in ``[0, n)``), with value
        ``weights[t]`` when given (a probability: soft data), else 1."""
        offsets = torch.searchsorted(rows, torch.arange(n, device=rows.device))
        return (
            F.embedding_bag(cols, self.W, offsets, mode="sum", per_sample_weights=weights) + self.c
        )

    def item_item_input(
        self, rows: torch.Tensor, items: torch.Tensor, n: int
    ) -> torch.Tensor | None:
        """``(n, N)`` movie-to-movie term of the seen log-odds for a sparse batch: person
        ``rows[t]`` (in ``[0, n)``) rated movie ``items[t]``. None without the part."""
        if self.item_item is None:
            return None
        return self.item_item.seen_term(rows, items, n)

    def seen_bias(self) -> torch.Tensor:
        """``(N,)`` each movie's own part of its seen log-odds: ``log(e^b_dislike + e^b_like)``
        (what it would be with no hidden unit)."""
        return logaddexp_pair(self.b.view(self.n_items, 2))

    def like_offset(self, likes, ratings) -> torch.Tensor | None:
        """``(B,)`` the person's own term of every like log-odds, from their numbers of likes
        and of ratings ``(B,)`` each: ``rate_weight · log((likes + α·π) / (dislikes +
        α·(1 − π)))``, the log-odds of their like rate smoothed by ``α = rate_prior`` ratings
        at the training data's like share ``π = rate_share`` (a conditional visible bias:
        how easily this person likes anything). None when the model has none."""
        if not self.rate_weight or not self.rate_prior:
            return None
        likes = torch.as_tensor(likes, dtype=torch.float32, device=self.device)
        ratings = torch.as_tensor(ratings, dtype=torch.float32, device=self.device)
        return self.rate_weight * like_rate_log_odds(
            likes, ratings, self.rate_prior, self.rate_share
        )

    def visible_logits(self, h: torch.Tensor) -> torch.Tensor:
        """``(B, N, 2)`` logits of (disliked, liked) against the unseen reference state."""
        return torch.addmm(self.b, h, self.W.T).view(h.shape[0], self.n_items, 2)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``(B,)`` free energy F(v) = -v·b - Σ softplus(c + vW)."""
        return -(v @ self.b) - self.keep * F.softplus(self.hidden_input(v)).sum(1)

    def conditionals(
        self,
        x: torch.Tensor,
        items: torch.Tensor | None = None,
        *,
        offset: torch.Tensor | None = None,
        budget: int = 1 << 23,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact single-movie conditionals for movies the person has not rated.

        Args:
            x: ``(B, H)`` hidden input ``c + vW`` of the person's known ratings.
            items: ``(M,)`` movie indices to score; all movies when None.
            offset: ``(B,)`` the people's own like term (:meth:`like_offset`), or None.

        Returns:
            ``(seen_logit, like_logit)``, each ``(B, M)``: log-odds of P(seen | v) and of
            P(like | seen, v), with the hidden units summed out exactly::

                score(j, s) = b[j,s] + keep · Σ_k softplus(x_k + W[j,s,k])
                seen_logit = logsumexp_s score(j, s) - keep · Σ_k softplus(x_k)
                like_logit = score(j, like) - score(j, dislike) (+ offset)
        """
        # softplus(x + W) = log(1 + e^x · e^W), with e^W kept: a product and a log1p cost
        # two thirds of a softplus of a sum, where e^(x + W) cannot overflow
        by_exp = x.numel() > 0 and float(x.max()) + float(self._cached("W_max")) < EXP_LIMIT
        W = (self._cached("W_exp") if by_exp else self.W).view(self.n_items, 2, self.n_hidden)
        b = self.b.view(self.n_items, 2)
        if items is not None:
            W, b = W[items], b[items]
        base = self.keep * F.softplus(x).sum(1, keepdim=True)  # (B, 1)
        ex = x.exp()[:, None, None, :] if by_exp else None
        # the results are written into tensors made up front: results kept between the
        # chunks' big temporaries fragment the C heap, which then grows by gigabytes
        seen = x.new_empty(x.shape[0], W.shape[0])
        like = x.new_empty(x.shape[0], W.shape[0])
        chunk = max(1, budget // (x.shape[0] * 2 * self.n_hidden))
        for s in range(0, W.shape[0], chunk):
            Wc = W[s : s + chunk]  # (m, 2, H): weights, or their exp
            if ex is not None:  # by_exp
                sp = torch.mul(Wc[None], ex).log1p_()  # (B, m, 2, H)
            else:
                sp = F.softplus(x[:, None, None, :] + Wc[None])
            sc = self.keep * sp.sum(3) + b[s : s + chunk][None]
            seen[:, s : s + chunk] = logaddexp_pair(sc) - base
            like[:, s : s + chunk] = sc[..., LIKE] - sc[..., DISLIKE] + self._like_extra(sp)
        if offset is not None:
            like += offset[:, None]
        return seen, like

    def _pair_softplus(
        self, x: torch.Tensor, items: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``softplus(x[p] + W[items[p], s])`` ``(P, 2, H)`` and the biases ``(P, 2)``."""
        W = self.W.view(self.n_items, 2, self.n_hidden).index_select(0, items)
        return F.softplus(x[:, None, :] + W), self.b.view(self.n_items, 2)[items]

    def pair_scores(
        self,
        x: torch.Tensor,
        items: torch.Tensor,
        *,
        with_like: bool = False,
        offset: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``(P, 2)`` scores of (disliked, liked) for pairs: row ``p`` of ``x (P, H)`` with
        movie ``items[p]``. With ``with_like``, also the ``(P,)`` like log-odds (the scores'
        difference, plus what :attr:`like_gain` adds, plus ``offset (P,)``: the people's own
        like term, :meth:`like_offset`)."""
        sp, b = self._pair_softplus(x, items)
        sc = self.keep * sp.sum(2) + b
        if not with_like:
            return sc
        like = sc[:, 1] - sc[:, 0] + self._like_extra(sp)
        return sc, like if offset is None else like + offset

    def pair_like_logits(
        self,
        x: torch.Tensor,
        rows: torch.Tensor,
        items: torch.Tensor,
        batch: int = 65536,
        *,
        parts: bool = False,
        offset: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(P,)`` like log-odds of movie ``items[p]`` for the person ``x[rows[p]]`` (with
        their own like term ``offset[rows[p]]`` when ``offset (B,)`` is given,
        :meth:`like_offset`); with ``parts``, ``(P, 2)``: the log-odds without
        :attr:`like_gain` and the like units' share of it."""
        L = self.like_units
        out = x.new_zeros((len(items), 2) if parts else len(items))  # see conditionals
        for s in range(0, len(items), batch):
            r = rows[s : s + batch]
            xs, it = x[r], items[s : s + batch]
            off = None if offset is None else offset[r]
            if parts:
                sp, b = self._pair_softplus(xs, it)
                z = self.keep * (sp[:, 1] - sp[:, 0]).sum(1) + b[:, 1] - b[:, 0]
                out[s : s + batch, 0] = z if off is None else z + off
                out[s : s + batch, 1] = self.keep * (sp[:, 1, :L] - sp[:, 0, :L]).sum(1)
            else:
                out[s : s + batch] = self.pair_scores(xs, it, with_like=True, offset=off)[1]
        return out

    def _like_extra(self, sp: torch.Tensor) -> torch.Tensor | float:
        """What :attr:`like_gain` adds to like log-odds, from softplus inputs ``sp (..., 2, H)``."""
        if self.like_gain == 1.0 or self.like_units == 0:
            return 0.0
        L = self.like_units
        return self.keep * (self.like_gain - 1.0) * (sp[..., 1, :L] - sp[..., 0, :L]).sum(-1)

    def mean_field_conditionals(
        self, x: torch.Tensor, offset: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fast approximation of :meth:`conditionals` for all movies: one mean-field pass.

        ``(seen_logit, like_logit)``, each ``(B, N)``; cost is two ``(B,H)×(H,2N)`` products.
        ``offset (B,)``: the people's own like term (:meth:`like_offset`), or None.
        """
        ph = self.keep * torch.sigmoid(x)
        few = x.shape[0] <= FEW_PEOPLE
        if few:  # (H, 2N) laid out row by row: the product streams it
            logits = torch.addmm(self.b, ph, self._cached("W_t")).view(-1, self.n_items, 2)
        else:
            logits = self.visible_logits(ph)
        seen = logaddexp_pair(logits)
        like = logits[..., LIKE] - logits[..., DISLIKE]
        if self.like_gain != 1.0 and self.like_units:
            L = self.like_units
            delta = self._cached("delta_t") if few else self._like_delta().T
            like = like + (self.like_gain - 1.0) * (ph[:, :L] @ delta)
        return seen, like if offset is None else like + offset[:, None]

    def __getstate__(self) -> dict:
        """For pickle (a process pool): the cache of :meth:`_cached` holds a weak reference,
        which does not travel (it is rebuilt on first use)."""
        return {k: v for k, v in self.__dict__.items() if k != "_w_cache"}

    def _like_delta(self) -> torch.Tensor:
        """``(N, like_units)`` liked minus disliked weights of the like units, cached until
        ``W`` changes (in place or replaced)."""
        return self._cached("delta")

    def _cached(self, name: str) -> torch.Tensor:
        """A tensor derived from ``W``, kept until ``W`` changes (in place or replaced):
        ``"delta"`` ``(N, like_units)`` the like units' liked minus disliked weights,
        ``"delta_t"`` its transpose, ``"W_t"`` ``W``'s transpose ``(H, 2N)`` (each
        contiguous), ``"W_exp"`` ``e^W``, ``"W_max"`` ``W``'s largest weight. On the CPU a
        one-person product with a matrix laid out row by row along the catalogue takes a third
        of the time of one with ``W.T`` (87,000 movies: 14 ms against 41 ms), at the cost of a
        second copy of the weights."""
        key = (self.W._version, self.like_units)
        cache: _WCache | None = getattr(self, "_w_cache", None)
        if cache is None or cache[0]() is not self.W or cache[1] != key:
            cache = (weakref.ref(self.W), key, {})
            self._w_cache = cache
        out = cache[2].get(name)
        if out is None:
            if name == "W_t":
                out = self.W.T.contiguous()
            elif name == "W_exp":
                out = self.W.exp()
            elif name == "W_max":
                out = self.W.max() if self.W.numel() else self.W.new_zeros(())
            elif name == "delta":
                W = self.W.view(self.n_items, 2, self.n_hidden)[:, :, : self.like_units]
                out = (W[:, 1] - W[:, 0]).contiguous()
            elif name == "delta_t":
                out = self._cached("delta").T.contiguous()
            else:
                raise KeyError(name)
            cache[2][name] = out
        return out


def like_rate_log_odds(
    likes: torch.Tensor, ratings: torch.Tensor, prior: float, share: float
) -> torch.Tensor:
    """Log-odds of like rates: ``log((likes + prior·share) / (ratings - likes +
    prior·(1 - share)))`` for counts of likes and ratings (tensors of one shape), smoothed by
    ``prior`` ratings at the like share ``share``."""
    return torch.log((likes + prior * share) / (ratings - likes + prior * (1.0 - share)))


def logaddexp_pair(x: torch.Tensor) -> torch.Tensor:
    """``log(exp(x[..., 0]) + exp(x[..., 1]))`` for finite ``x (..., 2)``: the same as
    ``torch.logsumexp(x, -1)``, several times faster for a last dimension of two."""
    a, b = x[..., 0], x[..., 1]
    return F.softplus(b - a).add_(a)
