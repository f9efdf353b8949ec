"""Command-line faults (issue 34): special files as outputs, two writers of one model file,
stop signals during training, one-line argument errors, conflicting settings, NUL bytes,
numeric warnings, a full disk and terminal escape codes in error lines."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine import files
from rbm_tui.cli import main
from rbm_tui.cli.common import one_line, printable

REPO = Path(__file__).resolve().parent.parent
QUICK = ["--epochs", "1", "--hidden", "4", "--threads", "1"]


def run(argv: list) -> tuple[int, str, str]:
    """``main(argv)`` with stdout/stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def env(home: Path) -> dict[str, str]:
    e = dict(os.environ, RBM_TUI_HOME=str(home), OMP_NUM_THREADS="1")
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("RBM_TUI_DEBUG", None)
    return e


def rbm_tui(args: list, home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rbm_tui", *map(str, args)],
        cwd=REPO,
        env=env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("rbm-tui")]


# ------------------------------------------------------------------ 4. FIFOs as outputs
def test_a_fifo_as_model_out_is_refused_before_training(tmp_path):
    """Refused up front (no epoch ran), one line, exit 2; nothing waits on the FIFO."""
    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)
    r = rbm_tui(["train", "demo", *QUICK, "--model-out", fifo], tmp_path, timeout=60)
    assert r.returncode == 2, r.stderr
    assert error_lines(r.stderr) == [
        f"rbm-tui: error: {fifo}: not a regular file (a FIFO, device or socket); not written"
    ]
    assert "training on" not in r.stderr and "loaded" not in r.stderr and r.stdout == ""


def test_a_device_as_model_out_is_refused_before_training(tmp_path):
    rc, _out, err = run(["train", "demo", *QUICK, "--model-out", "/dev/null"])
    assert rc == 2 and "/dev/null: not a regular file" in err and "training on" not in err


def test_a_fifo_that_appears_during_training_is_not_written_and_the_model_is_kept(
    tmp_path, monkeypatch, rbm_home
):
    """The path was free at the start; a FIFO made there meanwhile is never opened (it would
    block): the model goes to the models folder and the line says so."""
    import engine.training.loop as loop

    target = tmp_path / "m.pt"
    real = loop.train

    def train_then_fifo(*args, **kwargs):
        result = real(*args, **kwargs)
        os.mkfifo(target)
        return result

    monkeypatch.setattr(loop, "train", train_then_fifo)
    rc, out, err = run(["train", "demo", *QUICK, "--model-out", target])
    assert rc == 2
    [line] = error_lines(err)
    assert f"could not save the model to {target}" in line and "saved to" in line
    saved = Path(line.rsplit("saved to ", 1)[1].removesuffix(" instead"))
    assert saved.parent == rbm_home / "data" / "models" and saved.is_file()


@pytest.mark.slow
def test_output_fifo_without_a_reader_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    r = rbm_tui(["datasets", "info", "demo"], tmp_path)  # warm: the demo is there
    assert r.returncode == 0
    model = tmp_path / "m.pt"
    assert rbm_tui(["train", "demo", *QUICK, "--model-out", model], tmp_path).returncode == 0
    r = rbm_tui(["recommend", "demo", "--model", model, "--output", fifo], tmp_path, timeout=60)
    assert r.returncode == 2
    assert error_lines(r.stderr) == [
        f"rbm-tui: error: {fifo}: a FIFO that no process reads; not written"
    ]


# ------------------------------------------------------------------ 16. two writers
def test_a_model_file_written_by_another_training_meanwhile_is_not_replaced(
    tmp_path, monkeypatch, rbm_home
):
    """The second training to finish finds the target changed since it started: it leaves
    the other's file as it is, saves its own beside it and says so (exit 2)."""
    import engine.training.loop as loop

    target = tmp_path / "m.pt"
    target.write_bytes(b"old")
    real = loop.train

    def train_while_another_writes(*args, **kwargs):
        result = real(*args, **kwargs)
        target.write_bytes(b"the other training's model")
        return result

    monkeypatch.setattr(loop, "train", train_while_another_writes)
    rc, _out, err = run(["train", "demo", *QUICK, "--model-out", target])
    assert rc == 2
    [line] = error_lines(err)
    assert "written by another process while this one ran; left as it is" in line
    assert target.read_bytes() == b"the other training's model"
    saved = Path(line.rsplit("saved to ", 1)[1].removesuffix(" instead"))
    assert saved.parent == rbm_home / "data" / "models"
    from engine.model.storage import load_model

    assert load_model(saved, device="cpu").n_items > 0


