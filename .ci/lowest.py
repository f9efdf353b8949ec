"""Print ``name==floor`` for every runtime dependency of pyproject.toml, for the CI lane that
installs the lowest declared versions. Each dependency must declare its floor as ``>=X``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
pins = []
for dep in project["project"]["dependencies"]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(,.*)?", dep)
    if not m:
        sys.exit(f"lowest.py: {dep!r} declares no '>=' floor")
    pins.append(f"{m.group(1)}=={m.group(2)}")
print(" ".join(pins))
