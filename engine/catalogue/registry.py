"""The dataset catalogue: what rbm-tui offers, where each set lives, and DATA arguments -> paths.

The catalogue (``data/catalogue.json``, shipped in the wheel) lists the bundled synthetic
``demo`` and the MovieLens sets GroupLens publishes (ml-100k, ml-1m, ml-latest-small, ml-10m,
ml-20m, ml-25m, ml-32m). Datasets the person imported are recorded in
``paths.datasets_dir()/imported.json`` and appear in :func:`catalogue` too (kind
``"imported"``).

Where datasets live:

- ``demo``: the package's ``data/demo/`` (MovieLens "latest" layout, read-only);
- downloaded (built-in) sets: ``paths.datasets_dir()/<name>/``, extracted (the folder inside
  GroupLens' zip, renamed to the dataset name);
- imported sets: ``paths.datasets_dir()/<name>/`` (a copy, or a symlink with ``link=True``).
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import files, paths
from engine.errors import DatasetError

#: The registry of imported datasets, inside ``paths.datasets_dir()``.
REGISTRY_FILE = "imported.json"
#: Written inside each downloaded dataset folder: where it came from.
MARKER_FILE = ".rbm-tui-dataset.json"
#: A dataset name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset of the catalogue.

    Attributes:
        name: the short name used on the command line (``ml-100k``, ``demo``, ...).
        title: a human title (``MovieLens 100K``).
        kind: ``"demo"`` (bundled), ``"builtin"`` (downloadable from GroupLens) or
            ``"imported"`` (a local folder/zip/file the person imported).
        url: the download URL (built-in sets only).
        size: approximate download size in bytes (for the demo: bytes on disk).
        md5: the pinned MD5 of the zip, or None (the ``<url>.md5`` file is checked instead).
        users, movies, ratings: counts (approximate for sets GroupLens updates).
        licence: a summary of the usage licence.
        citation: what to cite when publishing results.
        folder: the folder inside the zip (``ml-10M100K`` for ml-10m).
        description: one or two sentences for the UI.
        homepage: the dataset's web page.
        scale: the rating scale (``"1-5"``, ``"0.5-5"``).
        released: the year it was published.
        source: for imported sets, the path it was imported from.
        linked: for imported sets, whether it is a symlink to ``source`` rather than a copy.
        entry: for imported sets, the path inside ``datasets_dir()/<name>`` to load
            (``""``: the folder itself).
    """

    name: str
    title: str
    kind: str
    url: str | None = None
    size: int | None = None
    md5: str | None = None
    users: int | None = None
    movies: int | None = None
    ratings: int | None = None
    licence: str = ""
    citation: str | None = None
    folder: str | None = None
    description: str = ""
    homepage: str | None = None
    scale: str | None = None
    released: int | None = None
    source: str | None = None
    linked: bool = False
    entry: str | None = None

    @property
    def downloadable(self) -> bool:
        """True for the GroupLens sets :func:`download` can fetch."""
        return self.kind == "builtin" and bool(self.url)

    @property
    def filename(self) -> str | None:
        """The zip's file name (``ml-100k.zip``), for downloadable sets."""
        if not self.url:
            return None
        return urllib.parse.urlsplit(self.url).path.rsplit("/", 1)[-1] or None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetInfo:
        """The record ``d``; a field of the wrong type (a hand-edited file) is left at its
        default, as an unknown one is left out."""
        kept: dict[str, Any] = {}
        for f in fields(cls):
            v = d.get(f.name)
            if f.name in d and _FIELD_TYPES[f.name](v):
                kept[f.name] = v
        return cls(**kept)


def _of(kind: type):
    """``v`` is a ``kind`` (a bool is no int here)."""
    return lambda v: isinstance(v, kind) and (kind is bool or not isinstance(v, bool))


def _optional(kind: type):
    """``v`` is None or a ``kind``."""
    return lambda v: v is None or _of(kind)(v)


#: What each :class:`DatasetInfo` field may hold.
_FIELD_TYPES = {
    **dict.fromkeys(
        ("url", "md5", "citation", "folder", "homepage", "scale", "source", "entry"),
        _optional(str),
    ),
    **dict.fromkeys(("size", "users", "movies", "ratings", "released"), _optional(int)),
    **dict.fromkeys(("name", "title", "kind", "licence", "description"), _of(str)),
    "linked": _of(bool),
}


