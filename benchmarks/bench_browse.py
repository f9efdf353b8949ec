"""Browse: p95 milliseconds from a key press to the screen settled, on ML-100K and on a
synthetic catalogue of 87,000 titled movies.

    python benchmarks/bench_browse.py [--rounds 20] [--movies 87000] [--only ml100k|big]

For each catalogue: a small model is trained (engine.train, 16 hidden units, 2 epochs) and
remembered, the app runs headless at 80x24 (Pilot) on Browse, as ``rbm-tui`` starts it
(the other screens mounted in the background while the dataset loads) but without the torch
warm-up thread (torch is loaded already); once the model and the screens are ready, each
key is timed from the press until every message it caused is handled, the screen is laid
out and painted and the workers it started are done: a thumb (+), a search keystroke, a
genre picked (Enter in the genre list), a sort (s), m, Esc (clearing a search), PageDown,
and switching to each screen (1, 2, 4 and back to 3). Prints one JSON line per catalogue:
``{"movies": N, "p95_ms": {"thumb": F, "search": F, ...}, "p95_cpu_ms": {...}}`` (the
second: the process's CPU time over the same spans, which a busy machine does not inflate).
Targets: each <= 100 ms on ML-100K, <= 250 ms at 87,000 movies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ML100K = REPO.parent / "shared" / "data" / "ml-100k"
GENRES = ["Drama", "Comedy", "Action", "Thriller", "Romance"]


def synthetic(out: Path, n_movies: int, n_users: int = 3000, seed: int = 0) -> Path:
    """``ratings.csv`` and ``movies.csv``: every movie rated at least once, Zipf-like extra."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    extra = (rng.zipf(1.3, 6 * n_movies) - 1) % n_movies
    items = np.concatenate([np.arange(n_movies), extra])
    users = rng.integers(0, n_users, len(items))
    df = pd.DataFrame({"userId": users + 1, "movieId": items + 1})
    df = df.drop_duplicates(["userId", "movieId"]).sort_values(["userId", "movieId"])
    df["rating"] = rng.integers(1, 6, len(df)).astype(float)
    df["timestamp"] = 1_000_000_000
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "ratings.csv", index=False)
    ids = np.arange(1, n_movies + 1)
    pd.DataFrame(
        {
            "movieId": ids,
            "title": [f"Movie {i} ({1930 + i % 90})" for i in ids],
            "genres": ["|".join(rng.choice(GENRES, 1 + i % 3, replace=False)) for i in ids],
        }
    ).to_csv(out / "movies.csv", index=False)
    return out


def remember_model(dataset: str) -> int:
    """Train a small model of ``dataset`` and make it the active one; its number of movies."""
    from engine.data.loaders import load_ratings
    from engine.model.storage import save_model
    from engine.paths import models_dir
    from engine.settings import TrainConfig
    from engine.training.loop import train
    from rbm_tui.preferences import Preferences

    r = load_ratings(dataset)
    model = train(r, TrainConfig(n_hidden=16, epochs=2, seed=0, device="cpu")).model
    model.meta["dataset"]["name"] = dataset
    path = save_model(model, models_dir() / "bench.pt")
    Preferences(dataset=dataset, models={dataset: str(path)}).save()
    return r.n_items


async def settled(pilot, keys: tuple[str, ...]) -> tuple[float, float]:
    """Milliseconds from pressing ``keys`` (the last one timed) to the screen settled: the
    wall time, and the process's CPU time (what a busy machine does not inflate).

    The timed key is sent as Pilot sends it but without Pilot's idle waits (two sleeps of
    20 ms or more per key, on the clock whatever the app does); :func:`until_settled` waits
    for the app instead."""
    app = pilot.app
    if keys[:-1]:
        await pilot.press(*keys[:-1])
        await pilot.pause()
    t0, c0 = time.perf_counter(), time.process_time()
    app._driver.send_message(key_event(app, keys[-1]))
    await until_settled(pilot)
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def key_event(app, key: str):
    """The key event Pilot's ``press(key)`` sends."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    return event


async def until_settled(pilot) -> None:
    """Until every message the key caused is handled, the screen is laid out and painted
    and the workers it started are done (what reaches the terminal is then final). Cheap
    checks first: confirming with Pilot's wait costs a message to every widget."""
    app = pilot.app
    while True:
        if app._batch_count:  # a screen switch holds the paint back (Textual: 50 ms)
            await asyncio.sleep(0.002)
        elif busy(app):
            app.screen._on_timer_update()  # lay out and paint now
            await asyncio.sleep(0)
        else:
            await app.workers.wait_for_complete()
            await pilot._wait_for_screen()  # (a handler still running finishes)
            if not busy(app) and not app._batch_count:
                return


def busy(app) -> bool:
    """Whether the app or its screen has messages, callbacks, layout or paint pending."""
    screen = app.screen
    nodes = [app, *screen.walk_children(with_self=True)]
    return bool(
        any(not n._message_queue.empty() for n in nodes)
        or screen._callbacks
        or screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._dirty_widgets
    )


def plans(rounds: int) -> dict[str, list[tuple[str, ...]]]:
    """For each measure, the key sequences of its rounds (the last key of each is timed)."""
    word = "movie 1 the"
    return {
        "thumb": [("down", "plus" if n % 3 else "minus") for n in range(rounds)],
        "search": [("slash", *word[: n % 6], word[n % 6]) for n in range(rounds)],
        "esc": [("slash", *word[: 1 + n % 5], "escape") for n in range(rounds)],
        "genre": [("g", *GENRES[n % len(GENRES)][:3].lower(), "enter") for n in range(rounds)],
        "sort": [("s",)] * rounds,
        "mine": [("m",)] * rounds,
        "pagedown": [("pagedown",)] * rounds,
        "screen_datasets": [("3", "1")] * rounds,
        "screen_train": [("3", "2")] * rounds,
        "screen_models": [("3", "4")] * rounds,
        "screen_browse": [("1", "3")] * rounds,
    }


async def measure(rounds: int) -> dict:
    from rbm_tui.app import RbmTuiApp
    from rbm_tui.screens.browse import BrowseScreen

    app = RbmTuiApp(warmup=False, premount=True)
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (
            app.model is None or app.session is None or not app.premounted.is_set()
        ):
            await pilot.pause(0.1)
        await pilot.pause()
        p95: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for name, seqs in plans(rounds).items():
            times = []
            for keys in seqs:
                if not isinstance(app.screen, BrowseScreen):
                    await pilot.press("3")
                app.screen.query_one("#movies").focus()
                await pilot.pause()
                times.append(await settled(pilot, keys))
                if name == "search":
                    await pilot.press("escape")
            walls, cpus = np.asarray(times).T
            p95[name] = round(float(np.percentile(walls, 95)), 1)
            cpu[name] = round(float(np.percentile(cpus, 95)), 1)
        return {"movies": app.ratings.n_items, "p95_ms": p95, "p95_cpu_ms": cpu}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--movies", type=int, default=87_000)
    ap.add_argument("--only", choices=("ml100k", "big"))
    args = ap.parse_args()
    for which in ("ml100k", "big"):
        if args.only not in (None, which) or (which == "ml100k" and not ML100K.is_dir()):
            continue
        with tempfile.TemporaryDirectory() as home:
            os.environ["RBM_TUI_HOME"] = home
            data = ML100K if which == "ml100k" else synthetic(Path(home) / "big", args.movies)
            remember_model(str(data))
            print(json.dumps(asyncio.run(measure(args.rounds))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
