"""A line chart of a training run: the loss and the validation scores against the epochs.

Each series is drawn with braille dots (2 × 4 per cell) and coloured; the y axis is labelled
with values on the left, the x axis with epochs below; the best epoch is marked on the x axis
(``▲``) and with a dotted column; the epochs trained on all the ratings at the end (the refit,
where validation ends) are shaded and named in the legend, which gives each series' latest
value (the one y axis serves the three). The chart scales its y axis to the values shown (labels
say where), so a small change is visible and honest about its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from textual.content import Content
from textual.widget import Widget

_BRAILLE = 0x2800
#: dot bit of (x, y) within a braille cell (x: 0-1, y: 0-3 from the top)
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


@dataclass
class Series:
    name: str
    style: str  # a Textual colour variable, e.g. "$warning"
    points: list[tuple[int, float]] = field(default_factory=list)  # (epoch, value)


def run_series(history) -> tuple[list[Series], int | None]:
    """The chart's series of a training run and its first refit epoch (or None).

    ``history``: one mapping per epoch with ``epoch``, ``train_loss``, ``val`` (the
    validation metrics, empty for an epoch trained on all the ratings) and, in newer models,
    ``refit``; as saved in a model's ``meta["history"]``."""
    loss, auc, ndcg = [], [], []
    refit = None
    for h in history:
        epoch = h.get("epoch")
        if not isinstance(epoch, int):
            continue
        val = h.get("val") if isinstance(h.get("val"), dict) else {}
        loss.append((epoch, _number(h.get("train_loss"))))
        if "auc" in val:
            auc.append((epoch, _number(val["auc"])))
        if "ndcg@10" in val:
            ndcg.append((epoch, _number(val["ndcg@10"])))
        is_refit = h.get("refit", not val and bool(auc))
        if is_refit and refit is None:
            refit = epoch
    series = [
        Series("loss", "$warning", loss),
        Series("val AUC", "$success", auc),
        Series("val nDCG@10", "$primary", ndcg),
    ]
    return series, refit


