"""The RBM engine: planted tastes recovered, fold-in, explanations, cancel, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from helpers import planted  # noqa: E402

from engine.data.likes import LikeMatrix  # noqa: E402
from engine.data.ratings import from_arrays  # noqa: E402
from engine.recommender import explain, fold_in, popular, recommend  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402
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


def test_callbacks_and_cancel_keep_best_so_far():
    r = planted(80)
    epochs, batches = [], []
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 10  # stop during the second epoch

    cfg = TrainConfig(n_hidden=8, epochs=10, batch_size=16, seed=0)
    res = train(r, cfg, callback=epochs.append, progress=batches.append, cancel=cancel)
    assert res.cancelled
    assert len(epochs) == 1 and epochs[0].epoch == 1
    assert 0 <= epochs[0].train_loss <= 1 and "auc" in epochs[0].val
    # 80 users: batches of 10 (an epoch has at least MIN_BATCHES = 8 updates)
    assert batches[0].n_batches == 8 and batches[-1].epoch == 2
    assert res.best_epoch == 1 and res.model is not None


def test_small_datasets_get_enough_updates_per_epoch():
    from engine.training.loop import effective_batch_size

    assert effective_batch_size(128, 943) == 118
    assert effective_batch_size(128, 100_000) == 128
    assert effective_batch_size(128, 400) == 50
    assert effective_batch_size(128, 20) == 8
    assert effective_batch_size(4, 20) == 4


@pytest.mark.parametrize(
    "terms",
    [
        {"like_exact_weight": 1.0, "like_weight": 0.0},
        {"like_exact_weight": 0.0, "like_weight": 1.0},
    ],
)
def test_either_like_term_alone_learns_the_planted_likes(terms):
    """The exact like term and the conditional CD-k term each teach P(like | seen) (without
    the joint term, which also learns it: with no like term these means are both ~0.64)."""
    r = planted()
    cfg = TrainConfig(
        n_hidden=16,
        epochs=30,
        batch_size=20,
        patience=0,
        seed=1,
        joint_weight=0.0,
        like_hidden=0.0,
        **terms,
    )
    _, _, p_a, p_b = planted_newcomer(r, train(r, cfg).model)
    assert p_a > 0.8
    assert p_b < 0.3


def test_persistent_cd_and_k_schedule_train():
    r = planted(80)
    reports = []
    cfg = TrainConfig(n_hidden=8, epochs=4, cd_k=1, cd_k_max=4, persistent=True, patience=0)
    train(r, cfg, callback=reports.append)
    assert [x.cd_k for x in reports] == [1, 2, 3, 4]


def test_validation_split_holds_out_per_user_and_builds_batches():
    r = planted(50)
    lm = LikeMatrix.from_ratings(r)
    tr, vu, vi, vy = split_validation(lm, 0.25, seed=0)
    assert len(tr.cols) + len(vu) == len(lm.cols)
    assert np.all(np.bincount(vu, minlength=50) == 5)  # 20 ratings each, 25% held out
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
        assert model.neighbours is not None
        stars = dict(zip(items.tolist(), values.tolist()))
        sc = fold_in(model, items[liked], items[~liked], stars=stars)
        top = [rec.item_id for rec in recommend(model, items[liked], items[~liked], n=5)]
        assert [x[0] for x in recs[user]] == top
        got = [x[2] for x in recs[user]]
        np.testing.assert_allclose(got, sc.p_like[[model.item_index()[i] for i in top]], rtol=1e-5)
        p, ok = predict_pairs(model, r, np.full(len(top), user), np.array(top))
        assert ok.all()
        np.testing.assert_allclose(p, got, rtol=1e-5)


def test_person_rating_bias_is_the_smoothed_mean_residual_and_moves_p_like(planted_model):
    """The bias against a plain loop; a person who rates the same movies the same way
    (same likes and dislikes) but higher on the scale gets a different P(like), and thumbs
    alone have no bias."""
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
    names = model.calibration
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
    p_low, _ = predict_pairs(model, people, np.zeros(10, np.int64), ids)
    p_high, _ = predict_pairs(model, people, np.ones(10, np.int64), ids)
    assert names["person_rating"] != 0.0
    assert not np.allclose(p_high, p_low)
    liked = values >= 3
    thumbs = fold_in(model, items[liked], items[~liked]).p_like[others]
    stars = dict(zip(items.tolist(), values.tolist()))
    with_stars = fold_in(model, items[liked], items[~liked], stars=stars).p_like[others]
    np.testing.assert_allclose(with_stars, p_low, rtol=1e-6)
    assert not np.allclose(thumbs, p_low)


def test_thumbs_only_batch_paths_are_the_browsers_fold_in(planted_model):
    """``thumbs_only`` knows each person by likes and dislikes alone: the batch P(like), the
    batch ranking and the evaluation equal what the browser's fold-in of the thumbs gives,
    whatever the star values were."""
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
        np.testing.assert_allclose(p, sc.p_like[others], rtol=1e-5)
        stars, _ = predict_pairs(model, r, np.full(len(others), user), r.item_ids[others])
        assert not np.allclose(stars, p)  # the stars path does use the stars
    test = from_arrays(r.user_ids[r.users[:200]], r.item_ids[r.items[:200]], r.values[:200])
    thumbs = evaluate(model, r, test, thumbs_only=True)
    assert thumbs["auc"] != evaluate(model, r, test)["auc"]


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
    objective written plainly: each rating's like log-odds from the person's other ratings."""
    import torch.nn.functional as F

    from engine.training.gradients import like_likelihood_grad as _like_likelihood_grad

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
        total = 0.0
        for r in range(len(rows)):
            x = c.clone()
            for q in range(len(rows)):  # the person's other ratings, soft
                if rows[q] == rows[r] and q != r:
                    j = items[q]
                    x = x + p[q] * W[2 * j + 1] + (1 - p[q]) * W[2 * j]
            j, m = items[r], mask[rows[r]]
            gap = F.softplus(x + W[2 * j + 1]) - F.softplus(x + W[2 * j])
            z = b[2 * j + 1] - b[2 * j] + (m * gap).sum()
            total = total + p[r] * F.logsigmoid(z) + (1 - p[r]) * F.logsigmoid(-z)
        return 2.0 * total

    leaves = [t.clone().requires_grad_() for t in (W, b, c)]
    log_likelihood(*leaves).backward()
    soft = p[:, None] * W[2 * items + 1] + (1 - p)[:, None] * W[2 * items]
    x = c + torch.zeros(3, n_hidden, dtype=torch.float64).index_add_(0, rows, soft)
    delta = W[2 * items + 1] - W[2 * items]
    b_diff = b[2 * items + 1] - b[2 * items]
    gW, gb, gc = _like_likelihood_grad(delta, b_diff, x, rows, items, p, mask, 2.0, 2 * n_items)
    for mine, ref in zip((gW, gb, gc), leaves):
        torch.testing.assert_close(mine, ref.grad, rtol=1e-9, atol=1e-12)


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


