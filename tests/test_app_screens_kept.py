"""What keeps keys and screen switches fast, with Pilot: the footer keeps its keys mounted, the
main screens are mounted in the background, a screen shown again is not restyled, and none of
it changes what is shown."""

from __future__ import annotations

import shutil

import pytest
from helpers import SIZE, make_app, wait_for
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets._footer import FooterKey

from rbm_tui.screens.browse import BrowseScreen
from rbm_tui.screens.models import ModelsScreen
from rbm_tui.screens.train import TrainScreen
from rbm_tui.widgets.footer import QuickFooter


def shown_keys(screen: Screen) -> list[tuple[str, str, bool]]:
    """The footer's keys on screen: (key, label, dimmed)."""
    footer = screen.query_one(QuickFooter)
    keys = [k for k in footer.query(FooterKey) if k.display and k.parent.display]
    return [(k.key, k.description, k.has_class("-disabled")) for k in keys]


async def open_browse(pilot) -> BrowseScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.model is not None and app.session is not None)
    screen = app.screen
    assert isinstance(screen, BrowseScreen)
    await pilot.pause()
    return screen


# ------------------------------------------------------------------------------ footer
async def test_footer_hides_letter_keys_while_typing_and_mounts_them_once(with_model):
    """Typing in the search box hides the letter keys (they are typed); Esc shows them again,
    with the same widgets: a second round mounts nothing."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browse(pilot)
        full = shown_keys(screen)
        assert ("s", "Sort", False) in full and ("g", "Genre", False) in full
        await pilot.press("slash")
        await pilot.pause()
        typing = shown_keys(screen)
        assert typing and all(key not in ("s", "g", "z") for key, _, _ in typing)
        await pilot.press("escape")
        await pilot.pause()
        assert shown_keys(screen) == full
        mounted = set(screen.query_one(QuickFooter).query(FooterKey))
        await pilot.press("slash", "x", "escape")
        await pilot.pause()
        assert shown_keys(screen) == full
        assert set(screen.query_one(QuickFooter).query(FooterKey)) == mounted


class _Toggle(Screen):
    BINDINGS = [Binding("a", "act", "Act"), Binding("b", "other", "Other")]
    allowed = True

    def compose(self) -> ComposeResult:
        yield QuickFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "act" and not self.allowed else True  # (None: dimmed)

    def action_act(self) -> None:
        pass

    def action_other(self) -> None:
        pass


async def test_footer_dims_a_disabled_key_and_lights_it_again():
    class ToggleApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(_Toggle())

    app = ToggleApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert ("a", "Act", False) in shown_keys(screen)
        screen.allowed = False
        screen.refresh_bindings()
        await pilot.pause()
        assert ("a", "Act", True) in shown_keys(screen)
        assert ("b", "Other", False) in shown_keys(screen)
        screen.allowed = True
        screen.refresh_bindings()
        await pilot.pause()
        assert ("a", "Act", False) in shown_keys(screen)


# ----------------------------------------------------------------------- the screens
async def test_screens_mounted_in_the_background_show_the_state_when_shown(with_model):
    """With ``premount``, the other main screens are mounted while the dataset loads; the
    first switch shows that screen, synced then: a model saved after it was mounted is
    listed."""
    from engine.model.storage import list_models

    app = make_app(premount=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        await wait_for(pilot, app.premounted.is_set, what="the screens mounted")
        # (Textual 6.2, the lowest declared, has no public get_screen_stack)
        stacks = {m: app._screen_stacks[m] for m in ("datasets", "train", "models")}
        assert all(len(s) == 1 and s[0].is_mounted for s in stacks.values())
        shutil.copy(with_model, with_model.with_name("demo-copy.pt"))
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen))
        assert app.screen is stacks["models"][0]
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#models-table")
        assert table.row_count == len(list_models()) == 2
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen) and app.screen is stacks["train"][0]
        assert "demo" in str(app.screen.query_one("#train-dataset").render())


@pytest.mark.parametrize("premount", [False, True])
async def test_a_theme_chosen_on_one_screen_shows_on_the_others(with_model, premount):
    """A screen shown again keeps its styles, yet a theme chosen elsewhere restyles it."""
    app = make_app(premount=premount)
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        await pilot.press("2", "3")
        await pilot.pause()
        if premount:
            await wait_for(pilot, app.premounted.is_set, what="the screens mounted")
        old = app.screen.styles.background
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        new = app.screen.styles.background
        assert new != old
        for key in ("2", "4", "1"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.styles.background == new, key


async def test_a_switch_paints_as_soon_as_the_screen_shown_has_synced(with_model):
    """Textual holds a switch's paint back for a while; the hold ends once the main screen
    shown has synced (here a hold of a minute ends at once)."""
    app = make_app(premount=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_browse(pilot)
        await wait_for(pilot, app.premounted.is_set, what="the screens mounted")
        app.delay_update(60)
        app.action_show("train")
        await wait_for(pilot, lambda: not app._batch_count, timeout=10, what="the paint")
        assert isinstance(app.screen, TrainScreen)
        assert "demo" in str(app.screen.query_one("#train-dataset").render())