# ------------------------------------------------------------------------- catalogue
def _package_data_dir() -> Path:
    try:
        from data import DATA_DIR

        return Path(DATA_DIR)
    except ImportError:  # pragma: no cover - running from an odd layout
        return Path(__file__).resolve().parents[2] / "data"


def demo_path() -> Path:
    """The bundled demo dataset's folder (MovieLens "latest" layout)."""
    return _package_data_dir() / "demo"


@lru_cache(maxsize=1)
def builtin_datasets() -> tuple[DatasetInfo, ...]:
    path = _package_data_dir() / "catalogue.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DatasetError(f"cannot read the dataset catalogue {path}: {e}") from e
    return tuple(DatasetInfo.from_dict(d) for d in doc["datasets"])


def _registry_path() -> Path:
    return paths.datasets_dir() / REGISTRY_FILE


def read_registry() -> dict[str, dict[str, Any]]:
    """The imported datasets' records. A file that is not JSON is set aside
    (``imported.json.damaged-<time>``) before the next import rewrites it; its datasets'
    folders are still listed (:func:`_imported`)."""
    p = _registry_path()
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError:
        return {}
    except ValueError:
        files.set_aside(p)
        return {}
    sets = doc.get("datasets", {}) if isinstance(doc, dict) else {}
    if not isinstance(sets, dict):
        return {}
    return {k: v for k, v in sets.items() if isinstance(v, dict)}


def write_registry(sets: dict[str, dict[str, Any]]) -> None:
    doc = {"version": 1, "datasets": dict(sorted(sets.items()))}
    blob = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files.write_bytes(_registry_path(), blob)


def _imported() -> list[DatasetInfo]:
    """The imported datasets: those of the registry, then any folder of the datasets folder
    whose record was lost (a damaged registry set aside), listed under its name."""
    builtin = {d.name.lower() for d in builtin_datasets()}
    out = []
    for name, rec in sorted(read_registry().items()):
        if name.lower() in builtin or not NAME.match(name):
            continue
        rec = {**rec, "name": name, "kind": "imported"}
        if not isinstance(rec.get("title"), str):
            rec["title"] = name
        out.append(DatasetInfo.from_dict(rec))
    listed = builtin | {d.name.lower() for d in out}
    for name in _folders():
        if name.lower() not in listed and NAME.match(name):
            out.append(DatasetInfo(name, name, "imported", description=_UNRECORDED))
    return out


_UNRECORDED = "Found in the datasets folder; its import record was lost."


def _folders() -> list[str]:
    """The visible folders of the datasets folder, by name."""
    root = paths.datasets_dir()
    try:
        return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and p.is_dir())
    except OSError:
        return []


def catalogue() -> list[DatasetInfo]:
    """Every dataset: the demo, the GroupLens sets (small to large), then imported ones."""
    return [*builtin_datasets(), *_imported()]


def names() -> list[str]:
    """The names of :func:`catalogue`, in order."""
    return [d.name for d in catalogue()]


def _find(name: str) -> DatasetInfo | None:
    key = str(name).strip().lower()
    for d in catalogue():
        if d.name.lower() == key:
            return d
    return None


def canonical_name(data: str) -> str:
    """``data`` as the catalogue spells it when it names a dataset (``ML-100K`` ->
    ``ml-100k``), else as given (a path): the key thumbs and models are kept under."""
    info = _find(data)
    return info.name if info is not None else data


def short_name(data: str, path: Path) -> str:
    """The short name of DATA (``path``, where it resolved) that default model file names
    start with: the catalogue name, or the folder's or file's name (``ml-100k/u1.base`` ->
    ``ml-100k-u1``; ``mine/ratings.csv`` -> ``mine``)."""
    name = canonical_name(str(data))
    if name != str(data) or name in names():
        return name
    if path.is_dir():
        return path.name
    if path.suffix.lower() == ".zip":
        return path.stem
    if path.name.lower() in {"u.data", "ratings.csv", "ratings.dat"} and path.parent.name:
        return path.parent.name
    return f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem


def get(name: str) -> DatasetInfo:
    """The catalogue entry called ``name`` (case-insensitive). Raises :class:`DatasetError`."""
    d = _find(name)
    if d is None:
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(names())}")
    return d


