"""Snapshot of issue 36's import result at 80x24 (pytest-textual-snapshot).

Deterministic: the export and the unmatched file live under a home folder set for the test
(both shown from ``~``), the demo data, the tiny seeded model, notifications cleared and
cursors not blinking. Regenerate with
``pytest tests/test_app_taste_snapshots.py --snapshot-update`` and read the SVG's text.
"""

from __future__ import annotations

from helpers import SIZE, make_app, wait_for
from test_app_taste import LETTERBOXD, import_file, ready, remember_demo
from textual.widgets import Input


def test_import_result(snap_compare, seeded_model_file, rbm_home, monkeypatch):
    """The import dialog after a Letterboxd export: its format, the threshold, then 5 rows,
    4 matched, 1 unmatched and the file listing it."""
    monkeypatch.setenv("HOME", str(rbm_home))
    remember_demo(seeded_model_file)
    (rbm_home / "ratings.csv").write_text(LETTERBOXD)

    async def run_before(pilot):
        app = pilot.app
        await ready(pilot)
        dialog = await import_file(pilot, "~/ratings.csv")  # type: ignore[arg-type]
        assert dialog.outcome is not None
        await app.workers.wait_for_complete()
        await pilot.pause()
        for inp in app.screen.query(Input):
            inp.cursor_blink = False
        app.clear_notifications()
        await pilot.pause()
        await wait_for(pilot, lambda: not app._notifications, what="no toasts")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
