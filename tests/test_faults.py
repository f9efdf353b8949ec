"""The fault matrix: every command touches only what it owns, a hostile or broken file gets one
clear line (exit 2) and never a traceback or an unbounded read, a trained model is never lost.

Rows kept elsewhere, next to the code they exercise: hostile zips on import
(test_datasets.py::test_hostile_zip_refused_before_extracting), malicious pickles
(test_storage.py::test_malicious_pickle_is_refused_without_running_code), kill -9 during key
presses (test_userstore.py::test_killed_process_loses_nothing), Ctrl+C during training and
downloads (test_cli.py::test_subprocess_ctrl_c_during_training_saves_nothing,
test_datasets_download_ctrl_c_cancels), bad ratings files (test_loaders.py,
test_loaders_hypothesis.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from helpers import CRAFTED, SIZE, craft, make_app, wait_for, write_dataset  # noqa: E402

from engine import files, paths  # noqa: E402
from engine.errors import ModelError  # noqa: E402
from engine.model.storage import load_model, read_header, save_model  # noqa: E402
from rbm_tui.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def run(argv: list) -> tuple[int, str, str]:
    """``main(argv)`` with stdout/stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def one_error_line(err: str) -> bool:
    """stderr holds one short error line (progress lines before it are fine), no traceback."""
    errors = [line for line in err.splitlines() if line.startswith("rbm-tui:")]
    return (
        len(errors) == 1
        and errors[0].startswith("rbm-tui: error:")
        and len(errors[0]) < 700
        and "Traceback" not in err
    )


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory) -> Path:
    """A real model of a tiny dataset whose movie IDs 1-30 the demo uses for other films."""
    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.loop import train

    folder = write_dataset(tmp_path_factory.mktemp("other") / "other")
    r = load_ratings(folder, cache=False)
    model = train(r, TrainConfig(n_hidden=4, epochs=2, patience=0)).model
    model.meta["dataset"]["name"] = "other"
    return save_model(model, tmp_path_factory.mktemp("m") / "other.pt")


def in_models(model_file: Path, name: str = "m") -> Path:
    target = paths.models_dir() / f"{name}.pt"
    target.write_bytes(model_file.read_bytes())
    return target


# --------------------------------------------------------------- 1. only what it owns
def test_models_delete_and_rename_refuse_files_outside_the_models_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "best"
    notes.write_text("notes")
    outside = tmp_path / "victim.txt"
    outside.write_text("keep me")
    rel = os.path.relpath(outside, paths.models_dir())
    for argv in (
        ["models", "delete", "best", "--yes"],
        ["models", "delete", rel, "--yes"],
        ["models", "delete", str(outside), "--yes"],
        ["models", "rename", "best", "new"],
        ["models", "rename", str(outside), "new"],
    ):
        rc, _out, err = run(argv)
        assert rc == 2 and one_error_line(err), (argv, err)
    assert notes.read_text() == "notes" and outside.read_text() == "keep me"
    assert not (tmp_path / "new.pt").exists()


def test_models_delete_refuses_a_file_of_the_models_folder_that_is_no_model(tiny_model_file):
    junk = paths.models_dir() / "junk.pt"
    junk.write_text("not a model")
    link = paths.models_dir() / "link.pt"
    link.symlink_to(tiny_model_file)
    for name in ("junk", "link"):
        rc, _out, err = run(["models", "delete", name, "--yes"])
        assert rc == 2 and one_error_line(err), err
    assert junk.read_text() == "not a model" and link.is_symlink() and tiny_model_file.exists()
    good = in_models(tiny_model_file, "good")
    assert run(["models", "rename", "good", "better"])[0] == 0
    assert not good.exists() and (paths.models_dir() / "better.pt").is_file()
    assert run(["models", "delete", "better", "--yes"])[0] == 0
    assert not (paths.models_dir() / "better.pt").exists()
    cut = paths.models_dir() / "cut.pt"  # a save cut short: listed as unreadable, deletable
    cut.write_bytes(tiny_model_file.read_bytes()[:5000])
    assert run(["models", "delete", "cut", "--yes"])[0] == 0 and not cut.exists()


