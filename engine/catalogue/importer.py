"""Importing a local folder, GroupLens ``.zip`` or ratings file as a dataset.

The source must load as ratings first; then it is copied (or linked) into
``datasets_dir()/<name>`` atomically and recorded in the registry of imported datasets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import zipfile
from pathlib import Path

from engine import paths
from engine.archive import pick_folder, safe_extract
from engine.catalogue.install import install, work_dir
from engine.catalogue.registry import (
    MARKER_FILE,
    NAME,
    REGISTRY_FILE,
    DatasetInfo,
    builtin_datasets,
    read_registry,
    write_registry,
)
from engine.errors import DatasetError

#: Ratings files whose folder names the dataset (``ml-100k/u.data`` -> ``ml-100k``).
_RATINGS_FILES = {"u.data", "ratings.dat", "ratings.csv"}
#: Files copied along with an imported ratings file: the loader reads titles from them.
_SIDECARS = ("movies.csv", "movies.dat", "u.item", "u.genre", "links.csv", "tags.csv")


def _default_name(src: Path) -> str:
    if src.is_file() and src.name.lower() in _RATINGS_FILES:
        raw = src.parent.name
    elif src.is_file():
        raw = src.stem
    else:
        raw = src.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-._")[:64]
    return name or "imported"


def _validate(path: Path):
    from engine.data.loaders import load_ratings
    from engine.errors import RatingsError

    try:
        r = load_ratings(path, cache=False)
    except RatingsError as e:
        raise DatasetError(f"{path} does not load as ratings: {e}") from e
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise DatasetError(f"{path} does not load as ratings: {e}") from e
    if r.n_ratings == 0:
        raise DatasetError(f"{path} holds no ratings")
    return r


def _reason(e: OSError) -> str:
    """One short reason for a failed copy: shutil's error lists every file that failed."""
    if isinstance(e, shutil.Error) and e.args and isinstance(e.args[0], list) and e.args[0]:
        failed = e.args[0]
        src, _dst, why = failed[0]
        more = f" and {len(failed) - 1:,} more file(s)" if len(failed) > 1 else ""
        return f"{why} (copying {src}{more})"
    if e.strerror:
        return f"{e.filename}: {e.strerror}" if e.filename else e.strerror
    return str(e)


def import_dataset(
    path: str | os.PathLike[str], name: str | None = None, *, link: bool = False
) -> DatasetInfo:
    """Import a local folder, ``.zip`` or ratings file as dataset ``name``.

    It must load with :func:`engine.loaders.load_ratings` first; then it is copied (or, with
    ``link=True``, symlinked; zips are always extracted) into ``datasets_dir()/<name>``
    atomically, replacing a previous dataset of that name only on success, and recorded in
    ``datasets_dir()/imported.json``. A single ratings file is copied with the metadata files
    beside it (``movies.csv``, ``u.item``, ...).

    ``name`` defaults to the zip's/folder's name (or the ratings file's folder for
    ``ratings.csv``/``u.data``/``ratings.dat``). Importing under a built-in name (for
    instance ``ml-100k.zip`` fetched by hand) installs that built-in dataset.
    """
    src = Path(path).expanduser()
    if not src.exists():
        raise DatasetError(f"no such file or folder: {src}")
    src = src.resolve()
    name = (name or _default_name(src)).strip()
    if not NAME.match(name) or name.lower() == REGISTRY_FILE:
        raise DatasetError(
            f"bad dataset name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    builtin = next((d for d in builtin_datasets() if d.name.lower() == name.lower()), None)
    if builtin is not None and builtin.kind == "demo":
        raise DatasetError("'demo' is the bundled dataset's name; choose another name")
    if builtin is not None:
        name = builtin.name
    root = paths.datasets_dir()
    target = root / name
    if src.is_relative_to(root.resolve() / name):
        raise DatasetError(f"{src} is already the dataset {name}")
    is_zip = src.is_file() and (src.suffix.lower() == ".zip" or zipfile.is_zipfile(src))

    work = work_dir(name, "import")
    try:
        entry = ""
        linked = False
        if is_zip:
            extracted = safe_extract(src, work / "extracted")
            staged = pick_folder(extracted, builtin.folder if builtin else None)
            ratings = _validate(staged)
        elif src.is_dir():
            ratings = _validate(src)
            staged = work / "data"
            if link:
                os.symlink(src, staged, target_is_directory=True)
                linked = True
            else:
                shutil.copytree(src, staged)
        else:
            ratings = _validate(src)
            staged = work / "data"
            staged.mkdir()
            files = [src] + [
                src.parent / s for s in _SIDECARS if s != src.name and (src.parent / s).is_file()
            ]
            for f in files:
                if link:
                    os.symlink(f, staged / f.name)
                else:
                    shutil.copy2(f, staged / f.name)
            linked = link
            entry = src.name
        if builtin is not None:
            if not staged.is_symlink():
                marker = {"name": name, "imported_from": str(src)}
                (staged / MARKER_FILE).write_text(
                    json.dumps(marker, indent=2) + "\n", encoding="utf-8"
                )
            install(staged, target)
            return builtin
        info = DatasetInfo(
            name=name,
            title=name,
            kind="imported",
            users=ratings.n_users,
            movies=ratings.n_items,
            ratings=ratings.n_ratings,
            licence="Imported by you: check the licence of its source.",
            description=f"Imported from {src}" + (" (linked)" if linked else ""),
            source=str(src),
            linked=linked,
            entry=entry,
        )
        install(staged, target)
        reg = read_registry()
        reg = {k: v for k, v in reg.items() if k.lower() != name.lower()}
        rec = info.to_dict()
        rec["imported_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        reg[name] = rec
        write_registry(reg)
        return info
    except OSError as e:
        raise DatasetError(f"cannot import {src} as {name}: {_reason(e)}") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)
