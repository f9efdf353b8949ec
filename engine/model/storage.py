"""Model files: save atomically, load safely (upgrading older versions), list, rename, delete.

The layout and every check of a file read are in :mod:`engine.model.fileformat`; the upgrade
steps of older versions in :mod:`engine.model.upgrade`. Writes go to a temporary file in the
same folder and are renamed into place (:mod:`engine.files`), so a crash never leaves a
half-written model; a file is sealed with the checksum of its header and tensors.
"""

from __future__ import annotations

import contextlib
import copy
import glob
import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import files, paths
from engine.errors import ModelError, UsageError
from engine.formatting import json_safe
from engine.model import calibration as cal
from engine.model import fileformat as ff
from engine.model.fileformat import FORMAT, FORMAT_VERSION, SUFFIX
from engine.model.upgrade import UPGRADES, check_version, upgrade

__all__ = [
    "FORMAT", "FORMAT_VERSION", "SUFFIX", "UPGRADES", "ModelInfo", "default_model_path",
    "delete_model", "find_model", "list_models", "load_model", "model_in_folder",
    "newest_default_model",
    "read_header", "rename_model", "save_model", "save_with_fallback",
]  # fmt: skip
#: A model's name in the models folder.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _stem(dataset_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset_name).strip("-.") or "model"


#: A default model name: ``<dataset>-<YYYYmmdd-HHMMSS>[-N].pt``.
_DEFAULT_NAME = re.compile(r"-\d{8}-\d{6}(?:-\d+)?\.pt")


def newest_default_model(dataset_name: str) -> Path | None:
    """The newest model the default naming gave a run on ``dataset_name`` (what
    ``rbm-tui train DATA`` saved), or None; its content is not read."""
    stem = _stem(dataset_name)
    found = []
    for p in paths.models_dir().glob(f"{glob.escape(stem)}-*{SUFFIX}"):
        if _DEFAULT_NAME.fullmatch(p.name[len(stem) :]) and p.is_file():
            with contextlib.suppress(OSError):
                found.append((p.stat().st_mtime, p.name, p))
    return max(found)[2] if found else None


def default_model_path(dataset_name: str) -> Path:
    """``<data dir>/models/<dataset>-<YYYYmmdd-HHMMSS>.pt`` (unique)."""
    safe = _stem(dataset_name)
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
    """The movie IDs of a header: whole numbers (``kind`` int) or strings, each once (a
    ValueError or TypeError otherwise)."""
    values = d["values"]
    if not isinstance(values, list):
        raise TypeError("not a list")
    if d.get("kind") == "int":
        if not all(type(v) is int for v in values):
            raise ValueError("an ID that is not a whole number")
        ids = np.asarray(values, dtype=np.int64)
    else:
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise ValueError("an ID that is neither text nor a number")
        ids = np.asarray([str(v) for v in values], dtype=object)
    if len(set(ids.tolist())) != len(ids):
        raise ValueError("the same ID twice")
    return ids


def save_model(
    model, path: str | Path | None = None, *, expect: files.Snapshot | None = None
) -> Path:
    """Write ``model`` to ``path`` (default: a new file in the models folder); returns the path.
    A FIFO or device is refused; ``expect``: see :func:`engine.files.open_output`."""
    import torch

    from engine.model.trained import Model

    if not isinstance(model, Model):
        raise UsageError(f"save_model: model is a {type(model).__name__}, not an engine.Model")
    if path is None:
        path = default_model_path(_dataset_stem(model))
    path = Path(path)
    header = json.dumps(json_safe(_header(model)), allow_nan=False)  # JSON: no NaN, null
    blob = ff.seal(_tensors(model) | {"format": FORMAT, "header": header})
    buf = io.BytesIO()
    torch.save(blob, buf)
    files.write_bytes(path, buf.getvalue(), regular_only=True, expect=expect)
    return path