def test_output_onto_a_symlink_writes_its_target(tiny_model_file, tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "out.csv"
    link.symlink_to(real)
    data = write_dataset(tmp_path / "other")
    rc, _out, err = run(["recommend", data, "--model", tiny_model_file, "--output", link])
    assert rc == 0, err
    assert link.is_symlink() and real.read_text().startswith("user,item,title")


def test_output_onto_a_fifo_is_written_through_never_replaced(tiny_model_file, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    data = write_dataset(tmp_path / "other")
    rc, _out, err = run(["recommend", data, "--model", tiny_model_file, "--output", fifo])
    reader.join(10)
    assert rc == 0, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0].startswith(b"user,item,title")


def test_dev_stdout_is_written_through_the_descriptor_after_what_it_holds(tmp_path):
    """``--output /dev/stdout`` with stdout redirected to a file: replacing the file its link
    leads to lost what the shell wrote before and after; into a pipe it failed."""
    out = tmp_path / "combined.txt"
    with out.open("wb") as fh:
        fh.write(b"# header\n")
        fh.flush()
        path = f"/dev/fd/{fh.fileno()}"
        files.check_output(path)
        files.write_bytes(path, b"rows\n")
        fh.write(b"# trailer\n")
    assert out.read_bytes() == b"# header\nrows\n# trailer\n"
    read, write = os.pipe()
    try:
        with files.open_output(f"/proc/self/fd/{write}") as fh:
            fh.write("through a pipe\n")
        assert os.read(read, 100) == b"through a pipe\n"
    finally:
        os.close(read)
        os.close(write)
    with pytest.raises(files.OutputError, match="the output stream, not a file"):
        files.check_regular_output("/dev/stdout")
    with pytest.raises(files.OutputError, match="not open in this process"):
        files.check_output(f"/dev/fd/{write}")


def test_devices_are_written_in_place_folders_refused_and_new_files_follow_the_umask(tmp_path):
    assert files.kind(Path("/dev/null")) == "direct"  # a character device: never replaced
    assert files.kind(tmp_path) == "refuse"
    assert files.kind(tmp_path / "new.csv") == "replace"
    assert files.kind(tmp_path / "missing" / "new.csv") == "refuse"
    old = os.umask(0o027)
    try:
        files.write_bytes(tmp_path / "new.csv", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o640
    (tmp_path / "kept.csv").write_bytes(b"y")
    os.chmod(tmp_path / "kept.csv", 0o604)
    files.write_bytes(tmp_path / "kept.csv", b"z")  # a replaced file keeps its mode
    assert stat.S_IMODE(os.stat(tmp_path / "kept.csv").st_mode) == 0o604


def test_a_model_of_another_catalogue_is_refused_naming_both(tiny_model_file):
    """The tiny model's movies 1-30 are other films than the demo's 1-30."""
    rc, _out, err = run(["recommend", "demo", "--model", tiny_model_file])
    assert rc == 2 and one_error_line(err), err
    assert "other" in err and "demo" in err and "another catalogue" in err
    rc, _out, err = run(["predict", "demo", "--model", tiny_model_file, "--pairs", __file__])
    assert rc == 2 and "another catalogue" in err


def test_evaluate_refuses_a_test_set_of_another_catalogue(tiny_model_file, tmp_path):
    """Its IDs mean other films: the figures would be meaningless, not an error."""
    train = write_dataset(tmp_path / "other")
    rc, out, _err = run(["evaluate", "--model", tiny_model_file, "--train", train, "--test",
                         train / "ratings.csv", "--json"])  # fmt: skip
    assert rc == 0 and json.loads(out)["metrics"]["test_rows"] > 0
    rc, _out, err = run(["evaluate", "--model", tiny_model_file, "--train", train, "--test",
                         "demo"])  # fmt: skip
    assert rc == 2 and one_error_line(err) and "another catalogue" in err and "demo" in err


# ------------------------------------------------------------------ 2. crafted files
@pytest.mark.slow
def test_crafted_headers_give_one_line_and_little_memory(tiny_model_file, tmp_path):
    """Each crafted file: ``recommend`` and ``models info`` exit 2 with one line, ``models
    list`` exits 0 and lists it as unreadable, and the process stays under 1 GB."""
    home = tmp_path / "home"
    code = f"""
import contextlib, io, json, resource, sys
sys.path.insert(0, {str(REPO / "tests")!r})
from rbm_tui.cli import main
from engine import paths
from helpers import craft, write_dataset
crafted = craft(__import__('pathlib').Path({str(tiny_model_file)!r}), paths.models_dir())
data = write_dataset(paths.data_dir() / "other")
res = {{}}
for name, f in crafted.items():
    for argv in (["recommend", str(data), "--model", str(f)], ["models", "info", f.stem]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(argv)
        res[name + " " + argv[0]] = (rc, err.getvalue())
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = main(["models", "list"])
res["list"] = (rc, out.getvalue())
# this process's own peak (VmHWM): ru_maxrss also counts the parent's pages that the
# forked child held before its exec, so it grows with the test session's memory
try:
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    res["rss_kb"] = int(status.split()[0])
except (OSError, IndexError, ValueError):
    res["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(res))
"""
    env = {**os.environ, "RBM_TUI_HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    for key, value in res.items():
        if key in ("list", "rss_kb"):
            continue
        rc, err = value
        assert rc == 2 and one_error_line(err), (key, err)
        assert "Traceback" not in err
    rc, listing = res["list"]
    assert rc == 0 and listing.count("(unreadable)") == len(CRAFTED) + 2, listing
    assert res["rss_kb"] < 1024 * 1024, res["rss_kb"]


async def test_the_models_screen_lists_crafted_files_as_unreadable(tiny_model_file, tmp_path):
    from rbm_tui.screens.models import ModelsScreen

    craft(tiny_model_file, paths.models_dir())
    in_models(tiny_model_file, "fine")
    app = make_app(first_screen="models")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        await wait_for(pilot, lambda: len(screen.models) == len(CRAFTED) + 3, what="the list")
        unreadable = [m for m in screen.models if m.error]
        assert len(unreadable) == len(CRAFTED) + 2
        assert [m.name for m in screen.models if not m.error] == ["fine"]
        await pilot.pause()
        assert app.is_running


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(
        ["n_items", "n_hidden", "keep", "like_units", "like_gain", "like_threshold",
         "item_ids", "calibration", "config", "meta", "format_version"]
    ),
    value=st.one_of(
        st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
        st.sampled_from([10**400, -(10**400)]),
        st.text(max_size=5), st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    ),
)  # fmt: skip
def test_fuzzed_headers_load_or_fail_with_a_model_error(tiny_model_file, tmp_path, key, value):
    """Any value in any header field: the file loads, or ModelError; nothing else escapes."""
    blob = torch.load(tiny_model_file, weights_only=True)
    header = json.loads(blob["header"])
    header[key] = value
    f = tmp_path / "fuzz.pt"
    torch.save({**blob, "header": json.dumps(header)}, f)
    for read in (read_header, lambda p: load_model(p, device="cpu")):
        try:
            read(f)
        except ModelError as e:
            assert str(e).startswith(str(f))


# -------------------------------------------------------------- 3. bounded reading
def bomb(path: Path, mib: int = 64) -> Path:
    """A zip of about 64 KB whose ratings.csv unpacks to ``mib`` MiB (a zip bomb)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("ratings.csv", "w") as fh:
            fh.write(b"userId,movieId,rating\n")
            block = b"1,1,5\n" * (1 << 17)
            for _ in range(mib * (1 << 20) // len(block)):
                fh.write(block)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "{bomb}"],
        ["datasets", "import", "/dev/zero"],
        ["predict", "demo", "--model", "{model}", "--pairs", "/dev/zero"],
        ["train", "{fifo}"],
        ["datasets", "import", "{fifo}"],
        ["predict", "demo", "--model", "{model}", "--pairs", "{fifo}"],
        ["train", "{nul}"],
    ],
    ids=["bomb", "import-dev-zero", "pairs-dev-zero", "fifo", "import-fifo", "pairs-fifo", "nul"],
)
@pytest.mark.slow
def test_hostile_inputs_are_refused_with_one_line(argv, tmp_path, seeded_model_file):
    """A zip bomb read in place, a device, a FIFO, a binary file: one line, exit 2, no hang
    (each runs in a process that is killed after 60 s)."""
    fifo = tmp_path / "ratings.csv"
    os.mkfifo(fifo)
    nul = tmp_path / "sparse.csv"
    with open(nul, "wb") as fh:
        fh.truncate(64 << 20)  # 64 MiB of NUL bytes, sparse on disk
    names = {"bomb": bomb(tmp_path / "bomb.zip"), "fifo": fifo, "nul": nul}
    names["model"] = seeded_model_file
    args = [a.format(**names) for a in argv]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "rbm_tui", *args], env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and one_error_line(proc.stderr), proc.stderr


@settings(max_examples=150, deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(alphabet='user,item,rating;\t\n\r0123456789.-+e "xé', max_size=300),
    ),
    name=st.sampled_from(["ratings.csv", "u.data", "ratings.dat", "x.tsv"]),
)
def test_fuzzed_ratings_files_load_or_fail_with_a_ratings_error(content, name):
    """Any bytes under any ratings-file name: Ratings, or a RatingsError naming the file."""
    import tempfile

    from engine.data.loaders import load_ratings
    from engine.errors import RatingsError

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / name
        f.write_bytes(content.encode() if isinstance(content, str) else content)
        try:
            r = load_ratings(f, cache=False)
        except RatingsError as e:
            assert str(e).startswith(str(f)) and len(str(e)) < 700
        else:
            assert r.n_ratings == len(r.values) and len(r.item_ids) == r.n_items


# ------------------------------------------------------------------ 4. absurd flags
@pytest.mark.parametrize(
    "flags, option",
    [
        (["--threads", "100000"], "--threads"),
        (["--hidden", "100000000"], "--hidden"),
        (["--like-threshold", "nan"], "--like-threshold"),
        (["--seed", "1e20"], "--seed"),
        (["--set", "like_exact_weight=nan"], "--set like_exact_weight"),
        (["--epochs", "-3"], "--epochs"),
    ],
)
def test_absurd_flags_get_one_line_naming_the_option(flags, option, tmp_path):
    rc, _out, err = run(["train", "demo", *flags, "--model-out", tmp_path / "m.pt"])
    assert rc == 2 and one_error_line(err) and option in err, err
    assert not (tmp_path / "m.pt").exists()


def test_threads_of_the_scoring_commands_are_capped_too(seeded_model_file):
    rc, _out, err = run(["recommend", "demo", "--model", seeded_model_file, "--threads", "100000"])
    assert rc == 2 and one_error_line(err) and "--threads 100000" in err, err


def test_a_model_too_big_for_the_memory_is_refused_before_training(monkeypatch, tmp_path):
    import engine.device

    monkeypatch.setattr(engine.device, "available_memory", lambda device="cpu": 10_000_000)
    rc, _out, err = run(["train", "demo", "--hidden", "5000", "--model-out", tmp_path / "m.pt"])
    assert rc == 2 and one_error_line(err) and "--hidden 5000" in err and "GB" in err, err


# -------------------------------------------------------------- 5. no training lost
def test_a_full_disk_loses_no_trained_model(monkeypatch, tmp_path):
    """Writing the requested path fails (ENOSPC): exit 2 naming it, and the model is in the
    place the message says, whole."""
    import errno

    wanted = tmp_path / "full" / "m.pt"
    wanted.parent.mkdir()
    real = files.write_bytes

    def full_disk(path, data, **kw):
        if Path(path).parent == wanted.parent:
            raise files.OutputError(
                files.describe_os_error(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
            )
        return real(path, data, **kw)

    monkeypatch.setattr(files, "write_bytes", full_disk)
    argv = ["train", "demo", "--hidden", "4", "--epochs", "2", "--model-out", wanted]
    rc, out, err = run(argv)
    assert rc == 2 and one_error_line(err), err
    assert str(wanted) in err and "No space left on device" in err
    saved = Path(err.split("was saved to ")[1].split(" instead")[0])
    assert saved.is_file() and not wanted.exists()
    assert load_model(saved, device="cpu").n_items == 395


def test_long_messages_are_cut_to_one_short_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n1,2," + "9" * 100_000 + "x\n")
    rc, _out, err = run(["train", bad])
    assert rc == 2 and one_error_line(err) and "line 2" in err, err[:300]


# ------------------------------------------------------------------ 6. housekeeping
def test_leftovers_of_killed_processes_are_swept_at_the_next_start(tmp_path):
    dead = 999_999_999
    tmp_model = paths.models_dir() / f".m.pt.{dead}.abcd.tmp"
    tmp_model.write_bytes(b"half a model")
    mine = paths.models_dir() / f".n.pt.{os.getpid()}.abcd.tmp"
    mine.write_bytes(b"a save in progress")
    work = paths.datasets_dir() / f".ml-1m.import-{dead}-xyz"
    work.mkdir()
    assert run(["models", "list"])[0] == 0
    assert not tmp_model.exists() and not work.exists() and mine.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda z: z.update(values=np.full_like(z["values"], np.nan)),
        lambda z: z.update(item_ids=np.zeros_like(z["item_ids"])),  # every movie one ID
        lambda z: z.update(item_ids=z["item_ids"] + 0.5),
        lambda z: z.update(user_ids=np.stack([z["user_ids"], z["user_ids"]])),
    ],
    ids=["nan-ratings", "movie-ids-alike", "movie-ids-halves", "user-ids-2d"],
)
def test_a_damaged_cache_is_rebuilt_with_a_notice(tmp_path, damage):
    from engine.data import cache
    from engine.data.loaders import load_ratings

    data = write_dataset(tmp_path / "d")
    first = load_ratings(data)
    (f,) = list(cache.ratings_cache_dir().glob("*.npz"))
    with np.load(f) as npz:
        z = dict(npz)
    damage(z)
    with open(f, "wb") as fh:
        np.savez(fh, **z)
    again = load_ratings(data)
    assert not again.report.from_cache and "damaged" in again.report.notice
    assert np.array_equal(again.values, first.values)
    assert np.array_equal(again.item_ids, first.item_ids)
    assert load_ratings(data).report.from_cache  # rebuilt once, trusted after


@pytest.mark.slow
async def test_the_export_asks_before_overwriting(seeded_model_file, tmp_path):
    from rbm_tui.screens.dialogs import ConfirmDialog, PromptDialog

    target = tmp_path / "mine.csv"
    target.write_text("precious")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.use_dataset("demo")
        await wait_for(pilot, lambda: app.session is not None, what="the demo")
        app.action_export_ratings()
        await pilot.pause()
        assert isinstance(app.screen, PromptDialog)
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text() == "precious"


@pytest.mark.slow
def test_sigterm_during_training_leaves_a_whole_file_or_none(tmp_path):
    """SIGTERM saves the model so far (issue 34): a whole file, never a half-written one."""
    out = tmp_path / "m.pt"
    env = {**os.environ, "PYTHONPATH": str(REPO), "RBM_TUI_HOME": str(tmp_path / "home")}
    argv = ["train", "demo", "--epochs", "1000", "--set", "patience=0", "--model-out", out]
    p = subprocess.Popen(
        [sys.executable, "-m", "rbm_tui", *map(str, argv)],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in p.stderr:
            if line.startswith("epoch 1/"):
                break
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 143
    assert not [f for f in tmp_path.iterdir() if f.suffix == ".tmp"]
    if out.exists():  # stopped after the first epoch ended: the model so far, whole
        assert load_model(out, device="cpu").n_items == 395


def test_a_model_in_use_does_not_read_its_file_overwritten_in_place(tiny_model_file, tmp_path):
    """The weights were left memory-mapped: a file truncated while the model was in use
    killed the process with SIGBUS (a subprocess here, so that pytest survives the old way)."""
    copy = tmp_path / "in-use.pt"
    copy.write_bytes(tiny_model_file.read_bytes())
    code = (
        "import sys\n"
        "from engine.model.storage import load_model\n"
        "m = load_model(sys.argv[1], device='cpu')\n"
        "before = float(m.rbm.W.sum())\n"
        "open(sys.argv[1], 'wb').close()  # truncated in place, as `cp other.pt in-use.pt`\n"
        "after = float(m.rbm.W.sum())\n"
        "print(before == after)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True,
                          text=True, cwd=root, timeout=120)  # fmt: skip
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert done.stdout.strip() == "True"
