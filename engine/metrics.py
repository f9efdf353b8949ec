"""The benchmark metrics, exactly as ``BENCHMARKS.md`` defines them (pure functions of arrays).

Like/dislike (over test rows): AUC of P(like); accuracy of P(like) > 0.5; per-user error
(mean over users of the fraction of their test movies misclassified at 0.5); ECE over 10
equal-width bins of P(like).

Top-N (over users with test rows; every test row is relevant, whatever its rating):
P@k = hits/k; R@k = hits/|relevant|; nDCG@k with binary gains and ideal DCG over
min(|relevant|, k) positions; MAP@k = (1/|relevant|) · Σ over hit positions j ≤ k of
(hits within the first j)/j.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


# ------------------------------------------------------------------ like/dislike
def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half). NaN when only one class is present."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # average ranks over ties (1-based)
    _, first, counts = np.unique(s_sorted, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def accuracy(labels: np.ndarray, p_like: np.ndarray) -> float:
    """Share of rows where (P(like) > 0.5) equals the label."""
    y = np.asarray(labels, dtype=bool)
    return float(np.mean((np.asarray(p_like) > 0.5) == y))


def per_user_error(users: np.ndarray, labels: np.ndarray, p_like: np.ndarray) -> float:
    """Mean over users of the fraction of their rows misclassified at 0.5."""
    users = np.asarray(users)
    wrong = ((np.asarray(p_like) > 0.5) != np.asarray(labels, dtype=bool)).astype(np.float64)
    _, inv = np.unique(users, return_inverse=True)
    per = np.bincount(inv, weights=wrong) / np.bincount(inv)
    return float(per.mean())


def reliability(labels: np.ndarray, p_like: np.ndarray, bins: int = 10) -> np.ndarray:
    """The calibration picture: ``float64 (bins, 3)``, per equal-width bin of P(like) in
    [0, 1], the mean predicted P(like), the observed like rate and the number of pairs (the
    first two NaN for an empty bin)."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(p_like, dtype=np.float64)
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(idx, minlength=bins).astype(np.float64)
    conf = np.bincount(idx, weights=p, minlength=bins)
    acc = np.bincount(idx, weights=y, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.column_stack([conf / n, acc / n, n])


def ece(labels: np.ndarray, p_like: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width bins of P(like) in [0, 1]."""
    table = reliability(labels, p_like, bins)
    nz = table[:, 2] > 0
    gap = np.abs(table[nz, 0] - table[nz, 1]) * table[nz, 2]
    return float(gap.sum() / max(1.0, table[:, 2].sum()))


def like_metrics(users: np.ndarray, labels: np.ndarray, p_like: np.ndarray) -> dict[str, float]:
    """``{auc, accuracy, per_user_error, ece}`` for test rows."""
    return {
        "auc": auc(labels, p_like),
        "accuracy": accuracy(labels, p_like),
        "per_user_error": per_user_error(users, labels, p_like),
        "ece": ece(labels, p_like),
    }


# ------------------------------------------------------------------------- top-N
def ranking_metrics(
    recommended: Sequence[Sequence[int]], relevant: Sequence[set], k: int = 10
) -> dict[str, float]:
    """P@k, R@k, nDCG@k, MAP@k averaged over the users whose ``relevant`` set is non-empty.

    Args:
        recommended: per user, the ranked recommended items (at least the first k are used).
        relevant: per user, the set of relevant items.
    """
    hits_rows, n_rel = [], []
    for recs, rel in zip(recommended, relevant):
        if not rel:
            continue
        top = list(recs)[:k]
        hits_rows.append([i in rel for i in top] + [False] * (k - len(top)))
        n_rel.append(len(rel))
    if not hits_rows:
        return {f"precision@{k}": 0.0, f"recall@{k}": 0.0, f"ndcg@{k}": 0.0, "map": 0.0}
    hits = np.asarray(hits_rows, dtype=np.float64)  # (users, k)
    n_rel_a = np.asarray(n_rel, dtype=np.float64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(n_rel_a, k).astype(np.int64) - 1]
    n_hits = hits.sum(1)
    precision_at = np.cumsum(hits, 1) / np.arange(1, k + 1)
    return {
        f"precision@{k}": float(np.mean(n_hits / k)),
        f"recall@{k}": float(np.mean(n_hits / n_rel_a)),
        f"ndcg@{k}": float(np.mean((hits @ discount) / ideal)),
        "map": float(np.mean((hits * precision_at).sum(1) / n_rel_a)),
        "users": len(n_rel),
    }
