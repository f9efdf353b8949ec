"""The engine never imports Textual, and ``import engine`` does not import torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_engine_pulls_neither_textual_nor_torch() -> None:
    got = run(
        "import sys, engine; print(sorted(m for m in ('textual', 'torch') if m in sys.modules))"
    )
    assert got == "[]"


def test_data_layer_does_not_import_textual() -> None:
    got = run(
        "import sys, engine, engine.loaders, engine.splits, engine.cache; "
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m == 'torch' or m.startswith('torch.')))"
    )
    assert got == "[]"


def test_no_engine_module_imports_textual() -> None:
    mods = sorted(p.stem for p in (REPO / "engine").glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}:\n"
        "    try:\n"
        "        importlib.import_module('engine.' + m)\n"
        "    except Exception:\n"
        "        pass\n"
        "print('textual' in sys.modules)\n"
    )
    assert run(code) == "False"


def test_training_from_the_cache_never_imports_pandas(tmp_path: Path) -> None:
    """pandas costs ~0.2 s to import: a cached load and a training run must not need it
    (the movie table is built only when something reads it)."""
    data = tmp_path / "ratings.csv"
    rows = [f"{u},{i},{1 + (u * 7 + i) % 5}" for u in range(40) for i in range(0, 30, 1 + u % 3)]
    data.write_text("user,item,rating\n" + "\n".join(rows) + "\n")
    env = f"import os; os.environ['RBM_TUI_HOME'] = {str(tmp_path / 'home')!r}\n"
    run(env + f"from engine.loaders import load_ratings; load_ratings({str(data)!r})")
    got = run(
        env + "import sys\n"
        "from engine.loaders import load_ratings\n"
        "from engine.trainer import TrainConfig, train\n"
        f"r = load_ratings({str(data)!r})\n"
        "assert r.report.from_cache\n"
        "train(r, TrainConfig(n_hidden=4, epochs=2))\n"
        "print('pandas' in sys.modules, r.movies.shape[0] == r.n_items, 'pandas' in sys.modules)"
    )
    assert got == "False True True"
