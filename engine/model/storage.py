"""Model files: save atomically, load safely (upgrading older versions), list, rename, delete.

A model file (``*.pt``) is a ``torch.save`` of a plain dict of tensors (the sparse
movie-to-movie part of :mod:`engine.model.itemitem` among them when the model has one) and one
JSON header; it is read with
``torch.load(weights_only=True)``, so a file can never run code, and every tensor's shape is
checked against the header. Writes go to a temporary file in the same folder and are renamed
into place, so a crash never leaves a half-written model.

Versions. :data:`FORMAT_VERSION` is bumped whenever the layout changes; a file of an older
version is read through one explicit upgrade step per version (:data:`UPGRADES`), each
turning a version-``n`` header and tensors into version ``n + 1``:

- 1: the calibration is a positional list of 4, 7, 8 or 9 weights;
- 2: the calibration is a ``{feature: weight}`` dict (:mod:`engine.model.calibration`);
- 3: an ``item_title_hashes`` tensor (the movies' titles, hashed) may be present, so that a
  model is not used on another catalogue whose movies share its IDs;
- 4: the dense ``lateral`` weights (movies²) and the stars' ``neighbour_*`` tensors are gone;
  the movie-to-movie part is sparse (``item_item_partners``, ``item_item_weights``, each
  movies × k, and the header's ``item_item_gamma``), and the calibration has a ``seen``
  feature in place of the neighbours one;
- 5: the calibration has a ``partners`` feature, and the header may hold the match's own
  ``match_calibration`` (fitted without it; absent or null: the calibration);
- 6: the header's ``rate_weight``, ``rate_prior`` and ``rate_share``: the person's own term
  of the like log-odds (:meth:`engine.model.rbm.RBM.like_offset`).
"""

from __future__ import annotations

import io
import json
import math
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import files, paths
from engine.errors import ModelError
from engine.model import calibration as cal
from engine.settings import SETTINGS_BY_NAME

FORMAT = "rbm-tui-model"
FORMAT_VERSION = 6
SUFFIX = ".pt"
#: The most movies and hidden units a model file may claim (checked before anything is built).
MAX_ITEMS = 10_000_000
MAX_HIDDEN = int(SETTINGS_BY_NAME["n_hidden"].high)
#: A model's name in the models folder.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _upgrade_v1(header: dict, blob: dict) -> None:
    """Version 1 -> 2: the positional calibration weights become named ones."""
    header["calibration"] = cal.from_positional(header["calibration"])


def _upgrade_v2(header: dict, blob: dict) -> None:
    """Version 2 -> 3: files may hold ``item_title_hashes``; older ones have none (the titles
    of their movies are unknown, so a check of the data they are used on skips them)."""


def _upgrade_v3(header: dict, blob: dict) -> None:
    """Version 3 -> 4: the dense lateral weights become the sparse movie-to-movie part (each
    movie keeps its 100 strongest partners, as :mod:`engine.model.itemitem` fits them; no
    per-person factor, as before); the neighbours tensors are dropped (their calibration
    weight with them) and the seen feature gets weight 0."""
    import torch

    lateral = blob.pop("lateral", None)
    blob.pop("neighbour_items", None)
    blob.pop("neighbour_sims", None)
    if isinstance(header.get("calibration"), dict):
        header["calibration"] = cal.upgrade(header["calibration"])
    header["item_item_gamma"] = 0.0
    n = header.get("n_items")
    if lateral is not None:
        fits = isinstance(lateral, torch.Tensor) and isinstance(n, int)
        if not fits or lateral.shape != (n, n):
            got = tuple(lateral.shape) if isinstance(lateral, torch.Tensor) else "none"
            raise ValueError(f"lateral has shape {got}, the header says ({n}, {n})")
        k = max(1, min(100, n - 1))
        pulls = lateral.float().T  # row j: the pulls on movie j
        # the strongest by size: a negative weight counts as much as a positive one (with
        # n <= 101 movies every other movie stays a partner and the scores are unchanged)
        idx = pulls.abs().topk(k, dim=1).indices
        blob["item_item_partners"] = idx.contiguous()
        blob["item_item_weights"] = pulls.gather(1, idx).contiguous()