def _header(model) -> dict:
    """The JSON header of ``model``'s file."""
    rbm = model.rbm
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "n_items": model.n_items,
        "n_hidden": rbm.n_hidden,
        "keep": rbm.keep,
        "like_units": rbm.like_units,
        "like_gain": rbm.like_gain,
        "rate_weight": float(rbm.rate_weight),
        "rate_prior": float(rbm.rate_prior),
        "rate_share": float(rbm.rate_share),
        "item_item_gamma": rbm.item_item.gamma if rbm.item_item is not None else 0.0,
        "item_ids": _ids_to_json(np.asarray(model.item_ids)),
        "like_threshold": model.like_threshold,
        "calibration": dict(model.calibration),
        "match_calibration": (
            None if model.match_calibration is None else dict(model.match_calibration)
        ),
        "config": model.config,
        "meta": model.meta,
    }


def _tensors(model) -> dict:
    """The tensors of ``model``'s file."""
    import torch

    state = model.rbm.state_dict()
    out = {k: state[k].contiguous() for k in ("W", "b", "c")}
    for name, dtype in (
        ("item_counts", np.int64),
        ("item_likes", np.int64),
        ("item_rating_sums", np.float64),
    ):
        out[name] = torch.from_numpy(np.asarray(getattr(model, name), dtype=dtype))
    if model.rbm.item_item is not None:
        state_ii = model.rbm.item_item.state_dict()
        out["item_item_partners"] = state_ii["partners"].contiguous()
        out["item_item_weights"] = state_ii["weights"].contiguous()
    if model.title_hashes is not None:
        out["item_title_hashes"] = torch.from_numpy(np.asarray(model.title_hashes, np.int64))
    return out


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
    raise ModelError(_nowhere(tries, failures))


def _nowhere(tries: list[Path], failures: list[str]) -> str:
    """One line for a model saved nowhere: the reason once when every place gave the same."""
    reasons = {f.rsplit(": ", 1)[-1] for f in failures}
    if len(reasons) == 1 and len(failures) == len(tries):
        where = ", ".join(str(t) for t in tries)
        return f"could not save the model anywhere ({reasons.pop()}); tried {where}"
    return "could not save the model anywhere: " + "; ".join(failures)


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
    """Load a model file safely: every check of :mod:`engine.model.fileformat` passes before
    anything is built. Raises :class:`ModelError` (one line naming the file) for anything that
    is not a whole, consistent rbm-tui model."""
    from engine.device import resolve_device
    from engine.model.trained import Model

    path = Path(path)
    header, blob = _read(path, in_memory=True)
    item_ids = _item_ids(path, header)
    target = resolve_device(device)
    with _damage_named(path):
        rbm = _build_rbm(path, header, blob)
        calibration, match_calibration = _calibrations(path, header)
    rbm.to(target)
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
        title_hashes=_title_hashes(blob),
    )


def _read(path: Path, in_memory: bool = False) -> tuple[dict, dict]:
    """``(header, tensors)`` of a model file, checked, its checksum verified, upgraded to
    :data:`FORMAT_VERSION`. The tensors are memory-mapped, read only to be checked; with
    ``in_memory`` they are copied out of the file before any check, so that a model in use
    never reads a file someone overwrites (SIGBUS where it shrank, unchecked weights where
    it did not)."""
    blob = ff.open_blob(path)
    with _damage_named(path):
        if in_memory:
            blob = ff.in_memory(blob)
        header = ff.parse_header(path, blob)
        check_version(path, header)  # a newer file says so, not that its checksum is unknown
        ff.verify_checksum(path, header, blob)
        upgrade(path, header, blob)
        ff.check_header(path, header)
        ff.check_tensors(path, header, blob)
    return header, blob