@pytest.mark.parametrize("low_precision", [False, True])
def test_visible_sampler_matches_the_three_state_softmax(low_precision):
    """Empirical state frequencies of ``sample_visible`` against the exact softmax over
    (unseen, disliked, liked), with the float32 product and with a bfloat16 copy of W."""
    from engine.model.rbm import RBM

    rbm = RBM(4, 6, seed=3, init_std=0.8)
    rbm.b = torch.tensor([-1.0, 0.5, -3.0, -2.0, 0.0, 0.0, 1.0, -1.0])
    h = (torch.rand(1, 6, generator=torch.Generator().manual_seed(4)) < 0.5).float()
    n = 40_000
    hb = h.expand(n, 6)
    weights = rbm.W.to(torch.bfloat16) if low_precision else None
    u = torch.rand(n, 4, generator=torch.Generator().manual_seed(5))
    rows, cols = rbm.sample_visible(hb, noise=u, weights=weights)
    assert torch.all(rows[1:] >= rows[:-1])  # rows ascending
    counts = torch.bincount(cols, minlength=8).double().view(4, 2) / n
    logits = rbm.visible_logits(h).view(4, 2).double()
    z = torch.cat([torch.zeros(4, 1, dtype=torch.float64), logits], 1)
    expect = torch.softmax(z, 1)[:, 1:]
    # 40,000 draws: standard error <= 0.0025; bfloat16 logits move a probability < 1 %
    np.testing.assert_allclose(counts.numpy(), expect.numpy(), atol=0.01)
    assert len(torch.unique(rows * 4 + cols // 2)) == len(rows)  # one state per movie


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


def test_the_best_epochs_weights_are_kept_with_weight_averaging(monkeypatch):
    """With the moving average on, the model returned holds the averaged weights of the
    best-scoring epoch, not those of the last one (the kept copy must not alias them)."""
    import engine.training.loop as trainer_mod

    seen: list[torch.Tensor] = []

    def fake_validate(rbm, *args, **kwargs):
        seen.append(rbm.W.clone())
        return {"auc": 1.0 / len(seen), "logloss": 0.5, "ndcg@10": 0.0}  # epoch 1 is best

    monkeypatch.setattr(trainer_mod, "validate", fake_validate)
    res = train(planted(60), TrainConfig(n_hidden=8, epochs=4, patience=0, average=0.9))
    assert res.best_epoch == 1 and len(seen) == 4
    assert torch.equal(res.model.rbm.W, seen[0])
    assert not torch.equal(seen[0], seen[-1])


def test_refit_trains_the_last_epochs_on_all_ratings_and_cancel_keeps_the_model_before(
    monkeypatch,
):
    """With ``refit_share``, the last epochs go on from the best epoch with the validation
    ratings added; cancelling during them returns the model as it was before the refit."""
    r = planted(80)
    base = dict(n_hidden=8, patience=0, seed=3)
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
    state = {"epoch": 0}

    def track(p):
        state["epoch"] = p.epoch

    cut = train(r, cfg, progress=track, cancel=lambda: state["epoch"] == 5)
    assert cut.cancelled and len(cut.history) == 4
    assert torch.equal(cut.model.rbm.W, before.model.rbm.W)
