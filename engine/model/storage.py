"""Model files: save atomically, load safely (upgrading older versions), list, rename, delete.

A model file (``*.pt``) is a ``torch.save`` of a plain dict of tensors (the lateral weights
of :mod:`engine.model.lateral` and the neighbours of :mod:`engine.model.neighbours` among them
when the model has them) and one JSON header; it is read with
``torch.load(weights_only=True)``, so a file can never run code, and every tensor's shape is
checked against the header. Writes go to a temporary file in the same folder and are renamed
into place, so a crash never leaves a half-written model.

Versions. :data:`FORMAT_VERSION` is bumped whenever the layout changes; a file of an older
version is read through one explicit upgrade step per version (:data:`UPGRADES`), each
turning a version-``n`` header and tensors into version ``n + 1``:

- 1: the calibration is a positional list of 4, 7, 8 or 9 weights;
- 2: the calibration is a ``{feature: weight}`` dict (:mod:`engine.model.calibration`).
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import paths
from engine.errors import ModelError
from engine.model import calibration as cal

FORMAT = "rbm-tui-model"
FORMAT_VERSION = 2
SUFFIX = ".pt"


def _upgrade_v1(header: dict, blob: dict) -> None:
    """Version 1 -> 2: the positional calibration weights become named ones."""
    header["calibration"] = cal.from_positional(header["calibration"])


#: ``{version: step}``: each step upgrades a header and its tensors, in place, by one version.
UPGRADES = {1: _upgrade_v1}


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


def save_model(model, path: str | Path | None = None) -> Path:
    """Write ``model`` to ``path`` (default: a new file in the models folder); returns the path."""
    import torch

    if path is None:
        src = str(model.meta.get("dataset", {}).get("source", "model"))
        path = default_model_path(Path(src.rstrip("/")).name or "model")
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
        "item_ids": _ids_to_json(np.asarray(model.item_ids)),
        "like_threshold": model.like_threshold,
        "calibration": dict(model.calibration),
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
    if model.rbm.lateral is not None:
        blob["lateral"] = model.rbm.lateral.cpu().contiguous()
    if model.neighbours is not None:
        blob["neighbour_items"] = model.neighbours[0].cpu().to(torch.int64).contiguous()
        blob["neighbour_sims"] = model.neighbours[1].cpu().to(torch.float32).contiguous()
    buf = io.BytesIO()
    torch.save(blob, buf)
    paths.atomic_write_bytes(path, buf.getvalue())
    return path


def load_model(path: str | Path, device: str = "auto"):
    """Load a model file safely. Raises :class:`ModelError` with a clear message."""
    import torch

    from engine.device import resolve_device
    from engine.model.rbm import RBM
    from engine.model.trained import Model

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupted, truncated, foreign or a pickle with code in it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{path}: not a readable rbm-tui model file ({first[:200]}); retrain or pick another"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelError(f"{path}: not an rbm-tui model file (format marker missing)")
    try:
        header = json.loads(blob["header"])
        _upgrade(path, header, blob)
        n_items, n_hidden = int(header["n_items"]), int(header["n_hidden"])
        item_ids = _ids_from_json(header["item_ids"])
        if len(item_ids) != n_items:
            raise ModelError(f"{path}: {len(item_ids)} movie IDs for {n_items} movies")
        for name in ("item_counts", "item_likes", "item_rating_sums"):
            t = blob.get(name)
            if t is None and name == "item_rating_sums":  # files from before it was kept
                blob[name] = torch.zeros(n_items, dtype=torch.float64)
                continue
            if not isinstance(t, torch.Tensor) or tuple(t.shape) != (n_items,):
                raise ModelError(f"{path}: {name} has the wrong shape")
            if not torch.isfinite(t.double()).all():
                raise ModelError(f"{path}: {name} holds NaN or infinite values")
        rbm = RBM(n_items, n_hidden, device="cpu", seed=None, init_std=0.0)
        rbm.load_state_dict({k: blob.get(k) for k in ("W", "b", "c")})
        rbm.keep = float(header.get("keep", 1.0))
        if not 0 < rbm.keep <= 1:
            raise ModelError(f"{path}: hidden-unit keep share {rbm.keep} is out of range")
        rbm.like_units = int(header.get("like_units", 0))
        rbm.like_gain = float(header.get("like_gain", 1.0))
        if not (0 <= rbm.like_units <= n_hidden and 0 < rbm.like_gain < 100):
            raise ModelError(
                f"{path}: like units ({rbm.like_units}, gain {rbm.like_gain}) out of range"
            )
        lateral = blob.get("lateral")
        if lateral is not None:
            if not isinstance(lateral, torch.Tensor) or tuple(lateral.shape) != (n_items, n_items):
                raise ModelError(f"{path}: lateral weights have the wrong shape")
            if not torch.isfinite(lateral).all():
                raise ModelError(f"{path}: lateral weights hold NaN or infinite values")
            rbm.lateral = lateral.to(torch.float32).contiguous()
        neighbours = _neighbours(path, blob, n_items)
        try:
            calibration = cal.check(header["calibration"])
        except (ValueError, TypeError, AttributeError) as e:
            raise ModelError(f"{path}: damaged model file ({e})") from None
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: damaged model file ({exc})") from None
    rbm.to(resolve_device(device))
    return Model(
        rbm=rbm,
        item_ids=item_ids,
        like_threshold=float(header["like_threshold"]),
        calibration=calibration,
        item_counts=blob["item_counts"].numpy().astype(np.int64),
        item_likes=blob["item_likes"].numpy().astype(np.int64),
        item_rating_sums=blob["item_rating_sums"].numpy().astype(np.float64),
        config=dict(header.get("config", {})),
        meta=dict(header.get("meta", {})),
        neighbours=neighbours,
    )


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


def _neighbours(path, blob: dict, n_items: int):
    """The file's checked ``(items, sims)`` neighbour tensors, or None (older files)."""
    import torch

    items, sims = blob.get("neighbour_items"), blob.get("neighbour_sims")
    if items is None and sims is None:
        return None
    if not (isinstance(items, torch.Tensor) and isinstance(sims, torch.Tensor)):
        raise ModelError(f"{path}: damaged model file (neighbours)")
    if (
        items.dim() != 2
        or tuple(items.shape) != tuple(sims.shape)
        or items.shape[0] != n_items
        or not 1 <= items.shape[1] <= n_items
        or items.dtype != torch.int64
    ):
        raise ModelError(f"{path}: neighbours have the wrong shape or type")
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise ModelError(f"{path}: a neighbour index is out of range")
    if not torch.isfinite(sims).all():
        raise ModelError(f"{path}: neighbour similarities hold NaN or infinite values")
    return items.contiguous(), sims.to(torch.float32).contiguous()


