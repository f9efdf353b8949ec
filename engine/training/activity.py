"""The pick probabilities of the negative phase: the visible layer conditioned on the
person's activity, as in the replicated-softmax model of Salakhutdinov & Hinton 2009.

Each candidate movie is picked with probability ``σ(ml + τ)``, where ``τ`` (per person, a
few Newton steps) makes the expected number of picks the person's number of ratings ``D``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def activity(
    ml: torch.Tensor, D: torch.Tensor, steps: int, tol: float = 0.1, max_steps: int = 30,
    sample: int = 16, wide_bracket: float = 40.0,
) -> torch.Tensor:  # fmt: skip
    """``(n, M)`` pick probabilities ``σ(ml + τ)``, with each person's offset ``τ (n,)`` set so
    that the row sums ``s(τ)`` come close to ``D (n,)``. ``ml (n, M)``: each candidate's
    log-odds of being picked before the offset.

    ``s(τ) = Σ σ(ml + τ)`` rises with ``τ``. Newton's steps on ``log s(τ) = log D`` (steps
    of ``log(D / s) · s / Σπ(1-π)``; exact where every π is small) stay inside a bracket: the
    softmax's guess ``log D - logsumexp(ml)`` below (``σ(x) < e^x``) and ``logit(D / M) -
    min(ml)`` above (every π ≥ D / M there), narrowed at every step; a step that would leave
    it bisects it instead. They start from the softmax's guess, or, in a row whose bracket is
    wider than ``wide_bracket``, where the ``D``-th most likely candidate is at even odds:
    ``τ = -`` the ``D / sample``-th largest of every ``sample``-th candidate (a sort of a
    sixteenth of the row, which costs more than the steps it saves on small catalogues).
    Unguarded, a person whose few top candidates are near certain (the tangent then almost
    flat) was thrown to all-or-nothing picks: on the 25M file, from a third into the first
    epoch, people's expected picks were off by a factor of 5-25, and each step's cost with
    them. ``steps`` steps are always taken; more, up to ``max_steps``, while some person's
    expected picks are off by more than ``tol · D``.

    On big data the log-odds spread over hundreds (the 25M file's later epochs), so the
    softmax's guess lies far below the root (about ten steps from it, most of them bisections)
    while the sampled quantile lies within a few; and ``exp`` of inputs below about -87 takes
    a slow path on the CPU (10-25 times slower), hence the clamp in the log-sum-exp."""
    import torch

    Dc = D.clamp_min(1.0)
    logD = torch.log(Dc)
    tau, lo, hi = _bracket(ml, Dc, logD, sample, wide_bracket)
    for i in range(max_steps + 1):
        pi = torch.add(ml, tau[:, None]).sigmoid_()
        s = pi.sum(1)
        if i >= steps and (i == max_steps or bool(((s - D).abs() <= tol * Dc).all())):
            break
        # Σ π(1 - π) = Σ π - Σ π², the sum of squares in one pass
        v = s - torch.linalg.vector_norm(pi, 2, dim=1).square_()
        below = s < D
        lo = torch.where(below, tau, lo)
        hi = torch.where(below, hi, tau)
        new = tau + (logD - s.clamp_min(1e-30).log()) * s / v.clamp_min(1e-6)
        tau = torch.where((new >= lo) & (new <= hi), new, 0.5 * (lo + hi))
    return pi


def _bracket(
    ml: torch.Tensor, Dc: torch.Tensor, logD: torch.Tensor, sample: int, wide_bracket: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(start, low end, high end)``, each ``(n,)``, of the Newton steps on each person's
    offset τ (see :func:`activity`), from the log-odds ``ml (n, M)`` and the picks wanted
    ``Dc (n,)`` (at least 1) and their log ``logD``."""
    import torch

    M = ml.shape[1]
    top, low = ml.amax(1), ml.amin(1)
    # log-sum-exp with the tiny terms raised to e^-80: a bound no larger, still below the root
    lse = torch.sub(ml, top[:, None]).clamp_(min=-80.0).exp_().sum(1).log_().add_(top)
    lo = logD - lse
    hi = torch.logit(Dc / M) - low
    wide = (hi - lo) > wide_bracket
    if not bool(wide.any()):
        return lo, lo, hi
    # those rows start from the sampled quantile (row by row: a rank's share of a batch gets
    # the single process's figures)
    part = ml[:, :: max(1, sample)]
    k = (Dc * (part.shape[1] / M)).long().clamp_(0, part.shape[1] - 1)
    guess = -part.sort(1, descending=True).values.gather(1, k[:, None])[:, 0]
    return torch.where(wide, torch.minimum(torch.maximum(guess, lo), hi), lo), lo, hi