def test_snapshot_tells_a_rewritten_file_from_an_untouched_one(tmp_path):
    f = tmp_path / "x"
    assert files.snapshot(f) == files.ABSENT
    f.write_bytes(b"1")
    before = files.snapshot(f)
    assert files.snapshot(f) == before
    files.write_bytes(f, b"2", expect=before)  # unchanged since: replaced
    with pytest.raises(files.OutputError, match="written by another process"):
        files.write_bytes(f, b"3", expect=before)
    assert f.read_bytes() == b"2"
    with pytest.raises(files.OutputError, match="created by another process"):
        files.write_bytes(f, b"4", expect=files.ABSENT)


# ------------------------------------------------------------------ SIGTERM and SIGHUP
@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGHUP, 129, "hung up")]
)
@pytest.mark.slow
def test_sigterm_and_sighup_during_training_save_the_model_so_far(tmp_path, sig, code, word):
    from engine.model.storage import load_model

    out = tmp_path / "stopped.pt"
    args = ["train", "demo", "--epochs", "1000", "--set", "patience=0", "--hidden", "8"]
    p = subprocess.Popen(
        [sys.executable, "-m", "rbm_tui", *map(str, [*args, "--model-out", out])],
        cwd=REPO,
        env=env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in p.stderr:
            if line.startswith("epoch 2/"):
                break
        p.send_signal(sig)
        stdout, stderr = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, stderr
    assert f"training {word} after" in stderr and str(out) in stderr, stderr
    assert "Traceback" not in stderr and stdout == ""
    model = load_model(out, device="cpu")
    assert 2 <= len(model.meta["history"]) < 1000
    assert model.meta["stopped"] is True  # the app must not take it for a whole run's copy


# ------------------------------------------------------------------ 8. argument errors
@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["recommend", "demo", "--model", "x", "--k", "0"],
         "rbm-tui recommend: --k must be at least 1, got 0"),
        (["recommend", "demo"], "rbm-tui recommend: the following arguments are required: --model"),
        (["nonsense"], "rbm-tui: COMMAND: invalid choice: 'nonsense'"),
        (["train", "demo", "--bogus"], "rbm-tui: unrecognized arguments: --bogus"),
    ],
)  # fmt: skip
def test_argument_errors_are_one_line_without_a_usage_block(argv, line):
    rc, out, err = run(argv)
    assert rc == 2 and out == ""
    assert len(err.splitlines()) == 1 and "usage:" not in err, err
    assert err.startswith(line), err


# ------------------------------------------------------------------ 9. conflicting settings
def test_a_set_value_that_conflicts_with_a_flag_is_an_error(tmp_path):
    out = tmp_path / "m.pt"
    rc, _out, err = run(
        ["train", "demo", "--hidden", "4", "--set", "n_hidden=0", "--model-out", out]
    )
    assert rc == 2 and not out.exists()
    assert err == "rbm-tui: error: --set n_hidden=0 conflicts with --hidden 4; give one of them\n"
    rc, _out, err = run(["train", "demo", "--set", "dropout=0.1", "--set", "dropout=0.2"])
    assert rc == 2 and "--set dropout is given twice" in err


@pytest.mark.parametrize(
    "item",
    ["like_threshold=1e308", "n_hidden=0", "learning_rate=inf", "momentum=nan", "epochs=-1",
     "batch_size=99999999999", "dropout=2"],
)  # fmt: skip
def test_every_set_value_is_range_checked(item, tmp_path):
    rc, _out, err = run(["train", "demo", "--set", item, "--model-out", tmp_path / "m.pt"])
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("rbm-tui: error: --"), err
    assert not (tmp_path / "m.pt").exists()


# ------------------------------------------------------------------ 7. numeric warnings
def test_numeric_overflow_warnings_never_reach_stderr(tmp_path):
    bad = tmp_path / "big.csv"
    bad.write_text("user,item,rating\n1,1,1e308\n1,2,4\n2,1,5\n2,2,1e309\n")
    r = rbm_tui(["train", bad, *QUICK, "--model-out", tmp_path / "m.pt"], tmp_path)
    assert r.returncode == 2
    assert "Warning" not in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


