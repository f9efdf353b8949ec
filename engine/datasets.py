"""Datasets rbm-tui offers: the catalogue, downloads, imports, and DATA arguments -> paths.

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

Downloads (:func:`download`) stream to a temporary folder inside ``datasets_dir()``, check
the size cap and the MD5 checksum *before* anything is extracted, refuse hostile zips, and
only then swap the result into place, so a failed or cancelled download leaves nothing behind
and keeps the previous copy. Nothing here imports Textual or torch; the ratings loader is
imported lazily (for :func:`import_dataset` only).

Environment: ``RBM_TUI_MIRROR=http://host:port/some/path/`` makes :func:`download` fetch
``<mirror>/<name>.zip`` (and ``<mirror>/<name>.zip.md5`` when the catalogue pins no checksum)
instead of the GroupLens URL.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import stat
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import paths

__all__ = [
    "DatasetError",
    "DatasetInfo",
    "DownloadCancelled",
    "catalogue",
    "check_zip",
    "default_dataset",
    "demo_path",
    "download",
    "get",
    "import_dataset",
    "is_on_disk",
    "local_path",
    "names",
    "remove",
    "resolve",
    "safe_extract",
]

#: The registry of imported datasets, inside ``paths.datasets_dir()``.
REGISTRY_FILE = "imported.json"
#: Written inside each downloaded dataset folder: where it came from.
MARKER_FILE = ".rbm-tui-dataset.json"
#: Environment variable: a base URL that replaces ``https://files.grouplens.org/.../``.
MIRROR_ENV = "RBM_TUI_MIRROR"

CHUNK = 64 * 1024
#: Zip entries compressing better than this are refused (zip bombs)...
MAX_RATIO = 200
#: ...when they unpack to at least this many bytes (tiny files may compress absurdly well).
RATIO_MIN_SIZE = 64 * 1024
#: Default cap on what a zip may unpack to: this many times the zip's size, at least
#: MIN_UNPACKED_CAP.
UNPACKED_FACTOR = 20
MIN_UNPACKED_CAP = 64 * 1024 * 1024
#: Default download cap when the catalogue knows no size.
UNKNOWN_SIZE_CAP = 4 * 1024**3

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MD5 = re.compile(r"\b([0-9a-fA-F]{32})\b")
#: Ratings files whose folder names the dataset (``ml-100k/u.data`` -> ``ml-100k``).
_RATINGS_FILES = {"u.data", "ratings.dat", "ratings.csv"}
#: Files copied along with an imported ratings file: the loader reads titles from them.
_SIDECARS = ("movies.csv", "movies.dat", "u.item", "u.genre", "links.csv", "tags.csv")


class DatasetError(Exception):
    """A dataset problem, with a message that says what happened and what to do."""


class DownloadCancelled(DatasetError):
    """The download was cancelled (``cancel`` fired); nothing was left behind."""


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
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


# ------------------------------------------------------------------------- catalogue
def _package_data_dir() -> Path:
    try:
        from data import DATA_DIR

        return Path(DATA_DIR)
    except ImportError:  # pragma: no cover - running from an odd layout
        return Path(__file__).resolve().parent.parent / "data"


def demo_path() -> Path:
    """The bundled demo dataset's folder (MovieLens "latest" layout)."""
    return _package_data_dir() / "demo"


@lru_cache(maxsize=1)
def _builtin() -> tuple[DatasetInfo, ...]:
    path = _package_data_dir() / "catalogue.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DatasetError(f"cannot read the dataset catalogue {path}: {e}") from e
    return tuple(DatasetInfo.from_dict(d) for d in doc["datasets"])


def _registry_path() -> Path:
    return paths.datasets_dir() / REGISTRY_FILE


