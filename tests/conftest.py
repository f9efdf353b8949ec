"""Shared fixtures.

Every test runs with ``RBM_TUI_HOME`` pointing at its own temporary folder, so nothing ever
touches the real user data, cache or config dirs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

#: The Textual release the snapshot SVGs were drawn with. An older Textual (CI's lane on the
#: lowest declared versions) draws the same screens with other characters and colours, so the
#: snapshot tests skip there; a newer one must match them.
SNAPSHOT_TEXTUAL = (8, 2)


def _textual_version() -> tuple[int, ...]:
    from importlib.metadata import version

    return tuple(int(p) for p in version("textual").split(".")[:2])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _textual_version() >= SNAPSHOT_TEXTUAL:
        return
    skip = pytest.mark.skip(reason=f"snapshots are drawn with Textual {SNAPSHOT_TEXTUAL}")
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("rbm_home")
    monkeypatch.setenv("RBM_TUI_HOME", str(home))
    return home


@pytest.fixture
def rbm_home(_isolated_home: Path) -> Path:
    """The temporary ``RBM_TUI_HOME`` of this test."""
    return _isolated_home


@pytest.fixture(scope="session")
def ml100k_dir() -> Path:
    """MovieLens 100K as GroupLens ships it (u.data, u.item, u1..u5 folds), or skip."""
    d = SHARED_DATA / "ml-100k"
    if not (d / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {d}")
    return d


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    """The ML-100K benchmark split (train.csv, test.csv), or skip."""
    d = SHARED_DATA / "benchmarks" / "ml100k-msr"
    if not (d / "train.csv").is_file():
        pytest.skip(f"benchmark split not found at {d}")
    return d


@pytest.fixture(scope="session")
def seeded_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny seeded demo model (``helpers.SEEDED_CONFIG``), trained once per session."""
    from helpers import train_seeded_model

    return train_seeded_model(tmp_path_factory.mktemp("seeded") / "demo-seeded.pt")


@pytest.fixture(scope="session")
def demo_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo model trained with the default settings (seed 0), once per session: tests of
    what the recommendations say about a person's tastes need a model that learnt them."""
    from helpers import train_seeded_model

    return train_seeded_model(tmp_path_factory.mktemp("demo") / "demo-default.pt", seed=0)


@pytest.fixture
def with_model(seeded_model_file: Path, rbm_home: Path) -> Path:
    """The demo chosen and the seeded tiny model active, as if trained before."""
    import shutil

    from engine import paths
    from rbm_tui.preferences import Preferences

    target = paths.models_dir() / "demo-seeded.pt"
    shutil.copy(seeded_model_file, target)
    Preferences(dataset="demo", models={"demo": str(target)}).save()
    return target
