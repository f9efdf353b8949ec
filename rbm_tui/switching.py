"""Fast switches between the main screens (keys 1-4): each is mounted once, in the background,
and shown without the paint hold Textual puts on a switch.

Textual composes a mode's screen on its first switch (0.2-0.7 s for Train's form), reparses
the whole stylesheet on the second, and holds every switch's paint back 50 ms. The steps here
reach into Textual's private state (``App._init_mode``'s own steps, the batch counter): they
are kept in this one module, each with the reason it is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App

if TYPE_CHECKING:
    from rbm_tui.screens.base import AppScreen


async def premount(
    app: App, screens: dict[str, type[AppScreen]], done: asyncio.Event | None = None
) -> None:
    """Mount the main screens not shown yet, one at a time, and lay each out, so that the
    first switch to one only shows it; set ``done`` at the end.

    The steps are Textual's for a mode's first screen (``App._init_mode``) less the two a
    hidden screen does not need: the ScreenResume (posted when the screen is shown, where it
    syncs with the app's state) and the stylesheet refresh (the screen is styled as it mounts;
    a theme chosen meanwhile still restyles it when shown)."""
    for mode, cls in screens.items():
        if mode in app._screen_stacks or not app.is_running:
            continue
        screen = cls()
        app._screen_stacks[mode] = [screen]
        app._load_screen_css(screen)
        styled = app._css_update_count
        await app._get_screen(screen)[1]
        screen._refresh_layout(app.size)  # (laid out: its first showing need not)
        screen._css_update_count = styled
        screen.mark_styled()
    if done is not None:
        done.set()


class QuickSwitch:
    """The app's part (a mixin before :class:`~textual.app.App`): the paint hold of a switch
    ends as soon as the main screen shown has synced."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._holds: list[Callable[[], None]] = []

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual holds the paint back (50 ms on a mode switch) so that a screen is not seen
        half drawn. The main screens are mounted already and draw as they are shown: the hold
        ends as soon as the screen shown has synced (:meth:`end_hold`), the delay staying its
        limit."""
        app: App = self  # type: ignore[assignment]
        app._begin_batch()
        ended = False

        def end() -> None:
            nonlocal ended
            if not ended:
                ended = True
                app._end_batch()
                if not app._batch_count:
                    app.screen.refresh()

        self._holds.append(end)
        app.set_timer(delay, end, name="delay_update")

    def end_hold(self) -> None:
        """End the paint holds now: a main screen is shown and synced. (A hold runs its sync
        handlers in one go, so nothing is painted between the sync and the end of the hold.)"""
        holds, self._holds = self._holds, []
        for end in holds:
            end()