def _read_registry() -> dict[str, dict[str, Any]]:
    p = _registry_path()
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        sets = doc.get("datasets", {})
        return {k: v for k, v in sets.items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_registry(sets: dict[str, dict[str, Any]]) -> None:
    doc = {"version": 1, "datasets": dict(sorted(sets.items()))}
    blob = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    paths.atomic_write_bytes(_registry_path(), blob)


def _imported() -> list[DatasetInfo]:
    builtin = {d.name.lower() for d in _builtin()}
    out = []
    for name, rec in sorted(_read_registry().items()):
        if name.lower() in builtin or not _NAME.match(name):
            continue
        rec = {**rec, "name": name, "kind": "imported"}
        rec.setdefault("title", name)
        try:
            out.append(DatasetInfo.from_dict(rec))
        except TypeError:
            continue
    return out


def catalogue() -> list[DatasetInfo]:
    """Every dataset: the demo, the GroupLens sets (small to large), then imported ones."""
    return [*_builtin(), *_imported()]


def names() -> list[str]:
    """The names of :func:`catalogue`, in order."""
    return [d.name for d in catalogue()]


def _find(name: str) -> DatasetInfo | None:
    key = str(name).strip().lower()
    for d in catalogue():
        if d.name.lower() == key:
            return d
    return None


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
        p = target / d.entry
        return p if p.exists() else None
    return target if target.is_dir() else None


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


def resolve(data: str | os.PathLike[str]) -> Path:
    """Turn a CLI/App DATA argument into a path the loader reads.

    ``data`` is a dataset name (``demo``, ``ml-100k``, an imported name; case-insensitive)
    or an existing folder, ``.zip`` or ratings file. A built-in dataset that is not on disk
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
            if info.kind == "builtin":
                raise DatasetError(
                    f"the dataset {info.name} ({info.title}) is not downloaded yet. "
                    f"Download it with:  rbm-tui datasets download {info.name}"
                )
            if info.kind == "demo":
                raise DatasetError(
                    f"the bundled demo dataset is missing from {demo_path()}; reinstall rbm-tui"
                )
            raise DatasetError(
                f"the imported dataset {info.name} is missing from "
                f"{paths.datasets_dir() / info.name} (was {info.source or 'its source'} moved "
                f"or deleted?). Import it again with:  rbm-tui datasets import PATH"
            )
    p = Path(text).expanduser()
    if p.exists():
        if not (p.is_dir() or p.is_file()):
            raise DatasetError(f"{p} is neither a file nor a folder")
        return p.resolve()
    if looks_like_path:
        raise DatasetError(f"no such file or folder: {p}")
    raise DatasetError(
        f"{text!r} is neither a dataset ({', '.join(names())}) nor an existing file or "
        "folder. List datasets with:  rbm-tui datasets"
    )


# ------------------------------------------------------------------------- zip safety
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
    zf: zipfile.ZipFile, *, source: object = "zip", max_total: int | None = None
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
            raise DatasetError(f"{source}: refusing to extract: entry {zi.filename!r} {why}")
        if max_total is not None and total > max_total:
            raise DatasetError(
                f"{source}: refusing to extract: it unpacks to more than {max_total} bytes"
            )
    return infos


def _is_cancelled(cancel: Callable[[], bool] | Any | None) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if callable(is_set) else cancel())


def _check_cancel(cancel: Any, what: str) -> None:
    if _is_cancelled(cancel):
        raise DownloadCancelled(f"{what} cancelled")


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
        max_total = max(UNPACKED_FACTOR * zip_path.stat().st_size, MIN_UNPACKED_CAP)
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
                _check_cancel(cancel, f"extracting {zip_path.name}")
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


def _pick_folder(extracted: Path, folder: str | None) -> Path:
    """The dataset folder inside an extracted zip: the catalogue's, the single top folder, or
    the extraction folder itself."""
    if folder and (extracted / folder).is_dir():
        return extracted / folder
    entries = [p for p in extracted.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return extracted


# ------------------------------------------------------------------------ installing
def _remove_path(p: Path) -> None:
    if p.is_symlink() or p.is_file():
        p.unlink(missing_ok=True)
    elif p.exists():
        shutil.rmtree(p, ignore_errors=True)


def _install(staged: Path, target: Path) -> Path:
    """Move ``staged`` to ``target`` (same filesystem), replacing a previous ``target`` only
    once the new one is in place."""
    old = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(target, old)
    try:
        os.rename(staged, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        _remove_path(old)
    return target


#: Temporary folders older than this are leftovers of a killed process and get swept.
STALE_SECONDS = 24 * 3600
_TEMP = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9._-]*\.(download|import|removing)-")


def _sweep(root: Path) -> None:
    """Remove temporary folders that a killed download/import/remove left behind."""
    now = time.time()
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for p in entries:
        try:
            if _TEMP.match(p.name) and now - p.lstat().st_mtime > STALE_SECONDS:
                _remove_path(p)
        except OSError:
            continue


def _work_dir(name: str, what: str) -> Path:
    root = paths.datasets_dir()
    _sweep(root)
    return Path(tempfile.mkdtemp(prefix=f".{name}.{what}-", dir=root))


def remove(name: str) -> bool:
    """Delete a downloaded or imported dataset (never the demo, never a link's source).

    Returns True when something was removed.
    """
    info = get(name)
    if info.kind == "demo":
        raise DatasetError("the bundled demo dataset cannot be removed")
    target = paths.datasets_dir() / info.name
    removed = False
    if target.exists() or target.is_symlink():
        trash = target.with_name(f".{target.name}.removing-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(target, trash)
        _remove_path(trash)
        removed = True
    if info.kind == "imported":
        reg = _read_registry()
        if reg.pop(info.name, None) is not None:
            _write_registry(reg)
            removed = True
    return removed


# ------------------------------------------------------------------------- downloads
def _by_hand(info: DatasetInfo, url: str) -> str:
    return (
        f"If this computer is offline or the server is down, download {url} by hand "
        f"(browser, curl), then run:  rbm-tui datasets import PATH/TO/{info.filename} "
        f"(it then becomes the {info.name} dataset)"
    )


def _net_error(info: DatasetInfo, url: str, why: str, zip_url: str | None = None) -> DatasetError:
    """``url``: what failed; ``zip_url``: the dataset's zip (to fetch by hand), default ``url``."""
    by_hand = _by_hand(info, zip_url or url)
    return DatasetError(f"could not download {info.name} from {url}: {why}. {by_hand}")


def _open(
    url: str, info: DatasetInfo, timeout: float, zip_url: str | None = None
) -> http.client.HTTPResponse:
    from engine import __version__

    req = urllib.request.Request(url, headers={"User-Agent": f"rbm-tui/{__version__}"})
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        e.close()
        why = f"the server answered HTTP {e.code} {e.reason}"
        raise _net_error(info, url, why, zip_url) from e
    except urllib.error.URLError as e:
        raise _net_error(info, url, f"cannot reach the server ({e.reason})", zip_url) from e
    except TimeoutError as e:
        raise _net_error(info, url, f"no answer within {timeout} s", zip_url) from e
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise _net_error(info, url, f"network error ({e})", zip_url) from e


def _fetch_md5(url: str, info: DatasetInfo, timeout: float) -> str:
    md5_url = url + ".md5"
    with _open(md5_url, info, timeout, zip_url=url) as resp:
        try:
            text = resp.read(4096).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            raise _net_error(info, md5_url, f"network error ({e})", url) from e
    m = _MD5.search(text)
    if m is None:
        raise DatasetError(
            f"the checksum file {md5_url} holds no MD5 checksum; refusing to install an "
            f"unverified download. {_by_hand(info, url)}"
        )
    return m.group(1).lower()


def _fetch(
    url: str,
    dest: Path,
    info: DatasetInfo,
    *,
    progress: Callable[[int, int | None], object] | None,
    cancel: Any,
    cap: int,
    timeout: float,
) -> tuple[str, int]:
    """Stream ``url`` into ``dest``; returns (md5 hex digest, bytes)."""
    what = f"download of {info.name}"
    with _open(url, info, timeout) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.strip().isdigit() else None
        if total is not None and total > cap:
            raise DatasetError(
                f"refusing to download {url}: the server says it is {total} bytes, more than "
                f"the {cap}-byte limit for {info.name} (pass a larger max_bytes if this is right)"
            )
        h = hashlib.md5()
        done = 0
        if progress is not None:
            progress(0, total)
        read = getattr(resp, "read1", resp.read)
        with open(dest, "wb") as fh:
            while True:
                _check_cancel(cancel, what)
                try:
                    block = read(CHUNK)
                except TimeoutError as e:
                    why = f"the server stopped sending for {timeout} s"
                    raise _net_error(info, url, why) from e
                except (OSError, http.client.HTTPException) as e:
                    raise _net_error(info, url, f"the connection failed ({e})") from e
                if not block:
                    break
                done += len(block)
                if done > cap:
                    raise DatasetError(
                        f"refusing to download {url}: it is larger than the {cap}-byte limit "
                        f"for {info.name} (pass a larger max_bytes if this is right)"
                    )
                fh.write(block)
                h.update(block)
                if progress is not None:
                    progress(done, total)
        _check_cancel(cancel, what)
        if total is not None and done != total:
            raise _net_error(
                info, url, f"the download stopped after {done} of {total} bytes (truncated)"
            )
        if done == 0:
            raise _net_error(info, url, "the server sent an empty file")
    return h.hexdigest(), done


def _source_url(info: DatasetInfo, url: str | None) -> tuple[str, bool]:
    """(URL to fetch, whether it is an explicit override)."""
    if url:
        return url, True
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        return mirror.rstrip("/") + "/" + (info.filename or f"{info.name}.zip"), False
    assert info.url is not None
    return info.url, False


def download(
    name: str,
    *,
    progress: Callable[[int, int | None], object] | None = None,
    cancel: Callable[[], bool] | Any | None = None,
    max_bytes: int | None = None,
    url: str | None = None,
    timeout: float = 30,
    md5: str | None = None,
) -> Path:
    """Download built-in dataset ``name`` from GroupLens, verify it and install it.

    Returns ``paths.datasets_dir()/<name>``, the extracted dataset folder.

    - ``progress(done_bytes, total_bytes_or_None)`` is called with increasing byte counts
      (first with 0); ``total`` comes from Content-Length.
    - ``cancel``: a callable returning True, or a ``threading.Event``, checked between chunks
      (and before extracting and installing); raises :class:`DownloadCancelled`.
    - ``max_bytes``: refuse a download larger than this (Content-Length or bytes read);
      default the catalogue size × 1.5 + 16 MiB.
    - ``url``: fetch this URL instead (tests, mirrors); its checksum then comes from
      ``<url>.md5`` beside it, not from the catalogue.
    - ``md5``: the expected checksum, overriding the catalogue's and the ``.md5`` file.
    - ``timeout``: seconds to wait for the server on each network operation.

    Without ``url``, ``$RBM_TUI_MIRROR`` (a base URL, e.g. ``http://127.0.0.1:8000/``)
    replaces the GroupLens folder: ``<mirror>/<name>.zip`` is fetched, checked against the
    catalogue's pinned MD5 when there is one, else against ``<mirror>/<name>.zip.md5``.

    The zip is checked (MD5 before anything is extracted; hostile entries refused) and
    unpacked in a temporary folder in ``datasets_dir()``, then renamed into place: on any
    failure or cancel nothing is left behind and a previous copy stays intact.

    Raises :class:`DatasetError` (offline, HTTP errors, timeouts, truncated body, checksum
    mismatch, size cap, hostile zip) with the URL to fetch by hand and the
    ``rbm-tui datasets import PATH`` command to use after.
    """
    info = get(name)
    if not info.downloadable:
        raise DatasetError(
            f"{info.name} is not a dataset rbm-tui downloads (it is {info.kind}); downloadable: "
            + ", ".join(d.name for d in catalogue() if d.downloadable)
        )
    src, explicit = _source_url(info, url)
    scheme = urllib.parse.urlsplit(src).scheme.lower()
    if scheme not in ("http", "https"):
        raise DatasetError(f"cannot download {src}: only http:// and https:// URLs are supported")
    expected = md5 or (None if explicit else info.md5)
    if max_bytes is None:
        max_bytes = int(info.size * 1.5) + 16 * 1024 * 1024 if info.size else UNKNOWN_SIZE_CAP
    what = f"download of {info.name}"
    _check_cancel(cancel, what)
    work = _work_dir(info.name, "download")
    try:
        if expected is None:
            expected = _fetch_md5(src, info, timeout)
        zip_path = work / (info.filename or f"{info.name}.zip")
        digest, nbytes = _fetch(
            src,
            zip_path,
            info,
            progress=progress,
            cancel=cancel,
            cap=max_bytes,
            timeout=timeout,
        )
        if digest != expected.strip().lower():
            raise DatasetError(
                f"the download of {info.name} from {src} is damaged: its MD5 is {digest}, "
                f"expected {expected.strip().lower()}. Nothing was installed; try again later. "
                + _by_hand(info, src)
            )
        _check_cancel(cancel, what)
        extracted = safe_extract(zip_path, work / "extracted", cancel=cancel)
        zip_path.unlink()
        folder = _pick_folder(extracted, info.folder)
        marker = {
            "name": info.name,
            "url": src,
            "md5": digest,
            "bytes": nbytes,
            "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (folder / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _check_cancel(cancel, what)
        return _install(folder, paths.datasets_dir() / info.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- imports
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
    from engine.loaders import load_ratings
    from engine.ratings import RatingsError

    try:
        r = load_ratings(path, cache=False)
    except RatingsError as e:
        raise DatasetError(f"{path} does not load as ratings: {e}") from e
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise DatasetError(f"{path} does not load as ratings: {e}") from e
    if r.n_ratings == 0:
        raise DatasetError(f"{path} holds no ratings")
    return r


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
    if not _NAME.match(name) or name.lower() == REGISTRY_FILE:
        raise DatasetError(
            f"bad dataset name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    builtin = next((d for d in _builtin() if d.name.lower() == name.lower()), None)
    if builtin is not None and builtin.kind == "demo":
        raise DatasetError("'demo' is the bundled dataset's name; choose another name")
    if builtin is not None:
        name = builtin.name
    root = paths.datasets_dir()
    target = root / name
    if src.is_relative_to(root.resolve() / name):
        raise DatasetError(f"{src} is already the dataset {name}")
    is_zip = src.is_file() and (src.suffix.lower() == ".zip" or zipfile.is_zipfile(src))

    work = _work_dir(name, "import")
    try:
        entry = ""
        linked = False
        if is_zip:
            extracted = safe_extract(src, work / "extracted")
            staged = _pick_folder(extracted, builtin.folder if builtin else None)
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
            _install(staged, target)
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
        _install(staged, target)
        reg = _read_registry()
        reg = {k: v for k, v in reg.items() if k.lower() != name.lower()}
        rec = info.to_dict()
        rec["imported_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        reg[name] = rec
        _write_registry(reg)
        return info
    except OSError as e:
        raise DatasetError(f"cannot import {src} as {name}: {e}") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)
