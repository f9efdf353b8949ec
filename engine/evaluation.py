"""A model evaluated on a train/test pair with both benchmark protocols (:mod:`engine.metrics`)."""

from __future__ import annotations

from engine import checks
from engine.metrics import like_metrics, ranking_metrics
from engine.recommender import predict_pairs, recommend_all


def evaluate(model, train, test, k: int = 10, *, thumbs_only: bool = False) -> dict[str, float]:
    """Both benchmark protocols for ``model`` with ``train`` as every user's known ratings
    (with ``thumbs_only``, their likes and dislikes alone, as the browser knows a person).

    ``train`` and ``test`` are :class:`engine.data.ratings.Ratings`; IDs are matched by their
    original values. Test rows of users or movies the model cannot score are counted in
    ``skipped_rows`` and left out. ``k`` is at least 1. Ratings of another catalogue raise a
    :class:`~engine.errors.ModelError`.
    """
    k = checks.count(k, "k", least=1)
    model.check_fits(test)
    model.check_fits(train)  # last: the one kept, as the calls below check it again
    test_users = test.user_ids[test.users]
    test_items = test.item_ids[test.items]
    p, ok = predict_pairs(model, train, test_users, test_items, thumbs_only=thumbs_only)
    labels = test.values >= model.like_threshold
    out: dict[str, float] = {}
    if ok.any():
        out.update(like_metrics(test_users[ok], labels[ok], p[ok]))
    out["skipped_rows"] = int((~ok).sum())
    # top-N: every test row is relevant
    relevant: dict[object, set] = {}
    for u, i in zip(test_users.tolist(), test_items.tolist()):
        relevant.setdefault(u, set()).add(i)
    users = [u for u in relevant if u in train.user_index]
    recs = recommend_all(model, train, k=k, users=users, thumbs_only=thumbs_only)
    out.update(ranking_metrics([recs.get(u, []) for u in users], [relevant[u] for u in users], k))
    out["test_rows"] = int(len(test_users))
    return out
