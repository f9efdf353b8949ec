"""The model file's layout, read and checked: nothing of a file is used before it is checked.

A model file (``*.pt``) is a ``torch.save`` of a plain dict: a ``format`` marker, one JSON
``header``, a ``checksum`` (version 7 on) and tensors (the weights ``W``, ``b``, ``c``, the
movies' counts, the sparse movie-to-movie part of :mod:`engine.model.itemitem` when the model
has one, the titles' hashes). It is read with ``torch.load(weights_only=True)``, so a file can
never run code, and memory-mapped, so nothing is read before it is checked:

1. :func:`open_blob`: a regular file, a zip archive, a dict with the format marker; every
   tensor's storage lies inside the zip record holding it (a storage that claims more bytes
   than its record is refused, never read);
2. :func:`parse_header`: a JSON object;
3. :func:`verify_checksum`: version 7 on, the sha256 of the header and of every tensor
   (name, dtype, shape and bytes, in the order of their names) matches the stored one, so a
   damaged file never loads;
4. (:mod:`engine.model.upgrade`: an older file is brought up to this version);
5. :func:`check_header`: each field's type and range (:data:`SCHEMA`);
6. :func:`check_tensors`: each tensor's dtype (:data:`DTYPES`: a bool, int, half or complex
   weight matrix is refused), shape against the header, finite values.

Every failure is a :class:`~engine.errors.ModelError`: one line naming the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

from engine.errors import ModelError
from engine.settings import SETTINGS_BY_NAME

FORMAT = "rbm-tui-model"
FORMAT_VERSION = 7
#: The first version whose files hold a checksum.
CHECKSUM_SINCE = 7
SUFFIX = ".pt"
#: The first bytes of every model file: torch saves a zip archive.
ZIP_MAGIC = b"PK\x03\x04"
#: The most movies and hidden units a model file may claim (checked before anything is built).
MAX_ITEMS = 10_000_000
MAX_HIDDEN = int(SETTINGS_BY_NAME["n_hidden"].high or 0)
#: The blob's entries that are text, not tensors.
TEXT_KEYS = ("format", "header", "checksum")


def summary(exc: BaseException) -> str:
    """The first sentence or two of an exception's message, at most 300 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def damaged(path: object, what: str) -> ModelError:
    """``PATH: damaged model file (WHAT)``."""
    return ModelError(f"{path}: damaged model file ({what})")


# ------------------------------------------------------------------ 1. the archive
def open_blob(path: Path) -> dict:
    """The file's dict, memory-mapped (tensors not read), its records checked."""
    _check_regular_zip(path)
    import torch

    try:
        blob = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # corrupted, truncated, foreign or a pickle with code in it
        raise ModelError(
            f"{path}: not a readable rbm-tui model file ({summary(exc)}); retrain or pick another"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelError(f"{path}: not an rbm-tui model file (format marker missing)")
    check_records(path, blob)
    return blob


def in_memory(blob: dict) -> dict:
    """``blob`` with every tensor copied out of the memory-mapped file."""
    import torch

    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in blob.items()}


