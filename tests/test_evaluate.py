"""Metrics against independent implementations (scikit-learn, and a plain reference here)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.metrics import accuracy, auc, ece, per_user_error, ranking_metrics

sk = pytest.importorskip("sklearn.metrics")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 300))
def test_auc_matches_sklearn(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.7
    if y.all() or not y.any():
        y[0], y[-1] = True, False
    s = np.round(rng.random(n), 1)  # many ties
    assert auc(y, s) == pytest.approx(sk.roc_auc_score(y, s), abs=1e-12)


def test_accuracy_and_per_user_error():
    y = np.array([1, 1, 0, 0, 1], bool)
    p = np.array([0.9, 0.4, 0.2, 0.6, 0.51])
    users = np.array([1, 1, 1, 2, 2])
    assert accuracy(y, p) == pytest.approx(sk.accuracy_score(y, p > 0.5))
    # user 1: 1 of 3 wrong; user 2: 1 of 2 wrong
    assert per_user_error(users, y, p) == pytest.approx((1 / 3 + 1 / 2) / 2)


def test_ece_reference():
    rng = np.random.default_rng(0)
    p = rng.random(1000)
    y = rng.random(1000) < p
    ref = 0.0
    for b in range(10):
        m = (p >= b / 10) & (p < (b + 1) / 10)
        if m.any():
            ref += m.mean() * abs(p[m].mean() - y[m].mean())
    assert ece(y, p) == pytest.approx(ref)
    assert ece(np.array([True, False]), np.array([1.0, 0.0])) == 0.0


def _reference_ranking(recs, rel, k):
    """Straight from BENCHMARKS.md's definitions."""
    out = {"p": [], "r": [], "ndcg": [], "map": []}
    for rec, r in zip(recs, rel):
        if not r:
            continue
        top = list(rec)[:k]
        hits = [1 if i in r else 0 for i in top]
        out["p"].append(sum(hits) / k)
        out["r"].append(sum(hits) / len(r))
        dcg = sum(h / np.log2(j + 2) for j, h in enumerate(hits))
        idcg = sum(1 / np.log2(j + 2) for j in range(min(len(r), k)))
        out["ndcg"].append(dcg / idcg)
        ap, seen = 0.0, 0
        for j, h in enumerate(hits, start=1):
            if h:
                seen += 1
                ap += seen / j
        out["map"].append(ap / len(r))
    return {key: float(np.mean(v)) for key, v in out.items()}


def test_ranking_metrics_match_reference_and_sklearn_ndcg():
    rng = np.random.default_rng(3)
    recs = [rng.permutation(50)[:10].tolist() for _ in range(40)]
    rel = [set(rng.choice(50, rng.integers(0, 15), replace=False).tolist()) for _ in range(40)]
    got = ranking_metrics(recs, rel, k=10)
    ref = _reference_ranking(recs, rel, 10)
    assert got["precision@10"] == pytest.approx(ref["p"])
    assert got["recall@10"] == pytest.approx(ref["r"])
    assert got["ndcg@10"] == pytest.approx(ref["ndcg"])
    assert got["map"] == pytest.approx(ref["map"])
    # nDCG against scikit-learn for users with at most 10 relevant items
    for rec, r in zip(recs, rel):
        if not r or len(r) > 10:
            continue
        scores = np.zeros(50)
        scores[rec] = np.arange(10, 0, -1)
        truth = np.zeros(50)
        truth[list(r)] = 1
        mine = ranking_metrics([rec], [r], k=10)["ndcg@10"]
        assert mine == pytest.approx(sk.ndcg_score([truth], [scores], k=10))


def test_perfect_ranking():
    got = ranking_metrics([[1, 2, 3]], [{1, 2, 3}], k=3)
    assert got["precision@3"] == got["recall@3"] == got["ndcg@3"] == got["map"] == 1.0
