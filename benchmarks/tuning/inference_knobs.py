"""Knobs of the rankings at use, weighed on the top-N carve with the trained models fixed.

    python benchmarks/tuning/inference_knobs.py --seeds 0,1,2

For each seed, one model is trained (default settings) on the top-N carve of ``carves.py``
(``ml100k-msr/train.csv`` with 25% of each movie's rows held out; no test file is read), then
the carve's rankings are scored with each variant of a knob the model does not learn:

- ``keep``: the hidden units' weight in the seen log-odds (the model uses 1 - dropout, 0.7);
- ``popularity``: a prior ``β · log(raters + 1)`` (centred) added to the seen log-odds;
- ``profile``: the person's known ratings as hard likes and dislikes (the model's way) or as
  the soft targets training uses (a 5 a surer like than a 3);
- ``mix``: the browser's ranking (1b) from the seen log-odds and P(like), calibrated (the
  model's match) or the RBM's own like log-odds, at several powers;
- ``like_units_seen``: the like units' weight in the seen log-odds, the joint units' kept at
  1 - dropout (P(like) unchanged);
- ``shape``: the ranking's form: top-N (and the hidden units alone) by the seen log-odds plus
  ``w · log P(like)``, and 1b by the additive ``s + w · log P(like)`` beside the match's
  ``log σ(s) + 0.25 · log P(like)``;
- ``ii_form``: the movie-to-movie term as fitted (linear) or compressed (``a · asinh(x/a)``) or
  stretched (``x + c · x|x|``) before it joins the seen log-odds;
- ``ii_pop``: the movie-to-movie term's scale tilted by the target movie's raters,
  ``exp(β · (log(raters + 1) - mean))``;
- ``veto``: 1b with P(like) as a veto: only movies below a P(like) of ``t`` pushed down;
- ``temperature``: the data part of the hidden input scaled, ``c + T · vW``;
- ``feedback``: pseudo-relevance feedback, the person's hidden input plus ``α`` times the
  expected weights of the T unrated movies of highest seen log-odds (a second pass).

Prints each variant's per-seed and mean nDCG@10 and P@10 (ranked by seen log-odds, with and
without the movie-to-movie part) and 1b nDCG@10 (ranked as the browser ranks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import carves  # noqa: E402
import torch  # noqa: E402

import engine.recommender as rec  # noqa: E402
from engine.data.likes import soft_like_targets  # noqa: E402
from engine.metrics import ranking_metrics  # noqa: E402

COLUMNS = ("full_ndcg@10", "full_precision@10", "hid_ndcg@10", "hid_precision@10", "1b_ndcg@10")


def knob_keep(model, train, val):
    saved = model.rbm.keep
    try:
        for v in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
            model.rbm.keep = v
            yield f"keep {v}", carves.topn_eval(model, train, val)
    finally:
        model.rbm.keep = saved


def _log_raters(model, train):
    """``(N,)`` float32: each movie's log(raters + 1) in the carve's training part, centred."""
    lm = rec._user_visible(model, carves._compact_users(train), False)
    lp = np.log(np.bincount(lm.cols // 2, minlength=model.n_items) + 1.0)
    return torch.from_numpy(lp - lp.mean()).float()


def _item_item_variants(model, train, val, transforms):
    """``(name, carve metrics)`` with the movie-to-movie term passed through each of
    ``transforms`` (``{name: f}``, ``f`` maps the ``(n, N)`` term to a new one)."""
    original = rec.item_item_input
    for name, f in transforms.items():

        def transformed(rbm, lm, users, f=f):
            x = original(rbm, lm, users)
            return None if x is None else f(x)

        rec.item_item_input = transformed
        try:
            yield name, carves.topn_eval(model, train, val)
        finally:
            rec.item_item_input = original


def knob_popularity(model, train, val):
    prior = _log_raters(model, train)
    original = rec._batch_scores
    for beta in (-0.15, -0.05, 0.0, 0.05, 0.15):

        def shifted(model, lm, users, exact, ii_lm=None, beta=beta):
            seen, like, feature = original(model, lm, users, exact, ii_lm)
            return seen + beta * prior, like, feature

        rec._batch_scores = shifted
        try:
            yield f"popularity {beta:+}", carves.topn_eval(model, train, val)
        finally:
            rec._batch_scores = original


def knob_profile(model, train, val):
    original = rec.hidden_input

    def soft(rbm, lm, users):
        row, col = lm.rows(users)
        at = np.concatenate([np.arange(lm.indptr[u], lm.indptr[u + 1]) for u in users])
        s = soft_like_targets(lm.values[at], model.like_threshold, model.config["soft_labels"])
        items = col // 2
        units = np.stack([2 * items, 2 * items + 1], 1).reshape(-1)
        weights = np.stack([1 - s, s], 1).reshape(-1).astype(np.float32)
        t = torch.from_numpy
        return rbm.sparse_hidden_input(t(np.repeat(row, 2)), t(units), len(users), t(weights))

    yield "profile hard", carves.topn_eval(model, train, val)
    rec.hidden_input = soft
    try:
        yield "profile soft", carves.topn_eval(model, train, val)
    finally:
        rec.hidden_input = original


def knob_mix(model, train, val):
    """1b only: the browser's ranking with P(like) from the calibration or the RBM alone."""
    ls = torch.nn.functional.logsigmoid

    def variants(seen, like, p_match):
        out = {f"mix calibrated {w}": ls(seen) + w * torch.log(p_match) for w in (0, 0.25, 1)}
        out.update({f"mix RBM's own {w}": ls(seen) + w * ls(like) for w in (0.25, 0.5, 1)})
        return out

    yield from _browser_variants(model, train, val, variants)


