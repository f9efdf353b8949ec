"""The help screen (``?``): every key of every screen, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from rbm_tui.screens.base import AppScreen

#: Keys that widgets handle themselves (not in any BINDINGS of ours).
WIDGET_KEYS = [
    ("↑ ↓ PgUp PgDn", "move in lists and tables"),
    ("tab / shift+tab", "next / previous field or list"),
    ("ctrl+p", "command palette: dataset, theme, export ratings…"),
    ("ctrl+q", "quit"),
]


def _bindings(cls) -> list[Binding]:
    """The bindings ``cls`` declares itself (not those of the widget it builds on: a table's
    cursor keys are the widget's, listed once under "Everywhere")."""
    out = []
    for b in cls.__dict__.get("BINDINGS", []):
        if isinstance(b, Binding):
            out.append(b)
        else:
            key, action, *rest = b
            out.append(Binding(key, action, rest[0] if rest else ""))
    return out


def help_sections(
    app_class: type, screens: Mapping[str, type[AppScreen]], current: str | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(section, [(keys, what), ...]), ...]`` for the app (``app_class``'s own keys) and its
    main ``screens`` (``{mode: screen class}``), the ``current`` screen's section first."""
    from rbm_tui.screens.browse import MoviesTable
    from rbm_tui.screens.datasets import CatalogueTable
    from rbm_tui.screens.dialogs import ConfirmDialog, ErrorDialog, PromptDialog
    from rbm_tui.screens.models import ModelsTable

    extra: dict[str, list[type[DOMNode]]] = {
        "datasets": [CatalogueTable],
        "models": [ModelsTable],
        "browse": [MoviesTable],
    }
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    rows = [(_keys(b), b.description) for b in _bindings(app_class) if b.description]
    rows += [(_keys(b), b.description) for b in _bindings(HelpScreen) if b.description]
    rows += WIDGET_KEYS
    sections.append(("Everywhere", rows))
    for mode, cls in screens.items():
        rows = []
        for widget in extra.get(mode, []):
            rows += [(_keys(b), b.description) for b in _bindings(widget) if b.description]
        rows += [(_keys(b), b.description) for b in _bindings(cls) if b.description]
        sections.append((cls.TITLE_TEXT, rows))
    rows = []
    for dialog in (ErrorDialog, ConfirmDialog, PromptDialog):
        rows += [(_keys(b), b.description) for b in _bindings(dialog) if b.description]
    sections.append(("Dialogs", _dedupe(rows)))
    title = screens[current].TITLE_TEXT if current is not None and current in screens else None
    sections.sort(key=lambda sec: sec[0] != title)  # stable: the current screen first
    return sections


_NAMES = {
    "question_mark": "?",
    "plus": "+",
    "minus": "-",
    "slash": "/",
    "escape": "esc",
    "enter": "enter",
    "delete": "del",
}


def _keys(b: Binding) -> str:
    keys = [k.strip() for k in b.key.split(",")]
    return " ".join(_NAMES.get(k, k) for k in keys)


def _dedupe(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen, out = set(), []
    for r in rows:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


class HelpScreen(ModalScreen[None]):
    """Every key, in the ``sections`` of :func:`help_sections`."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close help", id="help.close")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc to close"
            with VerticalScroll(id="help-scroll"):
                for section, rows in self.sections:
                    yield Static(Content.styled(section, "bold $accent"), classes="help-section")
                    lines = [
                        Content.assemble((f"{keys:>16}", "bold $secondary"), "  ", what)
                        for keys, what in rows
                    ]
                    yield Static(Content("\n").join(lines), classes="help-rows")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
