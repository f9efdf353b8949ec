"""The README and docs/architecture.md stay true: the code-layout tree names every module with
its job, and only modules that exist; the README's screenshots are snapshot files the snapshot
tests keep current; the README names no path outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parent.parent


def layout_tree() -> dict[str, str]:
    """``{path: job}`` of the fenced tree under docs/architecture.md's "Code layout" heading
    (folders end with ``/``; two spaces of indent per level)."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("## Code layout", 1)[1].split("```", 2)[1]
    out, stack = {}, []
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name, _, job = line.strip().partition(" ")
        stack = stack[:depth] + [name]
        out["".join(stack)] = job.strip()
    return out


def has_code(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return bool(body[1:] if body and isinstance(body[0], ast.Expr) else body)


def test_the_code_layout_names_every_module_with_its_job_and_nothing_else():
    tree = layout_tree()
    files = {p: job for p, job in tree.items() if not p.endswith("/")}
    assert all(files.values()), [p for p, job in files.items() if not job]
    for path in tree:
        assert (REPO / path).exists(), f"the layout names {path}, which does not exist"
    modules = {
        str(p.relative_to(REPO))
        for pkg in ("engine", "rbm_tui")
        for p in (REPO / pkg).rglob("*.py")
        if p.name != "__init__.py" or has_code(p)
    }
    missing = sorted(m for m in modules if m not in tree)
    assert not missing, f"modules the code layout does not name: {missing}"


def test_the_readme_screenshots_are_snapshots_and_it_names_no_outside_path():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r'src="(tests/__snapshots__/[^"]+\.svg)"', text)
    assert len(shots) >= 2, "the README shows Browse and Train"
    for shot in shots:
        assert (REPO / unquote(shot)).is_file(), shot
    assert "../shared" not in text


@pytest.mark.slow
def test_the_python_api_example_runs_as_written(ml100k_dir: Path, capsys):
    """The README's Python API block, run verbatim on ML-100K (the folder beside the clone)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("## Python API", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    code = block.replace('"ml-100k/', f'"{ml100k_dir.as_posix()}/')
    space: dict = {}
    exec(compile(code, "README.md", "exec"), space)
    printed = capsys.readouterr().out
    assert "ndcg@10" in printed and "EpochReport" in printed
    assert len(space["recs"]) == 10
    assert not {r.item for r in space["recs"]} & set(space["likes"] + [171])
    assert space["model"].n_items == space["result"].model.n_items