@dataclass
class ModelInfo:
    path: Path
    name: str
    size: int  # bytes
    modified: float  # seconds since the epoch
    header: dict  # the file's metadata, {} if it could not be read
    error: str = ""  # why the file could not be read


def read_header(path: str | Path) -> dict:
    """The metadata of a model file, upgraded to the current version, without building the
    model (raises ModelError)."""
    import torch

    try:
        blob = torch.load(Path(path), map_location="cpu", weights_only=True, mmap=True)
        header = json.loads(blob["header"])
    except Exception as exc:
        raise ModelError(f"{path}: not a readable rbm-tui model file ({exc})") from None
    _upgrade(path, header, blob)
    header.pop("item_ids", None)
    return header


def list_models(folder: str | Path | None = None) -> list[ModelInfo]:
    """Model files in the models folder, newest first."""
    folder = Path(folder) if folder is not None else paths.models_dir()
    out = []
    for p in folder.glob(f"*{SUFFIX}"):
        st = p.stat()
        try:
            header, err = read_header(p), ""
        except ModelError as exc:
            header, err = {}, str(exc)
        out.append(ModelInfo(p, p.stem, st.st_size, st.st_mtime, header, err))
    out.sort(key=lambda m: m.modified, reverse=True)
    return out


def find_model(name_or_path: str | Path) -> Path:
    """A model path from a path or a name in the models folder (without the suffix)."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    cand = paths.models_dir() / (str(name_or_path) + ("" if str(p).endswith(SUFFIX) else SUFFIX))
    if cand.is_file():
        return cand
    raise ModelError(f"{name_or_path}: no such model (see `rbm-tui models list`)")


def rename_model(path: str | Path, new_name: str) -> Path:
    """Rename a model file within its folder; refuses to overwrite."""
    path = Path(path)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", new_name):
        raise ModelError("model names may use letters, digits, '.', '_' and '-' only")
    target = path.with_name(new_name + ("" if new_name.endswith(SUFFIX) else SUFFIX))
    if target.exists():
        raise ModelError(f"{target}: a model with that name exists")
    path.rename(target)
    return target


def delete_model(path: str | Path) -> None:
    """Delete a model file."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    path.unlink()
