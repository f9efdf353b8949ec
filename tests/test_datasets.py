"""engine.datasets: catalogue, resolve, downloads against a local HTTP server, zip safety,
imports. The server is started by the tests on 127.0.0.1 (port 0); nothing leaves the
machine."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import socket
import stat
import threading
import time
import zipfile
from pathlib import Path

import pytest

from engine import catalogue as ds
from engine import paths
from engine.catalogue.install import STALE_SECONDS
from engine.catalogue.registry import MARKER_FILE, REGISTRY_FILE
from engine.errors import DatasetError, DownloadCancelled

GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
ALL = ["demo", "ml-100k", "ml-1m", "ml-latest-small", "ml-10m", "ml-20m", "ml-25m", "ml-32m"]


# ------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RBM_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(ds.MIRROR_ENV, raising=False)
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return tmp_path / "home"


def _listing() -> list[str]:
    return sorted(os.listdir(paths.datasets_dir()))


def ml100k_files(n_users: int = 12, n_items: int = 10, seed: int = 0) -> dict[str, bytes]:
    """A tiny synthetic dataset in GroupLens' ML-100K layout."""
    genres = [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
        "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
        "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ]  # fmt: skip
    genre = "".join(f"{g}|{i}\n" for i, g in enumerate(genres)).encode("latin-1")
    items = []
    for i in range(1, n_items + 1):
        flags = ["0"] * 19
        flags[1 + (i % 18)] = "1"
        items.append(
            f"{i}|Movie {i} ({1990 + i})|01-Jan-{1990 + i}||http://x/{i}|" + "|".join(flags)
        )
    data = []
    for u in range(1, n_users + 1):
        for i in range(1, n_items + 1):
            if (u * 7 + i * 5 + seed) % 3:
                data.append(f"{u}\t{i}\t{1 + (u + i + seed) % 5}\t{880000000 + u * 100 + i}")
    return {
        "u.data": ("\n".join(data) + "\n").encode(),
        "u.item": ("\n".join(items) + "\n").encode("latin-1"),
        "u.genre": genre,
    }


def make_zip(files: dict[str, bytes], folder: str | None = "ml-100k", extra: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if folder:
            zf.writestr(folder + "/", b"")
        for name, blob in files.items():
            zf.writestr(f"{folder}/{name}" if folder else name, blob)
        if extra:  # incompressible padding, so downloads take several chunks
            zf.writestr(
                zipfile.ZipInfo(f"{folder}/README" if folder else "README"),
                extra,
                compress_type=zipfile.ZIP_STORED,
            )
    return buf.getvalue()


def md5(blob: bytes) -> str:
    return hashlib.md5(blob).hexdigest()


class Server:
    """routes: path -> (mode, body). Modes: ok, truncated, error, slow, hang, nolength."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                owner.requests.append(self.path)
                mode, body = owner.routes.get(self.path, ("missing", b""))
                try:
                    if mode == "missing":
                        self.send_error(404)
                    elif mode == "error":
                        self.send_error(500, "Internal Server Error")
                    elif mode == "hang":
                        owner.stop.wait(10)
                    else:
                        self.send_response(200)
                        self.send_header("Content-Type", "application/zip")
                        if mode == "truncated":
                            self.send_header("Content-Length", str(len(body) + 1000))
                        elif mode != "nolength":
                            self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        if mode == "slow":
                            self.wfile.write(body[:4096])
                            self.wfile.flush()
                            owner.stop.wait(10)
                            self.wfile.write(body[4096:])
                        else:
                            self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve_zip(self, path: str, blob: bytes, mode: str = "ok", checksum: str | None = None):
        self.routes[path] = (mode, blob)
        self.routes[path + ".md5"] = (
            "ok",
            f"MD5 ({path.rsplit('/', 1)[-1]}) = {checksum or md5(blob)}\n".encode(),
        )
        return self.url(path)

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def good_zip():
    return make_zip(ml100k_files(), extra=os.urandom(200_000))


def _load(path):
    from engine.data.loaders import load_ratings

    return load_ratings(path, cache=False)


# ------------------------------------------------------------------------ catalogue
def test_catalogue_lists_every_dataset():
    cat = ds.catalogue()
    assert [d.name for d in cat] == ALL
    assert ds.names() == ALL
    for d in cat:
        assert isinstance(d, ds.DatasetInfo)
        assert d.title and d.licence and d.description
        assert d.users and d.movies and d.ratings and d.size
        if d.kind == "demo":
            assert d.url is None
            assert "synthetic" in d.licence.lower() or "synthetic" in d.description.lower()
            continue
        assert d.kind == "builtin" and d.downloadable
        assert d.url == f"{GROUPLENS}{d.name}.zip"
        assert d.filename == f"{d.name}.zip"
        assert "Harper" in d.citation and "Konstan" in d.citation and "2015" in d.citation
        assert "TiiS" in d.citation or "Interactive Intelligent Systems" in d.citation
        assert "research" in d.licence and "commercial" in d.licence
        assert d.md5 is None or len(d.md5) == 32
        assert d.folder
    assert ds.get("ml-100k").md5 == "0e33842e24a9c977be4e0107933c0723"
    assert ds.get("ml-10m").folder == "ml-10M100K"
    for name in ("ml-100k", "ml-1m"):
        assert "forbids redistributing" in ds.get(name).licence
    assert ds.get("ml-100k").ratings == 100_000 and ds.get("ml-100k").users == 943


def test_get_is_case_insensitive_and_rejects_unknown():
    assert ds.get("ML-100K").name == "ml-100k"
    with pytest.raises(DatasetError, match="unknown dataset 'nope'.*ml-100k"):
        ds.get("nope")
    assert not ds.is_on_disk("nope") and ds.local_path("nope") is None


def test_demo_is_on_disk_and_the_default():
    assert ds.is_on_disk("demo")
    assert ds.local_path("demo") == ds.demo_path()
    assert (ds.demo_path() / "ratings.csv").is_file()
    assert ds.resolve("demo") == ds.demo_path()
    assert ds.default_dataset() == "demo"
    assert not ds.is_on_disk("ml-100k")
    with pytest.raises(DatasetError, match="demo"):
        ds.download("demo")
    with pytest.raises(DatasetError, match="cannot be removed"):
        ds.remove("demo")


def test_resolve_names_and_paths(tmp_path):
    with pytest.raises(DatasetError, match="rbm-tui datasets download ml-1m"):
        ds.resolve("ml-1m")
    with pytest.raises(DatasetError, match="neither a dataset"):
        ds.resolve("no-such-thing")
    with pytest.raises(DatasetError, match="no such file"):
        ds.resolve("./missing.csv")
    with pytest.raises(DatasetError, match="no dataset given"):
        ds.resolve("  ")
    f = tmp_path / "r.csv"
    f.write_text("user,item,rating\n1,2,3\n")
    assert ds.resolve(str(f)) == f.resolve()
    assert ds.resolve(f) == f.resolve()
    assert ds.resolve(str(tmp_path)) == tmp_path.resolve()
    z = tmp_path / "x.zip"
    z.write_bytes(make_zip(ml100k_files()))
    assert ds.resolve(str(z)) == z.resolve()


# ------------------------------------------------------------------------- downloads
def test_download_good(server, good_zip):
    url = server.serve_zip("/ml-100k.zip", good_zip)
    calls = []
    p = ds.download("ml-100k", url=url, progress=lambda d, t: calls.append((d, t)))
    assert p == paths.datasets_dir() / "ml-100k"
    files = ml100k_files()
    for name, blob in files.items():
        assert (p / name).read_bytes() == blob
    assert (p / MARKER_FILE).is_file()
    assert json.loads((p / MARKER_FILE).read_text())["md5"] == md5(good_zip)
    # progress: increasing, from 0 to the whole file, with the total known
    done = [d for d, _ in calls]
    assert done[0] == 0 and done[-1] == len(good_zip) and len(calls) >= 3
    assert done == sorted(done) and len(set(done)) == len(done)
    assert {t for _, t in calls} == {len(good_zip)}
    # the checksum was fetched from <url>.md5 (the catalogue's pin is for GroupLens' file)
    assert server.requests == ["/ml-100k.zip.md5", "/ml-100k.zip"]
    assert _listing() == ["ml-100k"]  # no temporary files left
    assert ds.is_on_disk("ml-100k") and ds.local_path("ml-100k") == p
    assert ds.resolve("ml-100k") == p
    assert ds.default_dataset() == "ml-100k"
    r = _load(ds.resolve("ml-100k"))
    assert r.n_ratings == files["u.data"].count(b"\n")
    # download again: replaces the copy
    ds.download("ml-100k", url=url)
    assert _listing() == ["ml-100k"]
    assert ds.remove("ml-100k") and _listing() == [] and not ds.is_on_disk("ml-100k")


def test_download_with_md5_argument_skips_md5_file(server, good_zip):
    server.routes["/z.zip"] = ("ok", good_zip)
    ds.download("ml-100k", url=server.url("/z.zip"), md5=md5(good_zip).upper())
    assert server.requests == ["/z.zip"]
    assert ds.is_on_disk("ml-100k")


def test_download_through_mirror_env(server, monkeypatch):
    files = {
        "ratings.csv": b"userId,movieId,rating,timestamp\n1,1,4.0,1\n1,2,2.5,2\n2,1,5.0,3\n",
        "movies.csv": b'movieId,title,genres\n1,"Good, Bad (1966)",Western\n2,X (2000),Drama\n',
    }
    blob = make_zip(files, folder="ml-latest-small")
    server.serve_zip("/mirror/ml-latest-small.zip", blob)
    monkeypatch.setenv(ds.MIRROR_ENV, server.url("/mirror/"))
    p = ds.download("ml-latest-small")
    assert server.requests == ["/mirror/ml-latest-small.zip.md5", "/mirror/ml-latest-small.zip"]
    assert (p / "ratings.csv").read_bytes() == files["ratings.csv"]
    assert _load(ds.resolve("ml-latest-small")).n_ratings == 3
    # through a mirror, a pinned checksum is still the one checked
    server.serve_zip("/mirror/ml-100k.zip", make_zip(ml100k_files()))
    with pytest.raises(DatasetError, match="0e33842e24a9c977be4e0107933c0723"):
        ds.download("ml-100k")
    assert not ds.is_on_disk("ml-100k")
    assert _listing() == ["ml-latest-small"]


def test_wrong_checksum_leaves_nothing_and_keeps_previous_copy(server, good_zip):
    url = server.serve_zip("/ml-100k.zip", good_zip)
    p = ds.download("ml-100k", url=url)
    before = {f.name: f.read_bytes() for f in p.iterdir()}
    other = make_zip(ml100k_files(seed=1))
    server.serve_zip("/ml-100k.zip", other, checksum="0" * 32)
    with pytest.raises(DatasetError) as e:
        ds.download("ml-100k", url=url)
    msg = str(e.value)
    assert "MD5" in msg and "0" * 32 in msg and md5(other) in msg
    assert url in msg and "rbm-tui datasets import" in msg
    assert _listing() == ["ml-100k"]
    assert {f.name: f.read_bytes() for f in p.iterdir()} == before
    with pytest.raises(DatasetError, match="damaged"):
        ds.download("ml-100k", url=url, md5="f" * 32)
    assert _listing() == ["ml-100k"]


def test_truncated_body(server, good_zip):
    url = server.serve_zip("/ml-100k.zip", good_zip, mode="truncated")
    with pytest.raises(DatasetError) as e:
        ds.download("ml-100k", url=url, timeout=5)
    msg = str(e.value)
    assert "truncated" in msg and f"{len(good_zip)} of {len(good_zip) + 1000}" in msg
    assert url in msg and "rbm-tui datasets import PATH/TO/ml-100k.zip" in msg
    assert _listing() == []


@pytest.mark.parametrize("which", ["zip", "md5"])
def test_server_error(server, good_zip, which):
    url = server.serve_zip("/ml-100k.zip", good_zip)
    failing = "/ml-100k.zip" if which == "zip" else "/ml-100k.zip.md5"
    server.routes[failing] = ("error", b"")
    with pytest.raises(DatasetError) as e:
        ds.download("ml-100k", url=url)
    msg = str(e.value)
    assert "HTTP 500" in msg and server.url(failing) in msg
    assert f"download {url} by hand" in msg and "rbm-tui datasets import" in msg
    assert _listing() == []


def test_not_found(server):
    with pytest.raises(DatasetError, match="HTTP 404"):
        ds.download("ml-1m", url=server.url("/nothing.zip"), md5="0" * 32)
    assert _listing() == []


def test_offline():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ml-1m.zip"
    with pytest.raises(DatasetError) as e:
        ds.download("ml-1m", url=url, md5="0" * 32, timeout=5)
    msg = str(e.value)
    assert "cannot reach the server" in msg and url in msg
    assert "rbm-tui datasets import PATH/TO/ml-1m.zip" in msg
    assert _listing() == []


def test_timeout(server):
    server.routes["/ml-1m.zip"] = ("hang", b"")
    with pytest.raises(DatasetError, match="rbm-tui datasets import") as e:
        ds.download("ml-1m", url=server.url("/ml-1m.zip"), md5="0" * 32, timeout=0.5)
    assert "no answer within 0.5 s" in str(e.value)  # the timeout, not the 10 s hang, ended it
    assert _listing() == []


def test_only_http_urls():
    with pytest.raises(DatasetError, match="http"):
        ds.download("ml-1m", url="file:///etc/passwd", md5="0" * 32)


def test_cancel_slow_download_after_first_chunk(server, good_zip):
    url = server.serve_zip("/ml-100k.zip", good_zip)
    p = ds.download("ml-100k", url=url)
    before = sorted(f.name for f in p.iterdir())
    server.serve_zip("/ml-100k.zip", good_zip, mode="slow")
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        ds.download("ml-100k", url=url, progress=progress, cancel=cancel, timeout=20)
    assert seen[0] == 0 and 0 < seen[-1] < len(good_zip)
    assert _listing() == ["ml-100k"]
    assert sorted(f.name for f in p.iterdir()) == before


def test_cancel_while_the_server_is_silent_ends_the_download_at_once(server, good_zip):
    """A cancel that comes while a read waits on a stalled server (Ctrl+C, the app's x) used
    to wait for the read's timeout, then was reported as a network failure."""
    url = server.serve_zip("/ml-100k.zip", good_zip, mode="slow")  # 4 KiB, then 10 s silence
    cancel = threading.Event()

    def progress(done, total):
        if done > 0 and not cancel.is_set():
            threading.Timer(0.5, cancel.set).start()  # while the next read waits

    start = time.monotonic()
    with pytest.raises(DownloadCancelled):
        ds.download("ml-100k", url=url, progress=progress, cancel=cancel, timeout=30)
    assert time.monotonic() - start < 5
    assert _listing() == []


def test_cancel_callable_before_start(server, good_zip):
    url = server.serve_zip("/ml-100k.zip", good_zip)
    with pytest.raises(DownloadCancelled):
        ds.download("ml-100k", url=url, cancel=lambda: True)
    assert server.requests == [] and _listing() == []
    assert issubclass(DownloadCancelled, DatasetError)


@pytest.mark.parametrize("mode", ["ok", "nolength"])
def test_size_cap(server, good_zip, mode):
    url = server.serve_zip("/ml-100k.zip", good_zip, mode=mode)
    with pytest.raises(DatasetError, match="limit"):
        ds.download("ml-100k", url=url, max_bytes=100_000)
    assert _listing() == []


# ------------------------------------------------------------------------ zip safety
def _hostile(kind: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in ml100k_files().items():  # harmless entries first
            zf.writestr(f"ml-100k/{name}", blob)
        if kind == "dotdot":
            zf.writestr("ml-100k/../../evil.txt", b"pwned")
        elif kind == "absolute":
            zf.writestr(zipfile.ZipInfo("/tmp/evil.txt"), b"pwned")
        elif kind == "symlink":
            zi = zipfile.ZipInfo("ml-100k/evil-link")
            zi.external_attr = (stat.S_IFLNK | 0o777) << 16
            zi.create_system = 3
            zf.writestr(zi, "/etc/passwd")
        elif kind == "bomb":
            zf.writestr("ml-100k/evil-bomb.bin", b"\0" * (8 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(
    "kind,why",
    [
        ("dotdot", "'..'"),
        ("absolute", "absolute"),
        ("symlink", "symbolic link"),
        ("bomb", "zip bomb"),
    ],
)
def test_hostile_zip_refused_before_extracting(server, tmp_path, kind, why):
    blob = _hostile(kind)
    url = server.serve_zip("/ml-100k.zip", blob)
    with pytest.raises(DatasetError, match="refusing to extract") as e:
        ds.download("ml-100k", url=url)
    assert why in str(e.value)
    assert _listing() == []
    assert not list(tmp_path.rglob("evil*"))
    # the same check guards safe_extract and import
    z = tmp_path / "hostile.zip"
    z.write_bytes(blob)
    with pytest.raises(DatasetError, match=why):
        ds.safe_extract(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(DatasetError, match="refusing"):
        ds.import_dataset(z, "hostile")
    assert _listing() == []
    assert not list(tmp_path.rglob("evil*"))


def test_unpacked_size_cap(tmp_path):
    z = tmp_path / "a.zip"
    z.write_bytes(make_zip(ml100k_files()))
    with pytest.raises(DatasetError, match="more than 100 bytes"):
        ds.safe_extract(z, tmp_path / "out", max_total=100)
    assert not (tmp_path / "out").exists()
    out = ds.safe_extract(z, tmp_path / "out")
    assert (out / "ml-100k" / "u.data").read_bytes() == ml100k_files()["u.data"]


def test_damaged_zip(server):
    blob = bytearray(make_zip(ml100k_files()))
    blob[200:260] = b"x" * 60  # corrupt the compressed data; md5 matches the damage
    url = server.serve_zip("/ml-100k.zip", bytes(blob))
    with pytest.raises(DatasetError, match="damaged|not a readable"):
        ds.download("ml-100k", url=url)
    assert _listing() == []


# --------------------------------------------------------------------------- imports
def _write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    return folder


def test_a_hand_edited_registry_field_of_the_wrong_type_is_left_at_its_default(tmp_path):
    """A record with ``entry: 5`` or ``size: "big"`` crashed every listing (the app at
    start-up); now the field is dropped and the dataset stays listed and loadable."""
    src = _write(tmp_path / "my-set", ml100k_files())
    ds.import_dataset(src)
    reg_path = paths.datasets_dir() / REGISTRY_FILE
    reg = json.loads(reg_path.read_text())
    reg["datasets"]["my-set"].update(entry=5, size="big", title=7, linked="no")
    reg_path.write_text(json.dumps(reg))
    info = ds.get("my-set")
    assert (info.entry, info.size, info.title, info.linked) == (None, None, "my-set", False)
    assert info.users == 12  # the fields of the right type are kept
    assert _load(ds.resolve("my-set")).users.max() == 11


def test_a_damaged_registry_is_set_aside_and_its_datasets_stay_listed(tmp_path):
    """A stray comma made the registry unreadable, and the next import rewrote it with only
    the new dataset: every earlier registration was lost."""
    ds.import_dataset(_write(tmp_path / "first", ml100k_files()))
    reg_path = paths.datasets_dir() / REGISTRY_FILE
    text = reg_path.read_text().rstrip().rstrip("}") + ",}"
    reg_path.write_text(text)
    assert "first" in ds.names()  # its folder is still listed
    aside = list(paths.datasets_dir().glob(REGISTRY_FILE + ".damaged-*"))
    assert len(aside) == 1 and aside[0].read_text() == text
    ds.import_dataset(_write(tmp_path / "second", ml100k_files()))
    assert {"first", "second"} <= set(ds.names())
    assert _load(ds.resolve("first")).n_ratings == _load(ds.resolve("second")).n_ratings


def test_import_folder(tmp_path):
    src = _write(tmp_path / "my-set", ml100k_files())
    info = ds.import_dataset(src)
    assert info.name == "my-set" and info.kind == "imported" and not info.linked
    assert info.ratings == ml100k_files()["u.data"].count(b"\n") and info.users == 12
    assert "my-set" in ds.names() and ds.get("my-set") == info
    assert ds.local_path("my-set") == paths.datasets_dir() / "my-set"
    assert ds.resolve("my-set") == ds.local_path("my-set")
    assert _load(ds.resolve("my-set")).n_ratings == info.ratings
    reg = json.loads((paths.datasets_dir() / REGISTRY_FILE).read_text())
    assert reg["datasets"]["my-set"]["source"] == str(src.resolve())
    assert _listing() == [REGISTRY_FILE, "my-set"]
    # a copy: the source can go away
    for f in src.iterdir():
        f.unlink()
    assert _load(ds.resolve("my-set")).n_ratings == info.ratings
    assert ds.remove("my-set") and "my-set" not in ds.names()
    assert _listing() == [REGISTRY_FILE]


def test_import_folder_linked(tmp_path):
    src = _write(tmp_path / "linked", ml100k_files())
    info = ds.import_dataset(src, "lnk", link=True)
    target = paths.datasets_dir() / "lnk"
    assert info.linked and target.is_symlink() and target.resolve() == src.resolve()
    assert ds.is_on_disk("lnk")
    ds.remove("lnk")
    assert (src / "u.data").is_file()  # removing a link keeps its source


def test_import_zip(tmp_path):
    z = tmp_path / "films.zip"
    z.write_bytes(make_zip(ml100k_files(), folder="whatever"))
    info = ds.import_dataset(z)
    assert info.name == "films" and info.entry == ""
    p = ds.local_path("films")
    assert (p / "u.data").is_file() and p == paths.datasets_dir() / "films"
    assert _load(p).n_ratings == info.ratings


def test_import_single_csv(tmp_path):
    f = tmp_path / "scores.csv"
    f.write_text("user,item,rating\n1,10,4\n1,11,2\n2,10,5\n3,12,1\n")
    info = ds.import_dataset(f)
    assert info.name == "scores" and info.entry == "scores.csv"
    p = ds.local_path("scores")
    assert p == paths.datasets_dir() / "scores" / "scores.csv" and p.is_file()
    assert ds.resolve("scores") == p
    r = _load(p)
    assert r.n_ratings == 4 and r.n_users == 3
    # ratings.csv takes its folder's name and brings movies.csv along
    d = _write(
        tmp_path / "cinema",
        {
            "ratings.csv": b"userId,movieId,rating,timestamp\n1,1,4.0,1\n2,1,2.0,2\n",
            "movies.csv": b'movieId,title,genres\n1,"Heat, The (1995)",Crime\n',
        },
    )
    info = ds.import_dataset(d / "ratings.csv")
    assert info.name == "cinema"
    assert sorted(os.listdir(paths.datasets_dir() / "cinema")) == ["movies.csv", "ratings.csv"]
    assert "Heat, The" in _load(ds.resolve("cinema")).movies["title"].iloc[0]


def test_import_bad_input_leaves_nothing(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("user,item,rating\n1,10,4\n")
    ds.import_dataset(good, "keep")
    before = _listing()
    reg = (paths.datasets_dir() / REGISTRY_FILE).read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("this is not,a ratings file\nat,all\n")
    with pytest.raises(DatasetError, match="does not load"):
        ds.import_dataset(bad, "keep", replace=True)
    with pytest.raises(DatasetError, match="no such file"):
        ds.import_dataset(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match="bad dataset name"):
        ds.import_dataset(good, "../x")
    with pytest.raises(DatasetError, match="demo"):
        ds.import_dataset(good, "demo")
    assert _listing() == before
    assert (paths.datasets_dir() / REGISTRY_FILE).read_bytes() == reg
    assert _load(ds.resolve("keep")).n_ratings == 1


def test_import_replaces_a_dataset_only_when_asked_and_in_any_case(tmp_path):
    """A dataset of that name is kept unless the import is told to replace it; the same name
    in another letter case is the same dataset (no second folder left behind)."""
    from engine.errors import DatasetExists

    a = tmp_path / "a.csv"
    a.write_text("user,item,rating\n1,10,4\n")
    b = tmp_path / "b.csv"
    b.write_text("user,item,rating\n1,10,4\n2,11,1\n")
    ds.import_dataset(a, "mine")
    with pytest.raises(DatasetExists, match="mine is already on disk") as e:
        ds.import_dataset(b, "Mine")
    assert e.value.name == "mine" and _load(ds.resolve("mine")).n_ratings == 1
    ds.import_dataset(b, "Mine", replace=True)
    assert _listing() == ["Mine", REGISTRY_FILE] and _load(ds.resolve("Mine")).n_ratings == 2
    ds.remove("Mine")
    assert _listing() == [REGISTRY_FILE]


def test_a_lone_file_cannot_stand_for_a_builtin_dataset(tmp_path):
    """u1.base imported as ml-100k made a folder the loader cannot read, and the good copy
    on disk was gone; now it is refused and the copy kept."""
    z = tmp_path / "ml-100k.zip"
    z.write_bytes(make_zip(ml100k_files()))
    ds.import_dataset(z)
    base = _write(tmp_path / "split", {"u1.base": b"1\t10\t4\t1\n2\t10\t2\t2\n"}) / "u1.base"
    with pytest.raises(DatasetError, match="cannot stand for the built-in dataset ml-100k"):
        ds.import_dataset(base, "ml-100k", replace=True)
    assert (ds.resolve("ml-100k") / "u.data").is_file()


def test_import_zip_fetched_by_hand_becomes_the_builtin(tmp_path):
    z = tmp_path / "ml-100k.zip"
    z.write_bytes(make_zip(ml100k_files()))
    info = ds.import_dataset(z)
    assert info.name == "ml-100k" and info.kind == "builtin"
    assert ds.is_on_disk("ml-100k")
    assert (ds.resolve("ml-100k") / "u.data").is_file()
    assert [d.name for d in ds.catalogue()] == ALL  # not listed twice
    assert not (paths.datasets_dir() / REGISTRY_FILE).exists()
    # NAME/FILE: a file of a dataset on disk, as the examples write ml-100k/u1.base
    assert ds.resolve("ml-100k/u.data") == (ds.resolve("ml-100k") / "u.data").resolve()
    assert ds.resolve("ML-100K/u.data") == ds.resolve("ml-100k/u.data")
    for bad in ("ml-100k/missing.base", "ml-100k/../../x", "ml-1m/u.data"):
        with pytest.raises(DatasetError, match="no such file"):
            ds.resolve(bad)


def test_relink_and_stale_temp_folders_swept(tmp_path):
    src = _write(tmp_path / "linked", ml100k_files())
    ds.import_dataset(src, "lnk", link=True)
    ds.import_dataset(src, "lnk", link=True, replace=True)  # again: replaces the link
    assert (paths.datasets_dir() / "lnk").is_symlink()
    ds.import_dataset(src, "cp")
    with pytest.raises(DatasetError, match="already the dataset"):
        ds.import_dataset(paths.datasets_dir() / "cp" / "u.data", "cp", link=True)
    # work folders carry their process's id: a dead process's go at once, a live one's after a
    # day (a crashed run's pid may be reused)
    me = os.getpid()
    stale = paths.datasets_dir() / f".ml-1m.download-{me}-abc"
    fresh = paths.datasets_dir() / f".ml-1m.download-{me}-def"
    dead = paths.datasets_dir() / ".ml-1m.import-999999999-ghi"
    for p in (stale, fresh, dead):
        p.mkdir()
    old = time.time() - 2 * STALE_SECONDS
    os.utime(stale, (old, old))
    ds.import_dataset(src, "lnk", link=True, replace=True)
    assert not stale.exists() and fresh.exists() and not dead.exists()
