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
        """Draw the bar: in full where the status fits beside it, else without the name,
        else with the other screens by their keys alone; the status is cut only then."""
        status = getattr(self.app, "status_line", lambda: "")()
        width = self.size.width or 80
        for brand, short in ((True, False), (False, False), (False, True)):
            left = self._screens(brand, short)
            if left.cell_length + 1 + len(status) <= width:
                break
        room = max(0, width - left.cell_length - 1)
        if len(status) > room:
            status = status[: max(0, room - 1)] + "…" if room > 1 else ""
        pad = max(1, width - left.cell_length - len(status))
        self.update(Content.assemble(left, " " * pad, (status, "$text-muted")))

    def _screens(self, brand: bool, short: bool) -> Content:
        """The screens' part: ``rbm-tui`` (``brand``) and the screens, the current one named
        and the others by key only when ``short``."""
        parts: list[Content | str | tuple[str, str]] = (
            [("rbm-tui ", "bold $accent")] if brand else []
        )
        for mode, key, label in SCREENS:
            if mode == self.current:
                parts.append((f" {key} {label} ", "bold reverse $primary"))
            else:
                text = f" {key} " if short else f" {key} {label} "
                parts.append(Content.from_markup(f"[@click=app.show('{mode}')]$text[/]", text=text))
        return Content.assemble(*parts)

    def on_resize(self) -> None:
        self.update_status()
