"""What the command line prints: one explained score in ``recommend`` (the number the rows
are sorted by comes first, named as the app names it), help and tables that fit an
80-column terminal, a ``models info`` that fits 60 lines, and no numeric warning from the
engine's read layer.

The model is the tiny seeded demo model of ``conftest.py``; nothing here needs MovieLens.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from rbm_tui.cli import main

REPO = Path(__file__).resolve().parent.parent


def run(argv: list) -> tuple[int, str, str]:
    """``main(argv)`` with stdout/stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def wider_than(text: str, columns: int) -> list[str]:
    return [line for line in text.splitlines() if len(line) > columns]


# --------------------------------------------------------------------------- recommend
@pytest.mark.slow
@pytest.mark.parametrize("by, ranked", [("seen", "p_seen"), ("liked", "match")])
def test_recommend_rows_are_sorted_by_the_first_number_the_header_names(
    seeded_model_file, tmp_path, by, ranked
):
    """The CSV names its columns ``user,item,title,<ranked>,p_like``; every user's rows are
    sorted by the first number; ``--output`` writes the same columns and rows."""
    argv = ["recommend", "demo", "--model", seeded_model_file, "--by", by, "--k", "8"]
    rc, out, err = run(argv)
    assert rc == 0, err
    header, rows = read_csv(out)
    assert header == ["user", "item", "title", ranked, "p_like"]
    per_user: dict[str, list[float]] = {}
    for user, _item, title, value, p_like in rows:
        assert title and 0.0 < float(p_like) < 1.0
        assert 0.0 < float(value) <= 1.0
        per_user.setdefault(user, []).append(float(value))
    assert len(per_user) > 10 and all(len(v) == 8 for v in per_user.values())
    for values in per_user.values():
        assert values == sorted(values, reverse=True)
    # the second number (P(like)) is not what the rows are sorted by: somewhere it rises
    assert any(float(a[4]) < float(b[4]) for a, b in zip(rows, rows[1:]) if a[0] == b[0]), (
        "P(like) happens to be sorted: the test cannot tell the columns apart"
    )
    dest = tmp_path / "out.csv"
    rc, _out, err = run([*argv, "--output", dest])
    assert rc == 0, err
    assert dest.read_text() == out


def test_recommend_match_is_the_apps_match(seeded_model_file):
    """``--by liked --thumbs-only``'s match and p_like are the app's Match and P(like) of
    the same person's thumbs (:attr:`engine.recommender.Scores.match`)."""
    from engine import catalogue
    from engine.data.loaders import load_ratings
    from engine.model.storage import load_model
    from engine.recommender import fold_in, recommend

    argv = ["recommend", "demo", "--model", seeded_model_file, "--by", "liked"]
    rc, out, err = run([*argv, "--thumbs-only", "--user", "3", "--k", "6", "-o", "-"])
    assert rc == 0, err
    _header, rows = read_csv(out)
    model = load_model(seeded_model_file, device="cpu")
    r = load_ratings(catalogue.demo_path(), cache=False)
    items, values = r.user_items(r.lookup_user("3"))
    idx = model.map_items(r.item_ids[items])
    liked = values >= model.like_threshold
    scores = fold_in(model, idx[liked], idx[~liked])
    app = recommend(model, idx[liked], idx[~liked], n=6, by="liked", scores=scores)
    assert [row[1] for row in rows] == [str(rec.item_id) for rec in app]
    got = np.array([[float(row[3]), float(row[4])] for row in rows])
    want = np.array([[rec.match, rec.p_like] for rec in app])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("by, heading", [("seen", "P(seen)"), ("liked", "Match")])
def test_recommend_user_table_shows_the_number_it_is_sorted_by_first(
    seeded_model_file, by, heading
):
    rc, out, err = run(
        ["recommend", "demo", "--model", seeded_model_file, "--user", "3", "--by", by]
    )
    assert rc == 0, err
    lines = out.splitlines()
    assert f"by {heading}" in lines[0]
    assert lines[1].split()[2:] == ["title", heading, "P(like)"]
    ranked = [int(line.split()[-2].rstrip("%")) for line in lines[2:]]
    assert len(ranked) == 10 and ranked == sorted(ranked, reverse=True)
    assert not wider_than(out, 80)