@contextlib.contextmanager
def _damage_named(path: Path):
    """Turn any error of the checks and builds within into one line naming ``path``: a file
    crafted past the checks (a 400-digit number, an empty old-format matrix) is a damaged
    model file, never a traceback."""
    try:
        yield
    except (ModelError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - whatever a crafted file sets off
        raise ff.damaged(path, f"{type(e).__name__}: {e}") from None


def _item_ids(path: Path, header: dict) -> np.ndarray:
    try:
        item_ids = _ids_from_json(header["item_ids"])
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ff.damaged(path, f"movie IDs: {e}") from None
    if len(item_ids) != header["n_items"]:
        raise ModelError(f"{path}: {len(item_ids)} movie IDs for {header['n_items']} movies")
    return item_ids


def _build_rbm(path: Path, header: dict, blob: dict):
    """The RBM of the checked tensors, with the header's settings and movie-to-movie part."""
    from engine.model.rbm import RBM

    rbm = RBM.from_state({k: blob[k] for k in ("W", "b", "c")})
    rbm.keep, rbm.like_units, rbm.like_gain = (
        header[k] for k in ("keep", "like_units", "like_gain")
    )
    rbm.rate_weight, rbm.rate_prior, rbm.rate_share = (
        float(header[k]) for k in ("rate_weight", "rate_prior", "rate_share")
    )
    rbm.item_item = _item_item(path, header, blob)
    return rbm


def _item_item(path: Path, header: dict, blob: dict):
    """The sparse movie-to-movie part, or None when the file has none."""
    if "item_item_partners" not in blob and "item_item_weights" not in blob:
        return None
    from engine.model.itemitem import ItemItem

    state = {"partners": blob.get("item_item_partners"), "weights": blob.get("item_item_weights")}
    try:
        return ItemItem.from_state(state, header["n_items"], float(header["item_item_gamma"]))
    except (ValueError, TypeError) as e:
        raise ff.damaged(path, str(e)) from None


def _title_hashes(blob: dict) -> np.ndarray | None:
    t = blob.get("item_title_hashes")
    return None if t is None else t.numpy().astype(np.int64)


def _calibrations(path: Path, header: dict) -> tuple[dict, dict | None]:
    """The checked calibration weights and the match's own (None: the calibration)."""
    try:
        calibration = cal.check(header["calibration"])
        match = header["match_calibration"]
        return calibration, (None if match is None else cal.check(match))
    except (ValueError, TypeError, AttributeError) as e:
        raise ff.damaged(path, str(e)) from None


def read_header(path: str | Path) -> dict:
    """The metadata of a model file, upgraded to the current version and checked against the
    schema, without building the model (raises ModelError)."""
    header, _ = _read(Path(path))
    _item_ids(Path(path), header)  # checked as loading would (a file loading refuses is unreadable)
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
        header, err = _checked_header(p, st)
        out.append(ModelInfo(p, p.stem, st.st_size, st.st_mtime, header, err))
    out.sort(key=lambda m: m.modified, reverse=True)
    return out


#: ``(path, inode, size, mtime_ns) -> (header, error)`` of the files listed so far: a big
#: model's full check reads all of its hundreds of MB, and the Models screen lists again
#: after every change of state.
_LISTED: dict[tuple, tuple[dict, str]] = {}


def _checked_header(p: Path, st: os.stat_result) -> tuple[dict, str]:
    """``(header, "")`` of the model file ``p`` (whose stat is ``st``), or ``({}, why it
    cannot be read)``; kept while the file is unchanged."""
    key = (str(p), st.st_ino, st.st_size, st.st_mtime_ns)
    known = _LISTED.get(key)
    if known is not None:
        return copy.deepcopy(known[0]), known[1]
    try:
        header, err = read_header(p), ""
    except (ModelError, OSError) as exc:  # one unreadable file never hides the others
        header, err = {}, str(exc)
    if len(_LISTED) > 256:
        _LISTED.clear()
    _LISTED[key] = (copy.deepcopy(header), err)
    return header, err


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
    file, or not an rbm-tui model file (a damaged one, a torch archive cut short, is one)."""
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
    if p.is_symlink():  # listed (it is read through), never changed: its target is not ours
        raise ModelError(f"{p}: a symbolic link, left as it is; change it with your file tools")
    if not p.exists():
        raise ModelError(f"{text}: no such model in {folder} (see `rbm-tui models list`)")
    if not p.is_file() or p.suffix != SUFFIX:
        raise ModelError(f"{p}: not a model file; left as it is")
    try:
        _read(p)
    except ModelError as e:  # a damaged model (a torch archive, cut short) may go
        if "not an rbm-tui model file" in str(e):
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
