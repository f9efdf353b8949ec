"""Progress of the CLI's long commands: training (epochs, loss, ETA) and downloads (bytes).

On a terminal a ``rich.progress`` bar is redrawn in place (at most every ``min_interval``
seconds, no refresh thread); elsewhere (a pipe, a log file) plain lines are written: one per
epoch for training, one per 10 % for downloads, so logs stay readable. The ETA of training is
the engine's forecast (:class:`engine.training.forecast.Forecast`: the epochs early stopping
is expected to leave), not a rate extrapolated by the bar. Durations and sizes read as
everywhere else (:mod:`engine.formatting`, which imports nothing heavy); nothing here imports
torch: the callbacks take the engine's report objects duck-typed; rich is imported only when a
bar is drawn.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from engine.formatting import format_bytes, format_duration, format_score

BAR_WIDTH = 20


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Bar:
    """One ``rich.progress`` bar on a terminal (a label, the bar, a status text), refreshed
    by hand; or, off a terminal, plain lines."""

    def __init__(self, stream: TextIO | None, tty: bool | None, min_interval: float, clock):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _is_tty(self.stream) if tty is None else tty
        self.min_interval = min_interval
        self.clock = clock
        self._last_draw = -1e18
        self._progress: Any = None
        self._task: Any = None
        self._gone = False

    def width(self) -> int:
        """The room for the status text (a terminal's width less the label and the bar)."""
        return max(20, self._start().console.width - BAR_WIDTH - 24)

    def _start(self):
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=BAR_WIDTH),
                TextColumn("{task.fields[status]}", markup=False),
                console=console,
                auto_refresh=False,
                get_time=self.clock,
            )
            self._task = self._progress.add_task("", total=1.0, status="")
        return self._progress

    def draw(self, label: str, fraction: float, status: str, force: bool = False) -> None:
        """Redraw the bar (terminal only), throttled unless ``force``."""
        now = self.clock()
        if self._gone or (not force and now - self._last_draw < self.min_interval):
            return
        self._last_draw = now
        with self._unless_gone():
            self._redraw(label, fraction, status)

    def _redraw(self, label: str, fraction: float, status: str) -> None:
        progress = self._start()
        fraction = min(1.0, max(0.0, fraction))
        progress.update(self._task, description=label, completed=fraction, status=status)
        if progress.live.is_started:
            progress.refresh()
        else:
            progress.start()  # drawn first with this label, not an empty one

    def write_line(self, text: str) -> None:
        """A whole line (not a terminal, or a message above the bar)."""
        if self._gone:
            return
        with self._unless_gone():
            if self._progress is not None and self._progress.live.is_started:
                self._progress.console.print(text, markup=False, highlight=False)
                return
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        progress, self._progress = self._progress, None
        if progress is not None and not self._gone:
            with self._unless_gone():
                progress.stop()

    @contextlib.contextmanager
    def _unless_gone(self) -> Iterator[None]:
        """Drawing stops for good when the stream fails (a terminal hung up, a closed pipe):
        progress is never what ends a run, or keeps its model from being saved."""
        try:
            yield
        except OSError:
            self._gone = True