def test_recommend_user_table_shows_no_terminal_codes_of_titles(seeded_model_file, monkeypatch):
    """A title holding escape codes is shown as text in the table, written as is to the CSV."""
    from rbm_tui.cli import score

    evil = "\x1b[31mEvil\x1b]0;owned\x07 Movie"
    monkeypatch.setattr(score, "titles", lambda ratings: lambda item: evil)
    argv = ["recommend", "demo", "--model", seeded_model_file, "--user", "3", "--k", "3"]
    rc, out, err = run(argv)
    assert rc == 0, err
    assert "\x1b" not in out and "\x07" not in out and out.count("Evil Movie") == 3
    rc, out, err = run([*argv, "-o", "-"])
    assert rc == 0 and read_csv(out)[1][0][2] == evil


def test_recommend_help_documents_every_column(capsys, monkeypatch):
    """Both headers are in ``recommend --help`` and every column has a line saying what it
    is; predict's column too."""
    from rbm_tui.cli.score import recommend_columns

    monkeypatch.setenv("COLUMNS", "80")
    assert main(["recommend", "--help"]) == 0
    text = capsys.readouterr().out
    described = {line.split()[0].rstrip(",:") for line in text.splitlines() if line[:1].isalpha()}
    for by in ("seen", "liked"):
        columns = recommend_columns(by)
        assert ",".join(columns) in text
        assert set(columns) - {"item"} <= described, described  # "user, item" share a line
    assert "user, item" in text
    assert main(["predict", "--help"]) == 0
    assert "user,item,p_like" in capsys.readouterr().out


