"""The engine never imports Textual, and ``import engine`` does not import torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
        "import sys, engine, engine.data.loaders, engine.data.splits, engine.data.cache; "
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m == 'torch' or m.startswith('torch.')))"
    )
    assert got == "[]"


def test_no_engine_module_imports_textual() -> None:
    mods = sorted(
        ".".join(p.relative_to(REPO / "engine").with_suffix("").parts)
        for p in (REPO / "engine").rglob("*.py")
        if p.stem != "__init__"
    )
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


@pytest.mark.slow
def test_training_from_the_cache_never_imports_pandas(tmp_path: Path) -> None:
    """pandas costs ~0.2 s to import: a cached load and a training run must not need it
    (the movie table is built only when something reads it)."""
    data = tmp_path / "ratings.csv"
    rows = [f"{u},{i},{1 + (u * 7 + i) % 5}" for u in range(40) for i in range(0, 30, 1 + u % 3)]
    data.write_text("user,item,rating\n" + "\n".join(rows) + "\n")
    env = f"import os; os.environ['RBM_TUI_HOME'] = {str(tmp_path / 'home')!r}\n"
    run(env + f"from engine.data.loaders import load_ratings; load_ratings({str(data)!r})")
    got = run(
        env + "import sys\n"
        "from engine.data.loaders import load_ratings\n"
        "from engine.settings import TrainConfig\n"
        "from engine.training.loop import train\n"
        f"r = load_ratings({str(data)!r})\n"
        "assert r.report.from_cache\n"
        "train(r, TrainConfig(n_hidden=4, epochs=2))\n"
        "print('pandas' in sys.modules, r.movies.shape[0] == r.n_items, 'pandas' in sys.modules)"
    )
    assert got == "False True True"


def test_every_public_name_of_engine_is_importable() -> None:
    """``from engine import *`` works: every name of ``engine.__all__`` resolves (and still
    neither textual nor torch is imported)."""
    got = run(
        "import sys, engine\n"
        "from engine import *\n"
        "missing = [n for n in engine.__all__ if n not in globals()]\n"
        "print(len(engine.__all__), missing, 'textual' in sys.modules, 'torch' in sys.modules)"
    )
    n, rest = got.split(" ", 1)
    assert int(n) >= 20 and rest == "[] False False", got


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """The project modules ``module`` imports (module level and inside functions), edges into
    a package's ``__init__`` left out (a package re-exporting its modules is no circle)."""
    import ast

    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def add(name: str) -> None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        package = (REPO / name.replace(".", "/") / "__init__.py").is_file()
        if name and name != module and not package:
            out.add(name)

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # `if TYPE_CHECKING:` blocks are no imports at run time
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(a.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".") if is_pkg else module.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for a in node.names:
                add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return out


def test_no_import_circles_among_the_projects_modules() -> None:
    files = {}
    for pkg in ("engine", "rbm_tui"):
        for p in (REPO / pkg).rglob("*.py"):
            name = ".".join(p.relative_to(REPO).with_suffix("").parts)
            files[name.removesuffix(".__init__")] = p
    graph = {m: _imports(p, m, set(files)) for m, p in files.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            for n in graph.get(m, ()):
                if n == goal:
                    return True
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return False

    circles = sorted({tuple(sorted((m, n))) for m in graph for n in graph[m] if reaches(n, m)})
    assert circles == [], circles


def test_the_wheel_lists_every_package() -> None:
    """pyproject.toml names each package of engine/ and rbm_tui/ (a new one left out would be
    missing from an installed wheel)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for pkg in ("engine", "rbm_tui", "data")
        for p in (REPO / pkg).rglob("__init__.py")
    }
    assert found <= listed, found - listed
