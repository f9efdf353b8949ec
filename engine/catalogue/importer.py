"""Importing a local folder, GroupLens ``.zip`` or ratings file as a dataset.

The source must load as ratings first; then it is copied (or linked) into
``datasets_dir()/<name>`` atomically and recorded in the registry of imported datasets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine import paths
from engine.archive import copy_capped, pick_folder, safe_extract
from engine.catalogue.install import install, remove_path, work_dir
from engine.catalogue.registry import (
    MARKER_FILE,
    NAME,
    REGISTRY_FILE,
    DatasetInfo,
    builtin_datasets,
    read_registry,
    write_registry,
)
from engine.errors import DatasetError, DatasetExists

if TYPE_CHECKING:
    from engine.data.ratings import Ratings

#: Ratings files whose folder names the dataset (``ml-100k/u.data`` -> ``ml-100k``).
_RATINGS_FILES = {"u.data", "ratings.dat", "ratings.csv"}
#: The most bytes an import copies (a folder, or a file and the metadata beside it).
MAX_IMPORT_BYTES = 16 * 1024**3
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


def _validate(path: Path, shown: tuple[Path, Path] | None = None) -> Ratings:
    """The ratings at ``path``; ``shown=(folder, zip)``: errors name the zip the folder was
    extracted from (``zip:member``), never the temporary folder."""
    from engine.data.loaders import load_ratings
    from engine.errors import RatingsError

    try:
        r = load_ratings(path, cache=False)
    except (RatingsError, OSError, ValueError, zipfile.BadZipFile) as e:
        text, where = str(e), path
        if shown is not None:
            folder, where = shown
            text = text.replace(f"{folder}{os.sep}", f"{where}:").replace(str(folder), str(where))
        raise DatasetError(f"{where} does not load as ratings: {text}") from e
    if r.n_ratings == 0:
        raise DatasetError(f"{shown[1] if shown else path} holds no ratings")
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


# --------------------------------------------------------------------------- copying
class _Copier:
    """Copies regular files into the staging folder, at most :data:`MAX_IMPORT_BYTES` in all.

    Symbolic links are followed only to a regular file (copied as that file) inside ``root``
    when one is given; any other link, and any device, FIFO or socket, is refused: a link to
    ``/dev/zero`` would fill the disk, a link to ``..`` would copy the folder into itself
    without end.
    """

    def __init__(self, source: Path, root: Path | None) -> None:
        self.source, self.copied = source, 0
        self.root = root.resolve() if root is not None else None

    def tree(self, src: Path, dst: Path) -> None:
        dst.mkdir()
        with os.scandir(src) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                self.tree(Path(entry.path), dst / entry.name)
            else:
                self.file(Path(entry.path), dst / entry.name)

    def file(self, src: Path, dst: Path) -> None:
        real = self._regular(src)
        with open(real, "rb") as fin, open(dst, "xb") as fout:
            self.copied = copy_capped(
                fin.read, fout.write, cap=MAX_IMPORT_BYTES, too_big=self._too_big, done=self.copied
            )
        shutil.copystat(real, dst)

    def _regular(self, p: Path) -> Path:
        """``p``, or the file its link points to, when that is a regular file it may copy."""
        try:
            real = p.resolve(strict=True) if p.is_symlink() else p
            mode = os.stat(real).st_mode
        except (OSError, RuntimeError):  # a link to nothing, or a loop of links
            raise DatasetError(
                f"cannot import {self.source}: {p} is a link that leads nowhere (a missing "
                "file or a loop of links); remove it"
            ) from None
        if p.is_symlink() and self.root is not None and not real.is_relative_to(self.root):
            raise DatasetError(
                f"cannot import {self.source}: {p} is a link to {real}, outside the folder "
                "(copy that file in, or import with --link)"
            )
        if not stat.S_ISREG(mode):
            raise DatasetError(
                f"cannot import {self.source}: {p} is not a regular file (a folder link, "
                "device, FIFO or socket is never copied)"
            )
        return real

    def _too_big(self) -> DatasetError:
        return DatasetError(
            f"cannot import {self.source}: it holds more than {MAX_IMPORT_BYTES:,} bytes "
            "(import it with --link instead)"
        )


# --------------------------------------------------------------------------- staging
@dataclass
class _Staged:
    """A dataset ready to install: its folder in the work folder and what was read from it."""

    folder: Path
    ratings: Ratings
    linked: bool = False
    entry: str = ""


def _stage_zip(src: Path, work: Path, builtin: DatasetInfo | None) -> _Staged:
    extracted = safe_extract(src, work / "extracted")
    staged = pick_folder(extracted, builtin.folder if builtin else None)
    return _Staged(staged, _validate(staged, shown=(extracted, src)))


def _stage_folder(src: Path, work: Path, link: bool) -> _Staged:
    ratings = _validate(src)
    staged = work / "data"
    if link:
        os.symlink(src, staged, target_is_directory=True)
    else:
        _Copier(src, src).tree(src, staged)
    return _Staged(staged, ratings, linked=link)


def _stage_file(src: Path, work: Path, link: bool) -> _Staged:
    """A ratings file and the metadata files beside it (:data:`_SIDECARS`)."""
    ratings = _validate(src)
    staged = work / "data"
    staged.mkdir()
    sidecars = [src.parent / s for s in _SIDECARS if s != src.name]
    files = [src] + [f for f in sidecars if f.is_file()]
    copier = _Copier(src, None)  # a metadata file may be a link to one kept elsewhere
    for f in files:
        if link:
            os.symlink(f, staged / f.name)
        else:
            copier.file(f, staged / f.name)
    return _Staged(staged, ratings, linked=link, entry=src.name)


def _stage(src: Path, work: Path, builtin: DatasetInfo | None, link: bool) -> _Staged:
    if src.is_file() and (src.suffix.lower() == ".zip" or zipfile.is_zipfile(src)):
        return _stage_zip(src, work, builtin)
    if src.is_dir():
        return _stage_folder(src, work, link)
    return _stage_file(src, work, link)


# --------------------------------------------------------------------------- installing
def _install_builtin(staged: _Staged, src: Path, builtin: DatasetInfo) -> DatasetInfo:
    if staged.entry:  # a built-in dataset is read by its folder: its file must be found there
        try:
            _validate(staged.folder)
        except DatasetError:
            raise DatasetError(
                f"{src.name} cannot stand for the built-in dataset {builtin.name}: a folder "
                "holding it does not load as that release (its ratings file has another "
                "name); import it under another name"
            ) from None
    if not staged.folder.is_symlink():
        marker = {"name": builtin.name, "imported_from": str(src)}
        text = json.dumps(marker, indent=2) + "\n"
        (staged.folder / MARKER_FILE).write_text(text, encoding="utf-8")
    install(staged.folder, paths.datasets_dir() / builtin.name)
    return builtin


def _install_imported(staged: _Staged, src: Path, name: str) -> DatasetInfo:
    r = staged.ratings
    info = DatasetInfo(
        name=name,
        title=name,
        kind="imported",
        users=r.n_users,
        movies=r.n_items,
        ratings=r.n_ratings,
        licence="Imported by you: check the licence of its source.",
        description=f"Imported from {src}" + (" (linked)" if staged.linked else ""),
        source=str(src),
        linked=staged.linked,
        entry=staged.entry,
    )
    old = existing(name)
    install(staged.folder, paths.datasets_dir() / name)
    if old is not None and old != name:  # the same name in another case: one dataset, not two
        remove_path(paths.datasets_dir() / old)
    reg = {k: v for k, v in read_registry().items() if k.lower() != name.lower()}
    reg[name] = {**info.to_dict(), "imported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    write_registry(reg)
    return info


def _check_name(src: Path, name: str | None) -> tuple[str, DatasetInfo | None]:
    """The dataset name to import under (checked), and the built-in dataset it names."""
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
    if src.is_relative_to(paths.datasets_dir().resolve() / name):
        raise DatasetError(f"{src} is already the dataset {name}")
    return name, builtin


def existing(name: str) -> str | None:
    """The dataset on disk that importing as ``name`` would replace (any letter case)."""
    try:
        folders = [p.name for p in paths.datasets_dir().iterdir() if not p.name.startswith(".")]
    except OSError:
        folders = []
    on_disk = [n for n in folders if (paths.datasets_dir() / n).is_dir()]
    return next((n for n in [*on_disk, *read_registry()] if n.lower() == name.lower()), None)


def import_dataset(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    link: bool = False,
    replace: bool = False,
) -> DatasetInfo:
    """Import a local folder, ``.zip`` or ratings file as dataset ``name``.

    It must load with :func:`engine.loaders.load_ratings` first; then it is copied (or, with
    ``link=True``, symlinked; zips are always extracted) into ``datasets_dir()/<name>``
    atomically, replacing a previous dataset of that name only on success, and recorded in
    ``datasets_dir()/imported.json``. A single ratings file is copied with the metadata files
    beside it (``movies.csv``, ``u.item``, ...). A copy follows no link out of the folder,
    copies no device or FIFO, and stops at :data:`MAX_IMPORT_BYTES`.

    ``name`` defaults to the zip's/folder's name (or the ratings file's folder for
    ``ratings.csv``/``u.data``/``ratings.dat``). Importing under a built-in name (for
    instance ``ml-100k.zip`` fetched by hand) installs that built-in dataset. A dataset of
    that name already on disk (in any letter case) is replaced only with ``replace``, else
    :class:`~engine.errors.DatasetExists` is raised before anything is read.
    """
    src = Path(path).expanduser()
    if not src.exists():
        raise DatasetError(f"no such file or folder: {src}")
    src = src.resolve()
    name, builtin = _check_name(src, name)
    old = existing(name)
    if old is not None and not replace:
        raise DatasetExists(old)
    work = work_dir(name, "import")
    try:
        staged = _stage(src, work, builtin, link)
        if builtin is not None:
            return _install_builtin(staged, src, builtin)
        return _install_imported(staged, src, name)
    except OSError as e:
        raise DatasetError(f"cannot import {src} as {name}: {_reason(e)}") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)
