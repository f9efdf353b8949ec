"""The ``rbm-tui`` command line, end to end on the real MovieLens 100K and the benchmark split.

Most commands run in-process through ``main([...])``; a few run as real subprocesses to check
exit codes, the absence of tracebacks, Ctrl+C and the fast start. One small model per data
set is trained once per module (2 epochs, 20 hidden units) and reused.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import http.server
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from engine.data.pairs import read_pairs
from engine.errors import DownloadCancelled
from engine.formatting import format_bytes, format_duration
from rbm_tui.cli import main
from rbm_tui.progress import ByteProgress, TrainProgress

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
# one torch thread: on a shared, busy 2-core machine more threads are many times slower
SMALL = ["--epochs", "2", "--hidden", "20", "--threads", "1"]


# --------------------------------------------------------------------------- helpers
def run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with stdout/stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def read_table(path: Path, sep: str = "\t") -> list[list[str]]:
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            rows.append(line.split(sep))
    return rows


def subprocess_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["RBM_TUI_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("RBM_TUI_DEBUG", None)
    env["OMP_NUM_THREADS"] = "1"
    return env


def rbm_tui(args: list[str], home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rbm_tui", *map(str, args)],
        cwd=REPO,
        env=subprocess_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ml100k(ml100k_dir) -> Path:
    return ml100k_dir


@pytest.fixture(scope="module")
def bench(bench_dir) -> Path:
    return bench_dir


@pytest.fixture(scope="module")
def module_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RBM_TUI_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def u1_model(ml100k, module_home, tmp_path_factory) -> tuple[Path, dict]:
    """A small model trained on u1.base through the CLI, and its --json summary."""
    path = tmp_path_factory.mktemp("models") / "u1.pt"
    rc, out, err = run(["train", ml100k / "u1.base", *SMALL, "--model-out", path, "--json"])
    assert rc == 0, err
    return path, json.loads(out)


@pytest.fixture(scope="module")
def bench_model(bench, module_home, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "bench.pt"
    rc, out, err = run(["train", bench / "train.csv", *SMALL, "--model-out", path])
    assert rc == 0, err
    assert out.strip() == str(path)
    return path


# --------------------------------------------------------------------------- help, version
def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("train", "recommend", "predict", "evaluate", "datasets", "models"):
        assert cmd in out
    assert "examples:" in out
    assert main(["--version"]) == 0
    assert "rbm-tui 0.1.0" in capsys.readouterr().out


@pytest.mark.parametrize(
    "cmd",
    [
        ["train"],
        ["recommend"],
        ["predict"],
        ["evaluate"],
        ["datasets"],
        ["datasets", "download"],
        ["datasets", "import"],
        ["datasets", "info"],
        ["datasets", "list"],
        ["datasets", "remove"],
        ["models"],
        ["models", "list"],
        ["models", "info"],
        ["models", "delete"],
        ["models", "rename"],
    ],
)
def test_every_command_has_help_with_examples(cmd, capsys):
    assert main([*cmd, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: rbm-tui" in out
    assert "example" in out


def test_train_help_fits_one_screen_and_comes_from_the_settings_table(capsys, monkeypatch):
    """``train --help`` lists exactly the basic settings (with their defaults) on one 80x24
    screen; ``--help-advanced`` lists every setting of the table with its range."""
    from engine.settings import ADVANCED, BASIC
    from rbm_tui.cli.train import _show

    monkeypatch.setenv("COLUMNS", "80")
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    lines = text.rstrip("\n").split("\n")
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80, text
    flags = {w for line in lines for w in line.split() if w.startswith("--")}
    assert {s.flag for s in BASIC} <= flags
    assert not any(f"--{s.name.replace('_', '-')}" in flags for s in ADVANCED)
    for s in BASIC:  # each flag's entry (maybe wrapped) ends with its default, from the table
        entry = text.split(f"  {s.flag} ", 1)[1].split("\n  -", 1)[0]
        assert " ".join(entry.split()).endswith(f"{s.help} ({_show(s.default)})"), entry
    assert "(250)" in text and "(0.01)" in text  # --hidden, --learning-rate
    assert main(["train", "--help-advanced"]) == 0
    adv = capsys.readouterr().out
    for s in (*BASIC, *ADVANCED):
        assert f"  {s.name} = " in adv and s.describe_range() in adv


def test_usage_errors_exit_2(capsys):
    assert main(["recommend", "demo"]) == 2  # --model missing
    assert "required" in capsys.readouterr().err
    assert main(["recommend", "demo", "--model", "x", "--k", "0"]) == 2
    assert main(["nonsense"]) == 2


def test_no_arguments_opens_the_app(monkeypatch):
    import types

    import rbm_tui.cli as cli

    assert main([]) == 2  # pytest's stdin is no terminal: one line, no app drawn into a pipe
    monkeypatch.setattr(cli, "on_a_terminal", lambda: True)
    calls = []
    fake = types.ModuleType("rbm_tui.app")
    fake.run = lambda: calls.append(1)
    monkeypatch.setitem(sys.modules, "rbm_tui.app", fake)
    assert main([]) == 0
    assert calls == [1]
    fake.run = lambda dataset=None: calls.append(dataset)
    assert main(["--dataset", "demo"]) == 0
    assert calls == [1, "demo"]


# --------------------------------------------------------------------------- train
def test_train_json_and_defaults(u1_model):
    from engine.model.storage import load_model
    from engine.settings import TrainConfig

    path, info = u1_model
    assert path.is_file()
    assert info["path"] == str(path)
    assert info["epochs"] == 2
    assert 1 <= info["best_epoch"] <= 2
    assert info["seconds"] > 0
    assert {"auc", "ndcg@10"} <= set(info["val"])
    # flags given override; everything else is TrainConfig's default
    defaults = TrainConfig().to_dict()
    cfg = info["config"]
    assert cfg["n_hidden"] == 20 and cfg["epochs"] == 2
    for key in ("batch_size", "learning_rate", "momentum", "weight_decay", "cd_k", "seed"):
        assert cfg[key] == defaults[key]
    model = load_model(path, device="cpu")
    assert model.n_items == 1682
    assert model.config == cfg  # what --json says is what the file holds
    assert cfg["like_threshold"] == 3.0  # the automatic threshold (0) settled for 1-5 stars


def test_train_default_path_and_models_commands(rbm_home, capsys):
    rc = main(
        [
            "train",
            "demo",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--like-threshold",
            "4",
            "--threads",
            "1",
        ]
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    path = Path(cap.out.strip())
    assert path.is_file()
    assert path.parent == rbm_home / "data" / "models"
    assert path.name.startswith("demo-") and path.suffix == ".pt"
    assert "epoch 1/~1" in cap.err  # one progress line per epoch when stderr is not a tty

    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert path.stem in out and "demo" in out

    assert main(["models", "info", path.stem]) == 0
    out = capsys.readouterr().out
    assert "hidden units" in out and "8" in out
    assert "like threshold" in out and "4.0" in out

    assert main(["models", "info", path.stem, "--json"]) == 0
    header = json.loads(capsys.readouterr().out)["header"]
    assert header["config"]["like_threshold"] == 4.0

    from rbm_tui.preferences import Preferences

    Preferences(models={"demo": str(path), "ml-100k": "/elsewhere/other.pt"}).save()
    assert main(["models", "rename", path.stem, "mine"]) == 0
    new = Path(capsys.readouterr().out.strip())
    assert new.name == "mine.pt" and new.is_file() and not path.exists()
    # the app's remembered active model follows (it was lost to the app, then pruned)
    assert Preferences.load().models == {"demo": str(new), "ml-100k": "/elsewhere/other.pt"}
    assert main(["models", "rename", "mine", "bad name!"]) == 2
    assert "rbm-tui: error:" in capsys.readouterr().err

    # stdin is not a terminal: deleting needs --yes
    assert main(["models", "delete", "mine"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert new.is_file()
    assert main(["models", "delete", "mine", "--yes"]) == 0
    assert not new.exists()
    assert Preferences.load().models == {"ml-100k": "/elsewhere/other.pt"}
    assert main(["models", "delete", "mine", "--yes"]) == 2
    assert "no such model" in capsys.readouterr().err
    assert main(["models"]) == 0
    assert "no models" in capsys.readouterr().out


def test_train_model_out_folder(rbm_home, tmp_path, capsys):
    rc = main(
        [
            "train",
            "demo",
            "--epochs",
            "1",
            "--hidden",
            "4",
            "--threads",
            "1",
            "--model-out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == tmp_path and path.name.startswith("demo-")


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--hidden", "0"], "--hidden: 0 is out of range"),
        (["--set", "momentum=1.5"], "--set momentum: 1.5 is out of range; use a value in [0, 1)"),
        (["--learning-rate", "-1"], "--learning-rate: -1 is out of range"),
        (["--set", "nonsense=1"], "--set nonsense: no such setting"),
        (["--set", "dropout"], "expected NAME=VALUE"),
    ],
)
def test_train_bad_hyperparameters(flags, needle, tmp_path):
    rc, out, err = run(["train", "demo", *flags, "--model-out", tmp_path / "m.pt"])
    assert rc == 2
    assert err.startswith("rbm-tui: error:") and needle in err
    assert not (tmp_path / "m.pt").exists()


def test_train_missing_and_malformed_input(tmp_path):
    rc, out, err = run(["train", tmp_path / "nope.csv"])
    assert rc == 2 and "nope.csv" in err and err.count("\n") == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n1,10,4\n1,11,abc\n2,10,5\n")
    rc, out, err = run(["train", bad, "--model-out", tmp_path / "m.pt"])
    assert rc == 2
    assert "bad.csv" in err and "line 3" in err
    assert "Traceback" not in err
    assert not (tmp_path / "m.pt").exists()
    rc, out, err = run(["train", "no-such-dataset"])
    assert rc == 2 and "no-such-dataset" in err


# --------------------------------------------------------------------------- recommend
@pytest.mark.slow
def test_recommend_every_user(u1_model, ml100k):
    path, _ = u1_model
    rc, out, err = run(["recommend", ml100k / "u1.base", "--model", path, "--k", "7"])
    assert rc == 0, err
    header, rows = read_csv(out)
    assert header == ["user", "item", "title", "p_seen", "p_like"]
    rated: dict[str, set[str]] = {}
    for u, i, *_ in read_table(ml100k / "u1.base"):
        rated.setdefault(u, set()).add(i)
    per_user: dict[str, list[tuple[str, float]]] = {}
    for u, i, _title, s, _p in rows:
        per_user.setdefault(u, []).append((i, float(s)))
    assert set(per_user) == set(rated)  # every user of DATA, original IDs
    for u, recs in per_user.items():
        assert len(recs) == 7
        items = [i for i, _ in recs]
        assert len(set(items)) == 7
        assert not set(items) & rated[u], f"user {u} got a movie they rated"
        scores = [s for _, s in recs]
        assert scores == sorted(scores, reverse=True)  # best first


def test_recommend_one_user_table_and_output_file(u1_model, ml100k, tmp_path):
    path, _ = u1_model
    rc, out, err = run(["recommend", ml100k / "u1.base", "--model", path, "--user", "196"])
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert "user 196" in lines[0]
    assert lines[1].split()[2:] == ["title", "P(seen)", "P(like)"]
    body = lines[2:]
    assert len(body) == 10
    assert all(line.rstrip().endswith("%") for line in body)
    assert any("(19" in line for line in body)  # titles with years from u.item

    dest = tmp_path / "one.csv"
    rc, out, err = run(
        ["recommend", ml100k / "u1.base", "--model", path, "--user", "196", "--k", "3", "-o", dest]
    )
    assert rc == 0 and out == ""
    header, rows = read_csv(dest.read_text())
    assert header == ["user", "item", "title", "p_seen", "p_like"] and len(rows) == 3
    assert {r[0] for r in rows} == {"196"}
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_recommend_unknown_user_and_bad_model(u1_model, ml100k, tmp_path):
    path, _ = u1_model
    rc, out, err = run(["recommend", ml100k / "u1.base", "--model", path, "--user", "99999"])
    assert rc == 2 and "unknown user" in err and "99999" in err
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(os.urandom(4096))
    rc, out, err = run(["recommend", ml100k / "u1.base", "--model", garbage])
    assert rc == 2 and "garbage.pt" in err
    rc, out, err = run(["recommend", ml100k / "u1.base", "--model", tmp_path / "none.pt"])
    assert rc == 2 and "none.pt" in err


def test_recommend_mismatched_model(u1_model, tmp_path):
    path, _ = u1_model
    other = tmp_path / "other.csv"
    other.write_text("user,item,rating\na,x1,4\na,x2,2\nb,x1,5\n")
    rc, out, err = run(["recommend", other, "--model", path])
    assert rc == 2 and "knows none of the movies" in err


# --------------------------------------------------------------------------- predict
def test_predict_every_pair(u1_model, ml100k, tmp_path):
    path, _ = u1_model
    dest = tmp_path / "p.csv"
    rc, out, err = run(
        ["predict", ml100k / "u1.base", "--model", path, "--pairs", ml100k / "u1.test", "-o", dest]
    )
    assert rc == 0, err
    header, rows = read_csv(dest.read_text())
    assert header == ["user", "item", "p_like"]
    pairs = read_table(ml100k / "u1.test")
    assert len(rows) == len(pairs) == 20000
    assert [r[:2] for r in rows] == [p[:2] for p in pairs]  # same rows, same order
    p = [float(r[2]) for r in rows]
    assert all(0.0 < x < 1.0 for x in p)
    # informative: liked test movies get a higher P(like) on average than disliked ones
    liked = [x for x, pr in zip(p, pairs) if float(pr[2]) >= 3]
    disliked = [x for x, pr in zip(p, pairs) if float(pr[2]) < 3]
    assert sum(liked) / len(liked) > sum(disliked) / len(disliked)


def test_predict_pairs_without_ratings_and_unknowns(u1_model, ml100k, tmp_path):
    path, _ = u1_model
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("user,item\n1,6\n99999,5\n2,999999\n1,10\n")
    rc, out, err = run(["predict", ml100k / "u1.base", "--model", path, "--pairs", pairs])
    assert rc == 0, err
    header, rows = read_csv(out)
    assert header == ["user", "item", "p_like"]
    assert [r[:2] for r in rows] == [["1", "6"], ["99999", "5"], ["2", "999999"], ["1", "10"]]
    assert rows[1][2] == "" and rows[2][2] == ""  # unscorable pairs keep an empty p_like
    assert 0 < float(rows[0][2]) < 1 and 0 < float(rows[3][2]) < 1
    assert "2 of 4 pairs" in err and "99999" in err and "999999" in err


def test_predict_malformed_pairs(u1_model, ml100k, tmp_path):
    path, _ = u1_model
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("user,item\n1,6\n7\n")
    rc, out, err = run(["predict", ml100k / "u1.base", "--model", path, "--pairs", pairs])
    assert rc == 2
    assert "pairs.csv" in err and "line 3" in err
    rc, out, err = run(
        ["predict", ml100k / "u1.base", "--model", path, "--pairs", tmp_path / "no.csv"]
    )
    assert rc == 2 and "no.csv" in err


def test_read_pairs_formats(tmp_path):
    f = tmp_path / "a.dat"
    f.write_text("1::10::5::978300760\n2::20::3::978300761\n")
    assert read_pairs(f) == (["1", "2"], ["10", "20"])
    f = tmp_path / "b.csv"
    f.write_text("rating,movieId,userId\n5,10,1\n3,20,2\n")
    assert read_pairs(f) == (["1", "2"], ["10", "20"])
    f = tmp_path / "c.tsv"
    f.write_text("customer\tproduct\tstars\nc1\tp1\t5\n")
    assert read_pairs(f) == (["c1"], ["p1"])
    f = tmp_path / "d.csv"
    f.write_text("alice,matrix\nbob,up\n")
    assert read_pairs(f) == (["alice", "bob"], ["matrix", "up"])


# --------------------------------------------------------------------------- evaluate
@pytest.mark.slow
def test_evaluate_u1(u1_model, ml100k):
    path, _ = u1_model
    base, test = ml100k / "u1.base", ml100k / "u1.test"
    rc, out, err = run(["evaluate", "--model", path, "--train", base, "--test", test, "--json"])
    assert rc == 0, err
    doc = json.loads(out)
    m = doc["metrics"]
    for key in ("auc", "accuracy", "per_user_error", "ece", "precision@10", "ndcg@10", "map"):
        assert 0.0 <= m[key] <= 1.0, key
    assert m["auc"] > 0.6
    assert m["test_rows"] == 20000
    args = ["evaluate", "--model", path, "--train", base, "--test", test, "--json"]
    rc, out, err = run([*args, "--thumbs-only"])
    assert rc == 0, err
    thumbs = json.loads(out)
    assert thumbs["thumbs_only"] and not doc["thumbs_only"]
    # a person's visible units are their hard likes either way, and the calibration is fitted
    # for the thumbs path (its stars feature has weight 0): the stars change nothing
    from engine.model.storage import load_model

    assert load_model(path, device="cpu").calibration["person_rating"] == 0.0
    assert thumbs["metrics"] == pytest.approx(m, rel=1e-9, abs=1e-12)
    rc, out, err = run(["evaluate", "--model", path, "--train", base, "--test", test, "--k", "5"])
    assert rc == 0, err
    assert "AUC" in out and "P@5" in out and "nDCG@5" in out and "MAP" in out


@pytest.mark.slow
def test_benchmark_split_end_to_end(bench_model, bench):
    train, test = bench / "train.csv", bench / "test.csv"
    rc, out, err = run(
        ["evaluate", "--model", bench_model, "--train", train, "--test", test, "--json"]
    )
    assert rc == 0, err
    m = json.loads(out)["metrics"]
    assert m["users"] == 943
    assert m["precision@10"] > 0.1  # far better than random (~0.015)
    assert m["skipped_rows"] == 0
    rc, out, err = run(["recommend", train, "--model", bench_model, "--k", "10"])
    assert rc == 0, err
    header, rows = read_csv(out)
    seen = {tuple(r[:2]) for r in read_csv(train.read_text())[1]}
    assert len(rows) == 943 * 10
    assert not any((u, i) in seen for u, i, *_ in rows)


# --------------------------------------------------------------------------- datasets
def test_datasets_list_and_info(ml100k, tmp_path):
    rc, out, err = run(["datasets"])
    assert rc == 0
    for name in ("demo", "ml-100k", "ml-1m", "ml-25m"):
        assert name in out
    assert "licence" in out and "MovieLens usage licence" in out and "bundled" in out
    rc, out2, err = run(["datasets", "list"])
    assert out2 == out
    rc, out, err = run(["datasets", "list", "--json"])
    doc = json.loads(out)
    demo = next(d for d in doc if d["name"] == "demo")
    assert demo["on_disk"] is True

    rc, out, err = run(["datasets", "info", ml100k / "u1.base"])
    assert rc == 0, err
    assert "943" in out and "1,682" in out and "80,000" in out
    assert "like share" in out and "sparsity" in out
    rc, out, err = run(["datasets", "info", ml100k, "--json"])
    stats = json.loads(out)["stats"]
    assert (stats["users"], stats["movies"], stats["ratings"]) == (943, 1682, 100000)
    assert 0.5 < stats["like_share"] < 1 and 0.9 < stats["sparsity"] < 1

    rc, out, err = run(["datasets", "info", "demo"])
    assert rc == 0 and "licence" in out and "400" in out
    rc, out, err = run(["datasets", "info", "ml-1m"])  # not downloaded: catalogue facts only
    assert rc == 0 and "datasets download ml-1m" in out and "MovieLens 1M" in out

    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n1,10,4\n1\n")
    rc, out, err = run(["datasets", "info", bad])
    assert rc == 2 and "bad.csv" in err and "line 3" in err


def test_datasets_import_and_remove(tmp_path):
    src = tmp_path / "mine.csv"
    src.write_text("user,item,rating\n1,10,4\n1,11,2\n2,10,5\n2,12,1\n")
    rc, out, err = run(["datasets", "import", src, "--name", "mine"])
    assert rc == 0, err
    assert Path(out.strip()).exists()
    rc, out, err = run(["datasets", "import", src, "--name", "Mine"])
    assert rc == 2 and "mine is already on disk (--force replaces it" in err
    assert run(["datasets", "import", src, "--name", "mine", "--force"])[0] == 0
    rc, out, err = run(["datasets"])
    assert "mine" in out
    rc, out, err = run(["datasets", "info", "mine"])
    assert rc == 0 and "ratings" in out and "4" in out
    rc, out, err = run(["datasets", "remove", "mine"])
    assert rc == 2 and "--yes" in err
    rc, out, err = run(["datasets", "remove", "mine", "--yes"])
    assert rc == 0
    rc, out, err = run(["datasets"])
    assert "mine" not in out
    rc, out, err = run(["datasets", "import", tmp_path / "absent.csv"])
    assert rc == 2 and "absent.csv" in err


def test_datasets_download_refusals():
    rc, out, err = run(["datasets", "download", "demo"])
    assert rc == 2 and "not downloadable" in err
    rc, out, err = run(["datasets", "download", "nonesuch"])
    assert rc == 2 and "unknown dataset" in err


def _latest_small_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "ml-latest-small/ratings.csv",
            "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,2.5,964981247\n"
            "2,1,5.0,964982224\n2,2,3.0,964983815\n",
        )
        zf.writestr(
            "ml-latest-small/movies.csv",
            "movieId,title,genres\n1,Toy Story (1995),Animation\n2,Jumanji (1995),Adventure\n"
            "3,Heat (1995),Action\n",
        )
    return buf.getvalue()


@pytest.fixture
def mirror(monkeypatch):
    """A local HTTP server with a tiny ml-latest-small.zip (and its .md5), as RBM_TUI_MIRROR."""
    blob = _latest_small_zip()
    files = {
        "/ml-latest-small.zip": blob,
        "/ml-latest-small.zip.md5": hashlib.md5(blob).hexdigest().encode() + b"\n",
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("RBM_TUI_MIRROR", f"http://127.0.0.1:{server.server_address[1]}/")
    yield
    server.shutdown()
    server.server_close()


def test_datasets_download_from_mirror(mirror, rbm_home):
    rc, out, err = run(["datasets", "download", "ml-latest-small"])
    assert rc == 0, err
    path = Path(out.strip())
    assert path == rbm_home / "data" / "datasets" / "ml-latest-small"
    assert (path / "ratings.csv").is_file()
    assert "downloading ml-latest-small" in err
    rc, out, err = run(["datasets", "download", "ml-latest-small"])
    assert rc == 0 and "already" in err
    rc, out, err = run(["datasets", "info", "ml-latest-small", "--json"])
    assert json.loads(out)["stats"]["ratings"] == 4


def test_datasets_download_ctrl_c_cancels(monkeypatch, rbm_home):
    """The first Ctrl+C sets the cancel flag the engine polls; exit 130."""
    from engine import catalogue as ds

    seen = []

    def fake_download(name, *, progress=None, cancel=None, **kw):
        progress(0, 1000)
        progress(400, 1000)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C: handled, not raised
        seen.append(cancel.is_set())
        raise DownloadCancelled(f"download of {name} cancelled")

    monkeypatch.setattr(ds, "download", fake_download)
    before = signal.getsignal(signal.SIGINT)
    rc, out, err = run(["datasets", "download", "ml-100k"])
    assert rc == 130
    assert seen == [True]
    assert "cancelled" in err and "Traceback" not in err
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


# --------------------------------------------------------------------------- progress
def test_train_progress_lines_and_tty():
    class Batch:
        def __init__(self, epoch, batch, n):
            self.epoch, self.batch, self.n_batches = epoch, batch, n

    class Report:
        def __init__(self, epoch):
            self.epoch, self.epochs, self.train_loss = epoch, 3, 0.25
            self.refit = epoch == 3  # the last epoch trains on all the ratings: no val
            self.val = {} if self.refit else {"auc": 0.8, "ndcg@10": 0.3}
            self.seconds, self.best = 0.5, epoch == 1

    from engine.settings import TrainConfig
    from engine.training.forecast import Forecast

    t = [0.0]
    config = TrainConfig(epochs=3, refit_share=0.34, patience=0)  # 2 main epochs, 1 refit
    stream = io.StringIO()
    p = TrainProgress(Forecast(config, clock=lambda: t[0]), stream, tty=False)
    for e in (1, 2, 3):
        for b in (1, 2):
            t[0] += 1
            p.on_batch(Batch(e, b, 2))
        p.on_epoch(Report(e))
    p.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/~3") and "loss 0.2500" in lines[0]
    # 2 s a pass: a main and a refit epoch, then the finishing steps (FINISH_PASSES passes)
    assert "val auc 0.8000" in lines[0] and "ETA 0:11" in lines[0]
    assert "*best" in lines[0] and "+all ratings" not in lines[0]
    assert lines[2].startswith("epoch 3/3") and "ETA 0:07" in lines[2]  # finishing steps
    assert "+all ratings" in lines[2] and "val auc" not in lines[2]
    assert "\r" not in stream.getvalue()

    stream = io.StringIO()
    p = TrainProgress(Forecast(config, clock=lambda: t[0]), stream, tty=True)
    p.on_batch(Batch(1, 1, 2))
    p.on_epoch(Report(1))
    p.close()
    text = stream.getvalue()  # a rich.progress bar, redrawn in place
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert plain.count("\r") >= 2 and plain.endswith("\n") and plain.count("\n") == 1
    assert "ETA" in plain and "━" in plain and plain.startswith("epoch 1/~3")

    stream = io.StringIO()  # a run that ended whole: the bar full, no ETA of the past
    p = TrainProgress(Forecast(config, clock=lambda: t[0]), stream, tty=True)
    p.on_batch(Batch(1, 1, 2))
    p.on_epoch(Report(1))
    t[0] += 5
    p.finish()
    p.close()
    last = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue()).split("\r")[-1]
    assert "done in 0:05" in last and "ETA" not in last and "╺" not in last, last
    assert "━" * 20 in last


def test_byte_progress():
    stream = io.StringIO()
    p = ByteProgress("downloading x", stream, tty=False)
    for done in range(0, 1001, 50):
        p(done, 1000)
    p.close()
    lines = stream.getvalue().splitlines()
    assert 9 <= len(lines) <= 11
    assert "1.0 KB / 1.0 KB" in lines[-1]
    assert format_bytes(4_924_029) == "4.9 MB"
    assert format_duration(75) == "1:15" and format_duration(None) == "?"


# --------------------------------------------------------------------------- subprocesses
def test_fast_start_imports_nothing_heavy():
    code = (
        "import sys, rbm_tui.cli as c; c.build_parser();"
        "mods = ('torch', 'pandas', 'numpy', 'textual');"
        "light = {'engine', 'engine.errors', 'engine.settings'};"
        "heavy = [m for m in sys.modules if m.split('.')[0] in mods"
        " or (m.startswith('engine') and m not in light)];"
        "print(heavy)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=subprocess_env(REPO),
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_subprocess_errors_have_no_traceback(u1_model, ml100k, tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a model" * 100)
    r = rbm_tui(["predict", ml100k / "u1.base", "--model", garbage, "--pairs", "x.csv"], tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("rbm-tui: error:") and "garbage.pt" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = rbm_tui(["train", tmp_path / "missing.csv"], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "missing.csv" in r.stderr
    assert r.stdout == ""


@pytest.mark.slow
def test_subprocess_ctrl_c_during_training_keeps_the_model_so_far(ml100k, tmp_path):
    """Ctrl+C stops training within a batch, saves the model trained so far (whole: it loads,
    with the epochs done in its history), says where, and exits with 130."""
    from engine.model.storage import load_model

    out = tmp_path / "interrupted.pt"
    args = ["train", ml100k / "u1.base", "--epochs", "1000", "--set", "patience=0"]
    args += ["--hidden", "20", "--model-out", out]
    p = subprocess.Popen(
        [sys.executable, "-m", "rbm_tui", *map(str, args)],
        cwd=REPO,
        env=subprocess_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in p.stderr:
            if line.startswith("epoch 2/"):
                break
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, stderr
    assert "training interrupted after" in stderr and str(out) in stderr, stderr
    assert "Traceback" not in stderr and stdout == ""
    model = load_model(out, device="cpu")
    assert 2 <= len(model.meta["history"]) < 1000
    assert not list(tmp_path.glob(".interrupted.pt.*"))


def test_train_reports_the_epochs_on_all_ratings(rbm_home, capsys):
    args = ["train", "demo", "--hidden", "8", "--threads", "1", "--set", "patience=0"]
    from engine.settings import TrainConfig

    assert TrainConfig(epochs=7).refit_epochs == 4  # 70 % of 7, rounded down
    assert main([*args, "--epochs", "7"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 7
    assert all("val auc" in line and "+all ratings" not in line for line in lines[:3])
    assert all("+all ratings" in line and "val " not in line for line in lines[3:])
    assert lines[-1].startswith("epoch 7/7 ")
    assert "trained 7 epochs" in err and "then 4 on all the ratings" in err
    assert main([*args, "--epochs", "7", "--set", "refit_share=0"]) == 0
    err = capsys.readouterr().err
    assert "trained 7 epochs" in err and "all ratings" not in err