def _number(v) -> float:
    """``v`` as a float; NaN (not drawn) for anything else a damaged file may hold."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About ``count`` round values covering [lo, hi] (1, 2 or 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or count < 2:
        return []
    span = hi - lo if hi > lo else max(abs(hi), 1e-3)
    raw = span / (count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out: list[float] = []
    v = first
    while v <= hi + 1e-9 and len(out) < 20:
        out.append(round(v, 10))
        v += step
    return out


def _label(v: float) -> str:
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"


@dataclass
class _Frame:
    """Where a chart's values go: the y range and its ticks, the plot's size in cells, the
    x axis's last epoch."""

    lo: float
    hi: float
    ticks: list[float]
    label_w: int  # the y labels' width, their space included
    plot_w: int
    plot_h: int
    x_max: int

    @classmethod
    def fit(cls, lo: float, hi: float, width: int, height: int, x_max: int) -> _Frame:
        """The frame of values in [lo, hi] (a tenth of padding either side) on a chart of
        ``width`` x ``height`` cells, two rows of which are the x axis and the legend."""
        pad = max((hi - lo) * 0.1, 0.01)
        lo, hi = lo - pad, hi + pad
        plot_h = height - 2
        ticks = [t for t in nice_ticks(lo, hi, max(2, plot_h // 2 + 1)) if lo <= t <= hi]
        label_w = max(len(_label(t)) for t in ticks) + 1 if ticks else 5
        return cls(lo, hi, ticks, label_w, width - label_w - 1, plot_h, x_max)

    def col(self, epoch: float) -> float:
        """The dot column of ``epoch``: 0 .. plot_w*2-1."""
        return (epoch - 1) / max(1, self.x_max - 1) * (self.plot_w * 2 - 1)

    def row(self, value: float) -> float:
        """The dot row of ``value``, from the top: 0 .. plot_h*4-1."""
        return (self.hi - value) / (self.hi - self.lo) * (self.plot_h * 4 - 1)


class TrainingChart(Widget):
    """The chart. Feed it with :meth:`set_data`; it redraws to its size."""

    DEFAULT_CSS = """
    TrainingChart {
        height: 1fr;
        min-height: 5;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series: list[Series] = []
        self.epochs = 0  # the x axis runs to this epoch (at least the last one drawn)
        self.best: int | None = None
        self.refit_from: int | None = None  # the first refit epoch, or None
        self.empty_text = "no epoch yet"

    def set_data(
        self,
        series: list[Series],
        *,
        epochs: int,
        best: int | None = None,
        refit_from: int | None = None,
    ) -> None:
        """What to draw: ``series``, the x axis up to ``epochs``, the ``best`` epoch and the
        first epoch trained on all the ratings (``refit_from``)."""
        self.series = series
        self.epochs = epochs
        self.best = best
        self.refit_from = refit_from
        self.refresh()

    # ------------------------------------------------------------------- drawing
    def render(self) -> Content:
        width, height = self.size.width, self.size.height
        lines = self.render_lines_text(width, height)
        return Content("\n").join(lines)

    def render_lines_text(self, width: int, height: int) -> list[Content]:
        """The chart as ``height`` lines of ``width`` cells (empty when too small)."""
        values = [v for s in self.series for _, v in s.points if math.isfinite(v)]
        if not values or width < 20 or height < 5:
            return [Content.styled(self.empty_text, "$text-muted")]
        last = max((e for s in self.series for e, _ in s.points), default=1)
        frame = _Frame.fit(min(values), max(values), width, height, max(self.epochs, last, 2))
        out = self._plot_rows(frame, self._dot_cells(frame))
        out.append(self._x_axis(frame))
        out.append(self._legend(width, " " * (frame.label_w + 1)))
        return out

    def _dot_cells(self, frame: _Frame) -> dict[tuple[int, int], tuple[int, str]]:
        """The braille cells of the series' lines: ``(row, column) -> (dot bits, style)``."""
        cells: dict[tuple[int, int], tuple[int, str]] = {}
        for s in self.series:
            pts = [(frame.col(e), frame.row(v)) for e, v in s.points if math.isfinite(v)]
            dots = []
            for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
                n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
                dots += [(x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n) for t in range(n)]
            dots += pts[-1:]
            for x, y in dots:
                cx, cy = int(round(x)), int(round(y))
                key = (cy // 4, cx // 2)
                bits, _ = cells.get(key, (0, s.style))
                cells[key] = (bits | _DOTS[cx % 2][cy % 4], s.style)
        return cells

    def _plot_rows(
        self, frame: _Frame, cells: dict[tuple[int, int], tuple[int, str]]
    ) -> list[Content]:
        """The plot's rows: the y label and axis, the dots, the best epoch's dotted column and
        the refit band's shade."""
        refit_col = int(frame.col(self.refit_from)) // 2 if self.refit_from else None
        best_col = self._best_col(frame)
        tick_rows = {int(round(frame.row(t))) // 4: t for t in frame.ticks}
        out = []
        for r in range(frame.plot_h):
            tick = tick_rows.get(r)
            label = " " * frame.label_w if tick is None else _label(tick).rjust(frame.label_w - 1)
            parts: list[tuple[str, str] | str] = [
                (label + (" " if tick is not None else ""), "$text-muted"),
                ("│" if tick is None else "┤", "$text-muted"),
            ]
            for c in range(frame.plot_w):
                bg = " on $boost" if refit_col is not None and c >= refit_col else ""
                if (r, c) in cells:
                    bits, style = cells[(r, c)]
                    parts.append((chr(_BRAILLE + bits), f"{style}{bg}"))
                elif best_col == c:
                    parts.append(("┊", f"$text-muted{bg}"))
                else:
                    parts.append((" ", bg.strip()))
            out.append(Content.assemble(*parts))
        return out

    def _best_col(self, frame: _Frame) -> int | None:
        return int(round(frame.col(self.best))) // 2 if self.best else None

    def _x_axis(self, frame: _Frame) -> Content:
        """The x axis: a line with the epochs written into it and the best one marked."""
        plot_w, x_max = frame.plot_w, frame.x_max
        axis = ["─"] * plot_w
        styles = ["$text-muted"] * plot_w
        room = max(1.0, plot_w / 5)  # a mark every 5 columns at most
        nice = (m * 10**k for k in range(6) for m in (1, 2, 5))  # 1, 2, 5, 10, ... 500,000
        step = next((m for m in nice if x_max / m <= room), max(1, math.ceil(x_max / room)))
        marks = sorted({1, x_max, *range(step, x_max, step)})
        best_col = self._best_col(frame)
        if best_col is not None and 0 <= best_col < plot_w:
            axis[best_col], styles[best_col] = "▲", "bold $accent"
        for e in marks:
            text = str(e)
            c = min(int(round(frame.col(e))) // 2, plot_w - len(text))
            span = range(max(0, c - 1), min(plot_w, c + len(text) + 1))
            if all(axis[i] == "─" for i in span):
                axis[c : c + len(text)] = list(text)
        return Content.assemble(
            " " * frame.label_w,
            ("└", "$text-muted"),
            *((ch, style) for ch, style in zip(axis, styles)),
        )

    def _legend(self, width: int, indent: str) -> Content:
        """The legend row: in full where it fits, else in short words, else its first
        entries that fit whole (an entry is never cut mid-word)."""
        entries: list[tuple[tuple[str, str], str, str]] = []
        for s in self.series:  # each with its latest value: the y axis is shared by all
            last = next((v for _, v in reversed(s.points) if math.isfinite(v)), None)
            long_v, short_v = (f" {last:.3f}", f" {last:.2f}") if last is not None else ("", "")
            short = s.name.removeprefix("val ")
            entries.append((("━", s.style), s.name + long_v, short + short_v))
        if self.best:
            entries.append((("▲", "bold $accent"), f"best epoch {self.best}", f"best {self.best}"))
        if self.refit_from:
            entries.append((("  ", "on $boost"), "on all ratings, not validated", "all ratings"))

        def fit(lead: str, gap: str, short: bool) -> tuple[Content, bool]:
            """The entries that fit whole, and whether all of them did."""
            parts, used = [Content(lead)], len(lead)
            for n, (mark, long_name, short_name) in enumerate(entries):
                name = short_name if short else long_name
                part = Content.assemble(gap if n else "", mark, " ", name)
                if used + part.cell_length > width:
                    return Content("").join(parts), False
                parts.append(part)
                used += part.cell_length
            return Content("").join(parts), True

        legend, whole = fit(indent, "  ", short=False)
        return legend if whole else fit("", " ", short=True)[0]