def _upgrade_v4(header: dict, blob: dict) -> None:
    """Version 4 -> 5: the calibration gains the partners feature, with weight 0 (the file's
    P(like) is unchanged)."""
    if isinstance(header.get("calibration"), dict):
        header["calibration"] = cal.upgrade(header["calibration"])


def _upgrade_v5(header: dict, blob: dict) -> None:
    """Version 5 -> 6: no person's own like term (weight 0: the file's log-odds are
    unchanged)."""
    header.update(rate_weight=0.0, rate_prior=0.0, rate_share=0.5)


#: ``{version: step}``: each step upgrades a header and its tensors, in place, by one version.
UPGRADES = {1: _upgrade_v1, 2: _upgrade_v2, 3: _upgrade_v3, 4: _upgrade_v4, 5: _upgrade_v5}


def default_model_path(dataset_name: str) -> Path:
    """``<data dir>/models/<dataset>-<YYYYmmdd-HHMMSS>.pt`` (unique)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset_name).strip("-.") or "model"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = paths.models_dir() / f"{safe}-{stamp}{SUFFIX}"
    n = 1
    while path.exists():
        n += 1
        path = paths.models_dir() / f"{safe}-{stamp}-{n}{SUFFIX}"
    return path


def _ids_to_json(ids: np.ndarray) -> dict:
    if np.issubdtype(ids.dtype, np.integer):
        return {"kind": "int", "values": [int(i) for i in ids.tolist()]}
    return {"kind": "str", "values": [str(i) for i in ids.tolist()]}


def _ids_from_json(d: dict) -> np.ndarray:
    if d.get("kind") == "int":
        return np.asarray(d["values"], dtype=np.int64)
    return np.asarray([str(v) for v in d["values"]], dtype=object)


def save_model(
    model, path: str | Path | None = None, *, expect: files.Snapshot | None = None
) -> Path:
    """Write ``model`` to ``path`` (default: a new file in the models folder); returns the path.
    A FIFO or device is refused; ``expect``: see :func:`engine.files.open_output`."""
    import torch

    if path is None:
        path = default_model_path(_dataset_stem(model))
    path = Path(path)
    state = model.rbm.state_dict()
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "n_items": model.n_items,
        "n_hidden": model.rbm.n_hidden,
        "keep": model.rbm.keep,
        "like_units": model.rbm.like_units,
        "like_gain": model.rbm.like_gain,
        "rate_weight": float(model.rbm.rate_weight),
        "rate_prior": float(model.rbm.rate_prior),
        "rate_share": float(model.rbm.rate_share),
        "item_item_gamma": model.rbm.item_item.gamma if model.rbm.item_item is not None else 0.0,
        "item_ids": _ids_to_json(np.asarray(model.item_ids)),
        "like_threshold": model.like_threshold,
        "calibration": dict(model.calibration),
        "match_calibration": (
            None if model.match_calibration is None else dict(model.match_calibration)
        ),
        "config": model.config,
        "meta": model.meta,
    }
    blob = {
        "format": FORMAT,
        "header": json.dumps(header),
        "W": state["W"].contiguous(),
        "b": state["b"].contiguous(),
        "c": state["c"].contiguous(),
        "item_counts": torch.from_numpy(np.asarray(model.item_counts, dtype=np.int64)),
        "item_likes": torch.from_numpy(np.asarray(model.item_likes, dtype=np.int64)),
        "item_rating_sums": torch.from_numpy(np.asarray(model.item_rating_sums, dtype=np.float64)),
    }
    if model.rbm.item_item is not None:
        state_ii = model.rbm.item_item.state_dict()
        blob["item_item_partners"] = state_ii["partners"].contiguous()
        blob["item_item_weights"] = state_ii["weights"].contiguous()
    if model.title_hashes is not None:
        blob["item_title_hashes"] = torch.from_numpy(np.asarray(model.title_hashes, np.int64))
    buf = io.BytesIO()
    torch.save(blob, buf)
    files.write_bytes(path, buf.getvalue(), regular_only=True, expect=expect)
    return path


def save_with_fallback(
    model, path: str | Path | None = None, *, expect: files.Snapshot | None = None
) -> tuple[Path, list[str]]:
    """Save ``model`` to ``path`` (default: a new file in the models folder); when that cannot
    be written (a full disk, a missing permission), to the models folder, then to the system's
    temporary folder, so that a trained model is never lost. Returns ``(where it was saved,
    one line per place that failed)``; raises :class:`ModelError` naming every place when none
    worked. ``expect``: the first target's snapshot when training started (a file another
    process wrote there meanwhile is not replaced: the model goes to the next place)."""
    import tempfile

    first = Path(path) if path is not None else default_model_path(_dataset_stem(model))
    rescue = Path(tempfile.gettempdir()) / "rbm-tui-rescued-models" / first.name
    tries = [first]
    if path is not None and first.parent != paths.models_dir():
        tries.append(_free(paths.models_dir() / first.name))
    tries.append(_free(rescue))
    failures: list[str] = []
    for target in tries:
        try:
            if target == rescue:
                target.parent.mkdir(exist_ok=True)
            return save_model(model, target, expect=expect if target == first else None), failures
        except files.OutputError as e:
            failures.append(str(e))
        except OSError as e:
            failures.append(files.describe_os_error(target, e))
    raise ModelError("could not save the model anywhere: " + "; ".join(failures))


def _free(path: Path) -> Path:
    """``path``, or ``path`` with ``-2``, ``-3``... before its suffix when it exists."""
    n, out = 1, path
    while out.exists():
        n += 1
        out = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return out


def _dataset_stem(model) -> str:
    src = str(model.meta.get("dataset", {}).get("source", "model"))
    return Path(src.rstrip("/")).name or "model"


def load_model(path: str | Path, device: str = "auto"):
    """Load a model file safely: its header is checked against the schema and every tensor's
    shape against the header before anything is built. Raises :class:`ModelError` (one line
    naming the file) for anything that is not a whole, consistent rbm-tui model."""
    import torch

    from engine.device import resolve_device
    from engine.model.rbm import RBM
    from engine.model.trained import Model

    path = Path(path)
    header, blob = _read(path)
    n_items, n_hidden = header["n_items"], header["n_hidden"]
    try:
        item_ids = _ids_from_json(header["item_ids"])
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ModelError(f"{path}: damaged model file (movie IDs: {e})") from None
    if len(item_ids) != n_items:
        raise ModelError(f"{path}: {len(item_ids)} movie IDs for {n_items} movies")
    shapes = {"W": (2 * n_items, n_hidden), "b": (2 * n_items,), "c": (n_hidden,)}
    shapes |= dict.fromkeys(("item_counts", "item_likes", "item_rating_sums"), (n_items,))
    if "item_rating_sums" not in blob:  # files from before it was kept
        blob["item_rating_sums"] = torch.zeros(n_items, dtype=torch.float64)
    for name, shape in shapes.items():
        _check_tensor(path, blob, name, shape)
    rbm = RBM.from_state({k: blob[k] for k in ("W", "b", "c")})
    rbm.keep, rbm.like_units, rbm.like_gain = (
        header["keep"],
        header["like_units"],
        header["like_gain"],
    )
    rbm.rate_weight, rbm.rate_prior, rbm.rate_share = (
        float(header[k]) for k in ("rate_weight", "rate_prior", "rate_share")
    )
    if "item_item_partners" in blob or "item_item_weights" in blob:
        from engine.model.itemitem import ItemItem

        try:
            rbm.item_item = ItemItem.from_state(
                {"partners": blob.get("item_item_partners"),
                 "weights": blob.get("item_item_weights")},
                n_items, float(header["item_item_gamma"]),
            )  # fmt: skip
        except (ValueError, TypeError) as e:
            raise ModelError(f"{path}: damaged model file ({e})") from None
    title_hashes = None
    if "item_title_hashes" in blob:
        _check_tensor(path, blob, "item_title_hashes", (n_items,), torch.int64)
        title_hashes = blob["item_title_hashes"].numpy().astype(np.int64)
    try:
        calibration = cal.check(header["calibration"])
        match_calibration = header["match_calibration"]
        if match_calibration is not None:
            match_calibration = cal.check(match_calibration)
    except (ValueError, TypeError, AttributeError) as e:
        raise ModelError(f"{path}: damaged model file ({e})") from None
    rbm.to(resolve_device(device))
    return Model(
        rbm=rbm,
        item_ids=item_ids,
        like_threshold=header["like_threshold"],
        calibration=calibration,
        match_calibration=match_calibration,
        item_counts=blob["item_counts"].numpy().astype(np.int64),
        item_likes=blob["item_likes"].numpy().astype(np.int64),
        item_rating_sums=blob["item_rating_sums"].numpy().astype(np.float64),
        config=header["config"],
        meta=header["meta"],
        title_hashes=title_hashes,
    )


#: The first bytes of every model file: torch saves a zip archive.
ZIP_MAGIC = b"PK\x03\x04"


def _summary(exc: BaseException) -> str:
    """The first sentence or two of an exception's message, at most 300 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _read(path: Path) -> tuple[dict, dict]:
    """``(header, tensors)`` of a model file, its header upgraded to :data:`FORMAT_VERSION` and
    checked against the schema (:func:`_check_header`); the tensors are memory-mapped, not
    read."""
    import torch

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
        raise ModelError(f"{path}: cannot read the model file ({_summary(exc)})") from None
    if magic != ZIP_MAGIC:  # torch's archive format is a zip; anything else is not a model
        what = "an empty file" if not magic else "not a zip archive"
        raise ModelError(f"{path}: not an rbm-tui model file ({what}); retrain or pick another")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # corrupted, truncated, foreign or a pickle with code in it
        raise ModelError(
            f"{path}: not a readable rbm-tui model file ({_summary(exc)}); retrain or pick another"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelError(f"{path}: not an rbm-tui model file (format marker missing)")
    text = blob.get("header")
    try:
        header = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict):
        raise ModelError(f"{path}: damaged model file (its header is not a JSON object)")
    _upgrade(path, header, blob)
    _check_header(path, header)
    n, h = header["n_items"], header["n_hidden"]
    for name, shape in (("W", (2 * n, h)), ("b", (2 * n,)), ("c", (h,))):
        t = blob.get(name)
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != shape:
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else "none"
            raise ModelError(
                f"{path}: damaged model file ({name} has shape {got}, the header says {shape})"
            )
    return header, blob


