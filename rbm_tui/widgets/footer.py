"""The footer of the main screens: Textual's footer, with its keys kept mounted.

Textual's footer removes and mounts all its keys whenever the screen's bindings change (a
focus change, a state sync): on Browse that was over half of an Esc (the search box hides the
letter keys, the table shows them again) and of a genre pick, and a good part of each screen
switch. This footer keeps the keys of each set of bindings it has shown: a change of bindings
shows the block of keys already mounted for that set and dims the disabled ones; keys are
mounted only the first time a set appears. What it draws is what Textual's footer draws.
"""

from __future__ import annotations

from itertools import groupby

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

#: A key as shown: (key, action, label, group, tooltip, key display).
Entry = tuple[str, str, str, Binding.Group | None, str, str]
#: What the footer draws as one unit: a group of keys (with the group's label) or one key.
Item = tuple[str, tuple[Entry, ...]]


class QuickFooter(Footer):
    """A :class:`~textual.widgets.Footer` that keeps the keys of each set of bindings it has
    shown (a block of widgets per set) and shows one block at a time."""

    #: Sets of keys kept at most (past this the footer starts again with none).
    MAX_BLOCKS = 8

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._blocks: dict[tuple[Item, ...], list[Widget]] = {}

    def _read(self) -> tuple[tuple[Item, ...], dict[str, bool]]:
        """The items the footer shows now, in order, and each action's enabled flag (an
        action's first binding counts, as in :meth:`Footer.compose`)."""
        entries: list[Entry] = []
        enabled: dict[str, bool] = {}
        active = self.screen.active_bindings
        display = self.app.get_key_display
        for _node, b, on, tip in active.values():
            if b.show and b.action not in enabled:
                enabled[b.action] = on
                entries.append((b.key, b.action, b.description, b.group, tip, display(b)))
        items: list[Item] = []
        for group, run in groupby(entries, lambda e: e[3]):
            keys = tuple(run)
            if group is not None and len(keys) > 1:
                items.append(("group", keys))
            else:
                items += [("key", (e,)) for e in keys]
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and palette:
            _node, b, on, tip = palette
            enabled.setdefault(b.action, on)
            items.append(("palette", ((b.key, b.action, b.description, None, tip, display(b)),)))
        return tuple(items), enabled

    def compose(self) -> ComposeResult:
        self._blocks = {}  # (the blocks are mounted as the bindings come)
        yield from ()

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._show():
            self.call_after_refresh(self._redraw)  # (keys to mount: once the screen is drawn)

    async def _redraw(self) -> None:
        """Show the keys of the screen's bindings, mounting them first if new."""
        if not self.is_attached or self._show():
            return
        shape = self._read()[0]
        if len(self._blocks) >= self.MAX_BLOCKS:
            await self.remove_children()
            self._blocks = {}
        block = [w for item in shape for w in _widgets(item)]
        self._blocks[shape] = block
        await self.mount_all(block)
        self._show()

    def _show(self) -> bool:
        """Show the block of the screen's bindings and dim its disabled keys, now, before the
        screen is drawn again; False when that block is not mounted yet."""
        shape, enabled = self._read()
        if shape not in self._blocks:
            return False
        for key_set, widgets in self._blocks.items():
            for w in widgets:
                w.display = key_set == shape
        for key in self.query(FooterKey):
            off = not enabled.get(key.action, True)
            if key._disabled != off:
                key._disabled = off  # (what a click checks)
                key.set_class(off, "-disabled")
        return True


def _widgets(item: Item) -> list[Widget]:
    """The widgets of one item, as :meth:`Footer.compose` makes them."""
    kind, entries = item
    if kind == "group":
        group = entries[0][3]
        assert group is not None
        keys = [_key(e, "", e[4] or e[2], "-grouped") for e in entries]
        box = KeyGroup(*keys, classes="-compact" if group.compact else "")
        return [box, FooterLabel(group.description)]
    e = entries[0]
    if kind == "palette":
        return [_key(e, e[2], e[4] or e[2], "-command-palette", bound=False)]
    return [_key(e, e[2], e[4])]


def _key(e: Entry, label: str, tooltip: str, classes: str = "", bound: bool = True) -> FooterKey:
    """A key of the footer, as :meth:`Footer.compose` makes it (``bound``: its compact style
    follows the footer's)."""
    key, action, _label, _group, _tip, display = e
    widget = FooterKey(key, display, label, action, tooltip=tooltip, classes=classes)
    return widget.data_bind(compact=Footer.compact) if bound else widget