def knob_veto(model, train, val):
    """1b only: P(like) as a veto rather than a factor: the seen ranking, with only the
    movies whose calibrated P(like) is below ``t`` pushed down, by ``w · log(P(like) / t)``."""
    ls = torch.nn.functional.logsigmoid

    def variants(seen, like, p_match):
        out = {"veto none (the match)": ls(seen) + 0.25 * torch.log(p_match)}
        for t in (0.5, 0.65, 0.8):
            for w in (1.0, 3.0):
                hinge = torch.log(p_match / t).clamp(max=0.0)
                out[f"veto t={t} w={w}"] = ls(seen) + w * hinge
        out["veto t=0.65 w=1, the match beside"] = (
            ls(seen) + 0.25 * torch.log(p_match) + torch.log(p_match / 0.65).clamp(max=0.0)
        )
        return out

    yield from _browser_variants(model, train, val, variants)


def _top10(model, lm, us, variants, recs) -> None:
    """Append to ``recs[name]`` the top 10 movie IDs of people ``us`` (rows of ``lm``) by each
    ``(n, N)`` score of ``variants``, their rated movies left out (the scores are changed)."""
    row, col = lm.rows(us)
    for name, score in variants.items():
        score[torch.from_numpy(row), torch.from_numpy(col // 2)] = -float("inf")
        top = torch.topk(score, 10, dim=1).indices.numpy()
        recs.setdefault(name, []).extend(model.item_ids[t].tolist() for t in top)


def _browser_variants(model, train, val, make):
    """``(name, {"1b_ndcg@10": ...})`` of 1b rankings by each score of ``make(seen log-odds,
    the RBM's own like log-odds, the match's calibrated P(like)) -> {name: (n, N) score}``."""
    known = carves._compact_users(train)
    rel = carves._relevant(val, liked_only=True)
    users = sorted(rel)
    lm = rec._user_visible(model, known, False)
    uidx = np.fromiter((known.lookup_user(u) for u in users), np.int64)
    person = rec._people(model, lm)
    liked = rec._likes(lm)  # the movie-to-movie term's input, as the browser's ranking takes it
    recs: dict[str, list] = {}
    for s in range(0, len(uidx), 256):
        us = uidx[s : s + 256]
        seen, like, feature = rec._batch_scores(model, lm, us, None, liked)
        pl, pn, pb = (a[us, None] for a in person)
        args = (like.double().numpy(), pl, pn, np.arange(model.n_items)[None, :], pb, feature, 0.0)
        p_match = torch.from_numpy(model.p_like(*args, match=True)).float()
        _top10(model, lm, us, make(seen, like, p_match), recs)
    for name, r in recs.items():
        m = ranking_metrics(r, [rel[u] for u in users], carves.K)
        yield name, {"1b_ndcg@10": m["ndcg@10"]}


def knob_like_units_seen(model, train, val):
    """The like units' weight in the seen log-odds (the joint units' stays at ``keep``): the
    like units learn like vs dislike only, so do they help or blur P(seen)? P(like) keeps
    every unit."""
    import torch.nn.functional as F

    rbm = model.rbm
    original = rbm.conditionals
    L, H, N = rbm.like_units, rbm.n_hidden, rbm.n_items

    def weighted(x, items=None, *, offset=None, f=0.0):
        seen, like = original(x, items, offset=offset)
        kappa = torch.full((H,), rbm.keep)
        kappa[:L] = f
        W = rbm.W.view(N, 2, H)
        b = rbm.b.view(N, 2)
        out = []
        for s in range(0, N, 256):
            sp = F.softplus(x[:, None, None, :] + W[s : s + 256][None])
            sc = (sp * kappa).sum(3) + b[s : s + 256][None]
            out.append(torch.logaddexp(sc[..., 0], sc[..., 1]))
        base = (F.softplus(x) * kappa).sum(1, keepdim=True)
        return torch.cat(out, 1) - base, like

    try:
        for f in (0.0, 0.35, rbm.keep, 1.0):
            rbm.conditionals = lambda x, items=None, *, offset=None, f=f: weighted(
                x, items, offset=offset, f=f
            )
            yield f"like units in seen {f:g}", carves.topn_eval(model, train, val)
    finally:
        del rbm.conditionals


def knob_shape(model, train, val):
    """The ranking's shape: top-N by ``s + w · log P(like)`` (the seen log-odds with the
    movie-to-movie term of every rated movie, P(like) calibrated; the hidden units alone with
    the RBM's own like log-odds), and 1b by the additive ``s + w · log P(like)`` instead of
    the match's ``log σ(s) + w · log P(like)``."""
    known = carves._compact_users(train)
    rel_all, rel_liked = carves._relevant(val), carves._relevant(val, liked_only=True)
    lm = rec._user_visible(model, known, False)
    person = rec._people(model, lm)
    liked = rec._likes(lm)
    ls = torch.nn.functional.logsigmoid
    saved = model.rbm.item_item

    def scores(us, ii_lm):
        seen, like, feature = rec._batch_scores(model, lm, us, None, ii_lm)
        pl, pn, pb = (a[us, None] for a in person)
        args = (like.double().numpy(), pl, pn, np.arange(model.n_items)[None, :], pb, feature)
        row, col = lm.rows(us)
        partners = rec._partner_feature(model, row, col // 2, col % 2 == 1, len(us))
        p = model.p_like(*args, partners)
        p_match = model.p_like(*args, 0.0, match=True)
        return seen, like, torch.from_numpy(p).float(), torch.from_numpy(p_match).float()

    for column, rel, ii_lm in (
        ("full", rel_all, None),
        ("1b", rel_liked, liked),
        ("hid", rel_all, None),
    ):
        users = sorted(rel)
        uidx = np.fromiter((known.lookup_user(u) for u in users), np.int64)
        recs: dict[str, list] = {}
        if column == "hid":
            model.rbm.item_item = None
        try:
            for s in range(0, len(uidx), 256):
                us = uidx[s : s + 256]
                seen, like, p, p_match = scores(us, ii_lm)
                if column == "1b":
                    v = {"1b: log σ(s) + 0.25 log P (the match)": ls(seen) + 0.25 * p_match.log()}
                    v.update(
                        {f"1b: s + {w} log P": seen + w * p_match.log() for w in (0.25, 0.5, 1)}
                    )
                else:
                    v = {
                        f"{column}: s + {w} log P(like)": seen + w * p.log()
                        for w in (0, 0.1, 0.25, 0.5)
                    }
                if column == "hid":
                    v.update({f"hid: s + {w} log σ(own)": seen + w * ls(like) for w in (0.1, 0.25)})
                _top10(model, lm, us, v, recs)
        finally:
            model.rbm.item_item = saved
        for name, r in recs.items():
            m = ranking_metrics(r, [rel[u] for u in users], carves.K)
            yield (
                name,
                {f"{column}_ndcg@10": m["ndcg@10"], f"{column}_precision@10": m["precision@10"]},
            )


def knob_ii_form(model, train, val):
    """The movie-to-movie term's form in the seen log-odds: as fitted (linear, x), or
    compressed, ``a · asinh(x / a)`` (slope 1 at 0, logarithmic beyond ``a``), or stretched,
    ``x + c · x · |x|``."""
    forms = {"ii form linear": lambda x: x}
    forms.update(
        {f"ii form asinh a={a}": (lambda x, a=a: a * torch.asinh(x / a)) for a in (2, 4, 8)}
    )
    forms.update(
        {f"ii form x + {c}·x|x|": (lambda x, c=c: x + c * x * x.abs()) for c in (0.02, 0.05)}
    )
    yield from _item_item_variants(model, train, val, forms)


def knob_ii_pop(model, train, val):
    """The movie-to-movie term's scale growing or falling with the target movie's raters:
    ``x · exp(β · (log(raters + 1) - mean))`` (β = 0: as fitted)."""
    tilt = _log_raters(model, train)
    scales = {
        f"ii scale by raters β={b:+}": (lambda x, b=b: x * torch.exp(b * tilt))
        for b in (-0.3, -0.1, 0.0, 0.1, 0.3)
    }
    yield from _item_item_variants(model, train, val, scales)


def knob_feedback(model, train, val):
    """Pseudo-relevance feedback in the hidden input: ``x + α · Σ_{j in top T} E[W_j]``, the
    T movies of highest seen log-odds (hidden units alone, unrated) added as expected picks,
    each's state split by its P(like | seen) (α = 0: the model's one pass)."""
    original = rec.hidden_input
    rbm = model.rbm
    W2 = rbm.W.view(model.n_items, 2, rbm.n_hidden)

    def variant(alpha: float, top: int):
        def expanded(rbm_, lm, users):
            x = original(rbm_, lm, users)
            seen, like = rbm.conditionals(x)
            row, col = lm.rows(users)
            seen[torch.from_numpy(row), torch.from_numpy(col // 2)] = -float("inf")
            idx = torch.topk(seen, top, 1).indices  # (n, T)
            pl = torch.sigmoid(like.gather(1, idx))[..., None]  # (n, T, 1)
            w = pl * W2[idx, 1] + (1 - pl) * W2[idx, 0]  # (n, T, H)
            return x + alpha * w.sum(1)

        return expanded

    yield "feedback none", carves.topn_eval(model, train, val)
    for alpha, top in ((0.25, 10), (0.5, 10), (1.0, 10), (0.25, 30), (0.5, 30)):
        rec.hidden_input = variant(alpha, top)
        try:
            yield f"feedback α={alpha} top {top}", carves.topn_eval(model, train, val)
        finally:
            rec.hidden_input = original


def knob_temperature(model, train, val):
    """The data part of the person's hidden input scaled, ``c + T · vW``: T < 1 a softer
    posterior over the hidden units (the profile trusted less), T > 1 a sharper one."""
    original = rec.hidden_input

    def variant(t: float):
        def scaled(rbm_, lm, users):
            x = original(rbm_, lm, users)
            return rbm_.c + t * (x - rbm_.c)

        return scaled

    for t in (0.8, 0.9, 1.0, 1.1, 1.25):
        rec.hidden_input = variant(t)
        try:
            yield f"temperature T={t}", carves.topn_eval(model, train, val)
        finally:
            rec.hidden_input = original


KNOBS = {
    "keep": knob_keep,
    "temperature": knob_temperature,
    "popularity": knob_popularity,
    "profile": knob_profile,
    "mix": knob_mix,
    "like_units_seen": knob_like_units_seen,
    "shape": knob_shape,
    "ii_form": knob_ii_form,
    "ii_pop": knob_ii_pop,
    "feedback": knob_feedback,
    "veto": knob_veto,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--knobs", default=",".join(KNOBS))
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows: dict[str, list] = {}
    for seed in map(int, a.seeds.split(",")):
        train, val = carves.carve_topn(seed)
        model = carves.train_model(train, seed, {})
        for knob in a.knobs.split(","):
            for name, r in KNOBS[knob](model, train, val):
                rows.setdefault(name, []).append([r.get(c, np.nan) for c in COLUMNS])
                print(seed, name, np.round(rows[name][-1], 4), flush=True)
    print("\nmean over seeds " + a.seeds + ": " + "  ".join(COLUMNS))
    for name, v in rows.items():
        m = np.mean(np.asarray(v, float), 0)
        print(f"{name:24s} " + "  ".join("     -" if np.isnan(x) else f"{x:.4f}" for x in m))


if __name__ == "__main__":
    main()
