"""Downloading a built-in dataset from GroupLens (or a mirror): streamed, size-capped,
MD5-checked before anything is extracted, then installed atomically.

Environment: ``RBM_TUI_MIRROR=http://host:port/some/path/`` makes :func:`download` fetch
``<mirror>/<name>.zip`` (and ``<mirror>/<name>.zip.md5`` when the catalogue pins no checksum)
instead of the GroupLens URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import paths
from engine.archive import copy_capped, pick_folder, safe_extract
from engine.cancel import check_cancel, is_cancelled
from engine.catalogue.install import install, work_dir
from engine.catalogue.registry import MARKER_FILE, DatasetInfo, catalogue, get
from engine.errors import DatasetError

#: Environment variable: a base URL that replaces ``https://files.grouplens.org/.../``.
MIRROR_ENV = "RBM_TUI_MIRROR"
#: Default download cap when the catalogue knows no size.
UNKNOWN_SIZE_CAP = 4 * 1024**3
_MD5 = re.compile(r"\b([0-9a-fA-F]{32})\b")


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


def _content_length(
    resp: http.client.HTTPResponse, url: str, info: DatasetInfo, cap: int
) -> int | None:
    """The size the server announces (None when it says none), refused over ``cap``."""
    length = resp.headers.get("Content-Length")
    total = int(length) if length and length.strip().isdigit() else None
    if total is not None and total > cap:
        raise DatasetError(
            f"refusing to download {url}: the server says it is {total} bytes, more than "
            f"the {cap}-byte limit for {info.name} (pass a larger max_bytes if this is right)"
        )
    return total


def _reader(
    resp: http.client.HTTPResponse,
    info: DatasetInfo,
    url: str,
    timeout: float,
    cancel: Callable[[], bool] | Any | None = None,
) -> Callable[[int], bytes]:
    """``resp``'s read, with network failures turned into one :class:`DatasetError` (or
    :class:`DownloadCancelled`, when the failure is the cancel hanging up)."""
    read = getattr(resp, "read1", resp.read)
    what = f"download of {info.name}"

    def guarded(n: int) -> bytes:
        try:
            block = read(n)
        except TimeoutError as e:
            check_cancel(cancel, what)
            raise _net_error(info, url, f"the server stopped sending for {timeout} s") from e
        except (OSError, http.client.HTTPException) as e:
            check_cancel(cancel, what)
            raise _net_error(info, url, f"the connection failed ({e})") from e
        if not block:  # the end, or the cancel hung up
            check_cancel(cancel, what)
        return block

    return guarded


@contextlib.contextmanager
def _hang_up_on_cancel(resp: http.client.HTTPResponse, cancel: Any, every: float = 0.2):
    """While the body streams, a watcher shuts the connection down once ``cancel`` turns
    true: a read waiting on a silent server then returns at once instead of after the
    timeout (a Ctrl+C alone does not end it: the read resumes after the signal)."""
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is None or cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(every):
            if is_cancelled(cancel):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                return

    watcher = threading.Thread(target=watch, name="download-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


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
    h = hashlib.md5()
    with _open(url, info, timeout) as resp, _hang_up_on_cancel(resp, cancel):
        total = _content_length(resp, url, info, cap)
        if progress is not None:
            progress(0, total)

        def after(block: bytes, done: int) -> None:
            h.update(block)
            if progress is not None:
                progress(done, total)

        def too_big() -> DatasetError:
            return DatasetError(
                f"refusing to download {url}: it is larger than the {cap}-byte limit "
                f"for {info.name} (pass a larger max_bytes if this is right)"
            )

        with open(dest, "wb") as fh:
            done = copy_capped(
                _reader(resp, info, url, timeout, cancel),
                fh.write,
                cap=cap,
                too_big=too_big,
                before=lambda: check_cancel(cancel, what),
                after=after,
            )
        check_cancel(cancel, what)
        if total is not None and done != total:
            why = f"the download stopped after {done} of {total} bytes (truncated)"
            raise _net_error(info, url, why)
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
    src, expected, max_bytes = _plan(info, url, md5, max_bytes)
    what = f"download of {info.name}"
    check_cancel(cancel, what)
    work = work_dir(info.name, "download")
    try:
        if expected is None:
            expected = _fetch_md5(src, info, timeout)
        zip_path = work / (info.filename or f"{info.name}.zip")
        fetched = _fetch(
            src, zip_path, info, progress=progress, cancel=cancel, cap=max_bytes, timeout=timeout
        )
        _check_digest(fetched[0], expected, info, src)
        check_cancel(cancel, what)
        folder = _unpack(zip_path, work, info, cancel)
        _mark(folder, info, src, fetched)
        check_cancel(cancel, what)
        return install(folder, paths.datasets_dir() / info.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _plan(
    info: DatasetInfo, url: str | None, md5: str | None, max_bytes: int | None
) -> tuple[str, str | None, int]:
    """(the URL to fetch, the MD5 expected or None to fetch it, the size cap), checked."""
    if not info.downloadable:
        raise DatasetError(
            f"{info.name} is not a dataset rbm-tui downloads (it is {info.kind}); downloadable: "
            + ", ".join(d.name for d in catalogue() if d.downloadable)
        )
    src, explicit = _source_url(info, url)
    scheme = urllib.parse.urlsplit(src).scheme.lower()
    if scheme not in ("http", "https"):
        raise DatasetError(f"cannot download {src}: only http:// and https:// URLs are supported")
    if max_bytes is None:
        max_bytes = int(info.size * 1.5) + 16 * 1024 * 1024 if info.size else UNKNOWN_SIZE_CAP
    return src, md5 or (None if explicit else info.md5), max_bytes


def _check_digest(digest: str, expected: str, info: DatasetInfo, src: str) -> None:
    if digest != expected.strip().lower():
        raise DatasetError(
            f"the download of {info.name} from {src} is damaged: its MD5 is {digest}, "
            f"expected {expected.strip().lower()}. Nothing was installed; try again later. "
            + _by_hand(info, src)
        )


def _mark(folder: Path, info: DatasetInfo, src: str, fetched: tuple[str, int]) -> None:
    """Write where the dataset came from (:data:`MARKER_FILE`) into its folder."""
    marker = {
        "name": info.name,
        "url": src,
        "md5": fetched[0],
        "bytes": fetched[1],
        "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (folder / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _unpack(zip_path: Path, work: Path, info: DatasetInfo, cancel: Any) -> Path:
    """The dataset folder of the downloaded zip, extracted in ``work`` (the zip removed)."""
    extracted = safe_extract(zip_path, work / "extracted", cancel=cancel)
    zip_path.unlink()
    return pick_folder(extracted, info.folder)
