"""The calibration picture of a model: for each band of predicted P(like), the like rate
observed on validation ratings, as a bar, with the band's mean prediction marked on it.

A calibrated model's bars end at their marks: of the pairs it gave 70-80%, about 75% were
liked. A bar past its mark means the model was too cautious there, one short of it too sure.
"""

from __future__ import annotations

import math

from textual.content import Content
from textual.widget import Widget

_EIGHTHS = " ▏▎▍▌▋▊▉█"


class CalibrationPicture(Widget):
    """Feed it a model's reliability table (rows of ``[mean predicted, observed, pairs]``, as
    :func:`engine.metrics.reliability` returns) with :meth:`set_table`."""

    DEFAULT_CSS = """
    CalibrationPicture {
        height: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.table: list[list[float]] = []
        self.empty_text = "no calibration picture"

    def set_table(self, table: list[list[float]] | None, empty_text: str = "") -> None:
        self.table = [
            [float(v) for v in row]
            for row in (table or [])
            if isinstance(row, list)
            and len(row) == 3
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)
        ]
        if empty_text:
            self.empty_text = empty_text
        self.refresh()

    def render(self) -> Content:
        return Content("\n").join(self.render_lines_text(self.size.width))

    def rows(self) -> list[tuple[int, float, float, int]]:
        """``(band, predicted, observed, pairs)`` of the bands with pairs, band ``b`` of
        ``B`` holding the predictions in [b/B, (b+1)/B)."""
        return [
            (b, pred, obs, int(n))
            for b, (pred, obs, n) in enumerate(self.table)
            if n > 0 and math.isfinite(pred) and math.isfinite(obs)
        ]

    def render_lines_text(self, width: int) -> list[Content]:
        rows = self.rows()
        if not rows:
            return [Content.styled(self.empty_text, "$text-muted")]
        bands = len(self.table)
        bar_w = max(8, width - 7 - 5 - 9)
        lines = [
            Content.assemble(
                ("Calibration ", "bold"),
                ("bar: liked, ", "$text-muted"),
                ("┃", "bold $accent"),
                (": P(like)", "$text-muted"),
            ).truncate(width)
        ]
        for b, pred, obs, n in rows:
            lo, hi = round(100 * b / bands), round(100 * (b + 1) / bands)
            eighths = int(round(min(1.0, max(0.0, obs)) * bar_w * 8))
            full, part = divmod(eighths, 8)
            cells = list("█" * full + (_EIGHTHS[part] if part and full < bar_w else ""))
            cells += [" "] * (bar_w - len(cells))
            styles = ["$primary"] * bar_w
            mark = min(bar_w - 1, int(pred * bar_w))
            cells[mark], styles[mark] = "┃", "bold $accent"
            lines.append(
                Content.assemble(
                    (f"{lo:>3}-{hi:<3}", "$text-muted"),
                    *((c, s) for c, s in zip(cells, styles)),
                    f" {round(100 * obs):3d}%",
                    (f" {_count(n):>6}", "$text-muted"),
                ).truncate(width)
            )
        return lines


def _count(n: int) -> str:
    return f"{n:,}" if n < 10_000 else f"{n / 1000:.0f}k"