def local_path(name: str) -> Path | None:
    """Where dataset ``name`` is on disk (what to hand to the loader), or None.

    None also for an unknown name.
    """
    d = _find(name)
    if d is None:
        return None
    if d.kind == "demo":
        p = demo_path()
        return p if (p / "ratings.csv").is_file() else None
    target = paths.datasets_dir() / d.name
    if d.kind == "imported" and d.entry:
        if entry_problem(d.entry) is not None:
            return None
        p = target / d.entry
        return p if p.exists() else None
    return target if target.is_dir() else None


def entry_problem(entry: str) -> str | None:
    """Why an ``imported.json`` entry (the path to load inside the dataset's folder) cannot be
    used, or None: it must be a relative path that stays inside that folder."""
    parts = re.split(r"[/\\]", entry)
    if "\x00" in entry or entry.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", entry):
        return "is not a plain path inside the dataset's folder"
    if ".." in parts:
        return "climbs out of the dataset's folder with '..'"
    return None


def is_on_disk(name: str) -> bool:
    """True when dataset ``name`` is ready to load (False for an unknown name)."""
    return local_path(name) is not None


def default_dataset() -> str:
    """What to offer first: the first non-demo dataset on disk, else ``"demo"``."""
    for d in catalogue():
        if d.kind != "demo" and is_on_disk(d.name):
            return d.name
    return "demo"


_PATH_SUFFIXES = {".zip", ".csv", ".tsv", ".dat", ".data", ".txt", ".base", ".test"}


def _not_on_disk(info: DatasetInfo) -> DatasetError:
    """What to say when dataset ``info`` is known but cannot be loaded from disk."""
    if info.kind == "builtin":
        return DatasetError(
            f"the dataset {info.name} ({info.title}) is not downloaded yet. "
            f"Download it with:  rbm-tui datasets download {info.name}"
        )
    if info.kind == "demo":
        return DatasetError(
            f"the bundled demo dataset is missing from {demo_path()}; reinstall rbm-tui"
        )
    bad = entry_problem(info.entry or "")
    if bad is not None:
        return DatasetError(
            f"the imported dataset {info.name} is refused: its entry {info.entry!r} in "
            f"{_registry_path()} {bad}. Import it again with:  rbm-tui datasets import PATH"
        )
    return DatasetError(
        f"the imported dataset {info.name} is missing from "
        f"{paths.datasets_dir() / info.name} (was {info.source or 'its source'} moved "
        f"or deleted?). Import it again with:  rbm-tui datasets import PATH"
    )


def _in_dataset(text: str) -> Path | None:
    """``NAME/FILE`` with no such path here: FILE of the dataset NAME on disk
    (``ml-100k/u1.base``), when it is there."""
    name, sep, rest = text.replace("\\", "/").partition("/")
    info = _find(name) if sep and rest and not Path(name).is_absolute() else None
    folder = local_path(info.name) if info is not None else None
    if folder is None or not folder.is_dir():
        return None
    p = (folder / rest).resolve()
    return p if p.is_relative_to(folder.resolve()) and (p.is_file() or p.is_dir()) else None


def resolve(data: str | os.PathLike[str]) -> Path:
    """Turn a CLI/App DATA argument into a path the loader reads.

    ``data`` is a dataset name (``demo``, ``ml-100k``, an imported name; case-insensitive)
    or an existing folder, ``.zip`` or ratings file, or ``NAME/FILE``, a file of a dataset on
    disk (``ml-100k/u1.base``) when no such path exists here. A built-in dataset that is not on disk
    yet raises :class:`DatasetError` telling to run ``rbm-tui datasets download NAME``.
    """
    text = os.fspath(data).strip() if data is not None else ""
    if not text:
        raise DatasetError(f"no dataset given; use one of {', '.join(names())} or a path")
    looks_like_path = (
        isinstance(data, os.PathLike)
        or "/" in text
        or "\\" in text
        or text.startswith(("~", "."))
        or Path(text).suffix.lower() in _PATH_SUFFIXES
    )
    if not looks_like_path:
        info = _find(text)
        if info is not None:
            p = local_path(info.name)
            if p is not None:
                return p
            raise _not_on_disk(info)
    p = Path(text).expanduser()
    if p.exists():
        if not (p.is_dir() or p.is_file()):
            raise DatasetError(f"{p} is neither a file nor a folder")
        return p.resolve()
    inside = _in_dataset(text)
    if inside is not None:
        return inside
    if looks_like_path:
        raise DatasetError(f"no such file or folder: {p}")
    raise DatasetError(
        f"{text!r} is neither a dataset ({', '.join(names())}) nor an existing file or "
        "folder. List datasets with:  rbm-tui datasets"
    )
