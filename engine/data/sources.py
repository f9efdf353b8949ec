"""Where ratings come from: a file on disk or a member of a zip, and the plan to read them.

:func:`plan_source` turns a path (a folder, a GroupLens ``.zip`` or one file) into a
:class:`Plan`: the ratings :class:`Source` to read, its kind (MovieLens 100K tab file,
``::``-separated ``.dat`` file or a delimited CSV/TSV) and the files the parse cache depends on.
A source also finds the metadata files beside it (``u.item``, ``movies.csv``...).
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.archive import ZIP_READ_ERRORS, check_zip, unpacked_cap
from engine.errors import DatasetError, RatingsError

#: The ratings files of the MovieLens layouts, in order of preference.
RATINGS_NAMES = ("u.data", "ratings.dat", "ratings.csv")
_ML100K_NAME = re.compile(r"^u(\d|a|b)?\.(data|base|test)$")


class Source:
    """A file to read: on disk or inside a zip. ``display`` is what error messages show."""

    display: str
    name: str

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def size(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def sibling(self, name: str) -> Source | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def read_bytes(self) -> bytes:
        with self.open() as fh:
            return fh.read()

    def head(self, n: int = 65536) -> bytes:
        with self.open() as fh:
            return fh.read(n)


class FileSource(Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.display = str(path)
        self.name = path.name

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        try:
            fh = open(self.path, "rb")
        except OSError as e:
            raise RatingsError(self.display, f"cannot open the file: {e.strerror}") from e
        with fh:
            yield fh

    def size(self) -> int:
        return self.path.stat().st_size

    def sibling(self, name: str) -> Source | None:
        p = self.path.parent / name
        return FileSource(p) if p.is_file() else None


class ZipSource(Source):
    def __init__(self, zip_path: Path, member: str, names: set[str]) -> None:
        self.zip_path = zip_path
        self.member = member
        self.names = names
        self.display = f"{zip_path}:{member}"
        self.name = member.rsplit("/", 1)[-1]

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The member, read in place; a damaged zip (bad CRC, an entry whose header does not
        match its data) raises a :class:`RatingsError` naming the zip, whoever is reading."""
        try:
            with zipfile.ZipFile(self.zip_path) as zf, zf.open(self.member) as fh:
                yield fh
        except ZIP_READ_ERRORS as e:
            raise RatingsError(
                self.zip_path,
                f"cannot read {self.member} from the zip ({e}); the file is damaged",
                hint="download or copy the zip again",
            ) from None

    def size(self) -> int:
        with zipfile.ZipFile(self.zip_path) as zf:
            return zf.getinfo(self.member).file_size

    def sibling(self, name: str) -> Source | None:
        folder = self.member.rsplit("/", 1)[0] + "/" if "/" in self.member else ""
        m = folder + name
        return ZipSource(self.zip_path, m, self.names) if m in self.names else None


@dataclass
class Plan:
    """What to read: the ratings source, its kind, and the files the cache key depends on."""

    source: Source
    kind: str  # "ml100k" (tab, no header), "dat" (``::``), "delimited" (CSV/TSV, sniffed)
    key_files: list[Path] = field(default_factory=list)


def plan_source(path: Path) -> Plan:
    """What to read for ``path``: a folder, a zip (checked: no bombs) or one ratings file.
    Anything that is not a regular file or a folder (a device, a FIFO) is refused."""
    check_readable(path)
    if path.is_dir():
        return _plan_dir(path)
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return _plan_zip(path)
    return _plan_file(FileSource(path), [path])


def _plan_dir(path: Path) -> Plan:
    for folder in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
        for name in RATINGS_NAMES:
            f = folder / name
            if f.is_file():
                return _plan_file(FileSource(f), [f])
    skip = {"movies", "links", "tags", "genome-scores", "genome-tags", "users"}
    cands = [
        p
        for p in sorted(path.iterdir())
        if p.is_file()
        and p.suffix.lower() in (".csv", ".tsv", ".dat", ".txt")
        and p.stem.lower() not in skip
    ]
    if len(cands) == 1:
        return _plan_file(FileSource(cands[0]), [cands[0]])
    raise RatingsError(
        path,
        "no ratings file found in this folder",
        hint="expected u.data, ratings.dat or ratings.csv (or a single ratings CSV); "
        "pass the ratings file itself",
    )


def check_readable(path: Path) -> None:
    """Raise :class:`RatingsError` unless ``path`` is an existing folder or regular file (a
    device or FIFO could be read without end, or block)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise RatingsError(path, "no such file or directory", hint="check the path") from None
    except OSError as e:
        raise RatingsError(path, f"cannot read it: {e.strerror or e}") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise RatingsError(
            path, "not a regular file or a folder (a device, FIFO or socket is never read)"
        )


def _plan_zip(path: Path) -> Plan:
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip(zf, source=path, max_total=unpacked_cap(path.stat().st_size), action="read")
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except DatasetError as e:
        raise RatingsError(path, str(e).removeprefix(f"{path}: ")) from None
    except (zipfile.BadZipFile, OSError) as e:
        raise RatingsError(path, f"not a readable zip file ({e})", hint="download it again") from e
    found = [n for n in names if n.rsplit("/", 1)[-1] in RATINGS_NAMES]
    if not found:
        raise RatingsError(
            path,
            "the zip holds no ratings file (u.data, ratings.dat or ratings.csv)",
            hint="use a MovieLens zip as GroupLens ships it, or pass the ratings file itself",
        )
    found.sort(key=lambda n: (n.count("/"), RATINGS_NAMES.index(n.rsplit("/", 1)[-1]), n))
    src = ZipSource(path, found[0], set(names))
    return _plan_file(src, [path])


def _plan_file(src: Source, key_files: list[Path]) -> Plan:
    name = src.name.lower()
    if _ML100K_NAME.match(name):
        kind = "ml100k"
    elif name.endswith(".dat"):
        kind = "dat"
    else:
        first = src.head(4096).split(b"\n", 1)[0]
        kind = "dat" if b"::" in first else "delimited"
    if b"\x00" in src.head(65536):
        raise RatingsError(
            src.display,
            "it holds NUL bytes: not a text ratings file",
            hint="save it as UTF-8 text (CSV)",
        )
    plan = Plan(src, kind, key_files)
    if isinstance(src, FileSource):
        for meta in ("u.item", "u.genre", "movies.dat", "movies.csv"):
            s = src.sibling(meta)
            if isinstance(s, FileSource):
                plan.key_files.append(s.path)
    return plan