#: ``name: (type check, what it must be)`` of the header's fields.
_NUMBER = (int, float)
_SCHEMA = {
    "n_items": (lambda v: _is_int(v) and 1 <= v <= MAX_ITEMS, f"a whole number 1-{MAX_ITEMS:,}"),
    "n_hidden": (lambda v: _is_int(v) and 1 <= v <= MAX_HIDDEN, f"a whole number 1-{MAX_HIDDEN:,}"),
    "keep": (lambda v: _is_num(v) and 0 < v <= 1, "a number in (0, 1]"),
    "like_units": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "like_gain": (lambda v: _is_num(v) and 0 < v < 100, "a number in (0, 100)"),
    "rate_weight": (lambda v: _is_num(v) and abs(v) < 100, "a number in (-100, 100)"),
    "rate_prior": (lambda v: _is_num(v) and 0 <= v <= 1000, "a number in [0, 1000]"),
    "rate_share": (lambda v: _is_num(v) and 0 < v < 1, "a number in (0, 1)"),
    "like_threshold": (lambda v: _is_num(v) and math.isfinite(v), "a number"),
    "item_item_gamma": (lambda v: _is_num(v) and 0 <= v <= 10, "a number in [0, 10]"),
    "item_ids": (lambda v: isinstance(v, dict), "an object"),
    "calibration": (lambda v: isinstance(v, dict), "an object"),
    "match_calibration": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "config": (lambda v: isinstance(v, dict), "an object"),
    "meta": (lambda v: isinstance(v, dict), "an object"),
}
#: Fields older files may lack, and their defaults.
_DEFAULTS = {
    "keep": 1.0, "like_units": 0, "like_gain": 1.0, "item_item_gamma": 0.0, "config": {},
    "meta": {}, "match_calibration": None,
}  # fmt: skip
#: ``meta``'s fields the app and the command line read: ``name: type``.
_META = {
    "dataset": dict,
    "history": list,
    "val_metrics": dict,
    "best_epoch": int,
    "created": str,
    "reliability": list,
}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool) and math.isfinite(v)


