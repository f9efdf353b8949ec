"""The RBM engine: planted tastes recovered, fold-in, explanations, cancel, reproducibility,
the sampled CD step, the row-lazy optimisers and the movie-to-movie part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from helpers import planted  # noqa: E402

from engine.data.likes import LikeMatrix  # noqa: E402
from engine.data.ratings import from_arrays  # noqa: E402
from engine.explanations import explain  # noqa: E402
from engine.model.rbm import RBM  # noqa: E402
from engine.recommender import fold_in, popular, recommend  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402
from engine.training.step import SampledCD  # noqa: E402
from engine.training.validation import split_validation  # noqa: E402

N_ITEMS = 60


@pytest.fixture(scope="module")
def planted_model():
    r = planted()
    cfg = TrainConfig(n_hidden=16, epochs=30, batch_size=20, patience=0, seed=1)
    return r, train(r, cfg)


def planted_newcomer(r, model):
    """A new person who likes five A movies and dislikes two B ones: ``(likes, dislikes,
    mean P(like) of the other A movies, mean P(like) of the other B movies)``."""
    likes = [r.lookup_item(i) for i in range(5)]
    dislikes = [r.lookup_item(i) for i in (40, 41)]
    sc = fold_in(model, likes, dislikes)
    a_items = np.array([r.lookup_item(i) for i in range(5, 30)])
    b_items = np.array([r.lookup_item(i) for i in range(42, 60)])
    return likes, dislikes, float(sc.p_like[a_items].mean()), float(sc.p_like[b_items].mean())


def test_planted_taste_is_recovered(planted_model):
    r, res = planted_model
    model = res.model
    likes, dislikes, p_a, p_b = planted_newcomer(r, model)
    assert p_a > 0.8
    assert p_b < 0.3
    recs = recommend(model, likes, dislikes, n=10, by="liked")
    assert len(recs) == 10
    assert all(rec.item_id < 30 for rec in recs)  # what they would like: their own taste
    assert not set(likes + dislikes) & {rec.item for rec in recs}
    # what they would pick: people also watch the other taste's movies (30 % of their
    # picks, 20 % of those movies against 47 % of their own), so at most one may rank in
    seen = recommend(model, likes, dislikes, n=10, by="seen")
    assert sum(rec.item_id < 30 for rec in seen) >= 9


def test_p_like_is_probability_and_rated_are_flagged(planted_model):
    r, res = planted_model
    sc = fold_in(res.model, [0, 1], [45])
    assert np.all((sc.p_like > 0) & (sc.p_like < 1))
    assert sc.rated[[0, 1, 45]].all() and sc.rated.sum() == 3


def test_mean_field_agrees_with_exact(planted_model):
    _, res = planted_model
    exact = fold_in(res.model, [0, 1, 2], [50], exact=True)
    approx = fold_in(res.model, [0, 1, 2], [50], exact=False)
    assert np.corrcoef(exact.p_like, approx.p_like)[0, 1] > 0.95


def test_explanations_name_the_movies_that_pushed_it_up(planted_model):
    r, res = planted_model
    likes = [r.lookup_item(i) for i in (0, 1, 2)]
    dislikes = [r.lookup_item(i) for i in (31, 32)]
    target = recommend(res.model, likes, dislikes, n=1, by="liked")[0].item
    reasons = explain(res.model, likes, dislikes, target, n=3)
    assert reasons, "a recommended movie has at least one reason"
    assert all(x.effect > 0 for x in reasons)
    assert [x.effect for x in reasons] == sorted((x.effect for x in reasons), reverse=True)
    assert {x.item for x in reasons} <= set(likes + dislikes)


def test_no_ratings_gives_popular_well_liked(planted_model):
    _, res = planted_model
    recs = recommend(res.model, [], [], n=5)
    assert [x.item for x in recs] == [x.item for x in popular(res.model, 5)]


def test_training_is_reproducible():
    r = planted(80)
    cfg = TrainConfig(n_hidden=8, epochs=3, batch_size=16, seed=7)
    a = train(r, cfg).model.rbm.W
    b = train(r, cfg).model.rbm.W
    assert torch.equal(a, b)
    c = train(r, TrainConfig(n_hidden=8, epochs=3, batch_size=16, seed=8)).model.rbm.W
    assert not torch.equal(a, c)


class RecordingCD(SampledCD):
    """:class:`SampledCD` that keeps a copy of the averaged weights after every update."""

    last: RecordingCD | None = None  # the latest run's

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.after: list[torch.Tensor] = []
        RecordingCD.last = self

    def step(self, *args, **kwargs):
        out = super().step(*args, **kwargs)
        self.after.append(self.snapshot(RBM(self.N, 1, seed=None)).W.clone())
        return out


def test_callbacks_and_cancel_keep_the_weights_so_far(monkeypatch):
    import engine.training.loop as loop

    monkeypatch.setattr(loop, "SampledCD", RecordingCD)
    r = planted(80)
    epochs, batches = [], []
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 10  # stop during the second epoch, after 10 updates

    cfg = TrainConfig(n_hidden=8, epochs=10, batch_size=16, min_batches=8, seed=0)
    res = train(r, cfg, callback=epochs.append, progress=batches.append, cancel=cancel)
    assert res.cancelled
    assert len(epochs) == 1 and epochs[0].epoch == 1
    assert 0 <= epochs[0].train_loss <= 1 and "auc" in epochs[0].val
    # 80 users: batches of 10 (an epoch has at least min_batches = 8 updates)
    assert batches[0].n_batches == 8 and batches[-1].epoch == 2
    assert res.best_epoch == 1 and res.model is not None
    # the model is the moving average after the 10th update, not the first epoch's (8th)
    after = RecordingCD.last.after
    assert len(after) == 10
    assert torch.equal(res.model.rbm.W, after[-1])
    assert not torch.equal(res.model.rbm.W, after[7])


def test_small_datasets_get_enough_updates_per_epoch_and_big_ones_few_enough():
    from engine.training.step import batch_size_for

    cfg = TrainConfig(batch_size=128, min_batches=8)  # max_batches 128
    assert batch_size_for(cfg, 943) == 118  # ceil(943 / 8): 8 updates
    assert batch_size_for(cfg, 400) == 50
    assert batch_size_for(cfg, 20) == 8  # never below 8 people
    assert batch_size_for(TrainConfig(batch_size=4), 20) == 4  # unless asked for fewer
    assert batch_size_for(cfg, 10_000) == 128
    assert batch_size_for(cfg, 100_000) == 782  # ceil(100,000 / 128): at most 128 updates
    assert batch_size_for(TrainConfig(batch_size=128, max_batches=1000), 100_000) == 128
    assert batch_size_for(TrainConfig(batch_size=128, min_batches=2), 400) == 128


@pytest.mark.parametrize(
    "terms, learns",
    [
        ({"joint_weight": 0.0}, True),  # the exact like term alone
        ({"like_exact_weight": 0.0, "like_hidden": 0.0}, True),  # the joint CD term alone
        ({"joint_weight": 0.0, "like_exact_weight": 0.0}, False),  # neither: nothing learnt
    ],
)
def test_either_like_term_alone_learns_the_planted_likes(terms, learns):
    """The exact like term (like units) and the joint CD term (which also draws a picked
    movie's liked or disliked state) each teach P(like | seen). The calibration is the RBM's
    log-odds alone (``blend_biases`` off), so the person's and movie's like rates cannot
    stand in for it: with neither term the two tastes' means stay together (~0.66)."""
    r = planted()
    cfg = TrainConfig(
        n_hidden=16,
        epochs=20,
        batch_size=20,
        patience=0,
        seed=1,
        blend_biases=False,
        item_item_weight=0.0,
        **terms,
    )
    _, _, p_a, p_b = planted_newcomer(r, train(r, cfg).model)
    if learns:
        assert p_a > 0.8
        assert p_b < 0.3
    else:
        assert abs(p_a - p_b) < 0.1


def test_persistent_cd_and_k_schedule_train():
    """k grows from cd_k to cd_k_max over the epochs with a validation split and stays at
    cd_k_max in the refit epochs; training runs with persistent chains and without."""
    r = planted(80)
    reports = []
    cfg = TrainConfig(
        n_hidden=8, epochs=4, cd_k=1, cd_k_max=4, persistent=True, patience=0, refit_share=0.0
    )
    train(r, cfg, callback=reports.append)
    assert [x.cd_k for x in reports] == [1, 2, 3, 4]
    reports.clear()
    cfg = TrainConfig(n_hidden=8, epochs=6, cd_k=1, cd_k_max=3, patience=0, refit_share=0.5)
    train(r, cfg, callback=reports.append)
    assert [x.cd_k for x in reports] == [1, 2, 3, 3, 3, 3]
    assert [x.refit for x in reports] == [False] * 3 + [True] * 3
    reports.clear()
    res = train(r, TrainConfig(n_hidden=8, epochs=2, persistent=False), callback=reports.append)
    assert res.model is not None and len(reports) == 2


def test_validation_split_holds_out_per_user_and_builds_batches():
    r = planted(50)
    lm = LikeMatrix.from_ratings(r)
    tr, vu, vi, vy = split_validation(lm, 0.25, seed=0)
    assert len(tr.cols) + len(vu) == len(lm.cols)
    assert np.all(np.bincount(vu, minlength=50) == 5)  # 20 ratings each, 25% held out
    # the held-out ratings are each person's lowest random keys (a lexsort, written plainly)
    key = np.random.default_rng(0).random(len(lm.cols))
    owners = np.repeat(np.arange(50), np.diff(lm.indptr))
    order = np.lexsort((key, owners))
    first = order[np.arange(len(order)) - lm.indptr[owners[order]] < 5]
    held = np.zeros(len(lm.cols), bool)
    held[first] = True
    np.testing.assert_array_equal(vu, owners[held])
    np.testing.assert_array_equal(vi, lm.cols[held] // 2)
    row, col = tr.rows(np.array([0, 1]))
    v = np.zeros((2, 2 * N_ITEMS))
    v[row, col] = 1.0
    assert int(v.sum()) == tr.indptr[2] - tr.indptr[0] == len(row)
    # one state per movie at most
    assert v.reshape(2, N_ITEMS, 2).sum(2).max() <= 1


@pytest.mark.parametrize(
    "bad", [{"n_hidden": 0}, {"learning_rate": -1.0}, {"momentum": 1.0}, {"device": "tpu"}]
)
def test_bad_config_is_refused(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_batch_recommendations_and_pair_predictions_agree_with_fold_in(planted_model):
    from engine.recommender import predict_pairs, recommend_all

    r, res = planted_model
    model = res.model
    recs = recommend_all(model, r, k=5, users=[0, 1], with_scores=True)
    for user in (0, 1):
        items, values = r.user_items(r.lookup_user(user))
        liked = values >= 3
        stars = dict(zip(items.tolist(), values.tolist()))
        sc = fold_in(model, items[liked], items[~liked], stars=stars)
        top = [rec.item_id for rec in recommend(model, items[liked], items[~liked], n=5)]
        assert [x[0] for x in recs[user]] == top
        got = [x[2] for x in recs[user]]
        np.testing.assert_allclose(got, sc.p_like[[model.item_index()[i] for i in top]], rtol=1e-5)
        p, ok = predict_pairs(model, r, np.full(len(top), user), np.array(top))
        assert ok.all()
        np.testing.assert_allclose(p, got, rtol=1e-5)


def test_person_rating_bias_is_the_smoothed_mean_residual_and_is_weighed_by_the_calibration(
    planted_model,
):
    """The bias against a plain loop. Models trained today are calibrated for people known by
    thumbs, so its weight is 0 and a person who rates the same movies the same way (same
    likes and dislikes) but higher on the scale gets the same P(like); with a weight (as an
    older model file may have), the stars move P(like), on the batch path and in fold-in."""
    import copy

    from engine.model.calibration import PERSON_RATING_PRIOR, person_rating_bias
    from engine.recommender import predict_pairs

    rng = np.random.default_rng(3)
    owners = np.sort(rng.integers(0, 4, 30))
    items = rng.integers(0, 6, 30)
    values = rng.integers(1, 6, 30).astype(float)
    means = rng.uniform(2, 4, 6)
    got = person_rating_bias(owners, items, values, means, 5)
    for p in range(5):
        mine = owners == p
        expect = (values[mine] - means[items[mine]]).sum() / (mine.sum() + PERSON_RATING_PRIOR)
        assert got[p] == pytest.approx(expect)
    assert got[4] == 0.0  # no ratings

    r, res = planted_model
    model = res.model
    u = r.lookup_user(0)
    items, values = r.user_items(u)
    # 1 -> 2 and 3 -> 4 -> 5: every like stays a like and every dislike a dislike
    up = np.select([values == 1, values == 3, values == 4], [2.0, 4.0, 5.0], values)
    assert ((up >= 3) == (values >= 3)).all() and (up > values).any()
    people = from_arrays(
        np.r_[np.zeros(len(items), np.int64), np.ones(len(items), np.int64)],
        np.r_[r.item_ids[items], r.item_ids[items]],
        np.r_[values, up],
    )
    others = np.setdiff1d(np.arange(r.n_items), items)[:10]
    ids = r.item_ids[others]
    first, second = np.zeros(10, np.int64), np.ones(10, np.int64)
    assert model.calibration["person_rating"] == 0.0
    p_low, _ = predict_pairs(model, people, first, ids)
    p_high, _ = predict_pairs(model, people, second, ids)
    np.testing.assert_allclose(p_high, p_low, rtol=1e-12)

    weighed = copy.copy(model)
    weighed.calibration = {**model.calibration, "person_rating": 0.8}
    w_low, _ = predict_pairs(weighed, people, first, ids)
    w_high, _ = predict_pairs(weighed, people, second, ids)
    assert (w_high > w_low).all()  # a higher rater: a higher P(like) at a positive weight
    liked = values >= 3
    thumbs = fold_in(weighed, items[liked], items[~liked]).p_like[others]
    stars = dict(zip(items.tolist(), values.tolist()))
    with_stars = fold_in(weighed, items[liked], items[~liked], stars=stars).p_like[others]
    np.testing.assert_allclose(with_stars, w_low, rtol=1e-6)
    np.testing.assert_allclose(thumbs, p_low, rtol=1e-6)
    assert not np.allclose(thumbs, w_low)


def test_thumbs_only_batch_paths_are_the_browsers_fold_in(planted_model):
    """``thumbs_only`` knows each person by likes and dislikes alone: the batch P(like), the
    batch ranking and the evaluation equal what the browser's fold-in of the thumbs gives,
    whatever the star values were (and a model trained today gives the stars no weight)."""
    from engine.evaluation import evaluate
    from engine.recommender import predict_pairs, recommend_all

    r, res = planted_model
    model = res.model
    recs = recommend_all(model, r, k=5, users=[0, 1], by="liked", thumbs_only=True)
    for user in (0, 1):
        items, values = r.user_items(r.lookup_user(user))
        liked = values >= 3
        sc = fold_in(model, items[liked], items[~liked])
        browser = recommend(model, items[liked], items[~liked], n=5, by="liked", scores=sc)
        assert recs[user] == [rec.item_id for rec in browser]
        others = np.setdiff1d(np.arange(r.n_items), items)
        p, ok = predict_pairs(
            model, r, np.full(len(others), user), r.item_ids[others], thumbs_only=True
        )
        assert ok.all()
        np.testing.assert_allclose(p, sc.p_like[others], rtol=1e-4)  # two float32 paths
        # calibrated for thumbs (the stars' weight is 0): the stars path gives the same
        stars, _ = predict_pairs(model, r, np.full(len(others), user), r.item_ids[others])
        np.testing.assert_allclose(stars, p, rtol=1e-9)
    test = from_arrays(r.user_ids[r.users[:200]], r.item_ids[r.items[:200]], r.values[:200])
    thumbs = evaluate(model, r, test, thumbs_only=True)
    assert thumbs["auc"] == pytest.approx(evaluate(model, r, test)["auc"], rel=1e-9)
    assert thumbs["auc"] > 0.9


def test_exact_conditionals_match_brute_force_on_a_tiny_rbm():
    """P(seen_j | v) and P(like_j | seen_j, v) against summing the joint over every h."""
    import itertools

    from engine.model.rbm import RBM

    rbm = RBM(3, 3, seed=5, init_std=1.0)
    rbm.b = torch.randn(6, generator=torch.Generator().manual_seed(1))
    rbm.c = torch.randn(3, generator=torch.Generator().manual_seed(2))
    v = torch.zeros(1, 6)
    v[0, 1] = 1.0  # movie 0 liked; movies 1 and 2 unrated

    def unnorm(vis: torch.Tensor) -> float:  # sum over h of exp(-E(v, h))
        total = 0.0
        for h in itertools.product([0.0, 1.0], repeat=3):
            ht = torch.tensor(h)
            total += float(torch.exp(vis @ rbm.b + ht @ rbm.c + vis @ rbm.W @ ht))
        return total

    seen_logit, like_logit = rbm.conditionals(rbm.hidden_input(v))
    for j in (1, 2):
        w = []
        for state in (None, 0, 1):  # unseen, disliked, liked
            vis = v[0].clone()
            if state is not None:
                vis[2 * j + state] = 1.0
            w.append(unnorm(vis))
        p_seen = (w[1] + w[2]) / sum(w)
        p_like = w[2] / (w[1] + w[2])
        assert float(torch.sigmoid(seen_logit[0, j])) == pytest.approx(p_seen, rel=1e-4)
        assert float(torch.sigmoid(like_logit[0, j])) == pytest.approx(p_like, rel=1e-4)
    # the free energy agrees with the same sum: F(v) = -log sum_h exp(-E)
    assert float(rbm.free_energy(v)[0]) == pytest.approx(-np.log(unnorm(v[0])), rel=1e-4)


def test_like_likelihood_gradient_matches_autograd():
    """The exact like log-likelihood term's hand-written gradient against autograd of the same
    objective written plainly: each rating's like log-odds from the person's other ratings.
    The units may be addressed among all ``2N`` rows or among the rows a batch touches (as
    the step does): the same gradients, row for row, and the same like log-odds."""
    import torch.nn.functional as F

    from engine.training.like_term import like_likelihood_grad

    g = torch.Generator().manual_seed(0)
    n_items, n_hidden = 7, 5
    W = torch.randn(2 * n_items, n_hidden, generator=g, dtype=torch.float64) * 0.5
    b = torch.randn(2 * n_items, generator=g, dtype=torch.float64)
    c = torch.randn(n_hidden, generator=g, dtype=torch.float64)
    rows = torch.tensor([0, 0, 0, 1, 1, 2])
    items = torch.tensor([1, 3, 4, 0, 3, 6])
    p = torch.tensor([0.9, 0.2, 0.6, 1.0, 0.0, 0.7], dtype=torch.float64)
    mask = (torch.rand(3, n_hidden, generator=g) > 0.3).double()

    def log_likelihood(W, b, c):
        total, zs = 0.0, []
        for r in range(len(rows)):
            x = c.clone()
            for q in range(len(rows)):  # the person's other ratings, soft
                if rows[q] == rows[r] and q != r:
                    j = items[q]
                    x = x + p[q] * W[2 * j + 1] + (1 - p[q]) * W[2 * j]
            j, m = items[r], mask[rows[r]]
            gap = F.softplus(x + W[2 * j + 1]) - F.softplus(x + W[2 * j])
            z = b[2 * j + 1] - b[2 * j] + (m * gap).sum()
            zs.append(z.detach())
            total = total + p[r] * F.logsigmoid(z) + (1 - p[r]) * F.logsigmoid(-z)
        return 2.0 * total, torch.stack(zs)

    leaves = [t.clone().requires_grad_() for t in (W, b, c)]
    objective, z_ref = log_likelihood(*leaves)
    objective.backward()
    soft = p[:, None] * W[2 * items + 1] + (1 - p)[:, None] * W[2 * items]
    x = c + torch.zeros(3, n_hidden, dtype=torch.float64).index_add_(0, rows, soft)
    delta = W[2 * items + 1] - W[2 * items]
    b_diff = b[2 * items + 1] - b[2 * items]
    liked, disliked = 2 * items + 1, 2 * items
    gW, gb, gc, z = like_likelihood_grad(
        delta, b_diff, x, rows, liked, disliked, p, mask, 2.0, 2 * n_items
    )
    for mine, ref in zip((gW, gb, gc), leaves):
        torch.testing.assert_close(mine, ref.grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(z, z_ref, rtol=1e-12, atol=1e-12)
    # the same among the touched rows only
    R, inv = torch.unique(torch.cat([liked, disliked]), return_inverse=True)
    gWc, gbc, gcc, zc = like_likelihood_grad(
        delta, b_diff, x, rows, inv[: len(items)], inv[len(items) :], p, mask, 2.0, len(R)
    )
    torch.testing.assert_close(gWc, gW[R], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gbc, gb[R], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gcc, gc)
    torch.testing.assert_close(zc, z)
    # rows of movies nobody rated get nothing
    untouched = torch.ones(2 * n_items, dtype=torch.bool)
    untouched[R] = False
    assert not gW[untouched].any() and not gb[untouched].any()


def test_like_gain_scales_the_like_units_share_on_every_path():
    """With ``like_gain`` g, every like log-odds is b-diff + keep·Σ_k s_k·(softplus(x+W_like)
    - softplus(x+W_dislike)) with s_k = g on the like units and 1 elsewhere; P(seen) does
    not move. Checked for the exact conditionals, the pair path (and its parts) and the
    mean-field pass (against its own formula)."""
    import torch.nn.functional as F

    from engine.model.rbm import RBM

    rbm = RBM(4, 5, seed=3, init_std=0.7)
    rbm.b = torch.randn(8, generator=torch.Generator().manual_seed(4))
    rbm.keep = 0.6
    x = torch.randn(2, 5, generator=torch.Generator().manual_seed(5))
    seen0, like0 = rbm.conditionals(x)
    mf_seen0, mf_like0 = rbm.mean_field_conditionals(x)
    rbm.like_units, rbm.like_gain = 2, 1.7
    seen, like = rbm.conditionals(x)
    W = rbm.W.view(4, 2, 5)
    b = rbm.b.view(4, 2)
    s = torch.tensor([1.7, 1.7, 1.0, 1.0, 1.0])
    gap = F.softplus(x[:, None, :] + W[None, :, 1]) - F.softplus(x[:, None, :] + W[None, :, 0])
    expect = b[:, 1] - b[:, 0] + rbm.keep * (gap * s).sum(2)
    torch.testing.assert_close(like, expect)
    torch.testing.assert_close(seen, seen0)
    assert not torch.allclose(like, like0)
    rows = torch.tensor([0, 0, 1, 1])
    items = torch.tensor([0, 3, 1, 2])
    pair = rbm.pair_like_logits(x, rows, items)
    torch.testing.assert_close(pair, expect[rows, items])
    parts = rbm.pair_like_logits(x, rows, items, parts=True)
    torch.testing.assert_close(parts[:, 0], like0[rows, items])
    torch.testing.assert_close(parts[:, 0] + 0.7 * parts[:, 1], pair)
    mf_seen, mf_like = rbm.mean_field_conditionals(x)
    ph = rbm.keep * torch.sigmoid(x)
    torch.testing.assert_close(mf_like, b[:, 1] - b[:, 0] + (ph * s) @ (W[:, 1] - W[:, 0]).T)
    torch.testing.assert_close(mf_seen, mf_seen0)


def test_soft_like_targets_keep_every_label_and_order_the_ratings():
    from engine.data.likes import soft_like_targets

    whole = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    t = soft_like_targets(whole, 3.0, 3.0)
    assert np.all(np.diff(t) > 0)  # a 5 is a surer like than a 3
    assert np.all((t >= 0.5) == (whole >= 3.0))
    assert t[2] == pytest.approx(1 / (1 + np.exp(-1.5)), rel=1e-6)  # halfway point 2.5
    halves = np.arange(0.5, 5.01, 0.5)
    th = soft_like_targets(halves, 3.0, 3.0)
    assert np.all((th >= 0.5) == (halves >= 3.0))  # 2.5 stays a dislike, 3 a like
    assert th[halves == 2.5][0] < 0.5 < th[halves == 3.0][0]


def test_soft_entries_put_both_units_of_a_rating_in_the_data():
    r = from_arrays(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([5.0, 2.0, 3.0]))
    lm = LikeMatrix.from_ratings(r, 3.0, soft_labels=3.0)
    row, unit, value = lm.entries(np.array([0, 1]))
    assert row.tolist() == [0, 0, 0, 0, 1, 1]
    assert unit.tolist() == [0, 1, 2, 3, 2, 3]
    np.testing.assert_allclose(value[0::2] + value[1::2], 1.0, rtol=1e-6)
    assert value[1] > value[5] > 0.5 > value[3]  # like shares: the 5, the 3, the 2
    hard = LikeMatrix.from_ratings(r, 3.0)
    assert hard.entries(np.array([0, 1]))[2] is None
    assert hard.rows(np.array([0, 1]))[1].tolist() == [1, 2, 3]


def test_the_model_is_the_moving_average_at_the_end_not_the_best_epochs(monkeypatch):
    """No rollback: with epoch 1 the best-scoring one, the model returned holds the moving
    average of the weights after the last epoch; ``best_epoch`` only says which scored best."""
    import engine.training.loop as trainer_mod

    seen: list[torch.Tensor] = []

    def fake_validate(rbm, *args, **kwargs):
        seen.append(rbm.W.clone())
        return {"auc": 1.0 / len(seen), "logloss": 0.5, "ndcg@10": 0.0}  # epoch 1 is best

    monkeypatch.setattr(trainer_mod, "validate", fake_validate)
    reports = []
    cfg = TrainConfig(n_hidden=8, epochs=4, patience=0, average=0.9, refit_share=0.0)
    res = train(planted(60), cfg, callback=reports.append)
    assert res.best_epoch == 1 and len(seen) == 4
    assert [x.best for x in reports] == [True, False, False, False]
    assert torch.equal(res.model.rbm.W, seen[-1])
    assert not torch.equal(res.model.rbm.W, seen[0])
    assert res.model.meta["best_epoch"] == 1


def test_patience_ends_the_validated_epochs_and_the_refit_follows(monkeypatch):
    """Early stopping ends the first phase only: after ``patience`` epochs without a better
    score the rest of the epochs run on all the ratings (so a run always has ``epochs``)."""
    import engine.training.loop as trainer_mod

    scores = iter([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    monkeypatch.setattr(
        trainer_mod,
        "validate",
        lambda *a, **k: {"auc": next(scores), "logloss": 0.5, "ndcg@10": 0.0},
    )
    reports = []
    # at most 7 validated epochs, then 3 on all ratings; patience 2 ends the first at epoch 3
    cfg = TrainConfig(n_hidden=8, epochs=10, patience=2, refit_share=0.3)
    res = train(planted(60), cfg, callback=reports.append)
    assert [x.refit for x in reports] == [False] * 3 + [True] * 7
    assert [x.epoch for x in reports] == list(range(1, 11))
    assert all(x.val == {} for x in reports[3:])
    assert res.best_epoch == 1 and not res.cancelled


def test_refit_trains_the_last_epochs_on_all_ratings_and_cancel_keeps_the_weights_so_far(
    monkeypatch,
):
    """With ``refit_share``, the last epochs go on from the first phase's weights with the
    validation ratings added (the calibration was fitted before them); cancelling during them
    keeps the weights so far: as they were before the refit when no refit update ran, the
    averaged weights after the last update otherwise."""
    r = planted(80)
    base = dict(n_hidden=8, patience=0, seed=3, min_batches=8)  # 80 people: 8 batches of 10
    before = train(r, TrainConfig(epochs=4, refit_share=0.0, **base))
    cfg = TrainConfig(epochs=5, refit_share=0.2, **base)
    assert cfg.refit_epochs == 1 and TrainConfig(epochs=4, refit_share=0.2).refit_epochs == 0

    seen = {}  # epoch -> ratings in that epoch's batches
    epoch_now = {"e": 1}
    orig = LikeMatrix.rows_and_shares

    def counting(self, users):
        out = orig(self, users)
        seen[epoch_now["e"]] = seen.get(epoch_now["e"], 0) + len(out[0])
        return out

    def progress(p):
        epoch_now["e"] = p.epoch + (p.batch == p.n_batches)

    monkeypatch.setattr(LikeMatrix, "rows_and_shares", counting)
    reports = []
    after = train(r, cfg, callback=reports.append, progress=progress)
    assert [x.epoch for x in reports] == [1, 2, 3, 4, 5] and reports[-1].val == {}
    assert [x.refit for x in reports] == [False] * 4 + [True] and not reports[-1].best
    assert seen[5] == r.n_ratings and all(seen[e] < r.n_ratings for e in range(1, 5))
    assert after.best_epoch == before.best_epoch
    assert after.model.calibration == before.model.calibration  # fitted before the refit
    assert not torch.equal(after.model.rbm.W, before.model.rbm.W)

    monkeypatch.setattr(LikeMatrix, "rows_and_shares", orig)
    import engine.training.loop as loop

    monkeypatch.setattr(loop, "SampledCD", RecordingCD)
    state = {"epoch": 0, "batch": 0}

    def track(p):
        state["epoch"], state["batch"] = p.epoch, p.batch

    # cancelled as the refit epoch starts: the first phase's weights
    cut = train(r, cfg, progress=track, cancel=lambda: state["epoch"] == 4 and state["batch"] == 8)
    assert cut.cancelled and len(cut.history) == 4
    assert torch.equal(cut.model.rbm.W, before.model.rbm.W)
    assert cut.model.calibration == before.model.calibration
    # cancelled after two refit updates: those updates are kept
    cut = train(r, cfg, progress=track, cancel=lambda: state["epoch"] == 5 and state["batch"] == 2)
    assert cut.cancelled and len(cut.history) == 4
    assert len(RecordingCD.last.after) == 4 * 8 + 2
    assert torch.equal(cut.model.rbm.W, RecordingCD.last.after[-1])
    assert not torch.equal(cut.model.rbm.W, before.model.rbm.W)


# ------------------------------------------------------------------ the training step's parts
def _lazy_reference(P0, steps, average, adam, mom):
    """What :class:`LazyParam` must give, written densely: every step, the rows it touches
    (all of them for ``None``) take Adam's step (decoupled decay, AdamW), then momentum's
    (its L2 penalty on the weights after Adam's step), the other rows and their optimiser
    state stay as they are, and every row's average moves towards the weights with weight
    ``max(1 - average, 1/(1+t))``. Returns the weights and the average after each step."""
    P = P0.clone()
    m1, m2, mo = torch.zeros_like(P), torch.zeros_like(P), torch.zeros_like(P)
    avg = P.clone()
    out = []
    for t, (R, g_adam, g_mom) in enumerate(steps, 1):
        rows = torch.arange(P.shape[0]) if R is None else R
        old = P[rows].clone()
        m1[rows] = adam.beta1 * m1[rows] + (1 - adam.beta1) * g_adam
        m2[rows] = adam.beta2 * m2[rows] + (1 - adam.beta2) * g_adam**2
        m_hat, v_hat = m1[rows] / (1 - adam.beta1**t), m2[rows] / (1 - adam.beta2**t)
        new = old * (1 - adam.lr * adam.weight_decay) + adam.lr * m_hat / (v_hat.sqrt() + adam.eps)
        mo[rows] = mom.momentum * mo[rows] + g_mom - mom.weight_decay * new
        P[rows] = new + mom.lr * mo[rows]
        avg += max(1 - average, 1 / (1 + t)) * (P - avg)
        out.append((P.clone(), avg.clone()))
    return out


@pytest.mark.parametrize("shape", [(10, 3), (10,)])
@pytest.mark.parametrize("average", [0.9, 0.0])
def test_lazy_optimiser_matches_a_dense_reference(shape, average):
    """Adam and momentum on one parameter, most steps touching 3 of 10 rows (the lazy path),
    two touching all: the weights and the moving average (read after every step) equal the
    dense reference. Rows a step does not touch do not move (their momentum waits); the
    average's catch-up over the steps a row sat out is
    exact, in the warm-up steps (weight 1/(1+t) > 1 - average for t < 9) and after."""
    from engine.training.optim import Adam, LazyParam, Momentum

    g = torch.Generator().manual_seed(0)
    P0 = torch.randn(*shape, generator=g, dtype=torch.float64)
    adam, mom = Adam(0.05, 0.01), Momentum(0.1, 0.01, 0.9)
    steps = []
    for t in range(1, 25):
        if t in (6, 13):
            R, k = None, shape[0]
        else:
            R = torch.sort(torch.randperm(shape[0] - 1, generator=g)[:3]).values  # never row 9
            k = 3
        ga = torch.randn(k, *shape[1:], generator=g, dtype=torch.float64)
        gm = torch.randn(k, *shape[1:], generator=g, dtype=torch.float64)
        steps.append((R, ga, gm))
    P = P0.clone()
    lazy = LazyParam(P, {"joint": adam, "like": mom}, average, dense_share=0.5)
    expect = _lazy_reference(P0, steps, average, adam, mom)
    row9_moved = []
    for t, ((R, ga, gm), (P_ref, avg_ref)) in enumerate(zip(steps, expect), 1):
        before = P.clone()
        lazy.step(R, {"joint": ga, "like": gm}, t)
        torch.testing.assert_close(P, P_ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(lazy.averaged(t), avg_ref if average else P_ref)
        if R is not None:
            untouched = torch.ones(shape[0], dtype=torch.bool)
            untouched[R] = False
            assert torch.equal(P[untouched], before[untouched])
        if not torch.equal(P[9], before[9]):
            row9_moved.append(t)
    # only the two all-row steps touch row 9: its momentum does not carry it on in between
    assert row9_moved == [6, 13]


def test_lazy_optimiser_scale_and_the_dense_path_agree_with_the_lazy_one_when_all_rows_move():
    """A step on every row (``R`` None) is the same whether the parameter takes it row-lazily
    or at once, and the learning-rate scale multiplies the rates."""
    from engine.training.optim import Adam, LazyParam, Momentum

    g = torch.Generator().manual_seed(1)
    P0 = torch.randn(6, 2, generator=g, dtype=torch.float64)
    grads = [torch.randn(6, 2, generator=g, dtype=torch.float64) for _ in range(5)]
    every = torch.arange(6)
    a, b, c = P0.clone(), P0.clone(), P0.clone()
    at_once = LazyParam(a, {"j": Adam(0.1), "l": Momentum(0.2)}, 0.8, dense_share=0.5)
    by_rows = LazyParam(b, {"j": Adam(0.1), "l": Momentum(0.2)}, 0.8, dense_share=2.0)
    halved = LazyParam(c, {"j": Adam(0.05), "l": Momentum(0.1)}, 0.8, dense_share=2.0)
    scaled = LazyParam(P0.clone(), {"j": Adam(0.1), "l": Momentum(0.2)}, 0.8, dense_share=2.0)
    for t, gr in enumerate(grads, 1):
        at_once.step(None, {"j": gr, "l": gr}, t)
        by_rows.step(every, {"j": gr, "l": gr}, t)
        halved.step(every, {"j": gr, "l": gr}, t)
        scaled.step(every, {"j": gr, "l": gr}, t, scale=0.5)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(at_once.averaged(5), by_rows.averaged(5), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(scaled.P, c, rtol=1e-12, atol=1e-12)


def test_candidates_are_the_head_and_tail_draws_with_their_corrections():
    """Above ``candidates`` movies the negative phase samples: the most rated
    ``candidate_head`` share, then tail movies drawn ∝ (ratings + 1)^alpha, each with the
    log-weight -log(m·q) of the m draws; up to ``candidates`` movies, every movie."""
    r = planted()
    lm = LikeMatrix.from_ratings(r)
    pop = np.bincount(lm.cols // 2, minlength=r.n_items)
    cfg = TrainConfig(
        n_hidden=4, candidates_all=0, candidates=32, candidate_head=0.5, candidate_alpha=0.75
    )
    cd = SampledCD(RBM(r.n_items, 4), cfg, "cpu", r.n_users, pop)
    order = np.argsort(-pop, kind="stable")
    q = (pop[order[16:]] + 1.0) ** 0.75
    q /= q.sum()
    q_of = dict(zip(order[16:].tolist(), q.tolist()))
    drawn = []
    for _ in range(50):
        movies, corr = cd.candidates()
        assert movies.shape == corr.shape == (32,)
        assert movies[:16].tolist() == order[:16].tolist() and not corr[:16].any()
        tail = movies[16:].tolist()
        assert not set(tail) & set(order[:16].tolist())
        np.testing.assert_allclose(
            corr[16:].numpy(), -np.log(16 * np.array([q_of[m] for m in tail])), rtol=1e-5
        )
        drawn += tail
    assert len(set(drawn)) > 30  # the draws cover the tail
    everyone = SampledCD(
        RBM(r.n_items, 4),
        TrainConfig(n_hidden=4, candidates_all=0, candidates=60),
        "cpu",
        r.n_users,
        pop,
    )
    assert everyone.candidates() == (None, None)


@pytest.mark.parametrize(
    "people, movies, every",
    [
        (943, 1_682, True),  # ML-100K
        (6_040, 3_706, True),  # ML-1M
        (671, 9_066, True),  # latest-small 2016
        (69_878, 10_681, False),  # ML-10M: few movies, but 748 million people × movies
        (162_541, 59_047, False),  # ML-25M
        (10, 20_000, False),  # more movies than candidates_all
        (10**6, 2_000, True),  # no more than the candidates: always every movie
    ],
)
def test_every_movie_in_the_negative_phase_follows_the_datas_shape(people, movies, every):
    from engine.training.sampling import visits_every_movie

    assert visits_every_movie(TrainConfig(), people, movies) is every


def test_the_sampled_negative_phase_learns_the_planted_tastes(monkeypatch):
    """With fewer candidates (32) than movies (60), every update's negative phase samples
    them, and training still learns the tastes: validation AUC rises, P(like) splits the two
    tastes, and the seen log-odds (which the negative phase teaches) favour the person's."""
    sampled = {"n": 0}
    orig = SampledCD.candidates

    def counting(self):
        movies, corr = orig(self)
        sampled["n"] += movies is not None and len(movies) == 32
        return movies, corr

    monkeypatch.setattr(SampledCD, "candidates", counting)
    r = planted()
    reports = []
    cfg = TrainConfig(
        n_hidden=16, epochs=20, batch_size=20, patience=0, seed=1, candidates_all=0, candidates=32,
        item_item_weight=0.0,
    )  # fmt: skip
    batches = []
    res = train(r, cfg, callback=reports.append, progress=batches.append)
    assert sampled["n"] == len(batches) == 20 * 15  # every update sampled its candidates
    aucs = [x.val["auc"] for x in reports if x.val]
    assert aucs[0] < 0.6 and max(aucs) > 0.9
    likes, dislikes, p_a, p_b = planted_newcomer(r, res.model)
    assert p_a > 0.8 and p_b < 0.3
    sc = fold_in(res.model, likes, dislikes)
    a_items = [r.lookup_item(i) for i in range(5, 30)]
    b_items = [r.lookup_item(i) for i in range(42, 60)]
    assert sc.seen_logit[a_items].mean() > sc.seen_logit[b_items].mean() + 0.5
    seen = recommend(res.model, likes, dislikes, n=10, by="seen")
    assert sum(rec.item_id < 30 for rec in seen) >= 9


def _step_setup(cfg: TrainConfig, like_units: int = 2, r=None):
    r = planted(40) if r is None else r
    lm = LikeMatrix.from_ratings(r)
    pop = np.bincount(lm.cols // 2, minlength=r.n_items)
    rbm = RBM(r.n_items, cfg.n_hidden, seed=2)
    rbm.like_units = like_units
    return lm, SampledCD(rbm, cfg, "cpu", r.n_users, pop)


def test_a_step_keeps_the_chains_of_its_people_and_caps_the_like_term():
    """One update: the persistent chains of the batch's people are stored (the others stay
    unset), the error is counted over the batch's ratings, or over ``like_cap`` of them, and
    on a catalogue whose rows the step mostly leaves alone (about 260 movies, 3 people) only the
    rows of rated or sampled movies move."""
    from helpers import random_ratings

    users = np.array([0, 3, 5])
    cfg = TrainConfig(n_hidden=6, candidates_all=0, candidates=16, dropout=0.0, average=0.0)
    r = random_ratings(n_users=40, n_items=300, n=600, seed=1)
    lm, cd = _step_setup(cfg, r=r)
    assert lm.n_items > 250
    n_ratings = int(sum(lm.indptr[u + 1] - lm.indptr[u] for u in users))
    W0 = torch.cat([cd.Wl, cd.Wj], 1).clone()
    err, n = cd.step(lm, users, 1)
    assert n == n_ratings and 0 < err / n < 1
    assert cd.chain_ok.nonzero().flatten().tolist() == users.tolist()
    W1 = torch.cat([cd.Wl, cd.Wj], 1)
    moved = torch.unique((W1 != W0).any(1).nonzero().flatten() // 2)
    rated = np.unique(lm.rows(users)[1] // 2)
    assert set(rated.tolist()) <= set(moved.tolist())
    assert len(moved) <= len(rated) + 16  # the rated movies and this step's candidates
    assert torch.equal(cd.snapshot(RBM(lm.n_items, 1, seed=None)).W, W1)  # no average: as is
    _, capped = _step_setup(TrainConfig(n_hidden=6, like_cap=10), r=r)
    assert capped.step(lm, users, 1)[1] == 10
    _, plain = _step_setup(TrainConfig(n_hidden=6, persistent=False), r=r)
    plain.step(lm, users, 1)
    assert plain.chains is None


def test_a_step_gives_the_same_weights_with_gradients_over_every_row_or_the_touched_ones():
    """A batch that touches most rows builds its gradients over every row, into kept buffers,
    and the optimisers take their dense step; forced to the touched rows and the row-lazy
    optimisers instead, the same step gives the same weights (no weight decay: the dense step
    would shrink untouched rows too), twice in a row (the kept buffers are overwritten)."""
    from helpers import random_ratings

    cfg = TrainConfig(n_hidden=6, dropout=0.0, weight_decay=0.0)
    r = random_ratings(n_users=40, n_items=30, n=600, seed=1)
    lm, dense = _step_setup(cfg, r=r)
    _, rows = _step_setup(cfg, r=r)
    for p in (rows.p_Wj, rows.p_Wl, rows.p_b):
        p.dense_share = 2.0  # never dense
    for users in (np.arange(10), np.arange(10, 20)):
        dense.step(lm, users, 1)
        rows.step(lm, users, 1)
        assert set(dense._buf) == {"gWj", "gWl"} and not rows._buf
        for a, b in ((dense.Wj, rows.Wj), (dense.Wl, rows.Wl), (dense.b, rows.b)):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("like_units", [0, 6])
def test_a_step_with_only_joint_or_only_like_units_runs_on_several_threads(like_units):
    """``like_hidden`` 0 or 1 leaves one group of units empty; torch's embedding_bag refuses
    an empty weight when it runs more than one thread, so the step must not ask it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        lm, cd = _step_setup(TrainConfig(n_hidden=6, dropout=0.2), like_units)
        for _ in range(2):
            err, n = cd.step(lm, np.array([0, 1, 2, 3]), 1)
        assert cd.finite() and n > 0 and np.isfinite(err)
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------ the movie-to-movie part
def test_item_item_fit_is_the_ridge_regression_on_the_chosen_partners():
    """Every target movie's partners are hubs other than itself, a top-k by co-occurrence /
    raters^norm; its weights are the ridge regression of its seen indicator on theirs (by
    hand, in float64); a movie outside the hubs gets none; the seen term adds
    ``(50 / D)^gamma`` times the weights of the partners the person rated."""
    from engine.model.itemitem import D_REF, ItemItem, fit_partners

    rng = np.random.default_rng(4)
    n_users, n_items = 80, 14
    seen_by = (rng.random((n_users, n_items)) < np.linspace(0.6, 0.05, n_items)).astype(float)
    seen_by[:, :3] = seen_by[:, [0]]  # movies 0-2 always together, 3 often with them
    seen_by[:, 3] = np.maximum(seen_by[:, 3], seen_by[:, 0] * (rng.random(n_users) < 0.7))
    u, i = np.nonzero(seen_by)
    r = from_arrays(u, i, rng.integers(1, 6, len(u)).astype(float))
    lm = LikeMatrix.from_ratings(r)
    X = np.zeros((r.n_users, r.n_items))
    X[lm.owners(), lm.cols // 2] = 1.0
    G, n = X.T @ X, X.sum(0)
    hubs = np.argsort(-n, kind="stable")[:10]
    k, l2, l2_pop, norm = 4, 3.0, 0.5, 0.5
    part, w = fit_partners(lm, k=k, hubs=10, l2=l2, l2_pop=l2_pop, norm=norm)
    assert part.shape == w.shape == (r.n_items, k)
    for j in range(r.n_items):
        if j not in hubs:
            assert not w[j].any()
            continue
        P = part[j]
        assert j not in P and set(P) <= set(hubs) and len(set(P)) == k
        score = G[hubs, j] / n[hubs] ** norm
        score[hubs == j] = -1
        assert score[np.isin(hubs, P)].min() >= np.sort(score)[-k] - 1e-9
        A = G[np.ix_(P, P)] + np.diag(l2 + l2_pop * n[P])
        np.testing.assert_allclose(w[j], np.linalg.solve(A, G[P, j]), rtol=1e-4, atol=1e-6)
    a, b, c = (r.lookup_item(m) for m in (0, 1, 2))
    assert {b, c} <= set(part[a].tolist())  # its constant companions are partners

    ii = ItemItem(torch.from_numpy(part), torch.from_numpy(w) * 2.0, gamma=0.5)
    rows = torch.tensor([0, 0, 0, 1])
    items = torch.tensor([a, b, 5, c])
    term = ii.seen_term(rows, items, 2)
    dense = np.zeros((r.n_items, r.n_items))  # dense[j, i]: partner i's pull on movie j
    for j in range(r.n_items):
        np.add.at(dense[j], part[j], 2.0 * w[j])
    expect0 = dense[:, [a, b, 5]].sum(1) * (D_REF / 3) ** 0.5
    expect1 = dense[:, c] * (D_REF / 1) ** 0.5
    np.testing.assert_allclose(term[0].numpy(), expect0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(term[1].numpy(), expect1, rtol=1e-5, atol=1e-6)


def test_item_item_partners_break_ties_by_rank_whatever_the_threads():
    """Equal scores (movies with the same raters and co-occurrence) go to the more rated, then
    lower-indexed hub; one and two threads (the blocks then solved side by side) give the same
    partners and weights, bit for bit."""
    from engine.model.itemitem import fit_partners

    rng = np.random.default_rng(7)
    n_users, n_items = 120, 40
    seen_by = (rng.random((n_users, n_items)) < 0.3).astype(float)
    seen_by[:, 10:20] = seen_by[:, [10]]  # ten movies alike: every score among them ties
    u, i = np.nonzero(seen_by)
    lm = LikeMatrix.from_ratings(from_arrays(u, i, rng.integers(1, 6, len(u)).astype(float)))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = fit_partners(lm, k=5, hubs=40, block=8)
        torch.set_num_threads(2)
        two = fit_partners(lm, k=5, hubs=40, block=8)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    n = np.bincount(lm.cols // 2, minlength=lm.n_items)
    hub_order = np.argsort(-n, kind="stable")
    twins = [m for m in hub_order if 10 <= m < 20]  # the alike movies by hub rank
    for j in twins:
        assert list(one[0][j]) == [m for m in twins if m != j][:5]


def test_fold_in_adds_the_item_item_term_to_the_seen_log_odds_only(planted_model):
    """A trained model has the movie-to-movie part; fold-in's seen log-odds are the RBM's
    plus its term for the person's rated movies; P(like) uses it only through the
    calibration's partners feature (with that feature's weight 0 it is the RBM's alone)."""
    import copy

    r, res = planted_model
    model = res.model
    ii = model.rbm.item_item
    assert ii is not None and ii.partners.shape == (r.n_items, 59) and ii.gamma == 0.5
    likes, dislikes = [r.lookup_item(i) for i in (0, 1, 2)], [r.lookup_item(45)]
    with_part = fold_in(model, likes, dislikes)
    bare = copy.copy(model)
    bare.rbm = copy.copy(model.rbm)
    bare.rbm.item_item = None
    without = fold_in(bare, likes, dislikes)
    rated = torch.tensor(likes + dislikes)
    term = ii.seen_term(torch.zeros(4, dtype=torch.long), rated, 1)[0].numpy()
    np.testing.assert_allclose(
        with_part.seen_logit, without.seen_logit + term, rtol=1e-5, atol=1e-5
    )
    assert np.abs(term).max() > 0.01
    assert not np.allclose(with_part.p_like, without.p_like)
    bare.calibration = {**model.calibration, "partners": 0.0}
    model_weights = model.calibration
    model.calibration = bare.calibration
    try:
        np.testing.assert_allclose(fold_in(model, likes, dislikes).p_like, without.p_like)
    finally:
        model.calibration = model_weights


def test_the_liked_ranking_takes_the_item_item_term_from_likes_only(planted_model):
    """The browser's ranking (match) and ``recommend_all(by="liked")`` add the movie-to-movie
    term of the liked movies only: a dislike never pulls up the movies that go with it. The
    "seen" ranking keeps every rated movie's term."""
    from engine.data.ratings import from_arrays
    from engine.recommender import LIKE_WEIGHT, liked_rank, recommend_all

    r, res = planted_model
    model = res.model
    ii = model.rbm.item_item
    likes, dislikes = [r.lookup_item(i) for i in (0, 1, 2)], [r.lookup_item(45)]
    sc = fold_in(model, likes, dislikes)
    term_all = ii.seen_term(torch.zeros(4, dtype=torch.long), torch.tensor(likes + dislikes), 1)
    term_likes = ii.seen_term(torch.zeros(3, dtype=torch.long), torch.tensor(likes), 1)
    hidden = sc.seen_logit - term_all[0].double().numpy()
    np.testing.assert_allclose(
        sc.seen_from_likes, hidden + term_likes[0].double().numpy(), rtol=1e-5, atol=1e-5
    )
    # the match weighs the P(like) calibrated without the partners feature (its seen part
    # has the movie-to-movie evidence already)
    assert model.match_calibration["partners"] == 0.0 != model.calibration["partners"]
    assert sc.p_match is not None and not np.allclose(sc.p_match, sc.p_like)
    np.testing.assert_allclose(sc.match, np.exp(liked_rank(sc.seen_from_likes, sc.p_match)))
    # the match: σ(seen log-odds) · P(like)^LIKE_WEIGHT, in (0, 1)
    sig = 1 / (1 + np.exp(-sc.seen_from_likes))
    np.testing.assert_allclose(sc.match, sig * sc.p_match**LIKE_WEIGHT, rtol=1e-9)
    assert 0 < LIKE_WEIGHT < 1 and np.all((sc.match > 0) & (sc.match < 1))
    np.testing.assert_array_equal(sc.rank_score("seen"), sc.seen_logit)
    assert np.abs(sc.seen_from_likes - sc.seen_logit).max() > 1e-3  # the dislike's term
    # the batch path ranks the same way for a person known by the same thumbs
    ids = [r.item_ids[i] for i in likes + dislikes]
    known = from_arrays(np.zeros(4, np.int64), np.asarray(ids), np.array([5.0, 5, 5, 1]), None)
    top = recommend_all(model, known, k=5, by="liked", thumbs_only=True)[0]
    order = np.argsort(-np.where(sc.rated, -np.inf, sc.rank_score("liked")), kind="stable")
    assert top == [model.item_ids[i] for i in order[:5]]
    # with scores, the P(like) shown is the displayed one, not the match's
    scored = recommend_all(model, known, k=5, by="liked", thumbs_only=True, with_scores=True)[0]
    np.testing.assert_allclose([p for _, _, p in scored], sc.p_like[order[:5]], rtol=1e-6)


# ------------------------------------------------------------------------------ calibration
def test_calibration_fit_does_not_diverge_where_plain_newton_overshoots():
    """A large, uninformative like log-odds feature (which starts at weight 1) and an
    informative one: full Newton steps from the start overshoot and diverge; the fitted
    weights are the penalised log-likelihood's optimum (zero gradient), the log-odds weight
    near 0 and the group's rates recovered."""
    from engine.model.calibration import fit_logistic

    rng = np.random.default_rng(0)
    n = 500
    z = rng.normal(0, 5, n)
    group = rng.random(n) < 0.5
    y = rng.random(n) < np.where(group, 0.9, 0.2)
    X = np.column_stack([z, group.astype(float)])
    w = fit_logistic(X, y)
    Xb = np.column_stack([X, np.ones(n)])
    p = 1 / (1 + np.exp(-Xb @ w))
    reg = 1e-3 * n * np.diag([1.0, 1.0, 0.0])
    np.testing.assert_allclose(Xb.T @ (p - y) + reg @ w, 0, atol=1e-6)
    assert abs(w[0]) < 0.1
    assert p[group].mean() == pytest.approx(y[group].mean(), abs=0.05)
    assert p[~group].mean() == pytest.approx(y[~group].mean(), abs=0.05)


def test_the_persons_own_like_term_adds_to_every_like_log_odds():
    """``like_offset`` is rate_weight · log((likes + α·π) / (dislikes + α·(1-π))), and every
    like log-odds path adds it (per person) while P(seen) does not move: the exact
    conditionals, the pair paths (and their parts) and the mean-field pass. Weight 0: none."""
    rbm = RBM(4, 5, seed=3, init_std=0.7)
    x = torch.randn(2, 5, generator=torch.Generator().manual_seed(5))
    seen0, like0 = rbm.conditionals(x)
    mf_seen0, mf_like0 = rbm.mean_field_conditionals(x)
    assert rbm.like_offset([3, 0], [4, 2]) is None
    rbm.rate_weight, rbm.rate_prior, rbm.rate_share = 0.8, 5.0, 0.7
    off = rbm.like_offset([3, 0], [4, 2])
    expect = 0.8 * np.log([(3 + 3.5) / (1 + 1.5), (0 + 3.5) / (2 + 1.5)])
    np.testing.assert_allclose(off.numpy(), expect, rtol=1e-6)
    seen, like = rbm.conditionals(x, offset=off)
    torch.testing.assert_close(like, like0 + off[:, None])
    torch.testing.assert_close(seen, seen0)
    rows, items = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 3, 1, 2])
    pair = rbm.pair_like_logits(x, rows, items, offset=off)
    torch.testing.assert_close(pair, like[rows, items])
    parts = rbm.pair_like_logits(x, rows, items, parts=True, offset=off)
    torch.testing.assert_close(parts[:, 0], pair)
    _, scored = rbm.pair_scores(x[rows], items, with_like=True, offset=off[rows])
    torch.testing.assert_close(scored, pair)
    mf_seen, mf_like = rbm.mean_field_conditionals(x, off)
    torch.testing.assert_close(mf_like, mf_like0 + off[:, None])
    torch.testing.assert_close(mf_seen, mf_seen0)


def test_the_like_terms_rate_feature_leaves_each_rating_out():
    """In training, rating r's person's like rate is taken without r itself (what the person
    would look like at use, asked about a movie they have not rated), smoothed by
    ``like_rate`` ratings at the data's like share."""
    r = from_arrays(
        np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 1, 3]), np.array([5.0, 4.0, 1.0, 2.0, 3.0])
    )
    lm = LikeMatrix.from_ratings(r, 3.0)
    cfg = TrainConfig(n_hidden=4, like_rate=2.0)
    rbm = RBM(r.n_items, 4)
    rbm.like_units = 2
    cd = SampledCD(rbm, cfg, "cpu", r.n_users, np.ones(r.n_items))
    users = np.array([0, 1])
    row, col = lm.rows(users)
    phi = cd.rate.feature(lm, col, torch.from_numpy(row), 2, None, "cpu")
    pi = 3 / 5  # likes of the data
    liked = col % 2 == 1
    expect = []
    for k in range(len(col)):
        mine = (row == row[k]) & (np.arange(len(col)) != k)
        likes, n = liked[mine].sum(), mine.sum()
        expect.append(np.log((likes + 2 * pi) / (n - likes + 2 * (1 - pi))))
    np.testing.assert_allclose(phi.numpy(), expect, rtol=1e-6)


def test_training_learns_how_easily_each_person_likes():
    """People who like almost everything and people who like little, on the same movies:
    the trained model gives the person's like rate a positive weight, and with it a lenient
    newcomer's P(like) of an unseen movie is above a harsh one's."""
    rng = np.random.default_rng(0)
    users, items, values = [], [], []
    for u in range(200):
        rate = 0.9 if u % 2 else 0.25
        for i in rng.choice(40, 15, replace=False):
            users.append(u), items.append(int(i))
            values.append(4.0 if rng.random() < rate else 2.0)
    r = from_arrays(np.array(users), np.array(items), np.array(values))
    model = train(r, TrainConfig(n_hidden=8, epochs=15, patience=0, seed=0)).model
    assert model.rbm.rate_weight > 0.1
    lenient = fold_in(model, likes=list(range(9)), dislikes=[9])
    harsh = fold_in(model, likes=[0, 1], dislikes=list(range(2, 10)))
    assert lenient.p_like[20:].mean() > harsh.p_like[20:].mean() + 0.1


def test_activity_offset_matches_each_persons_picks_even_when_a_few_candidates_are_near_certain():
    """The negative phase's offset τ makes each person's expected picks their number of
    ratings. A row whose top candidates are near certain and the rest far below flattens
    Newton's tangent; unguarded, three steps threw such rows to all-or-nothing picks."""
    import torch

    from engine.training.activity import activity

    g = torch.Generator().manual_seed(0)
    ordinary = torch.randn(6, 500, generator=g) * 3
    peaked = torch.randn(6, 500, generator=g) * 3 - 60  # most candidates far below ...
    peaked[:, :3] = 40.0  # ... and three near certain
    # logits spread over hundreds of nats, as on the 25M file's later epochs: a bulk, a far
    # tail (whose exp underflows) and a few near-certain candidates far above the bulk
    spread = torch.randn(6, 500, generator=g) * 8 + 180
    spread[:, 250:] -= 110
    spread[:, :4] = 230 + 50 * torch.rand(6, 4, generator=g)
    ml = torch.cat([ordinary, peaked, spread])
    D = torch.tensor([5.0, 20, 80, 150, 300, 499] * 3)
    s = activity(ml, D, steps=3).sum(1)
    assert torch.all((s - D).abs() <= 0.1 * D), (s, D)
    # the ordinary rows converge within the three steps (to well under 1%)
    assert torch.all((s[:6] - D[:6]).abs() <= 0.01 * D[:6])

    # what the unguarded Newton steps gave on the peaked rows
    tau = torch.log(D) - torch.logsumexp(ml, 1)
    for _ in range(3):
        pi = torch.sigmoid(ml + tau[:, None])
        tau = tau - (pi.sum(1) - D) / (pi * (1 - pi)).sum(1).clamp_min(1e-6)
    off = torch.sigmoid(ml + tau[:, None]).sum(1)
    assert torch.any((off[6:12] - D[6:12]).abs() > 0.5 * D[6:12])


def test_exact_conditionals_take_the_same_values_on_both_paths_and_follow_the_weights():
    """softplus(x + W) as log1p(e^x · e^W) (the fast path, with e^W kept) and as a softplus
    (where e^(x + W) could overflow) give the same conditionals; the kept e^W follows W when
    W changes in place or is replaced."""
    import torch.nn.functional as F

    from engine.model.rbm import EXP_LIMIT, RBM

    rbm = RBM(50, 20, seed=3, init_std=0.5)
    rbm.b = torch.randn(100, generator=torch.Generator().manual_seed(4))
    rbm.like_units, rbm.like_gain, rbm.keep = 8, 1.7, 0.7
    x = torch.randn(3, 20, generator=torch.Generator().manual_seed(5)) * 4

    def reference(x):
        sp = F.softplus(x[:, None, None, :] + rbm.W.view(50, 2, 20)[None])
        sc = rbm.keep * sp.sum(3) + rbm.b.view(50, 2)[None]
        base = rbm.keep * F.softplus(x).sum(1, keepdim=True)
        L = rbm.like_units
        extra = rbm.keep * (rbm.like_gain - 1) * (sp[..., 1, :L] - sp[..., 0, :L]).sum(-1)
        return torch.logaddexp(sc[..., 0], sc[..., 1]) - base, sc[..., 1] - sc[..., 0] + extra

    for xs in (x, x + EXP_LIMIT):  # the second: past the limit, the softplus path
        seen, like = rbm.conditionals(xs)
        ref_seen, ref_like = reference(xs)
        assert torch.isfinite(seen).all() and torch.isfinite(like).all()
        torch.testing.assert_close(seen, ref_seen, atol=2e-4, rtol=1e-5)
        torch.testing.assert_close(like, ref_like, atol=2e-4, rtol=1e-5)
    rbm.W.mul_(2.0)  # in place
    torch.testing.assert_close(rbm.conditionals(x)[0], reference(x)[0], atol=2e-4, rtol=1e-5)
    rbm.W = rbm.W * -1.0  # replaced
    torch.testing.assert_close(rbm.conditionals(x)[0], reference(x)[0], atol=2e-4, rtol=1e-5)


def test_mean_field_for_one_person_is_their_row_of_a_batch():
    """A fold-in's mean-field pass (a kept transposed copy of W) equals the batch pass (W's
    transposed view), with the like units' gain, and follows W when it changes in place."""
    from engine.model.rbm import FEW_PEOPLE, RBM

    rbm = RBM(300, 16, seed=1, init_std=0.3)
    rbm.b = torch.randn(600, generator=torch.Generator().manual_seed(2))
    rbm.like_units, rbm.like_gain = 6, 1.8
    x = torch.randn(FEW_PEOPLE + 4, 16, generator=torch.Generator().manual_seed(3))
    for _ in range(2):
        seen_all, like_all = rbm.mean_field_conditionals(x)
        for i in (0, 5):
            seen, like = rbm.mean_field_conditionals(x[i : i + 1])
            torch.testing.assert_close(seen[0], seen_all[i], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(like[0], like_all[i], atol=1e-5, rtol=1e-5)
        rbm.W.add_(0.5)


def test_engine_explain_stays_the_function_once_its_module_is_loaded():
    """``engine.explain`` (a lazy name) is the function, not a submodule of that name, also
    after the session has loaded the explanations."""
    import engine
    import engine.session  # noqa: F401
    from engine.explanations import explain as explain_fn

    assert engine.explain is explain_fn and callable(engine.explain)


# ------------------------------------------------------------------ the step's named parts
@pytest.mark.parametrize("dense_share", [2.0, 0.0])
def test_touched_rows_lay_out_the_entries_by_row(dense_share):
    """The rows a batch's entries touch and the CSR layout of the gradient matrix: each
    entry's row among ``R`` (or its own unit when every row is taken) and the entries per
    row, cumulated; the sort order puts the entries in row order."""
    from engine.training.sampling import touched_rows

    units = torch.tensor([7, 2, 7, 0, 2, 7, 9])
    rows = touched_rows(units, 10, dense_share)
    order = rows.order.long()
    if dense_share:  # the touched rows only
        assert rows.R.tolist() == [0, 2, 7, 9] and rows.n_rows == 4
        assert torch.equal(rows.R[rows.inv], units)
        assert rows.crow.tolist() == [0, 1, 3, 6, 7]
    else:  # every row
        assert rows.R is None and rows.n_rows == 10 and torch.equal(rows.inv, units)
        assert rows.crow.tolist() == [0, 1, 1, 3, 3, 3, 3, 3, 6, 6, 7]
    assert units[order].tolist() == sorted(units.tolist())


class _OtherRank:
    """A data-parallel hook whose one other rank touched rows 3 and 4 (gradients 10, 20) and
    adds 1 to every summed whole-parameter gradient."""

    rank, world_size = 0, 2

    def all_reduce(self, tensors):
        touched, *dense = tensors[:5]
        rest = tensors[5:]
        touched[[3, 4]] = 1.0
        for g in dense:
            g[3] += 10.0
            g[4] += 20.0
        for g in rest:
            g += 1.0


def test_reduce_rows_sums_the_ranks_gradients_on_the_rows_any_rank_touched():
    from engine.training.ranks import reduce_rows

    R = torch.tensor([1, 3])
    grads = [torch.tensor([1.0, 2.0]) for _ in range(4)] + [torch.zeros(2)]
    R2, out = reduce_rows(_OtherRank(), R, grads, 6)
    assert R2.tolist() == [1, 3, 4]
    for g in out[:4]:
        assert g.tolist() == [1.0, 12.0, 20.0]
    assert out[4].tolist() == [1.0, 1.0]


def test_a_run_without_validation_trains_every_epoch_on_every_rating_and_calibrates_nothing():
    """``val_fraction`` 0: no validation ratings, no refit phase, each epoch the best so far
    (the last one is kept), and P(like) keeps the identity calibration."""
    from engine.errors import TrainingError
    from engine.model import calibration as cal
    from engine.training.loop import resolve_settings

    with pytest.raises(TrainingError, match="no ratings"):
        resolve_settings(from_arrays(np.empty(0), np.empty(0), np.empty(0)), None)
    r = planted(40)
    reports = []
    cfg = TrainConfig(n_hidden=6, epochs=3, val_fraction=0.0, item_item_weight=0.0)
    res = train(r, cfg, callback=reports.append)
    assert [x.val for x in reports] == [{}, {}, {}]
    assert [x.best for x in reports] == [True, True, True] and res.best_epoch == 3
    assert not any(x.refit for x in reports)
    assert res.model.calibration == cal.check(cal.identity())


@pytest.mark.parametrize(("threshold", "word"), [(0.5, "like"), (6, "dislike")])
def test_a_like_threshold_that_leaves_one_class_is_refused_before_training(threshold, word):
    """Every rating a like (or a dislike) leaves nothing to learn or validate: a run used to
    train every epoch, score NaN and save nothing, as if it had been stopped."""
    from engine.errors import SettingError
    from engine.training.loop import resolve_settings

    r = planted(40)
    with pytest.raises(SettingError, match=f"every one of the .* would be a {word};"):
        resolve_settings(r, TrainConfig(like_threshold=threshold))
    assert resolve_settings(r, TrainConfig(like_threshold=3)).like_threshold == 3


def test_the_automatic_like_threshold_follows_the_rating_scale():
    """0, the default, is 3 on MovieLens' scales and 6 on a 1-10 one (a 4 of 10 is not a
    like); a threshold given is kept."""
    from engine.catalogue.stats import dataset_stats
    from engine.training.loop import resolve_settings

    five = planted(40)
    ten = from_arrays(five.user_ids[five.users], five.item_ids[five.items], five.values * 2)
    assert TrainConfig().like_threshold == 0
    assert resolve_settings(five, None).like_threshold == 3
    assert resolve_settings(ten, None).like_threshold == 6
    assert resolve_settings(ten, TrainConfig(like_threshold=3)).like_threshold == 3
    assert dataset_stats(ten).like_share == pytest.approx(five.like_share(3))
    model = train(ten, TrainConfig(n_hidden=6, epochs=2, item_item_weight=0.0)).model
    assert model.like_threshold == 6 and model.config["like_threshold"] == 6
    assert model.item_likes.sum() == five.liked(3).sum()


def test_ratings_all_of_one_value_are_refused_with_a_reason_that_can_be_acted_on():
    from engine.errors import SettingError
    from engine.training.loop import resolve_settings

    r = from_arrays(np.arange(6) % 3, np.arange(6), np.full(6, 5.0))
    with pytest.raises(SettingError, match="every one of the 6 ratings is 5: .* only one kind"):
        resolve_settings(r, TrainConfig(like_threshold=4))


def test_a_handful_of_validation_pairs_fits_no_calibration():
    """Five people: two or six validation pairs, all likes, drove the fitted intercept to
    +24 and every movie showed P(like) 100%; the RBM's own log-odds are used instead."""
    from engine.model import calibration as cal

    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(5), 8)
    items = np.concatenate([rng.choice(20, 8, replace=False) for _ in range(5)])
    values = np.where(rng.random(40) < 0.6, 5.0, 1.0)
    model = train(from_arrays(users, items, values), TrainConfig(n_hidden=4, epochs=3)).model
    assert model.calibration == cal.check(cal.identity())
    p = fold_in(model, likes=[0]).p_like
    assert ((p > 0.01) & (p < 0.99)).all()


def test_an_epoch_without_a_validation_score_is_kept_until_a_scored_one_beats_it():
    """A NaN score (validation pairs of one class) never blocks the first epoch's model."""
    from engine.training.loop import TrainingRun

    run = TrainingRun.__new__(TrainingRun)
    run.cfg = TrainConfig(monitor="auc")
    run.best_score, run.best_epoch, run.bad_epochs = -float("inf"), 0, 0
    nan = {"auc": float("nan"), "ndcg@10": 0.1}
    assert run._track_best(nan, 1) and run.best_epoch == 1
    assert not run._track_best(nan, 2) and run.best_epoch == 1
    assert run._track_best({"auc": 0.6, "ndcg@10": 0.1}, 3) and run.best_epoch == 3


def test_a_stopped_run_saves_a_model_marked_stopped(tmp_path):
    """The command line's Ctrl+C and the app's stop alike: a stopped run's model is no copy
    of a whole run (the app would otherwise reuse it instead of training)."""
    from engine.model.storage import read_header
    from engine.training.run import train_and_save

    r = planted(40)
    cfg = TrainConfig(n_hidden=6, epochs=50, patience=0, item_item_weight=0.0)
    epochs = []
    out = train_and_save(r, cfg, dataset="planted", model_out=tmp_path / "m.pt",
                         callback=epochs.append, cancel=lambda: len(epochs) >= 2)  # fmt: skip
    assert out.result.cancelled and out.path is not None
    assert read_header(out.path)["meta"]["stopped"] is True
    whole = train_and_save(r, TrainConfig(n_hidden=6, epochs=2, item_item_weight=0.0),
                           dataset="planted", model_out=tmp_path / "w.pt")  # fmt: skip
    assert "stopped" not in read_header(whole.path)["meta"]


def test_two_runs_ending_at_once_keep_two_models(tmp_path, monkeypatch):
    """The default name is picked before training ends: another run that took the same name
    meanwhile had its model overwritten. The file is left alone, the next name taken."""
    import engine.model.storage as storage
    from engine import files
    from engine.training.run import train_and_save

    taken = tmp_path / "demo-20261207-120000.pt"
    names = iter([taken, tmp_path / "demo-20261207-120000-2.pt"])
    monkeypatch.setattr(storage, "default_model_path", lambda stem: next(names))
    taken.write_bytes(b"the other run's model")
    with pytest.raises(files.TargetTaken):
        files.write_bytes(taken, b"mine", expect=files.ABSENT)
    r = planted(40)
    out = train_and_save(r, TrainConfig(n_hidden=6, epochs=2, item_item_weight=0.0),
                         dataset="demo")  # fmt: skip
    assert out.path == tmp_path / "demo-20261207-120000-2.pt" and not out.failures
    assert taken.read_bytes() == b"the other run's model"
    assert {p.name for p in tmp_path.iterdir()} == {taken.name, out.path.name}


def test_a_catalogue_whose_titles_changed_is_other_data():
    """The "Already trained" check matched the fingerprint of the ratings alone: after the titles
    changed, the kept model was reused, then refused as another catalogue's on loading."""
    from engine.data.ratings import from_arrays
    from engine.model.trained import dataset_fingerprint

    def data(titles):
        movies = pd.DataFrame({"title": titles, "year": pd.array([None] * 2, "Int64"),
                               "genres": ["", ""]}, index=[1, 2])  # fmt: skip
        return from_arrays(np.array([1, 1, 2]), np.array([1, 2, 1]),
                           np.array([4.0, 2.0, 5.0], np.float32), movies=movies)  # fmt: skip

    a = data(["Heat (1995)", "Alien (1979)"])
    assert dataset_fingerprint(a) == dataset_fingerprint(data(["Heat (1995)", "Alien (1979)"]))
    assert dataset_fingerprint(a) != dataset_fingerprint(data(["Heat (1995)", "Jaws (1975)"]))
