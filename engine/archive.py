"""Zip safety: hostile archives are refused before anything is extracted.

Refused: absolute paths, ``..`` components, symlinks, encrypted entries, a total unpacked size
over a cap, and entries compressed more than :data:`MAX_RATIO` times (zip bombs).
:func:`check_zip` checks an open archive (the ratings loader uses it too, for zips read in
place); :func:`safe_extract` extracts one after the checks, counting the bytes it writes.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any

from engine.cancel import check_cancel
from engine.errors import DatasetError

CHUNK = 64 * 1024
#: Zip entries compressing better than this are refused (zip bombs)...
MAX_RATIO = 200
#: ...when they unpack to at least this many bytes (tiny files may compress absurdly well).
RATIO_MIN_SIZE = 64 * 1024
#: Default cap on what a zip may unpack to: this many times the zip's size, at least
#: MIN_UNPACKED_CAP.
UNPACKED_FACTOR = 20
MIN_UNPACKED_CAP = 64 * 1024 * 1024


def unpacked_cap(zip_size: int) -> int:
    """The most bytes a zip of ``zip_size`` bytes may unpack to."""
    return max(UNPACKED_FACTOR * zip_size, MIN_UNPACKED_CAP)


def _bad_name(name: str) -> str | None:
    if not name or "\x00" in name:
        return "has an empty name or a NUL byte"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    parts = re.split(r"[/\\]", name)
    if ".." in parts:
        return "climbs out of the folder with '..'"
    if not any(p not in ("", ".") for p in parts):
        return "has an empty name"
    return None


def check_zip(
    zf: zipfile.ZipFile,
    *,
    source: object = "zip",
    max_total: int | None = None,
    action: str = "extract",
) -> list[zipfile.ZipInfo]:
    """Refuse hostile zips before anything is extracted; returns the entries.

    Refused: absolute paths, ``..`` components, symlinks, encrypted entries, a total
    unpacked size over ``max_total``, and entries of at least :data:`RATIO_MIN_SIZE` bytes
    compressed more than :data:`MAX_RATIO` times.
    """
    total = 0
    infos = zf.infolist()
    for zi in infos:
        why = _bad_name(zi.filename)
        if why is None:
            mode = (zi.external_attr >> 16) & 0xFFFF
            if stat.S_ISLNK(mode):
                why = "is a symbolic link"
            elif zi.flag_bits & 0x1:
                why = "is encrypted"
            elif not zi.is_dir():
                total += zi.file_size
                if zi.file_size >= RATIO_MIN_SIZE and zi.file_size > MAX_RATIO * max(
                    zi.compress_size, 1
                ):
                    why = (
                        f"unpacks to {zi.file_size} bytes from {zi.compress_size} "
                        f"(more than {MAX_RATIO} times: a zip bomb?)"
                    )
        if why is not None:
            raise DatasetError(f"{source}: refusing to {action} it: entry {zi.filename!r} {why}")
        if max_total is not None and total > max_total:
            raise DatasetError(
                f"{source}: refusing to {action} it: it unpacks to more than {max_total} bytes"
            )
    return infos


def safe_extract(
    zip_path: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    max_total: int | None = None,
    cancel: Any = None,
) -> Path:
    """Extract ``zip_path`` into the new folder ``dest`` after :func:`check_zip` passes.

    ``max_total`` defaults to :data:`UNPACKED_FACTOR` × the zip's size (at least
    :data:`MIN_UNPACKED_CAP`). On any error ``dest`` is removed.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    if max_total is None:
        max_total = unpacked_cap(zip_path.stat().st_size)
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DatasetError(f"{zip_path}: not a readable zip file ({e})") from e
    with zf:
        infos = check_zip(zf, source=zip_path, max_total=max_total)
        dest.mkdir(parents=True)
        root = dest.resolve()
        written = 0
        try:
            for zi in infos:
                check_cancel(cancel, f"extracting {zip_path.name}")
                parts = [p for p in re.split(r"[/\\]", zi.filename) if p not in ("", ".")]
                target = dest.joinpath(*parts)
                if not target.resolve().is_relative_to(root):
                    raise DatasetError(f"{zip_path}: entry {zi.filename!r} escapes the folder")
                if zi.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(zi) as src, open(target, "wb") as out:
                    while True:
                        block = src.read(CHUNK)
                        if not block:
                            break
                        written += len(block)
                        if written > max_total:
                            raise DatasetError(
                                f"{zip_path}: refusing to extract: it unpacks to more than "
                                f"{max_total} bytes"
                            )
                        out.write(block)
        except DatasetError:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,
        ) as e:
            shutil.rmtree(dest, ignore_errors=True)
            raise DatasetError(f"{zip_path}: cannot extract ({e}); the file may be damaged") from e
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return dest


def pick_folder(extracted: Path, folder: str | None) -> Path:
    """The dataset folder inside an extracted zip: the catalogue's, the single top folder, or
    the extraction folder itself."""
    if folder and (extracted / folder).is_dir():
        return extracted / folder
    entries = [p for p in extracted.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return extracted