def _check_header(path, header: dict) -> None:
    """Check the (upgraded) header's fields' types and ranges, in place filling the defaults
    of optional ones; :class:`ModelError` names the first bad field."""
    for name, default in _DEFAULTS.items():
        header.setdefault(name, default)
    for name, (ok, what) in _SCHEMA.items():
        if name not in header:
            raise ModelError(f"{path}: damaged model file (its header has no {name!r})")
        if not ok(header[name]):
            raise ModelError(f"{path}: damaged model file ({name!r} must be {what})")
    if header["like_units"] > header["n_hidden"]:
        raise ModelError(f"{path}: damaged model file (more like units than hidden units)")
    for name, kind in _META.items():
        value = header["meta"].get(name)
        if value is not None and not isinstance(value, kind):
            raise ModelError(f"{path}: damaged model file (meta {name!r} is not a {kind.__name__})")
    history = header["meta"].get("history") or []
    if not all(isinstance(h, dict) for h in history):
        raise ModelError(f"{path}: damaged model file (meta 'history')")


def _check_tensor(path, blob: dict, name: str, shape: tuple, dtype=None) -> None:
    """A tensor of the blob has this shape (and dtype), finite values; else ModelError."""
    import torch

    t = blob.get(name)
    if not isinstance(t, torch.Tensor):
        raise ModelError(f"{path}: damaged model file (no tensor {name!r})")
    if tuple(t.shape) != tuple(shape):
        raise ModelError(
            f"{path}: damaged model file ({name} has shape {tuple(t.shape)}, the header says "
            f"{tuple(shape)})"
        )
    if dtype is not None and t.dtype != dtype:
        raise ModelError(f"{path}: damaged model file ({name} is {t.dtype}, not {dtype})")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise ModelError(f"{path}: {name} holds NaN or infinite values")
    if name in ("item_counts", "item_likes") and t.numel() and int(t.min()) < 0:
        raise ModelError(f"{path}: damaged model file ({name} has negative counts)")