# ------------------------------------------------------------------ 10. NUL bytes
@pytest.mark.parametrize(
    "argv",
    [["train", "demo", *QUICK, "--model-out", "m\0.pt"], ["recommend", "demo", "--model", "a\0b"],
     ["train", "de\0mo"], ["models", "info", "x\0"]],
)  # fmt: skip
def test_a_nul_byte_in_an_argument_is_one_line(argv):
    rc, out, err = run(argv)
    assert rc == 2 and out == "" and len(err.splitlines()) == 1
    assert "NUL byte" in err and "training on" not in err


def test_the_engine_refuses_a_nul_byte_in_an_output_path(tmp_path):
    with pytest.raises(files.OutputError, match="NUL byte"):
        files.check_regular_output(f"{tmp_path}/m\0.pt")
    with pytest.raises(files.OutputError, match="NUL byte"):
        files.write_bytes(f"{tmp_path}/m\0.pt", b"x")


# ------------------------------------------------------------------ 13. a full disk
def test_a_full_disk_is_named_once(tmp_path, monkeypatch):
    def full(fd):  # every write ends with fsync: the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    rc, _out, err = run(["train", "demo", *QUICK, "--model-out", tmp_path / "m.pt"])
    assert rc == 2
    [line] = error_lines(err)
    assert line.count(os.strerror(errno.ENOSPC)) == 1, line
    assert "could not save the model anywhere" in line and str(tmp_path / "m.pt") in line
    assert not list(tmp_path.iterdir())  # no temporary file left


# ------------------------------------------------------------------ 17. escape codes
def test_escape_codes_are_stripped_from_error_lines(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n1,1,4\n1,2,\x1b]0;owned\x07\x1b[2J\x1b[31mred\n")
    rc, _out, err = run(["train", bad, *QUICK])
    assert rc == 2 and "\x1b" not in err and "\x07" not in err and "line 3" in err
    rc, _out, err = run(["recommend", "demo", "--model", "\x1b[31mevil\x1b[0m.pt"])
    assert rc == 2 and "\x1b" not in err and "evil" in err


def test_printable_removes_csi_osc_and_control_characters():
    assert printable("a\x1b[1;31mb\x1b[0mc") == "abc"
    assert printable("x\x1b]0;title\x07y\x1b]8;;http://e\x1b\\z") == "xyz"
    assert printable("bell\x07 back\x08 c1\x9b") == "bell? back? c1?"
    assert one_line("two\nlines\tand\x1b[Ktabs") == "two lines andtabs"


def test_an_output_in_a_missing_folder_is_refused_before_the_model_is_read(tmp_path):
    """The model named does not even exist: the output is what the line is about."""
    out = tmp_path / "no" / "such" / "folder" / "out.csv"
    rc, _out, err = run(["recommend", "demo", "--model", tmp_path / "missing.pt", "--output", out])
    assert rc == 2 and err == f"rbm-tui: error: {out}: the folder {out.parent} does not exist\n"


def test_ctrl_c_while_the_model_is_saved_does_not_lose_it(tmp_path, monkeypatch):
    """The stop signals stay caught until the model is saved: a Ctrl+C at that point lets the
    save finish, then exits 130 saying where the model is."""
    import engine.model.storage as storage

    real = storage.save_with_fallback

    def ctrl_c_then_save(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "save_with_fallback", ctrl_c_then_save)
    out = tmp_path / "m.pt"
    rc, stdout, err = run(["train", "demo", *QUICK, "--model-out", out])
    assert rc == 130, err
    assert f"training interrupted after 1 epoch; the model so far was saved to {out}" in err
    from engine.model.storage import load_model

    assert load_model(out, device="cpu").n_items == 395


def test_a_stream_that_fails_stops_the_progress_not_the_run():
    """A hung-up terminal (EIO on every write) after SIGHUP: the bar stops drawing; the run
    goes on to save its model."""
    from engine.settings import TrainConfig
    from engine.training.forecast import Forecast
    from rbm_tui.progress import TrainProgress

    class HungUp(io.StringIO):
        def write(self, text):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    class Batch:
        epoch, batch, n_batches = 1, 1, 2

    for tty in (True, False):
        p = TrainProgress(Forecast(TrainConfig(epochs=2)), HungUp(), tty=tty, log_every=0)
        p.on_batch(Batch())
        p.message("still here")
        p.close()
        assert p.line._gone