# --------------------------------------------------------------------------- 80 columns
def _subprocess(args: list[str], columns: int, home: Path) -> str:
    env = dict(os.environ, COLUMNS=str(columns), RBM_TUI_HOME=str(home), OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "rbm_tui", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_main_help_and_datasets_list_fit_80_columns(rbm_home):
    """As a user at an 80-column terminal runs them (COLUMNS=80, a real process)."""
    text = _subprocess(["--help"], 80, rbm_home)
    assert "examples:" in text and "Exit codes" in text
    assert not wider_than(text, 80), wider_than(text, 80)
    text = _subprocess(["datasets", "list"], 80, rbm_home)
    assert "ml-100k" in text and "MovieLens usage licence" in text
    assert not wider_than(text, 80), wider_than(text, 80)


COMMANDS = [
    [],
    ["train"],
    ["recommend"],
    ["predict"],
    ["evaluate"],
    ["datasets"],
    ["datasets", "list"],
    ["datasets", "download"],
    ["datasets", "import"],
    ["datasets", "info"],
    ["datasets", "remove"],
    ["models"],
    ["models", "list"],
    ["models", "info"],
    ["models", "delete"],
    ["models", "rename"],
]  # (thumbs: another module)


@pytest.mark.parametrize("columns", [80, 60])
def test_every_help_fits_the_terminal(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    wide = {}
    for cmd in COMMANDS:
        assert main([*cmd, "--help"]) == 0
        text = capsys.readouterr().out
        assert "example" in text
        if columns == 80 and wider_than(text, 80):
            wide[" ".join(cmd)] = wider_than(text, 80)
        # at 60 columns only the examples (kept whole, to be copied) may be wider
        prose = [line for line in text.splitlines() if not line.startswith("  rbm-tui")]
        prose = [line for line in prose if not line.startswith("  torchrun")]
        if columns == 60 and wider_than("\n".join(prose), 60):
            wide[" ".join(cmd)] = wider_than("\n".join(prose), 60)
    assert main(["train", "--help-advanced"]) == 0
    if columns == 80 and wider_than(capsys.readouterr().out, 80):
        wide["train --help-advanced"] = True
    assert not wide, wide


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_datasets_list_fits_any_width(capsys, monkeypatch, columns):
    """Narrow: the title goes first, then the licence is cut; wide: every column whole."""
    monkeypatch.setenv("COLUMNS", str(columns))
    rc, out, err = run(["datasets", "list"])
    assert rc == 0, err
    assert not wider_than(out, columns)
    head = out.splitlines()[0].split()
    assert head[:4] == ["name", "status", "size", "ratings"] and head[-1] == "licence"
    assert ("title" in head) == (columns >= 120)
    assert ("MovieLens usage licence" in out) == (columns >= 80)
    assert "ml-32m" in out and "32,000,204" in out


def test_fitted_table_cuts_then_drops_columns():
    from rbm_tui.cli.common import fitted_table

    rows = [["a", "x" * 30, "y" * 30], ["bb", "short", "z"]]
    text = fitted_table(rows, ["k", "first", "second"], width=50, shrink=(2, 1))
    assert max(map(len, text.splitlines())) <= 50
    assert text.splitlines()[0].split() == ["k", "first", "second"]
    assert "x" * 30 in text and "…" in text  # the second column cut, the first kept whole
    text = fitted_table(rows, ["k", "first", "second"], width=20, shrink=(2, 1))
    assert text.splitlines()[0].split() == ["k", "first"]  # "second" dropped, "first" cut
    assert max(map(len, text.splitlines())) <= 20


def test_a_user_who_rated_every_movie_is_told_so_not_shown_an_empty_top(tmp_path):
    """``recommend --user`` printed "Top 0 for user 3" over an empty table."""
    from helpers import write_dataset

    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.run import train_and_save

    folder = write_dataset(tmp_path / "d")  # person 3 rated all 30 movies
    cfg = TrainConfig(n_hidden=4, epochs=2, item_item_weight=0.0)
    model = train_and_save(load_ratings(folder), cfg, dataset="d").path
    rc, out, err = run(["recommend", folder, "--model", model, "--user", "3"])
    assert rc == 0 and out == "" and "user 3 rated every movie" in err
    rc, out, err = run(["recommend", folder, "--model", model, "--user", "1"])
    assert rc == 0 and out.startswith("Top 10 for user 1")


def test_deleting_a_model_the_app_uses_says_so_before_asking(seeded_model_file, monkeypatch):
    """The app warned before deleting another dataset's active model; `models delete` did
    not."""
    import shutil

    from engine import paths
    from rbm_tui.preferences import Preferences

    target = paths.models_dir() / "kept.pt"
    shutil.copy(seeded_model_file, target)
    Preferences(models={"demo": str(target), "ml-100k": str(target)}).save()
    asked = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or "n")
    rc, _out, _err = run(["models", "delete", "kept"])
    assert rc == 2 and target.exists()
    assert "It is the active model of demo and ml-100k in the app." in asked[0]


def test_tables_align_titles_by_the_cells_they_take():
    """CJK titles take two cells a character, a combining accent none: padding by len()
    pushed the next column out of line on those rows."""
    from rich.cells import cell_len

    from rbm_tui.cli.common import fitted_table

    rows = [["1", "東京物語 (1953)", "0.91"], ["2", "Ze\u0301lig (1983)", "0.80"],
            ["3", "Plain (2001)", "0.70"], ["4", "😀 " * 20, "0.50"]]  # fmt: skip
    text = fitted_table(rows, ["#", "title", "p"], right={2}, width=40, shrink=(1,))
    lines = text.splitlines()
    assert len({cell_len(x) for x in lines}) == 1, lines  # every line ends at one column
    assert max(cell_len(x) for x in lines) <= 40 and "…" in lines[-1]


def test_titles_lose_their_control_and_direction_characters():
    """A tab moved the Browse panel's bar; U+202E turned the rest of a line around."""
    from engine.data.movies import clean_title

    assert clean_title("Tab\tin (1990)") == "Tab in (1990)"
    assert clean_title("\u202eReversed\u202c (2001)\r") == "Reversed (2001)"
    assert clean_title("Amélie  (2001)") == "Amélie (2001)"


# --------------------------------------------------------------------------- models info
def _long_history(header: dict, epochs: int) -> dict:
    """``header`` as a run of ``epochs`` epochs: validated in the first half, then refit."""
    header = dict(header, meta=dict(header["meta"]))
    val = header["meta"]["history"][0]["val"]
    header["meta"]["history"] = [
        {"epoch": e, "train_loss": 0.2 - e / 1e4, "val": val if e <= epochs // 2 else {},
         "seconds": 0.5, "refit": e > epochs // 2}
        for e in range(1, epochs + 1)
    ]  # fmt: skip
    header["meta"]["best_epoch"] = 7
    return header


def test_models_info_fits_60_lines_and_verbose_shows_everything(
    seeded_model_file, capsys, monkeypatch
):
    """A 300-epoch run: 60 lines at most, 80 columns, the key facts and the history in one
    line; ``--verbose`` lists every setting and every epoch."""
    import engine.model.storage as storage

    header = _long_history(storage.read_header(seeded_model_file), 300)
    monkeypatch.setattr(storage, "read_header", lambda path: header)
    monkeypatch.setenv("COLUMNS", "80")
    rc, out, err = run(["models", "info", seeded_model_file])
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) <= 60 and not wider_than(out, 80), out
    facts = {line.split("  ")[0] for line in lines if line[:1].isalpha()}
    for fact in ("path", "dataset", "hidden units", "epochs", "validation", "settings"):
        assert fact in facts, out
    assert "300 run, best 7; validated in 1-150, then 150 on all ratings" in out
    assert "n_hidden=8" in out and "seed=0" not in out  # only the settings not at default
    assert "--verbose" in out

    rc, verbose, err = run(["models", "info", seeded_model_file, "--verbose"])
    assert rc == 0, err
    for name in header["config"]:
        assert f"setting {name} " in verbose
    epochs = [line.split()[0] for line in verbose.splitlines() if line[:5].strip().isdigit()]
    assert epochs == [str(e) for e in range(1, 301)]


def test_models_info_of_a_real_model(seeded_model_file, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    rc, out, err = run(["models", "info", seeded_model_file])
    assert rc == 0, err
    assert len(out.splitlines()) <= 30 and not wider_than(out, 80), out
    assert str(seeded_model_file) in out and "validation" in out and "auc" in out
    # the demo's catalogue is small: every movie in the negative phase, recorded and shown
    import engine.model.storage as storage

    meta = storage.read_header(seeded_model_file)["meta"]
    n = meta["dataset"]["n_items"]
    assert meta["chosen"]["negative_movies"] == n
    assert f"negative phase over every movie ({n:,})" in out


# --------------------------------------------------------------------------- warnings
@pytest.mark.parametrize(
    "name, text, line",
    [
        ("ratings.csv", "user,item,rating\n1,10,4\n1,11,1e308\n", 3),
        ("ratings.csv", "user,item,rating\n1,10,4\n2,10,-1e39\n", 3),
        ("u.data", "1\t10\t4\t874965758\n1\t11\t3\t1e308\n", 2),
        ("ratings.dat", "1::10::4::874965758\n1::11::1e308::874965758\n", 2),
    ],
)
def test_numbers_out_of_range_raise_no_numeric_warning(tmp_path, name, text, line):
    """An overflowing rating or timestamp is one error naming the line, and no numpy/pandas
    RuntimeWarning on the way, also in a worker thread as the app loads data."""
    from engine.data.loaders import load_ratings
    from engine.errors import RatingsError

    path = tmp_path / name
    path.write_text(text)
    caught: list = []

    def load() -> None:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                load_ratings(path, cache=False)
            except RatingsError as e:
                caught.append(str(e))
            caught.append([str(w.message) for w in seen])

    worker = threading.Thread(target=load)
    worker.start()
    worker.join(60)
    assert len(caught) == 2, caught
    assert f"line {line}" in caught[0] and name in caught[0]
    assert caught[1] == []


@pytest.mark.parametrize("columns", [80, 120])
def test_models_list_fits_the_terminal(seeded_model_file, rbm_home, monkeypatch, columns):
    """Narrow: the creation time (which default names hold) goes first, then the hidden
    units; wide: every column."""
    import shutil

    from engine import paths

    folder = paths.models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(seeded_model_file, folder / "ml-latest-small-u1-20261207-064034.pt")
    monkeypatch.setenv("COLUMNS", str(columns))
    rc, out, err = run(["models", "list"])
    assert rc == 0, err
    assert "ml-latest-small-u1-20261207-064034" in out and "1 model(s)" in out
    assert not wider_than(out, columns)
    head = out.splitlines()[0].split()
    assert ("created" in head) == ("hidden" in head) == (columns >= 100)
    assert "dataset" in head and "size" in head


def test_models_info_counts_a_settled_like_threshold_as_its_default(seeded_model_file):
    """The threshold's default is 0 (automatic) and a model keeps the 3 it settled on:
    `models info` listed like_threshold=3.0 as a changed setting."""
    from engine.settings import TrainConfig
    from rbm_tui.cli.models import _settings_lines

    ((_, line),) = _settings_lines({**TrainConfig().to_dict(), "like_threshold": 3.0}, False)
    assert line == "all at their defaults"
    ((_, line),) = _settings_lines({**TrainConfig().to_dict(), "like_threshold": 4.0}, False)
    assert line.startswith("like_threshold=4.0")
