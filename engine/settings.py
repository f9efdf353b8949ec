"""The training settings: one table, declared once.

Every setting is a field of :class:`TrainConfig` declared with :func:`setting`, which records
its type, default, range, one-line help and whether it is *basic* (a flag of ``rbm-tui train``
and a field of the app's Train form) or *advanced* (``--set NAME=VALUE``, the form's advanced
section). :data:`SETTINGS` lists them as :class:`Setting` records; the command line, the app's
form and the distributed launcher are all built from it, and :class:`TrainConfig` checks every
value against it (a NaN, a value out of range or of the wrong type raises
:class:`~engine.errors.SettingError` naming the setting).

>>> TrainConfig(n_hidden=200).n_hidden
200
>>> SETTINGS_BY_NAME["learning_rate"].describe_range()
'in (0, 10]'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from engine.errors import SettingError

#: Default like threshold: a rating >= 3 is a like on 1-5 and 0.5-5 scales.
LIKE_THRESHOLD = 3.0


def like_threshold_for(setting: float, top: float) -> float:
    """The like threshold a run uses: ``setting`` when it is above 0, else automatic from the
    top rating ``top`` of the data: :data:`LIKE_THRESHOLD` on a scale up to 5 stars (every
    MovieLens set), 60% of the top on a longer one (6 on a 1-10 scale, as IMDb's)."""
    if setting > 0:
        return float(setting)
    return LIKE_THRESHOLD if top <= 5 else round(0.6 * top, 1)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Setting:
    """One training setting: what it is, its range, where it is offered.

    ``low``/``high`` bound the value (inclusive, unless ``low_open``/``high_open``); ``choices``
    lists the allowed strings of a text setting. A basic setting has a ``flag`` on the
    command line and a ``label`` on the Train form.
    """

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    basic: bool = False
    flag: str | None = None
    label: str = ""

    @property
    def option(self) -> str:
        """How people name it: its flag when it has one, else ``--set NAME``."""
        return self.flag or f"--set {self.name}"

    def describe_range(self) -> str:
        """``in [0, 1)``, ``>= 1``, ``one of auto, cpu, cuda``, ``true or false``."""
        if self.type is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{_num(lo)}, {_num(hi)}{right}"
        if lo is not None:
            return f"{'>' if self.low_open else '>='} {_num(lo)}"
        if hi is not None:
            return f"{'<' if self.high_open else '<='} {_num(hi)}"
        return "any value"

    def parse(self, text: str) -> Any:
        """The value of ``text`` (as typed on a command line or in a form), checked."""
        raw = str(text).strip()
        if self.type is bool:
            low = raw.lower()
            if low not in _TRUE + _FALSE:
                raise SettingError(f"{self.option}: {raw!r} is not true or false")
            return self.check(low in _TRUE)
        if self.type is int:
            try:
                value: Any = int(raw)
            except ValueError:
                raise SettingError(f"{self.option}: {raw!r} is not a whole number") from None
            return self.check(value)
        if self.type is float:
            try:
                value = float(raw)
            except ValueError:
                raise SettingError(f"{self.option}: {raw!r} is not a number") from None
            return self.check(value)
        return self.check(raw)

    def check(self, value: Any) -> Any:
        """``value`` if it has the setting's type and lies in its range, else SettingError."""
        where = self.option
        if self.type is bool:
            if not isinstance(value, bool):
                raise SettingError(f"{where}: expected true or false, got {value!r}")
            return value
        if self.type is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise SettingError(f"{where}: {value!r} is not {self.describe_range()}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingError(f"{where}: expected a number, got {value!r}")
        if self.type is int:
            if isinstance(value, float):
                if not value.is_integer():
                    raise SettingError(f"{where}: {value!r} is not a whole number")
                value = int(value)
        else:
            value = float(value)
            if math.isnan(value):
                raise SettingError(f"{where}: NaN is not a number; use a value {self._range()}")
        lo, hi = self.low, self.high
        bad = (
            (lo is not None and (value <= lo if self.low_open else value < lo))
            or (hi is not None and (value >= hi if self.high_open else value > hi))
            or (self.type is float and math.isinf(value))
        )
        if bad:
            raise SettingError(
                f"{where}: {_num(value)} is out of range; use a value {self._range()}"
            )
        return value

    def _range(self) -> str:
        return self.describe_range()


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        x = int(x)
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10_000 else f"{x:g}"


def setting(default: Any, help: str, **meta: Any) -> Any:
    """A :class:`TrainConfig` field with its :class:`Setting` metadata (name and type are
    taken from the field)."""
    return field(default=default, metadata={"setting": {"help": help, **meta}})


@dataclass
class TrainConfig:
    """Every training setting; the defaults are the tuned ones (chosen on validation carves).

    Each field is one row of the settings table (see the module doc); constructing a config
    checks every value against its range.
    """

    # ------------------------------------------------------------------------- basic
    n_hidden: int = setting(
        250, "hidden units: the tastes the RBM learns",
        low=1, high=10_000, basic=True, flag="--hidden", label="Hidden units",
    )  # fmt: skip
    epochs: int = setting(
        30, "most epochs; early stopping may end sooner",
        low=1, high=10_000, basic=True, flag="--epochs", label="Epochs",
    )  # fmt: skip
    cd_k: int = setting(
        1, "Gibbs steps of contrastive divergence",
        low=1, high=100, basic=True, flag="--cd-k", label="CD-k",
    )  # fmt: skip
    batch_size: int = setting(
        64, "people per mini-batch (adjusted by min/max_batches)",
        low=1, high=1_000_000, basic=True, flag="--batch-size", label="Batch size",
    )  # fmt: skip
    learning_rate: float = setting(
        0.01, "step size (Adam) of the joint units, which learn which movies people pick",
        low=0, low_open=True, high=10, basic=True, flag="--learning-rate", label="Learning rate",
    )  # fmt: skip
    like_threshold: float = setting(
        0.0, "a rating ≥ this is a like (0: auto, 3 of 5, 6 of 10)",
        low=0, high=10, basic=True, flag="--like-threshold", label="Like if ≥",
    )  # fmt: skip
    seed: int = setting(
        0, "random seed: same seed, same model",
        low=0, high=2**32 - 1, basic=True, flag="--seed", label="Seed",
    )  # fmt: skip
    device: str = setting(
        "auto", "auto (CUDA if available), cpu or cuda",
        choices=("auto", "cpu", "cuda"), basic=True, flag="--device", label="Device",
    )  # fmt: skip
    threads: int = setting(
        0, "CPU threads, 0 for automatic",
        low=0, high=4096, basic=True, flag="--threads", label="Threads",
    )  # fmt: skip
    # ---------------------------------------------------------------------- advanced
    lr_decay: float = setting(
        0.0, "the learning rates at epoch e are divided by 1 + lr_decay·e", low=0, high=100
    )
    like_learning_rate: float = setting(
        0.08, "step size (with momentum) of the like units, which learn like vs dislike",
        low=0, low_open=True, high=10, label="like lr"
    )  # fmt: skip
    momentum: float = setting(
        0.9, "momentum of the like units' updates", low=0, high=1, high_open=True
    )
    weight_decay: float = setting(1e-4, "L2 penalty on the weights", low=0, high=1)
    cd_k_max: int = setting(
        1, "k grows linearly from cd_k to this over the epochs", low=1, high=100
    )
    persistent: bool = setting(True, "persistent CD chains (one per person)")
    joint_weight: float = setting(
        1.0, "weight of the joint CD term (which movies people pick)", low=0, high=100
    )
    like_exact_weight: float = setting(
        1.6,
        "weight of the exact like log-likelihood term of the like units",
        low=0,
        high=100,
        label="like exact w",
    )
    like_rate: float = setting(
        5.0, "the like log-odds have a term of the person's like rate, smoothed by this "
        "many ratings (0: no such term)",
        low=0, high=1000,
    )  # fmt: skip
    like_cap: int = setting(
        16384, "the like term of an update uses at most this many of its ratings (0: all)",
        low=0, high=10**9,
    )  # fmt: skip
    dropout: float = setting(
        0.3, "share of hidden units dropped per person and batch", low=0, high=1, high_open=True
    )
    blend_biases: bool = setting(True, "the P(like) calibration also sees person/movie statistics")
    like_hidden: float = setting(
        0.4, "share of hidden units that learn only from the like term", low=0, high=1
    )
    candidates_all: int = setting(
        16384, "the negative phase looks at every movie of catalogues up to this many movies",
        low=0, high=10**7, label="cands. all"
    )  # fmt: skip
    candidates_all_cells: int = setting(
        2**26, "and of at most this many people × movies (ML-10M has 748 million)",
        low=0, high=10**15, label="cands. cells"
    )  # fmt: skip
    candidates: int = setting(
        2048, "on bigger catalogues it looks at this many candidate movies per update",
        low=16, high=10**7,
    )  # fmt: skip
    candidate_head: float = setting(
        0.5,
        "share of the candidates that are the most rated movies",
        low=0,
        high=1,
        label="cand. head",
    )
    candidate_alpha: float = setting(
        0.75,
        "the other candidates are drawn with probability ∝ ratings^alpha",
        low=0,
        high=2,
        label="cand. alpha",
    )
    newton_steps: int = setting(
        3, "Newton steps fitting each person's expected picks to their ratings", low=0, high=50
    )
    val_fraction: float = setting(
        0.1, "share of each person's ratings held out for validation and calibration",
        low=0, high=1, high_open=True,
    )  # fmt: skip
    val_users: int = setting(
        600, "people whose validation ratings score nDCG@10 each epoch", low=1, high=10**9
    )
    patience: int = setting(
        8, "stop the first epochs after this many without a better validation score (0: never)",
        low=0, high=10_000,
    )  # fmt: skip
    refit_share: float = setting(
        0.7, "share of the epochs trained at the end on all ratings, validation ones too",
        low=0, high=1, high_open=True,
    )  # fmt: skip
    monitor: str = setting(
        "both", "early-stopping score: auc, ndcg or both (their sum)",
        choices=("auc", "ndcg", "both"),
    )  # fmt: skip
    replicas: int = setting(
        0, "RBMs trained side by side from other seeds and joined into one (0: automatic, "
        "2 on data of few ratings per movie, see replicas_below)",
        low=0, high=8,
    )  # fmt: skip
    replicas_below: float = setting(
        20.0, "automatic replicas: 2 when the movies have fewer ratings than this on average",
        low=0, high=1e9, label="replicas <"
    )  # fmt: skip
    min_batches: int = setting(
        14, "an epoch has at least this many updates (smaller batches on data of few people)",
        low=1, high=10**6,
    )  # fmt: skip
    max_batches: int = setting(
        128, "an epoch has at most this many updates (bigger batches on big data)",
        low=1, high=10**9,
    )  # fmt: skip
    soft_labels: float = setting(
        1.5, "sharpness of soft like targets from the stars (0: hard likes)", low=0, high=100
    )
    average: float = setting(
        0.995, "decay of the moving average of the weights (0: off)",
        low=0, high=1, high_open=True,
    )  # fmt: skip
    item_item_weight: float = setting(
        10.0, "scale of the sparse movie-to-movie part of the seen log-odds (0: off)",
        low=0, high=1000, label="m2m weight"
    )  # fmt: skip
    item_item_k: int = setting(
        200,
        "partners each movie keeps in the movie-to-movie part",
        low=1,
        high=10_000,
        label="m2m k",
    )
    item_item_hubs: int = setting(
        8192,
        "partners are among this many most rated movies",
        low=2,
        high=100_000,
        label="m2m hubs",
    )
    item_item_l2: float = setting(
        150.0,
        "ridge penalty of the movie-to-movie weights",
        low=0,
        low_open=True,
        high=1e9,
        label="m2m l2",
    )
    item_item_l2_pop: float = setting(
        2.0, "added ridge penalty per rater of a movie", low=0, high=1e9, label="m2m l2 pop"
    )
    item_item_norm: float = setting(
        0.5, "partners are chosen by co-occurrence / raters^norm", low=0, high=2, label="m2m norm"
    )
    item_item_gamma: float = setting(
        0.5,
        "the part is weighted by (50 / the person's ratings)^gamma",
        low=0,
        high=10,
        label="m2m gamma",
    )
    calibration_pairs: int = setting(
        500_000, "the P(like) calibration is fitted on at most this many pairs",
        low=1, high=10**9, label="calib. pairs"
    )  # fmt: skip

    def __post_init__(self) -> None:
        for s in SETTINGS:
            setattr(self, s.name, s.check(getattr(self, s.name)))
        self.cd_k_max = max(self.cd_k_max, self.cd_k)

    @property
    def refit_epochs(self) -> int:
        """Epochs on all the ratings at the end (none without a validation split)."""
        return math.floor(self.epochs * self.refit_share) if self.val_fraction > 0 else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """A config from a dict (unknown keys, e.g. from a newer version, are ignored)."""
        return cls(**{k: v for k, v in d.items() if k in SETTINGS_BY_NAME})

    @classmethod
    def from_strings(cls, values: dict[str, str], **typed: Any) -> TrainConfig:
        """A config from ``{name: text}`` (as typed in a form or after ``--set``), each parsed
        by its setting; ``typed`` adds already-typed values."""
        out = dict(typed)
        for name, text in values.items():
            s = SETTINGS_BY_NAME.get(name)
            if s is None:
                raise SettingError(
                    f"--set {name}: no such setting (see rbm-tui train --help-advanced)"
                )
            out[name] = s.parse(text)
        return cls(**out)


def _table() -> tuple[Setting, ...]:
    hints = {"int": int, "float": float, "bool": bool, "str": str}
    out = []
    for f in fields(TrainConfig):
        meta = dict(f.metadata["setting"])
        out.append(Setting(name=f.name, type=hints[str(f.type)], default=f.default, **meta))
    return tuple(out)


#: The settings table, in declaration order (basic ones first).
SETTINGS: tuple[Setting, ...] = _table()
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
BASIC: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.basic)
ADVANCED: tuple[Setting, ...] = tuple(s for s in SETTINGS if not s.basic)
