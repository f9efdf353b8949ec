"""The one-line bar at the top of every screen: the screens (on keys 1-4) and what is active."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

#: (mode, key, label) of the four main screens, in order.
SCREENS = (
    ("datasets", "1", "Datasets"),
    ("train", "2", "Train"),
    ("browse", "3", "Browse"),
    ("models", "4", "Models"),
)


class NavBar(Static):
    """``rbm-tui  1 Datasets  2 Train  3 Browse  4 Models      demo · model-name``."""

    DEFAULT_CSS = """
    NavBar {
        dock: top;
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text-muted;
        link-style: none;
        link-color: $text-muted;
        link-background: $panel;
        link-style-hover: bold;
        link-color-hover: $text;
        link-background-hover: $boost;
    }
    """

    def __init__(self, current: str, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.current = current

    def on_mount(self) -> None:
        self.update_status()

    def update_status(self) -> None:
        app = self.app
        parts: list[Content | str | tuple[str, str]] = [("rbm-tui ", "bold $accent")]
        for mode, key, label in SCREENS:
            text = f" {key} {label} "
            if mode == self.current:
                parts.append((text, "bold reverse $primary"))
            else:
                parts.append(Content.from_markup(f"[@click=app.show('{mode}')]$text[/]", text=text))
        left = Content.assemble(*parts)
        status = getattr(app, "status_line", lambda: "")()
        width = self.size.width or 80
        room = max(0, width - left.cell_length - 1)
        if len(status) > room:
            status = status[: max(0, room - 1)] + "…" if room > 1 else ""
        pad = max(1, width - left.cell_length - len(status))
        self.update(Content.assemble(left, " " * pad, (status, "$text-muted")))

    def on_resize(self) -> None:
        self.update_status()
