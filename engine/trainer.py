"""Contrastive-divergence (CD-k) training of the three-state RBM.

Each mini-batch of users is built from the sparse ratings (never a users × movies array of
the whole dataset). The update sums two terms:

- the *joint* CD-k term, whose negative phase resamples every movie's state (unseen,
  disliked, liked): it teaches the model which movies a person picks (top-N);
- the *like* term: the exact gradient of log P(like | seen, the person's other ratings) of
  every seen movie, hidden units summed out (a discriminative RBM term, as in Larochelle &
  Bengio 2008's hybrid RBMs): it teaches P(like | seen), the number shown to people. It
  costs ratings × like units, like one CD step, and has no sampling noise. A conditional
  CD-k term (negative phase keeps the seen movies and resamples only like vs dislike) can
  be used instead or as well (``like_weight``; off by default: on validation splits the
  exact term gave +0.004 like AUC, -0.003 nDCG@10, in about the same time).

A share of the hidden units (``like_hidden``) learns from the like term(s) only, the rest
from the joint term. Both terms cost ratings × hidden units per person except the joint
term's visible sampling, which is dense over the catalogue.

Options: CD-k with an increasing-k schedule, persistent CD for the joint term, momentum,
L2 weight decay, a learning-rate schedule, hidden-unit dropout, early stopping on a
validation split carved from the training ratings, a progress callback, cancellation between
batches, seeded and reproducible. After training, P(like) is calibrated on the validation
split by a logistic layer over the RBM's like log-odds, the person's and the movie's
smoothed like rates, the movie's mean rating, the person's rating bias and the neighbours
feature of :mod:`engine.neighbours` (:func:`engine.model.like_features`), the like units'
share of the log-odds first given a gain of its own (:attr:`engine.rbm.RBM.like_gain`). Then
the validation ratings join the training data for the last ``refit_share`` of the epochs,
going on from the best epoch's weights: the model kept is the mean of those epochs' weights,
and the calibration stays the one fitted before, on ratings the model had not yet seen.
Last, the lateral movie-to-movie weights of the seen states are fitted in closed form on
every training rating (:mod:`engine.lateral`; catalogues up to ``lateral_max_items``). The
movies' neighbours the model keeps are the ones the calibration used (fitted without the
validation ratings).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from engine import lateral
from engine import neighbours as neighbour_fit
from engine.evaluate import auc, ranking_metrics
from engine.ratings import LIKE_THRESHOLD, Ratings


@dataclass
class TrainConfig:
    """Hyperparameters. The defaults are the tuned ones (chosen on validation splits)."""

    n_hidden: int = 320
    epochs: int = 70  # in all, the refit ones included
    batch_size: int = 128  # at most; see effective_batch_size
    learning_rate: float = 0.08
    lr_decay: float = 0.02  # lr at epoch e = learning_rate / (1 + lr_decay · e)
    momentum: float = 0.9
    weight_decay: float = 1e-4
    cd_k: int = 1
    cd_k_max: int = 1  # k grows linearly from cd_k to cd_k_max over the epochs
    persistent: bool = False
    joint_weight: float = 1.0  # weight of the joint (which movies are seen) CD term
    like_weight: float = 0.0  # weight of the conditional (like | seen) CD term
    #: weight of the exact like log-likelihood term of the like units (see module doc)
    like_exact_weight: float = 1.6
    dropout: float = 0.4  # share of hidden units dropped per person and batch (dropout RBM)
    blend_biases: bool = True  # P(like) calibration also sees person / movie statistics
    like_hidden: float = 0.25  # share of hidden units updated only by the like term(s)
    like_threshold: float = LIKE_THRESHOLD
    val_fraction: float = 0.1  # share of each user's ratings held out for early stopping
    patience: int = 8  # epochs without improvement before stopping (0: never stop early)
    #: share of ``epochs`` (rounded down) spent at the end training on all the ratings,
    #: validation ones too, going on from the best epoch's weights (0: keep the best epoch)
    refit_share: float = 0.15
    monitor: str = "both"  # early-stopping score: "auc", "ndcg" or "both" (their sum)
    soft_labels: float = 3.0  # sharpness of soft like targets from the ratings (0: hard)
    average: float = 0.995  # decay of an exponential moving average of the weights (0: off)
    #: scale of the lateral movie-to-movie weights (see :mod:`engine.lateral`; 0: off)
    lateral_weight: float = 10.0
    lateral_l2: float = 150.0  # their ridge penalty
    lateral_l2_pop: float = 2.0  # plus this much per rater of the movie (popular: more)
    lateral_max_items: int = 8000  # no lateral weights or neighbours above this (N² memory)
    #: movie neighbours kept for the P(like) neighbours feature (:mod:`engine.neighbours`; 0: off)
    neighbours: int = 100
    neighbours_shrink: float = 20.0  # similarities from c common raters scale by c/(c+this)
    bf16_sampling: bool = True  # negative phase's dense product in bfloat16 (if fast here)
    seed: int = 0
    device: str = "auto"  # "auto" (CUDA when available), "cpu" or "cuda"

    def __post_init__(self) -> None:
        checks = [
            (self.n_hidden >= 1, "n_hidden must be >= 1"),
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.learning_rate > 0, "learning_rate must be > 0"),
            (self.lr_decay >= 0, "lr_decay must be >= 0"),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (self.cd_k >= 1, "cd_k must be >= 1"),
            (0 <= self.val_fraction < 1, "val_fraction must be in [0, 1)"),
            (0 <= self.dropout < 1, "dropout must be in [0, 1)"),
            (0 <= self.average < 1, "average must be in [0, 1)"),
            (self.soft_labels >= 0, "soft_labels must be >= 0"),
            (self.patience >= 0, "patience must be >= 0"),
            (0 <= self.refit_share < 1, "refit_share must be in [0, 1)"),
            (self.monitor in ("auc", "ndcg", "both"), "monitor must be auc, ndcg or both"),
            (self.device in ("auto", "cpu", "cuda"), "device must be auto, cpu or cuda"),
            (self.lateral_weight >= 0, "lateral_weight must be >= 0"),
            (self.lateral_l2 > 0, "lateral_l2 must be > 0"),
            (self.lateral_l2_pop >= 0, "lateral_l2_pop must be >= 0"),
            (self.neighbours >= 0, "neighbours must be >= 0"),
            (self.neighbours_shrink >= 0, "neighbours_shrink must be >= 0"),
            (
                min(self.joint_weight, self.like_weight, self.like_exact_weight) >= 0,
                "term weights must be >= 0",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)
        self.cd_k_max = max(self.cd_k_max, self.cd_k)

    @property
    def refit_epochs(self) -> int:
        """Epochs on all the ratings at the end (none without a validation split)."""
        return math.floor(self.epochs * self.refit_share) if self.val_fraction > 0 else 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class EpochReport:
    """One epoch's figures, passed to the callback."""

    epoch: int  # 1-based
    epochs: int
    train_loss: float  # reconstruction error of like/dislike on rated movies, in [0, 1]
    val: dict[str, float]  # validation metrics: auc, logloss, ndcg@10 (empty if no val split)
    seconds: float  # wall time of this epoch
    best: bool  # this epoch is the best so far (by the monitored score)
    cd_k: int
    learning_rate: float
    refit: bool = False  # trained on all the ratings, validation ones too (no val metrics)


