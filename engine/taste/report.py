"""The result of an import: counts, the thumbs, and the rows that found no movie, in a file."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine import paths
from engine.files import write_bytes
from engine.taste.formats import Format, TasteRow


@dataclass
class Unmatched:
    """A row that found no movie of the dataset, and why."""

    row: TasteRow
    reason: str


@dataclass
class ImportResult:
    """What an import found.

    Attributes:
        path: the export read.
        format: its :class:`~engine.taste.formats.Format` (name, label, scale, default).
        threshold: a rating at or above it is a like, below it a dislike (the file's scale).
        rows: rated rows read (unrated rows, e.g. diary entries without stars, not counted).
        matched: rows that found a movie of the dataset.
        unmatched: rows that did not (``len(unmatched_rows)``).
        unrated: rows without a rating, skipped.
        unmatched_rows: those rows with the reason.
        unmatched_file: the CSV they were written to (None when every row matched).
        thumbs: the dataset's movie ID -> True (like) / False (dislike); a movie rated on
            several rows takes its last row's thumb.
        methods: how many rows matched each way (``imdb``, ``tmdb``, ``item``, ``title``, ...).
    """

    path: Path
    format: Format
    threshold: float
    rows: int = 0
    matched: int = 0
    unrated: int = 0
    unmatched_rows: list[Unmatched] = field(default_factory=list)
    unmatched_file: Path | None = None
    thumbs: dict[object, bool] = field(default_factory=dict)
    methods: dict[str, int] = field(default_factory=dict)

    @property
    def unmatched(self) -> int:
        return len(self.unmatched_rows)

    @property
    def likes(self) -> int:
        return sum(self.thumbs.values())

    def summary(self) -> str:
        """One line for a person: format, threshold, counts and where the unmatched rows are."""
        f = self.format
        text = (
            f"{self.path.name}: {f.label}, {self.rows:,} rated rows, {self.matched:,} matched "
            f"({self.likes:,} likes, {len(self.thumbs) - self.likes:,} dislikes; a like is "
            f"{self.threshold:g} or more of {f.low:g}-{f.high:g}), {self.unmatched:,} unmatched"
        )
        if self.unmatched_file is not None:
            text += f" (listed in {self.unmatched_file})"
        return text

    def to_json(self, profile: str | None = None) -> dict[str, object]:
        """The ``--json`` line: rows, matched, unmatched, unmatched_file, profile."""
        return {
            "rows": self.rows,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "unmatched_file": None if self.unmatched_file is None else str(self.unmatched_file),
            "profile": profile,
        }


def unmatched_csv(header: list[str], rows: list[Unmatched]) -> bytes:
    """The unmatched rows as CSV: ``line``, ``reason``, then the export's own columns."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["line", "reason", *header])
    for u in rows:
        out.writerow([u.row.line, u.reason, *(u.row.raw.get(h, "") for h in header)])
    return buf.getvalue().encode("utf-8")


def write_unmatched(
    source: Path,
    fmt: Format,
    header: list[str],
    rows: list[Unmatched],
    folder: Path | None = None,
    tag: str = "",
) -> Path:
    """Write the unmatched rows to ``folder/<format>-<export name>[-<tag>]-unmatched.csv``
    (atomically; the folder defaults to ``<data dir>/imports``; the tag's characters other
    than letters, digits, ``.`` and ``-`` become ``_``); returns the path."""
    folder = Path(folder) if folder is not None else paths.data_dir() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    name = "-".join(p for p in (fmt.name, source.stem, re.sub(r"[^\w.-]", "_", tag)) if p)
    return write_bytes(folder / f"{name}-unmatched.csv", unmatched_csv(header, rows))
