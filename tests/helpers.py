"""Helpers shared by the test modules: planted data, the app's Pilot steps, seeded models.

Fixtures live in ``conftest.py``; this module holds plain functions the tests import.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from engine.data.ratings import from_arrays

SIZE = (80, 24)
#: A tiny, seeded model of the demo: its size, length and step sizes spelled out; the other
#: settings are the trainer's defaults (with 2 epochs and refit_share 0.7: one epoch with a
#: validation split, then one on all the ratings).
SEEDED_CONFIG = dict(
    n_hidden=8,
    epochs=2,
    batch_size=64,
    min_batches=8,  # the demo's 400 people in batches of 50, as the snapshots were recorded
    learning_rate=0.02,
    momentum=0.9,
    weight_decay=1e-4,
    cd_k=1,
    like_threshold=3.0,
    seed=0,
    device="cpu",
)


# ------------------------------------------------------------------------------- data
def planted(n_users: int = 300, seed: int = 0):
    """Two tastes over 60 movies: group A likes movies 0-29 and dislikes 30-59; group B the
    reverse. Each person watches mostly movies of their own taste (70%) and some of the other
    (30%); 5 % of the thumbs are flipped."""
    rng = np.random.default_rng(seed)
    users, items, values = [], [], []
    for u in range(n_users):
        group = u % 2
        own = np.arange(30) if group == 0 else np.arange(30, 60)
        other = np.arange(30, 60) if group == 0 else np.arange(30)
        watched = np.concatenate(
            [rng.choice(own, 14, replace=False), rng.choice(other, 6, replace=False)]
        )
        for i in watched:
            liked = (i < 30) == (group == 0)
            if rng.random() < 0.05:
                liked = not liked
            users.append(u)
            items.append(int(i))
            values.append(5.0 if liked else 1.0)
    return from_arrays(np.array(users), np.array(items), np.array(values), source="planted")


def random_ratings(n_users: int = 50, n_items: int = 12, n: int = 300, seed: int = 0):
    """``n`` random (person, movie) draws (repeats merged), each with 1 to 5 stars."""
    rng = np.random.default_rng(seed)
    pairs = sorted(
        {(int(u), int(i)) for u, i in zip(rng.integers(0, n_users, n), rng.integers(0, n_items, n))}
    )
    u, i = np.array(pairs).T
    return from_arrays(u, i, rng.integers(1, 6, len(u)).astype(float))


def train_seeded_model(path: Path, **config) -> Path:
    """Train the tiny seeded demo model (:data:`SEEDED_CONFIG`, or the default settings with
    ``config`` when it is given) and save it to ``path`` (touches no user dirs)."""
    from engine import catalogue
    from engine.data.loaders import load_ratings
    from engine.model.storage import save_model
    from engine.settings import TrainConfig
    from engine.training.loop import train

    r = load_ratings(catalogue.demo_path(), cache=False)
    result = train(r, TrainConfig(**(config or SEEDED_CONFIG)))
    result.model.meta["dataset"]["name"] = "demo"
    return save_model(result.model, path)


# -------------------------------------------------------------------------------- app
async def wait_for(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Pause the Pilot until ``condition()`` holds (AssertionError after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def make_app(**kwargs):
    """The app without its background warm-up (tests import torch when they need it)."""
    from rbm_tui.app import RbmTuiApp

    return RbmTuiApp(warmup=False, **kwargs)


async def pick_demo(pilot) -> None:
    """On the Datasets screen: choose the bundled demo and wait for it to load."""
    from textual.widgets import DataTable

    from rbm_tui.screens.datasets import DatasetsScreen

    app = pilot.app
    screen = app.screen
    assert isinstance(screen, DatasetsScreen)
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index("demo"))
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.ratings is not None, what="the demo to load")
    await pilot.pause()


def rec_items(screen) -> list[int]:
    """The dataset indices of the Browse screen's recommendations, in order."""
    return [i for i, _ in screen.recs]


# ------------------------------------------------------------------------ fault files
def write_dataset(folder: Path, title: str = "Film {i} (1999)") -> Path:
    """A tiny MovieLens-layout dataset: 40 people, movies 1-30, titles from ``title``."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [f"{u},{i},{1 + (u * 7 + i) % 5}" for u in range(1, 41) for i in range(1, 31, 1 + u % 3)]
    (folder / "ratings.csv").write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    movies = [f'{i},"{title.format(i=i)}",Drama' for i in range(1, 31)]
    (folder / "movies.csv").write_text("movieId,title,genres\n" + "\n".join(movies) + "\n")
    return folder


CRAFTED = {
    "meta_string": lambda h: h.update(meta="oops"),
    "config_list": lambda h: h.update(config=[1, 2]),
    "negative_hidden": lambda h: h.update(n_hidden=-5),
    "huge_hidden": lambda h: h.update(n_hidden=3_000_000),
    "hidden_mismatch": lambda h: h.update(n_hidden=h["n_hidden"] + 1),
    "history_strings": lambda h: h["meta"].update(history=["x"]),
    "threshold_text": lambda h: h.update(like_threshold="3"),
    "ids_nested": lambda h: h["item_ids"].update(values=[[v] for v in h["item_ids"]["values"]]),
    "ids_twice": lambda h: h["item_ids"].update(values=[1] * len(h["item_ids"]["values"])),
    "ids_halves": lambda h: h["item_ids"].update(values=[v + 0.5 for v in h["item_ids"]["values"]]),
    "keep_400_digits": lambda h: h.update(keep=10**400),
    "gain_400_digits": lambda h: h.update(like_gain=-(10**400)),
}


def craft(model_file: Path, folder: Path) -> dict[str, Path]:
    import torch

    from engine.model.fileformat import seal

    blob = torch.load(model_file, weights_only=True)
    out = {}
    for name, change in CRAFTED.items():
        header = json.loads(blob["header"])
        change(header)
        out[name] = folder / f"{name}.pt"
        torch.save(seal({**blob, "header": json.dumps(header)}), out[name])
    out["header_list"] = folder / "header_list.pt"
    torch.save({**blob, "header": json.dumps([1, 2, 3])}, out["header_list"])
    out["header_bytes"] = folder / "header_bytes.pt"
    torch.save({**blob, "header": torch.zeros(3)}, out["header_bytes"])
    return out