@dataclass
class BatchProgress:
    """Batch-level progress, passed to the ``progress`` callback."""

    epoch: int
    batch: int  # 1-based, within the epoch
    n_batches: int


@dataclass
class TrainResult:
    model: object  # engine.model.Model
    history: list[EpochReport] = field(default_factory=list)
    cancelled: bool = False
    best_epoch: int = 0
    seconds: float = 0.0


class TrainingCancelled(Exception):
    """Raised inside the loop when the cancel check says stop (caught by :func:`train`)."""


#: P(like) calibration is fitted on at most this many validation pairs
CALIBRATION_PAIRS = 500_000

#: an epoch has at least this many updates: small datasets get smaller batches
MIN_BATCHES = 8


def effective_batch_size(batch_size: int, n_users: int) -> int:
    """The batch size used: ``batch_size``, made smaller for small datasets so that an epoch
    has at least :data:`MIN_BATCHES` updates (never below 8 users)."""
    return max(1, min(batch_size, max(8, math.ceil(n_users / MIN_BATCHES))))


def resolve_device(device: str = "auto") -> str:
    """The device to use: "cuda" when asked (or "auto" and available), else "cpu".

    Raises ValueError when CUDA is asked for but absent."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    return device


def bf16_is_fast(device: str) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively: a CUDA GPU with bfloat16
    support, or a CPU with AVX512-BF16 or AMX-BF16 units."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    try:
        caps = torch.cpu.get_capabilities()
    except (AttributeError, RuntimeError):  # older torch
        return False
    return bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))


# --------------------------------------------------------------------------- data
@dataclass
class LikeMatrix:
    """Per-user sparse visible vectors: user ``u``'s active units are
    ``cols[indptr[u]:indptr[u+1]]`` with ``col = 2·item + liked``."""

    indptr: np.ndarray  # int64 (n_users+1,)
    cols: np.ndarray  # int64 (nnz,)
    n_users: int
    n_items: int
    values: np.ndarray | None = None  # float (nnz,): the ratings behind ``cols``, if known
    #: float32 (nnz,): soft like target of each rating (see :func:`soft_like_targets`);
    #: None: the ratings are hard likes / dislikes
    like_share: np.ndarray | None = None

    @classmethod
    def from_ratings(
        cls, r: Ratings, threshold: float = LIKE_THRESHOLD, soft_labels: float = 0.0
    ) -> LikeMatrix:
        indptr, items, values = r.by_user()
        cols = 2 * items.astype(np.int64) + (values >= threshold)
        share = soft_like_targets(values, threshold, soft_labels) if soft_labels > 0 else None
        return cls(indptr, cols, r.n_users, r.n_items, values, share)

    def _positions(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts, ends = self.indptr[users], self.indptr[users + 1]
        lens = ends - starts
        row = np.repeat(np.arange(len(users)), lens)
        offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        return row, np.repeat(starts, lens) + offs

    def rows(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(row, col)`` coordinates of the active units of ``users`` (row = position)."""
        row, pos = self._positions(users)
        return row, self.cols[pos]

    def rows_and_shares(
        self, users: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`rows` and the soft like target of each of those ratings (None: hard)."""
        row, pos = self._positions(users)
        share = None if self.like_share is None else self.like_share[pos]
        return row, self.cols[pos], share

    def entries(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(row, unit, value)`` of the visible data of ``users``: the hard one-hot units
        (``value`` None) or, with soft targets, both units of every rating, the liked one with
        value ``like_share`` and the disliked one with the rest (rows stay ascending)."""
        return soft_entries(*self.rows_and_shares(users))

    def person_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(likes, ratings)``: ``int64 (n_users,)`` counts of each person."""
        liked = (self.cols % 2).astype(bool)
        return np.bincount(self.owners()[liked], minlength=self.n_users), np.diff(self.indptr)

    def owners(self) -> np.ndarray:
        """``int64 (nnz,)`` the user of each entry of ``cols``."""
        return np.repeat(np.arange(self.n_users), np.diff(self.indptr))

    def movie_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(likes, ratings)``: ``int64 (n_items,)`` counts of each movie."""
        liked = (self.cols % 2).astype(bool)
        items = self.cols // 2
        return (
            np.bincount(items[liked], minlength=self.n_items),
            np.bincount(items, minlength=self.n_items),
        )

    def movie_rating_sums(self) -> np.ndarray:
        """``float64 (n_items,)`` sum of each movie's ratings (zeros when unknown)."""
        if self.values is None:
            return np.zeros(self.n_items)
        return np.bincount(self.cols // 2, weights=self.values, minlength=self.n_items)

    def hidden_input(self, rbm, users: np.ndarray):
        """``(len(users), H)`` hidden input ``c + vW`` of ``users``, summed from the sparse
        ratings (cost ~ their ratings × H, no dense visible batch). A person's profile is
        always their hard likes and dislikes, as thumbs give it; soft targets only shape
        training."""
        import torch

        row, col = self.rows(users)
        return rbm.sparse_hidden_input(
            torch.from_numpy(row).to(rbm.device), torch.from_numpy(col).to(rbm.device), len(users)
        )

    def lateral_input(self, rbm, users: np.ndarray):
        """``(len(users), N)`` lateral term of ``users``' seen log-odds
        (:meth:`engine.rbm.RBM.lateral_input`), None when the RBM has no lateral weights."""
        import torch

        if rbm.lateral is None:
            return None
        row, col = self.rows(users)
        return rbm.lateral_input(
            torch.from_numpy(row).to(rbm.device),
            torch.from_numpy(col // 2).to(rbm.device),
            len(users),
        )

    def dense(self, users: np.ndarray, device: str = "cpu"):
        """``(len(users), 2·n_items)`` float32 visible batch (one-hot over disliked/liked)."""
        import torch

        row, col = self.rows(users)
        v = torch.zeros(len(users), 2 * self.n_items, device=device)
        v[torch.from_numpy(row).to(device), torch.from_numpy(col).to(device)] = 1.0
        return v


def soft_entries(
    row: np.ndarray, col: np.ndarray, share: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Hard ``(row, col)`` data as ``(row, unit, value)``: unchanged when ``share`` is None,
    else both units of every rating, the liked one valued ``share``, the other the rest."""
    if share is None:
        return row, col, None
    base = col - col % 2
    unit = np.stack((base, base + 1), 1).ravel()
    value = np.stack((1.0 - share, share), 1).ravel().astype(np.float32)
    return np.repeat(row, 2), unit, value


def soft_like_targets(values: np.ndarray, threshold: float, sharpness: float) -> np.ndarray:
    """``float32`` soft like target of each rating: ``sigmoid(sharpness · (r - m))`` with
    ``m`` halfway between ``threshold`` and the highest rating below it (2.5 for whole stars
    and a threshold of 3), so every like stays above 1/2 and every dislike below; a 5 is a
    surer like than a 3. ``sharpness`` is per rating unit."""
    values = np.asarray(values, np.float64)
    below = values[values < threshold]
    m = (threshold + (below.max() if len(below) else threshold - 1.0)) / 2.0
    return (1.0 / (1.0 + np.exp(-sharpness * (values - m)))).astype(np.float32)


def split_validation(
    lm: LikeMatrix, fraction: float, seed: int
) -> tuple[LikeMatrix, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``fraction`` of each user's ratings (users with >= 5 ratings).

    Returns the training LikeMatrix and the held-out ``(users, items, liked)`` arrays.
    """
    rng = np.random.default_rng(seed)
    keep = np.ones(len(lm.cols), dtype=bool)
    lens = np.diff(lm.indptr)
    # a random key per rating, ranked within each user: the lowest ``n_val`` go to validation
    key = rng.random(len(lm.cols))
    users = np.repeat(np.arange(lm.n_users), lens)
    order = np.lexsort((key, users))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(lm.indptr[:-1], lens)
    n_val = np.where(lens >= 5, np.floor(lens * fraction + 0.5), 0).astype(np.int64)
    val = rank < n_val[users]
    keep[val] = False
    counts = np.bincount(users[keep], minlength=lm.n_users)
    indptr = np.zeros(lm.n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    values = None if lm.values is None else lm.values[keep]
    share = None if lm.like_share is None else lm.like_share[keep]
    train = LikeMatrix(indptr, lm.cols[keep], lm.n_users, lm.n_items, values, share)
    vcols = lm.cols[val]
    return train, users[val], vcols // 2, (vcols % 2).astype(bool)


# ------------------------------------------------------------------------ metrics
def _validate(rbm, train: LikeMatrix, vu, vi, vy, device, max_users: int = 600) -> dict:
    import torch

    if len(vu) == 0:
        return {}
    out: dict[str, float] = {}
    users = np.unique(vu)
    with torch.no_grad():
        like_logit = pair_logits(rbm, train, vu, vi, device)
        p = 1 / (1 + np.exp(-like_logit))
        out["auc"] = auc(vy, like_logit)
        eps = 1e-7
        out["logloss"] = float(-np.mean(vy * np.log(p + eps) + (~vy) * np.log(1 - p + eps)))
        # top-N on held-out movies (any rating is relevant), on up to max_users users
        rng = np.random.default_rng(0)
        sample = users if len(users) <= max_users else rng.choice(users, max_users, replace=False)
        sample = np.sort(sample)
        order = np.argsort(vu, kind="stable")
        starts = np.searchsorted(vu[order], sample)
        ends = np.searchsorted(vu[order], sample, side="right")
        k = min(10, rbm.n_items)
        recs, rel = [], []
        for s in range(0, len(sample), 256):
            us = sample[s : s + 256]
            seen_logit, _ = rbm.mean_field_conditionals(train.hidden_input(rbm, us))
            row, col = train.rows(us)
            seen_logit[
                torch.from_numpy(row).to(device), torch.from_numpy(col // 2).to(device)
            ] = -math.inf
            recs.extend(torch.topk(seen_logit, k, dim=1).indices.cpu().numpy().tolist())
        for a, b in zip(starts, ends):
            rel.append(set(vi[order[a:b]].tolist()))
        out["ndcg@10"] = ranking_metrics(recs, rel, k=10)["ndcg@10"]
    return out


class _Uniforms:
    """Seeded uniform draws in [0, 1), float32: numpy's PCG64 on the CPU (about 1.5× faster
    than torch's generator there), torch's generator on CUDA."""

    def __init__(self, seed: int, device: str) -> None:
        import torch

        self.device = device
        if device == "cpu":
            self.rng = np.random.default_rng([seed, 0x5EED])
        else:
            self.gen = torch.Generator(device=device)
            self.gen.manual_seed(seed)

    def __call__(self, shape: tuple[int, ...]):
        import torch

        if self.device == "cpu":
            return torch.from_numpy(self.rng.random(shape, dtype=np.float32))
        return torch.rand(shape, generator=self.gen, device=self.device)


def _unit_sums(terms: list, n_units: int):
    """``(n_units, H)`` sums ``Σ_t weight[t] · onehot(units[t]) ⊗ values[rows[t]]`` over every
    ``(units, rows, values, weight)`` term (``values (B_i, H)``; ``weight`` None: all 1), as
    one sparse × dense product (about 3× faster on the CPU than scattering gathered rows)."""
    import torch

    units, rows, values, weights, offset = [], [], [], [], 0
    for u, r, v, w in terms:
        units.append(u)
        rows.append(r + offset)
        values.append(v)
        weights.append(torch.ones(len(u), dtype=v.dtype, device=v.device) if w is None else w)
        offset += v.shape[0]
    index = torch.stack((torch.cat(units), torch.cat(rows)))
    onehot = torch.sparse_coo_tensor(
        index, torch.cat(weights), (n_units, offset), check_invariants=False
    )
    return torch.sparse.mm(onehot, torch.cat(values))


def _rank_positions(lm: LikeMatrix, users: np.ndarray, dist) -> tuple[object, int]:
    """Where this rank's ratings sit among all ratings of the global batch ``users`` (in
    :meth:`LikeMatrix.rows` order): ``(positions (n,) tensor, number of global ratings)``."""
    import torch

    lens = np.diff(lm.indptr)[users]
    starts = np.cumsum(lens) - lens
    sel = np.arange(dist.rank, len(users), dist.world_size)
    ls, ss = lens[sel], starts[sel]
    pos = np.arange(ls.sum()) - np.repeat(np.cumsum(ls) - ls, ls) + np.repeat(ss, ls)
    return torch.from_numpy(pos), int(lens.sum())


def _like_likelihood_grad(delta, b_diff, x, rows, items, p, hmask, weight: float, n_units: int):
    """Gradient of ``weight · Σ_r log P(like_r | seen_r, v_-r)`` (soft targets ``p``) with
    the hidden units summed out exactly (the discriminative RBM's gradient), for ``L`` of the
    hidden units. ``rows, items, p``: ``(R,)`` owner, movie and like target of each rating;
    ``delta (R, L)``: ``W[2j+1] - W[2j]`` of its movie ``j`` in those units' columns and
    ``b_diff (R,)`` the same of the visible biases; ``x (n, L)``: the batch's hidden input
    ``c + vW`` from its soft data; ``hmask (n, L)``: its dropout mask, or None. ``v_-r`` is
    the person's data without rating ``r``, so the liked (disliked) state's hidden input is
    ``x + (1-p)·delta`` (``x - p·delta``).

    Returns ``(gW (n_units, L), gb (n_units,), gc (L,))``: the gradients of W's columns of
    those units and of the visible and hidden biases, sums over the batch, in the direction
    that raises the likelihood.
    """
    import torch

    liked, disliked = 2 * items + 1, 2 * items
    # inputs at most 40 (σ(-a) stays a normal float32 below), a dropped unit's -10⁴ (it then
    # adds nothing to any sum below)
    x = x.clamp(max=40.0)
    if hmask is not None:
        x = x.masked_fill(hmask == 0, -1e4)
    xr = x.index_select(0, rows)
    # 1 - sigmoid of the unit's input with the movie liked (a) and disliked (d)
    na = torch.sigmoid(torch.addcmul(xr, (1.0 - p)[:, None], delta).neg_())
    nd = torch.sigmoid(torch.addcmul(xr, -p[:, None], delta).neg_())
    # softplus(a) - softplus(d) = log(σ(-d) / σ(-a))
    z = b_diff + torch.log(nd / na).sum(1)  # like log-odds
    e = weight * (p - torch.sigmoid(z))  # (R,) d log-likelihood / d z
    g = (nd - na).mul_(e[:, None])  # (R, L) d / d x_-r: e · (σ(a) - σ(d))
    G = torch.zeros(x.shape, dtype=x.dtype, device=x.device).index_add_(0, rows, g)
    back = G.index_select(0, rows).sub_(g)  # through the person's other ratings' inputs
    # liked unit: e·σ(a) + p·back; disliked unit: -e·σ(d) + (1-p)·back
    v1 = torch.addcmul(back * p[:, None], e[:, None], 1.0 - na)
    v0 = torch.addcmul(back.mul_((1.0 - p)[:, None]), -e[:, None], 1.0 - nd)
    gW = torch.zeros(n_units, x.shape[1], dtype=x.dtype, device=x.device)
    gW.index_add_(0, liked, v1).index_add_(0, disliked, v0)
    gb = torch.zeros(n_units, dtype=x.dtype, device=x.device)
    gb.index_add_(0, liked, e).index_add_(0, disliked, -e)
    return gW, gb, G.sum(0)


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weights ``(d+1,)`` (last: intercept) of an L2-regularised logistic regression of
    ``y`` on ``X (n, d)``, fitted by Newton's method. Used for P(like) calibration."""
    Xb = np.hstack([X.astype(np.float64), np.ones((len(X), 1))])
    yf = y.astype(np.float64)
    w = np.zeros(Xb.shape[1])
    w[0] = 1.0
    reg = l2 * len(yf) * np.eye(Xb.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(Xb @ w, -30, 30)))
        g = Xb.T @ (p - yf) + reg @ w
        Hm = (Xb * (p * (1 - p))[:, None]).T @ Xb + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(Hm, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    if not np.all(np.isfinite(w)):
        w = np.zeros(Xb.shape[1])
        w[0] = 1.0
    return w


# -------------------------------------------------------------------------- train
def train(
    ratings: Ratings,
    config: TrainConfig | None = None,
    *,
    callback: Callable[[EpochReport], None] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    dist: object | None = None,
) -> TrainResult:
    """Train an RBM on ``ratings`` (like = rating >= ``config.like_threshold``).

    Args:
        ratings: the training ratings.
        config: hyperparameters (defaults when None).
        callback: called after every epoch with an :class:`EpochReport`.
        progress: called after every batch with a :class:`BatchProgress`.
        cancel: polled between batches; when it returns True training stops and the best
            model so far is returned with ``cancelled=True``.
        dist: data-parallel training (see :mod:`engine.distributed`, which passes it): an
            object with ``rank``, ``world_size``, ``all_reduce(tensors)`` (in-place sum over
            the ranks) and ``decide(flag) -> bool`` (rank 0's flag, on every rank). Each rank
            takes rows ``rank::world_size`` of every global batch and draws the random numbers
            of the whole batch, so the update is the single-process one. Only rank 0
            validates; the other ranks return ``model=None``. None: one process.

    Returns:
        A :class:`TrainResult` whose ``model`` is an :class:`engine.model.Model`.
    """
    import torch

    from engine.model import Model
    from engine.rbm import RBM, init_biases

    cfg = config or TrainConfig()
    if ratings.n_ratings == 0:
        raise ValueError("no ratings to train on")
    device = resolve_device(cfg.device)
    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)

    full = LikeMatrix.from_ratings(ratings, cfg.like_threshold, cfg.soft_labels)
    if cfg.val_fraction > 0:
        lm, vu, vi, vy = split_validation(full, cfg.val_fraction, cfg.seed)
    else:
        lm, vu, vi, vy = full, np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool)
    del full  # the split holds what training needs (25M ratings: ~0.4 GB freed)

    rbm = RBM(ratings.n_items, cfg.n_hidden, device=device, seed=cfg.seed)
    rbm.keep = 1.0 - cfg.dropout
    counts = np.bincount(lm.cols, minlength=2 * lm.n_items).reshape(-1, 2).astype(np.float32)
    init_biases(
        rbm,
        torch.from_numpy(counts.sum(1)),
        torch.from_numpy(counts[:, 1].copy()),
        lm.n_users,
    )
    # hidden units [0, n_like) learn only from the like term(s), the rest only from the
    # joint term (when like_hidden > 0; otherwise every unit learns from both)
    n_like = int(round(cfg.like_hidden * cfg.n_hidden))
    rbm.like_units = n_like  # their gain stays 1 until the calibration fits it
    like_mask = torch.ones(cfg.n_hidden, device=device)
    joint_mask = torch.ones(cfg.n_hidden, device=device)
    if n_like > 0:
        like_mask[n_like:] = 0.0
        joint_mask[:n_like] = 0.0
    # statistics are summed over the batch, hidden units weighted per term
    w_like = cfg.like_weight * like_mask if cfg.like_weight > 0 else None
    w_joint = cfg.joint_weight * joint_mask if cfg.joint_weight > 0 else None
    w_pos = sum(w for w in (w_like, w_joint) if w is not None)
    n_terms = cfg.like_weight + cfg.joint_weight  # the data's share in the bias statistics
    n_exact = n_like if n_like > 0 else cfg.n_hidden  # hidden units of the exact like term
    dW = torch.zeros_like(rbm.W)
    db = torch.zeros_like(rbm.b)
    dc = torch.zeros_like(rbm.c)

    low_precision = cfg.bf16_sampling and bf16_is_fast(device)
    history: list[EpochReport] = []
    best_score = -math.inf
    best_state = {k: v.clone() for k, v in rbm.state_dict().items()}
    shadow: RBM | None = None  # exponential moving average of the weights
    n_updates = 0
    if cfg.average > 0:
        shadow = RBM(ratings.n_items, cfg.n_hidden, device=device, seed=None)
        shadow.load_state_dict({k: v.clone() for k, v in best_state.items()})  # its own copy
        shadow.keep = rbm.keep
    best_epoch = 0
    bad_epochs = 0
    cancelled = False
    persistent_h: torch.Tensor | None = None
    persistent_n = 0
    n_refit = cfg.refit_epochs if len(vu) else 0  # no validation ratings: nothing to add
    n_main = cfg.epochs - n_refit

    draw = _Uniforms(cfg.seed, device)

    def uniform(rows: int, cols: int) -> torch.Tensor:
        """This process's rows of a ``(rows, cols)`` uniform draw (all rows when alone): every
        rank draws the whole batch's numbers, so ranks together equal one process."""
        u = draw((rows, cols))
        return u if dist is None else u[dist.rank :: dist.world_size]

    def bernoulli(p: torch.Tensor, rows: int) -> torch.Tensor:
        return (uniform(rows, p.shape[1]) < p).to(p.dtype)

    def run_epoch(data: LikeMatrix, epoch: int, k: int, lr: float) -> float:
        """One pass of CD-k updates over ``data``'s users; returns the training loss."""
        nonlocal n_updates, persistent_h, persistent_n
        users_with_data = np.nonzero(np.diff(data.indptr) > 0)[0]
        batch_size = effective_batch_size(cfg.batch_size, len(users_with_data))
        n_batches = max(1, math.ceil(len(users_with_data) / batch_size))
        perm = rng.permutation(users_with_data)
        err_sum, err_n = 0.0, 0
        for bi in range(n_batches):
            if cancel is not None and (cancel() if dist is None else dist.decide(cancel())):
                raise TrainingCancelled
            users = perm[bi * batch_size : (bi + 1) * batch_size]
            n_glob = len(users)
            mine = None  # this rank's positions among the global batch's ratings
            if dist is not None:
                mine, n_glob_ratings = _rank_positions(data, users, dist)
                mine = mine.to(device)
                users = users[dist.rank :: dist.world_size]
            n = len(users)
            row_np, col_np, share_np = data.rows_and_shares(users)
            rows = torch.from_numpy(row_np).to(device)
            cols0 = torch.from_numpy(col_np).to(device)
            items = cols0 // 2
            if share_np is None:  # the data: hard units, or both units weighted
                prow, punit, pval = rows, cols0, None
            else:
                prow_np, punit_np, pval_np = soft_entries(row_np, col_np, share_np)
                prow = torch.from_numpy(prow_np).to(device)
                punit = torch.from_numpy(punit_np).to(device)
                pval = torch.from_numpy(pval_np).to(device)
            x0 = rbm.sparse_hidden_input(prow, punit, n, pval)
            ph0 = torch.sigmoid(x0)
            if cfg.dropout > 0:  # the same units are dropped in both phases
                hmask = (uniform(n_glob, cfg.n_hidden) >= cfg.dropout).to(ph0.dtype)
                ph0 = ph0 * hmask
            else:
                hmask = None
            h0 = bernoulli(ph0, n_glob)
            # W's statistics: sums over ratings of (unit, hidden probabilities · weight),
            # gathered as (units, rows, per-row values) and summed by one sparse product
            terms = [(punit, prow, ph0 * w_pos, pval)]
            gb = n_terms * torch.bincount(punit, pval, minlength=2 * data.n_items).to(ph0.dtype)
            gc = w_pos * ph0.sum(0)
            # the seen movies' like vs dislike: reconstruction error (the training loss)
            w_diff = rbm.W.index_select(0, 2 * items + 1) - rbm.W.index_select(0, 2 * items)
            b_diff = rbm.b[2 * items + 1] - rbm.b[2 * items]
            liked0 = (cols0 % 2).to(ph0.dtype)
            p_like = torch.sigmoid((h0.index_select(0, rows) * w_diff).sum(1) + b_diff)
            err_sum += float((p_like - liked0).abs().sum())
            err_n += len(cols0)
            # conditional CD term: like vs dislike of the seen movies (sparse: only those)
            if w_like is not None:
                h = h0
                for step in range(k):
                    if step > 0:
                        p_like = torch.sigmoid((h.index_select(0, rows) * w_diff).sum(1) + b_diff)
                    if mine is None:  # one uniform per rating of the batch
                        u = draw((len(items),))
                    else:
                        u = draw((n_glob_ratings,))[mine]
                    colsk = 2 * items + (u < p_like).long()
                    phk = torch.sigmoid(rbm.sparse_hidden_input(rows, colsk, n))
                    if hmask is not None:
                        phk = phk * hmask
                    h = bernoulli(phk, n_glob)
                terms.append((colsk, rows, phk * -w_like, None))
                gb -= cfg.like_weight * torch.bincount(colsk, minlength=2 * data.n_items)
                gc -= w_like * phk.sum(0)
            if cfg.like_exact_weight > 0:  # exact like log-likelihood of the seen movies
                target = liked0 if share_np is None else torch.from_numpy(share_np).to(device)
                exact = _like_likelihood_grad(
                    w_diff[:, :n_exact],
                    b_diff,
                    x0[:, :n_exact],
                    rows,
                    items,
                    target,
                    None if hmask is None else hmask[:, :n_exact],
                    cfg.like_exact_weight,
                    2 * data.n_items,
                )
                gb += exact[1]
                gc[:n_exact] += exact[2]
            else:
                exact = None
            # joint term: which movies are seen at all (dense over the catalogue)
            if w_joint is not None:
                if cfg.persistent:
                    if persistent_h is None or persistent_n != n_glob:
                        persistent_h, persistent_n = h0.clone(), n_glob
                    h = persistent_h
                else:
                    h = h0
                W_lp = rbm.W.to(torch.bfloat16) if low_precision else None
                for _ in range(k):
                    # the sample is sparse: (row, unit) of its seen movies
                    rows_k, cols_k = rbm.sample_visible(
                        h, noise=uniform(n_glob, data.n_items), weights=W_lp
                    )
                    phk = torch.sigmoid(rbm.sparse_hidden_input(rows_k, cols_k, n))
                    if hmask is not None:
                        phk = phk * hmask
                    h = bernoulli(phk, n_glob)
                if cfg.persistent:
                    persistent_h = h
                terms.append((cols_k, rows_k, phk * -w_joint, None))
                gb -= cfg.joint_weight * torch.bincount(cols_k, minlength=2 * data.n_items)
                gc -= w_joint * phk.sum(0)
            gW = _unit_sums(terms, 2 * data.n_items)
            if exact is not None:
                gW[:, :n_exact] += exact[0]
            if dist is not None:
                dist.all_reduce([gW, gb, gc])
                n = n_glob
            # momentum step on the batch means, with L2 weight decay
            dW.mul_(cfg.momentum).add_(gW, alpha=lr / n).add_(rbm.W, alpha=-lr * cfg.weight_decay)
            db.mul_(cfg.momentum).add_(gb, alpha=lr / n)
            dc.mul_(cfg.momentum).add_(gc, alpha=lr / n)
            rbm.W += dW
            rbm.b += db
            rbm.c += dc
            if shadow is not None:  # a plain running mean until it is the EMA
                n_updates += 1
                w = max(1.0 - cfg.average, 1.0 / (1.0 + n_updates))
                shadow.W.lerp_(rbm.W, w)
                shadow.b.lerp_(rbm.b, w)
                shadow.c.lerp_(rbm.c, w)
            if progress is not None:
                progress(BatchProgress(epoch, bi + 1, n_batches))
        if dist is not None:
            errs = torch.tensor([err_sum, err_n], dtype=torch.float64, device=device)
            dist.all_reduce([errs])
            err_sum, err_n = float(errs[0]), int(errs[1])
        if not all(math.isfinite(float(t.abs().max())) for t in (rbm.W, rbm.b, rbm.c)):
            raise FloatingPointError(
                "training diverged (weights became NaN or infinite); try a smaller learning rate"
            )
        return err_sum / max(1, err_n)

    def publish(report: EpochReport) -> None:
        history.append(report)
        if callback is not None:
            callback(report)

    def schedule(epoch: int) -> tuple[int, float]:
        """CD steps and learning rate of (1-based) ``epoch``."""
        frac = min(1.0, (epoch - 1) / max(1, n_main - 1))
        k = int(round(cfg.cd_k + frac * (cfg.cd_k_max - cfg.cd_k)))
        return k, cfg.learning_rate / (1.0 + cfg.lr_decay * (epoch - 1))

    try:
        for epoch in range(1, n_main + 1):
            t0 = time.perf_counter()
            k, lr = schedule(epoch)
            loss = run_epoch(lm, epoch, k, lr)
            if dist is None or dist.rank == 0:
                val = _validate(shadow or rbm, lm, vu, vi, vy, device)
            else:
                val = {}
            if val:
                score = {
                    "auc": val["auc"],
                    "ndcg": val["ndcg@10"],
                    "both": val["auc"] + val["ndcg@10"],
                }[cfg.monitor]
            else:
                score = float(epoch)  # no validation: the last epoch is the best
            is_best = score > best_score
            if is_best:
                best_score, best_epoch, bad_epochs = score, epoch, 0
                for k2, v in (shadow or rbm).state_dict().items():  # in place: no 2nd copy
                    best_state[k2].copy_(v)
            else:
                bad_epochs += 1
            report = EpochReport(
                epoch=epoch,
                epochs=cfg.epochs,
                train_loss=loss,
                val=val,
                seconds=time.perf_counter() - t0,
                best=is_best,
                cd_k=k,
                learning_rate=lr,
            )
            publish(report)
            stop = bool(cfg.patience and bad_epochs >= cfg.patience)
            if dist is not None:
                stop = dist.decide(stop)
            if stop:
                break
    except TrainingCancelled:
        cancelled = True

    rbm.load_state_dict(best_state)
    calib: tuple[float, ...] = (1.0,) + (0.0,) * 8
    like_gain, neighbours = 1.0, None
    if len(vu) and (dist is None or dist.rank == 0):
        calib, like_gain, neighbours = _calibration(rbm, lm, vu, vi, vy, cfg, device)

    if n_refit and not cancelled:
        # the validation ratings join the training data for a few more epochs, going on from
        # the best epoch's averaged weights (calibrated above, on ratings it had not seen)
        del lm
        full = LikeMatrix.from_ratings(ratings, cfg.like_threshold, cfg.soft_labels)
        rbm.load_state_dict({k: v.clone() for k, v in best_state.items()})  # own copies
        if shadow is not None:  # what is kept: the plain mean of the refit's weights
            shadow.load_state_dict({k: v.clone() for k, v in best_state.items()})
            n_updates = 0
        dW.zero_()
        db.zero_()
        dc.zero_()
        try:
            for j in range(1, n_refit + 1):
                t0 = time.perf_counter()
                epoch = len(history) + 1
                k, lr = schedule(best_epoch + j)
                loss = run_epoch(full, epoch, k, lr)
                report = EpochReport(
                    epoch=epoch,
                    epochs=len(history) + 1 + n_refit - j,
                    train_loss=loss,
                    val={},
                    seconds=time.perf_counter() - t0,
                    best=False,
                    cd_k=k,
                    learning_rate=lr,
                    refit=True,
                )
                publish(report)
            for k2, v in (shadow or rbm).state_dict().items():
                best_state[k2].copy_(v)
        except TrainingCancelled:  # keep the best epoch's weights from before the refit
            cancelled = True
        rbm.load_state_dict(best_state)

    seconds = time.perf_counter() - t_start
    if dist is not None and dist.rank != 0:
        return TrainResult(None, history, cancelled, best_epoch, seconds)
    rbm.like_gain = like_gain
    if cfg.lateral_weight > 0 and ratings.n_items <= cfg.lateral_max_items:
        # fitted on every training rating, validation ones included
        data = LikeMatrix.from_ratings(ratings, cfg.like_threshold)
        B = lateral.fit_lateral(data, cfg.lateral_l2, cfg.lateral_l2_pop)
        rbm.lateral = (cfg.lateral_weight * B).to(device)
    model = Model.from_training(
        rbm=rbm,
        ratings=ratings,
        config=cfg,
        calibration=calib,
        history=history,
        best_epoch=best_epoch,
        neighbours=neighbours,
    )
    return TrainResult(model, history, cancelled, best_epoch, time.perf_counter() - t_start)


def _use_neighbours(cfg: TrainConfig, n_items: int) -> bool:
    return cfg.neighbours > 0 and cfg.blend_biases and n_items <= cfg.lateral_max_items


def _calibration(
    rbm, lm: LikeMatrix, vu, vi, vy, cfg: TrainConfig, device
) -> tuple[tuple, float, tuple | None]:
    """The P(like) calibration weights (see :data:`engine.model.CALIBRATION_NAMES`), the
    like units' gain (:attr:`engine.rbm.RBM.like_gain`) and the movies' neighbours of the
    neighbours feature (None when not fitted), fitted on the validation pairs
    ``(vu, vi, vy)`` with the people's and movies' statistics of the training part ``lm``.

    The gain comes first, from a fit with the like units' share of the log-odds as an extra
    feature (the like units learn from another objective than the others, so their share
    deserves its own weight); then the weights are fitted on the log-odds with that gain."""
    import torch

    from engine.model import like_features, movie_mean_ratings, person_rating_bias, prior_like_share

    if len(vu) > CALIBRATION_PAIRS:  # 9 weights: a seeded sample is plenty, and lighter
        rng = np.random.default_rng([cfg.seed, 0xCA1])  # its own: ranks' streams stay equal
        pick = np.sort(rng.choice(len(vu), CALIBRATION_PAIRS, replace=False))
        vu, vi, vy = vu[pick], vi[pick], vy[pick]
    with torch.no_grad():
        z, z_like = pair_logits(rbm, lm, vu, vi, device, parts=True).T
    u_likes, u_n = lm.person_counts()
    i_likes, i_n = lm.movie_counts()
    i_sums = lm.movie_rating_sums()
    mu = float(i_sums.sum() / max(1, i_n.sum()))
    knn, nb = np.zeros(len(vu)), None
    if lm.values is None:
        u_bias = np.zeros(lm.n_users)
    else:
        means = movie_mean_ratings(i_sums, i_n, mu)
        u_bias = person_rating_bias(lm.owners(), lm.cols // 2, lm.values, means, lm.n_users)
        if _use_neighbours(cfg, lm.n_items):
            resid = neighbour_fit.residuals(lm, means, u_bias)
            nb = neighbour_fit.fit(lm, resid, cfg.neighbours, cfg.neighbours_shrink)
            knn = neighbour_fit.pair_scores(*nb, lm, resid, vu, vi)

    def features(logit):
        return like_features(
            logit,
            u_likes[vu],
            u_n[vu],
            i_likes[vi],
            i_n[vi],
            i_sums[vi],
            prior_like_share(i_likes, i_n),
            mu,
            u_bias[vu],
            knn,
        )

    gain = 1.0
    if rbm.like_units and cfg.blend_biases:
        X = features(z)
        w = fit_logistic(np.column_stack([X, z_like]), vy)
        # the log-odds' weight where the average pair is (it grows with the counts)
        slope = w[0] + w[4] * np.log1p(u_n[vu]).mean() + w[5] * np.log1p(i_n[vi]).mean()
        if slope > 1e-3:
            gain = float(np.clip((slope + w[-2]) / slope, 0.25, 4.0))
    X = features(z + (gain - 1.0) * z_like)
    if cfg.blend_biases:
        return tuple(float(w) for w in fit_logistic(X, vy)), gain, nb
    a, b = fit_logistic(X[:, :1], vy)
    return (float(a),) + (0.0,) * 7 + (float(b),), gain, None


def pair_logits(rbm, lm: LikeMatrix, vu, vi, device, *, parts: bool = False) -> np.ndarray:
    """Uncalibrated like log-odds for (user, item) pairs, the users' profiles taken from
    ``lm``: ``(P,)``, or with ``parts`` ``(P, 2)`` (see :meth:`engine.rbm.RBM.pair_like_logits`)."""
    import torch

    users, pos = np.unique(vu, return_inverse=True)
    x = torch.cat([lm.hidden_input(rbm, users[s : s + 4096]) for s in range(0, len(users), 4096)])
    logits = rbm.pair_like_logits(
        x, torch.from_numpy(pos).to(device), torch.from_numpy(vi).to(device), parts=parts
    )
    return logits.cpu().numpy().astype(np.float64)