class TrainProgress:
    """Progress of a training run; pass :meth:`on_batch` and :meth:`on_epoch` to
    :func:`engine.training.loop.train` as ``progress`` and ``callback``.

    ``forecast``: an :class:`engine.training.forecast.Forecast` of the run (its clock is
    used here too): the epoch count, bar and ETA are those of the epochs expected to run,
    revised when early stopping comes near.
    """

    def __init__(
        self,
        forecast,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        min_interval: float = 0.1,
        log_every: float = 20.0,
    ) -> None:
        self.forecast = forecast
        self.log_every = log_every
        self.clock = forecast.clock
        self.line = _Bar(stream, tty, min_interval, self.clock)
        self.start = self.clock()
        self.loss: float | None = None
        self.val: dict[str, float] = {}
        self._last_log = self.start

    @property
    def tty(self) -> bool:
        return self.line.tty

    def _epochs(self) -> str:
        f = self.forecast
        return f"{f.epoch}/{f.expected_epochs}" if f.in_refit else f"{f.epoch}/~{f.expected_epochs}"

    def _label(self) -> str:
        f = self.forecast
        running = f.epoch + (1 if f.batch else 0)
        return f"epoch {max(1, running)}/~{f.expected_epochs}"

    def _status(self) -> str:
        """Loss, validation scores, elapsed time and ETA; a narrow terminal drops the
        optional parts, last first, before anything is cut."""
        head = [f"loss {self.loss:.4f}" if self.loss is not None else "loss -"]
        optional = []
        if "auc" in self.val:
            optional.append(f"val auc {format_score(self.val['auc'])}")
        if "ndcg@10" in self.val:
            optional.append(f"ndcg@10 {format_score(self.val['ndcg@10'])}")
        optional.append(f"{format_duration(self.clock() - self.start)} elapsed")
        tail = [f"ETA {format_duration(self.forecast.seconds_left())}"]
        width = self.line.width()
        while optional and len("  ".join(head + optional + tail)) > width:
            optional.pop()
        return "  ".join(head + optional + tail)

    def _draw(self, force: bool) -> None:
        self.line.draw(self._label(), self.forecast.fraction(), self._status(), force=force)

    def on_batch(self, p) -> None:
        """``p``: an :class:`engine.training.loop.BatchProgress`. On a terminal the bar is
        redrawn; elsewhere a line is written every :attr:`log_every` seconds within an epoch
        (a long epoch of a big dataset shows its progress and ETA from the first minute)."""
        self.forecast.on_batch(p)
        if self.tty:
            self._draw(force=p.batch == p.n_batches)
            return
        now = self.clock()
        if p.batch < p.n_batches and now - self._last_log >= self.log_every:
            self._last_log = now
            self.line.write_line(
                f"epoch {p.epoch}/~{self.forecast.expected_epochs}  "
                f"batch {p.batch}/{p.n_batches}  "
                f"{format_duration(now - self.start)} elapsed  "
                f"ETA {format_duration(self.forecast.seconds_left())}"
            )

    def on_epoch(self, r) -> None:
        """``r``: an :class:`engine.training.loop.EpochReport`."""
        self.forecast.on_epoch(r)
        self.loss = r.train_loss
        self.val = dict(r.val)
        self._last_log = self.clock()
        if self.tty:
            self._draw(force=True)
            return
        self.line.write_line(self._epoch_line(r))

    def _epoch_line(self, r) -> str:
        parts = [f"epoch {self._epochs()}", f"loss {r.train_loss:.4f}"]
        for key in ("auc", "ndcg@10", "logloss"):
            if key in r.val:
                parts.append(f"val {key} {format_score(r.val[key], 4)}")
        parts.append(f"{r.seconds:.1f}s")
        parts.append(f"ETA {format_duration(self.forecast.seconds_left())}")
        if r.best:
            parts.append("*best")
        if r.refit:
            parts.append("+all ratings")
        return "  ".join(parts)

    def message(self, text: str) -> None:
        self.line.write_line(text)

    def finish(self) -> None:
        """The run ended whole: the bar at 100% with the time it took (it was left at the
        last epoch's share, before the finishing steps, with an ETA of the past)."""
        if self.tty:
            took = format_duration(self.clock() - self.start)
            self.line.draw(f"epoch {self.forecast.epoch}", 1.0, f"done in {took}", force=True)

    def close(self) -> None:
        self.line.close()


class ByteProgress:
    """Progress of a download; call it as ``progress(done_bytes, total_bytes_or_None)``."""

    def __init__(
        self,
        label: str,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        min_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.line = _Bar(stream, tty, min_interval, clock)
        self.clock = clock
        self.start = clock()
        self.done = 0
        self.total: int | None = None
        self._next_report = 0.1

    @property
    def tty(self) -> bool:
        return self.line.tty

    def _status(self) -> str:
        elapsed = max(1e-9, self.clock() - self.start)
        rate = self.done / elapsed
        if self.total:
            parts = [f"{format_bytes(self.done)} / {format_bytes(self.total)}"]
        else:
            parts = [format_bytes(self.done)]
        parts.append(f"{format_bytes(rate)}/s")
        if self.total and rate > 0:
            parts.append(f"ETA {format_duration((self.total - self.done) / rate)}")
        return "  ".join(parts)

    def __call__(self, done: int, total: int | None = None) -> None:
        self.done, self.total = done, total
        finished = total is not None and done >= total
        if self.tty:
            fraction = done / total if total else 0.0
            self.line.draw(self.label, fraction, self._status(), force=finished)
            return
        # not a terminal: a line per 10 % (or per 10 MB when the size is unknown)
        if total:
            if done / total >= self._next_report or finished:
                self.line.write_line(f"{self.label}  {self._status()}")
                while self._next_report <= done / total:
                    self._next_report += 0.1
        elif done >= self._next_report * 1e8:
            self.line.write_line(f"{self.label}  {self._status()}")
            self._next_report += 0.1

    def close(self) -> None:
        self.line.close()