def _upgrade(path, header: dict, blob: dict) -> None:
    """Bring a header and its tensors up to :data:`FORMAT_VERSION`, one step per version."""
    version = header.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format version {version} is not supported (this rbm-tui reads "
            f"versions 1 to {FORMAT_VERSION}; a newer rbm-tui wrote it?)"
        )
    while version < FORMAT_VERSION:
        try:
            UPGRADES[version](header, blob)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(
                f"{path}: cannot upgrade the model file from version {version} ({e})"
            ) from None
        version += 1
        header["format_version"] = version


def read_header(path: str | Path) -> dict:
    """The metadata of a model file, upgraded to the current version and checked against the
    schema, without building the model (raises ModelError)."""
    header, _ = _read(Path(path))
    header.pop("item_ids", None)
    return header


@dataclass
class ModelInfo:
    path: Path
    name: str
    size: int  # bytes
    modified: float  # seconds since the epoch
    header: dict  # the file's metadata, {} if it could not be read
    error: str = ""  # why the file could not be read


def list_models(folder: str | Path | None = None) -> list[ModelInfo]:
    """Model files in the models folder, newest first; an unreadable one has its ``error``
    set (and an empty header). Temporary files of a save that was killed are swept first."""
    folder = Path(folder) if folder is not None else paths.models_dir()
    files.sweep_temp_files(folder)
    out = []
    for p in folder.glob(f"*{SUFFIX}"):
        try:
            st = p.stat()
        except OSError:
            continue
        try:
            header, err = read_header(p), ""
        except ModelError as exc:
            header, err = {}, str(exc)
        out.append(ModelInfo(p, p.stem, st.st_size, st.st_mtime, header, err))
    out.sort(key=lambda m: m.modified, reverse=True)
    return out