def _check_regular_zip(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        raise ModelError(f"{path}: no such model file") from None
    if not stat.S_ISREG(mode):
        raise ModelError(f"{path}: not a regular file, so not a model file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({summary(exc)})") from None
    if magic != ZIP_MAGIC:  # torch's archive format is a zip; anything else is not a model
        what = "an empty file" if not magic else "not a zip archive"
        raise ModelError(f"{path}: not an rbm-tui model file ({what}); retrain or pick another")


def check_records(path: Path, blob: dict) -> None:
    """Every entry is a tensor (or one of :data:`TEXT_KEYS`), and every tensor's storage is
    exactly one data record of the zip: a storage longer than its record (which memory
    mapping would read past, into other records or past the end of the file) is refused."""
    import torch

    storages = {}
    for name, value in blob.items():
        if isinstance(value, torch.Tensor):
            s = value.untyped_storage()
            if s.nbytes():  # an empty storage reads nothing (and may share an address)
                storages[s.data_ptr()] = (name, s.nbytes())
        elif not (name in TEXT_KEYS and isinstance(value, str)):
            raise damaged(path, f"entry {_short(name)} is a {type(value).__name__}")
    records = _data_records(path)
    if storages and not _fits_records(storages, records):
        raise damaged(path, "a tensor's storage does not match its record in the file")


def _short(name: object) -> str:
    text = repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


def _data_records(path: Path) -> list[tuple[int, int]]:
    """``(offset of the data in the file, size)`` of each stored tensor record
    (``*/data/N``) of the zip."""
    try:
        with zipfile.ZipFile(path) as z, open(path, "rb") as f:
            infos = [i for i in z.infolist() if _is_data_record(i.filename)]
            return [(_data_offset(f, i), i.file_size) for i in infos if i.compress_type == 0]
    except (OSError, zipfile.BadZipFile, struct.error, ValueError, NotImplementedError) as exc:
        # (NotImplementedError: a record asks for a zip version or method zipfile lacks)
        raise damaged(path, f"its archive: {summary(exc)}") from None


def _is_data_record(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 3 and parts[1] == "data" and parts[2].isdigit()


def _data_offset(f, info: zipfile.ZipInfo) -> int:
    """Where a stored record's bytes start: after its local header (30 bytes, the name, the
    extra field)."""
    f.seek(info.header_offset)
    local = f.read(30)
    if len(local) != 30 or local[:4] != ZIP_MAGIC:
        raise ValueError(f"record {info.filename} has no local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _fits_records(storages: dict[int, tuple[str, int]], records: list[tuple[int, int]]) -> bool:
    """Whether one mapping base puts every storage exactly on a record: the file is mapped at
    one address, so ``storage pointer - base`` is its record's offset."""
    by_offset = dict(records)
    ptr0, (_name0, size0) = next(iter(storages.items()))
    for offset, size in records:
        if size != size0:
            continue
        base = ptr0 - offset
        if all(by_offset.get(p - base) == n for p, (_, n) in storages.items()):
            return True
    return False


# ------------------------------------------------------------------ 2. the header
def parse_header(path: Path, blob: dict) -> dict:
    """The JSON header as a dict (:class:`ModelError` when it is not one)."""
    text = blob.get("header")
    try:
        header = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict):
        raise damaged(path, "its header is not a JSON object")
    return header


# ------------------------------------------------------------------ 3. the checksum
def checksum(blob: dict) -> str:
    """``sha256:HEX`` of the blob's header text and of every tensor (its name, dtype, shape
    and bytes), in the order of their names."""
    import torch

    h = hashlib.sha256()
    h.update(str(blob.get("header", "")).encode("utf-8", "surrogatepass"))
    for name in sorted(k for k, v in blob.items() if isinstance(v, torch.Tensor)):
        t = blob[name]
        h.update(f"\0{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        h.update(memoryview(_bytes_of(t)))
    return "sha256:" + h.hexdigest()


def _bytes_of(t: Any):
    """A tensor's bytes, in row-major order (a numpy array of uint8, no copy when it can)."""
    import torch

    flat = t.detach().cpu().contiguous().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    if flat.numel() == 0:
        return b""
    return flat.view(torch.uint8).numpy()


def seal(blob: dict) -> dict:
    """``blob`` with its :func:`checksum` stored (what :func:`verify_checksum` checks)."""
    out = {k: v for k, v in blob.items() if k != "checksum"}
    out["checksum"] = checksum(out)
    return out


def verify_checksum(path: Path, header: dict, blob: dict) -> None:
    """A file of version 7 or later holds the checksum of its header and tensors."""
    version = header.get("format_version")
    if not isinstance(version, int) or version < CHECKSUM_SINCE:
        return
    stored = blob.get("checksum")
    if not isinstance(stored, str):
        raise damaged(path, "no checksum")
    if stored != checksum(blob):
        raise damaged(path, "the checksum does not match: the file was changed or cut")


# ------------------------------------------------------------------ 5. the header's fields
def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: object) -> bool:
    """A finite JSON number within float64's range (a 400-digit integer is not)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return abs(v) < 1e308 if isinstance(v, int) else math.isfinite(v)


#: ``name: (check, what it must be)`` of the header's fields.
SCHEMA = {
    "n_items": (lambda v: _is_int(v) and 1 <= v <= MAX_ITEMS, f"a whole number 1-{MAX_ITEMS:,}"),
    "n_hidden": (lambda v: _is_int(v) and 1 <= v <= MAX_HIDDEN, f"a whole number 1-{MAX_HIDDEN:,}"),
    "keep": (lambda v: _is_num(v) and 0 < v <= 1, "a number in (0, 1]"),
    "like_units": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "like_gain": (lambda v: _is_num(v) and 0 < v < 100, "a number in (0, 100)"),
    "rate_weight": (lambda v: _is_num(v) and abs(v) < 100, "a number in (-100, 100)"),
    "rate_prior": (lambda v: _is_num(v) and 0 <= v <= 1000, "a number in [0, 1000]"),
    "rate_share": (lambda v: _is_num(v) and 0 < v < 1, "a number in (0, 1)"),
    "like_threshold": (_is_num, "a number"),
    "item_item_gamma": (lambda v: _is_num(v) and 0 <= v <= 10, "a number in [0, 10]"),
    "item_ids": (lambda v: isinstance(v, dict), "an object"),
    "calibration": (lambda v: isinstance(v, dict), "an object"),
    "match_calibration": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "config": (lambda v: isinstance(v, dict), "an object"),
    "meta": (lambda v: isinstance(v, dict), "an object"),
}
#: Fields older files may lack, and their defaults.
DEFAULTS = {
    "keep": 1.0, "like_units": 0, "like_gain": 1.0, "item_item_gamma": 0.0, "config": {},
    "meta": {}, "match_calibration": None,
}  # fmt: skip
#: ``meta``'s fields the app and the command line read: ``name: type``.
META = {
    "dataset": dict,
    "history": list,
    "val_metrics": dict,
    "best_epoch": int,
    "created": str,
    "reliability": list,
    "chosen": dict,
}


def check_header(path: object, header: dict) -> None:
    """Check the (upgraded) header's fields' types and ranges, in place filling the defaults
    of optional ones; :class:`ModelError` names the first bad field."""
    for name, default in DEFAULTS.items():
        header.setdefault(name, default)
    for name, (ok, what) in SCHEMA.items():
        if name not in header:
            raise damaged(path, f"its header has no {name!r}")
        if not ok(header[name]):
            raise damaged(path, f"{name!r} must be {what}")
    if header["like_units"] > header["n_hidden"]:
        raise damaged(path, "more like units than hidden units")
    _check_meta(path, header["meta"])


def _check_meta(path: object, meta: dict) -> None:
    """The metadata's fields that the app and ``models info`` read hold what they read: the
    containers of :data:`META`, numbers in the scores, the epochs and the dataset's counts
    (None where a score was not a number), text in the versions."""
    for name, kind in META.items():
        value = meta.get(name)
        if value is not None and not isinstance(value, kind):
            raise damaged(path, f"meta {name!r} is not a {kind.__name__}")
    history = meta.get("history") or []
    if not all(isinstance(h, dict) and _epoch_ok(h) for h in history):
        raise damaged(path, "meta 'history'")
    if not _scores_ok(meta.get("val_metrics") or {}):
        raise damaged(path, "meta 'val_metrics'")
    dataset = meta.get("dataset") or {}
    if not all(_is_int(dataset.get(k, 0)) for k in ("n_users", "n_items", "n_ratings")):
        raise damaged(path, "meta 'dataset' counts")
    versions = meta.get("versions", {})
    if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
        raise damaged(path, "meta 'versions'")


def _is_figure(v: object) -> bool:
    """A figure of a run: a number (NaN included: files before 0.1 wrote it bare) or None."""
    if v is None or isinstance(v, float):
        return True
    return isinstance(v, int) and not isinstance(v, bool) and abs(v) < 1e308


def _scores_ok(val: object) -> bool:
    """A dict of scores, each :func:`_is_figure`."""
    return isinstance(val, dict) and all(_is_figure(v) for v in val.values())


def _epoch_ok(h: dict) -> bool:
    """One epoch's record: its number, loss and seconds figures, its scores :func:`_scores_ok`."""
    figures = all(_is_figure(h.get(k)) for k in ("epoch", "train_loss", "seconds"))
    return figures and _scores_ok(h.get("val", {}))


# ------------------------------------------------------------------ 6. the tensors
def _dtypes() -> dict[str, tuple]:
    """:data:`DTYPES`, built when torch is imported."""
    import torch

    floats = (torch.float32, torch.float64)
    ints = (torch.int64, torch.int32)
    return {
        "W": floats, "b": floats, "c": floats,
        "item_counts": ints, "item_likes": ints, "item_rating_sums": floats,
        "item_item_partners": (torch.int64,), "item_item_weights": floats,
        "item_title_hashes": (torch.int64,),
    }  # fmt: skip


def shapes(header: dict) -> dict[str, tuple[int, ...]]:
    """The shape of each tensor the header implies (the movie-to-movie part's second
    dimension is the file's own: checked by :meth:`engine.model.itemitem.ItemItem.from_state`)."""
    n, h = header["n_items"], header["n_hidden"]
    out = {"W": (2 * n, h), "b": (2 * n,), "c": (h,), "item_title_hashes": (n,)}
    out |= dict.fromkeys(("item_counts", "item_likes", "item_rating_sums"), (n,))
    return out


def check_tensors(path: object, header: dict, blob: dict) -> None:
    """Each known tensor's dtype and shape (against the header), finite values, counts not
    negative; the weights and counts must be there."""
    import torch

    if "item_rating_sums" not in blob:  # files from before it was kept
        blob["item_rating_sums"] = torch.zeros(header["n_items"], dtype=torch.float64)
    want = shapes(header)
    for name, dtypes in _dtypes().items():
        if name not in blob and name in ("item_title_hashes",) + _PAIR:
            continue
        check_tensor(path, blob, name, want.get(name), dtypes)
    _check_sense(path, blob)


def largest(t) -> float:
    """The largest absolute value of the float tensor ``t`` (0 when empty), NaN or infinite
    when any value is: one pass of ``aminmax`` (``isfinite(t).all()`` and ``abs().max()``
    each copy the whole matrix: 0.7 s against 16 ms on an 87,000-movie model)."""
    import torch

    if not t.numel():
        return 0.0
    low, high = (float(x) for x in torch.aminmax(t))
    return math.nan if math.isnan(low) or math.isnan(high) else max(-low, high)


#: The largest weight or bias a model file may hold: trained ones stay below 100; a crafted
#: 1e37 passed the finiteness check and overflowed every score to NaN.
MAX_WEIGHT = 1e6


def _check_sense(path: object, blob: dict) -> None:
    """Values a trained model cannot have (the weights beyond :data:`MAX_WEIGHT` are found by
    :func:`check_tensor`): more likes than ratings of a movie, rating sums beyond 10 stars a
    rating."""
    counts, likes = blob["item_counts"], blob["item_likes"]
    if bool((likes > counts).any()):
        raise damaged(path, "a movie has more likes than ratings")
    sums = blob["item_rating_sums"].double()
    if bool((sums < 0).any() or (sums > 10.0 * counts.double()).any()):
        raise damaged(path, "a movie's ratings add up beyond 10 stars each")


_PAIR = ("item_item_partners", "item_item_weights")


def check_tensor(path: object, blob: dict, name: str, shape: tuple | None, dtypes: tuple) -> None:
    """A tensor of the blob has one of ``dtypes``, this shape (None: any) and finite values;
    else :class:`ModelError`."""
    import torch

    t = blob.get(name)
    if not isinstance(t, torch.Tensor):
        raise damaged(path, f"no tensor {name!r}")
    if t.dtype not in dtypes:
        allowed = " or ".join(str(d).removeprefix("torch.") for d in dtypes)
        raise damaged(path, f"{name} is {str(t.dtype).removeprefix('torch.')}, not {allowed}")
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise damaged(path, f"{name} has shape {tuple(t.shape)}, the header says {tuple(shape)}")
    if t.is_floating_point():
        top = largest(t)
        if not math.isfinite(top):
            raise ModelError(f"{path}: {name} holds NaN or infinite values")
        if name in ("W", "b", "c") and top > MAX_WEIGHT:
            raise damaged(path, f"{name} holds weights beyond {MAX_WEIGHT:g}")
    if name in ("item_counts", "item_likes") and t.numel() and int(t.min()) < 0:
        raise damaged(path, f"{name} has negative counts")
