"""Small renderers: a P(like) bar, a percentage, a person's thumb, text fitting."""

from __future__ import annotations

import math

from rich.cells import cell_len, set_cell_size
from textual.content import Content

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def like_style(p: float) -> str:
    if p >= 0.65:
        return "$success"
    if p >= 0.45:
        return "$warning"
    return "$error"


def like_bar(p: float | None, width: int = 10, style: str | None = None) -> Content:
    """A horizontal bar of ``width`` cells filled to ``p`` (0-1), coloured by how high it is
    (or in ``style``)."""
    if p is None or not math.isfinite(p):
        return Content(" " * width)
    p = min(1.0, max(0.0, float(p)))
    eighths = int(round(p * width * 8))
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    text = text.ljust(width)
    return Content.styled(text, style or like_style(p))


def percent(p: float | None, style: str | None = None) -> Content:
    """``p`` (0-1) as a 4-cell percentage coloured by how high it is (or in ``style``)."""
    if p is None or not math.isfinite(p):
        return Content.styled("  –", "$text-muted")
    if 0 < p < 0.005:
        return Content.styled(" <1%", style or like_style(p))
    return Content.styled(f"{round(100 * p):3d}%", style or like_style(p))


def thumb(liked: bool | None) -> Content:
    if liked is None:
        return Content("")
    if liked:
        return Content.styled("♥", "bold $success")
    return Content.styled("✗", "bold $error")


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis, padded to exactly ``width``."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)