def find_model(name_or_path: str | Path) -> Path:
    """The model file to *read*: a path to a file (checked to be a model when loaded), or the
    name of one in the models folder (without the suffix)."""
    text = str(name_or_path)
    p = Path(text).expanduser()
    if p.exists() and not _NAME.fullmatch(text):
        return p
    if _NAME.fullmatch(text):
        cand = paths.models_dir() / (text if text.endswith(SUFFIX) else text + SUFFIX)
        if cand.exists():
            return cand
        if p.exists():
            return p
    raise ModelError(f"{name_or_path}: no such model (see `rbm-tui models list`)")


def model_in_folder(name_or_path: str | Path) -> Path:
    """A model file of the models folder, by name (or by its path there), for changing it:
    refused with :class:`ModelError` when it is outside the folder, a link, not a regular
    file, or not an rbm-tui model file."""
    folder = paths.models_dir()
    text = str(name_or_path)
    if _NAME.fullmatch(text):
        p = folder / (text if text.endswith(SUFFIX) else text + SUFFIX)
    else:
        p = Path(text).expanduser()
        try:
            inside = p.parent.resolve() == folder.resolve() and p.name not in ("", ".", "..")
        except OSError:
            inside = False
        if not inside:
            raise ModelError(
                f"{text}: not a model of the models folder ({folder}); give a model's name "
                "(see `rbm-tui models list`)"
            )
    if p.is_symlink() or not p.exists():
        raise ModelError(f"{text}: no such model in {folder} (see `rbm-tui models list`)")
    if not p.is_file() or p.suffix != SUFFIX:
        raise ModelError(f"{p}: not a model file; left as it is")
    try:
        _read(p)
    except ModelError as e:
        if "not an rbm-tui model file" in str(e) or "not a readable" in str(e):
            raise ModelError(f"{p}: not an rbm-tui model file; left as it is") from None
    return p


def rename_model(path: str | Path, new_name: str) -> Path:
    """Rename a model of the models folder (see :func:`model_in_folder`); refuses to
    overwrite and names of anything but letters, digits, '.', '_' and '-'."""
    path = model_in_folder(path)
    if not _NAME.fullmatch(new_name) or new_name in (".", ".."):
        raise ModelError("model names may use letters, digits, '.', '_' and '-' only")
    target = path.with_name(new_name + ("" if new_name.endswith(SUFFIX) else SUFFIX))
    if target.exists() or target.is_symlink():
        raise ModelError(f"{target}: a model with that name exists")
    path.rename(target)
    return target


def delete_model(path: str | Path) -> None:
    """Delete a model of the models folder (see :func:`model_in_folder`)."""
    model_in_folder(path).unlink()
