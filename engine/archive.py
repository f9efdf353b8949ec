"""Zip safety: hostile archives are refused before anything is extracted.

Refused: more than :data:`MAX_ENTRIES` entries, absolute paths, ``..`` components, symlinks,
encrypted entries, a total unpacked size over a cap, and entries compressed more than
:data:`MAX_RATIO` times (zip bombs).
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
from collections.abc import Callable
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
#: A zip with more entries than this is refused before anything is read or extracted.
MAX_ENTRIES = 100_000
#: What reading a damaged zip raises: a bad CRC, a cut or inconsistent entry, a broken
#: compressed stream, an unsupported method. Callers turn these into one line naming the zip.
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
)


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

    Refused: more than :data:`MAX_ENTRIES` entries, absolute paths, ``..`` components,
    symlinks, encrypted entries, a total unpacked size over ``max_total``, and entries of at
    least :data:`RATIO_MIN_SIZE` bytes compressed more than :data:`MAX_RATIO` times.
    """
    total = 0
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise DatasetError(
            f"{source}: refusing to {action} it: it holds {len(infos):,} entries, more than "
            f"{MAX_ENTRIES:,}"
        )
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


def copy_capped(
    read: Callable[[int], bytes],
    write: Callable[[bytes], object],
    *,
    cap: int,
    too_big: Callable[[], Exception],
    done: int = 0,
    before: Callable[[], None] | None = None,
    after: Callable[[bytes, int], None] | None = None,
) -> int:
    """Copy ``read(CHUNK)`` blocks to ``write`` until the source ends; returns ``done`` plus
    the bytes copied. Raises ``too_big()`` as soon as that total passes ``cap``, before
    writing the block that passes it. ``before()`` runs before each read (a cancel check),
    ``after(block, total)`` after each write (a checksum, a progress bar)."""
    while True:
        if before is not None:
            before()
        block = read(CHUNK)
        if not block:
            return done
        done += len(block)
        if done > cap:
            raise too_big()
        write(block)
        if after is not None:
            after(block, done)


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DatasetError(f"{zip_path}: not a readable zip file ({e})") from e


def _member_target(zip_path: Path, dest: Path, root: Path, zi: zipfile.ZipInfo) -> Path:
    """Where entry ``zi`` goes inside ``dest`` (whose resolved path is ``root``)."""
    parts = [p for p in re.split(r"[/\\]", zi.filename) if p not in ("", ".")]
    target = dest.joinpath(*parts)
    if not target.resolve().is_relative_to(root):
        raise DatasetError(f"{zip_path}: entry {zi.filename!r} escapes the folder")
    return target


def _extract_all(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], zip_path: Path, dest: Path, *,
    max_total: int, cancel: Any,
) -> None:  # fmt: skip
    root = dest.resolve()
    written = 0

    def too_big() -> DatasetError:
        return DatasetError(
            f"{zip_path}: refusing to extract: it unpacks to more than {max_total} bytes"
        )

    for zi in infos:
        check_cancel(cancel, f"extracting {zip_path.name}")
        target = _member_target(zip_path, dest, root, zi)
        if zi.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(zi) as src, open(target, "wb") as out:
            written = copy_capped(src.read, out.write, cap=max_total, too_big=too_big, done=written)


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
    with _open_zip(zip_path) as zf:
        infos = check_zip(zf, source=zip_path, max_total=max_total)
        dest.mkdir(parents=True)
        try:
            _extract_all(zf, infos, zip_path, dest, max_total=max_total, cancel=cancel)
        except ZIP_READ_ERRORS as e:
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
