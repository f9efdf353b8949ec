"""A cap on the length of a ratings file's lines, checked while streaming, before pandas.

A ratings line is a few dozen bytes. A file that is one endless line (a binary blob, a
``/dev/zero`` copy) would make the parser hold all of it, several times over, before it could
say which line is bad. :func:`check_line_lengths` finds a line over :data:`MAX_LINE_BYTES`
with a fixed amount of memory, and names it.

On a plain file it costs a few reads: one small probe per block of ``MAX_LINE_BYTES // 2``
bytes (a line that long must cover one such block whole, so a block whose probe holds a line
break cannot be inside it); only a block with no break in its probe is read in full, and only
when one has none at all is the file streamed to find the line's number. A zip member cannot
be probed at an offset: it is streamed.
"""

from __future__ import annotations

from engine.data.sources import FileSource, Source
from engine.errors import RatingsError

#: The longest line a ratings file may hold; a longer one is refused before parsing.
MAX_LINE_BYTES = 1 << 20
#: Bytes read at the start of each block when probing a plain file for line breaks.
_PROBE = 4096


def check_line_lengths(src: Source, limit: int | None = None) -> None:
    """Raise :class:`RatingsError` naming the first line of ``src`` longer than ``limit``
    bytes (default :data:`MAX_LINE_BYTES`); memory stays within a few times that limit."""
    limit = MAX_LINE_BYTES if limit is None else limit
    if isinstance(src, FileSource) and not _may_hold_long_line(src, limit):
        return
    lineno = _first_long_line(src, limit)
    if lineno is not None:
        raise RatingsError(
            src.display,
            f"this line is longer than {limit:,} bytes: not a ratings file",
            line=lineno,
            hint="pick the ratings file itself: one rating per line",
        )


def _may_hold_long_line(src: FileSource, limit: int) -> bool:
    """Whether some block of ``limit // 2`` bytes of the file holds no line break at all."""
    block = max(limit // 2, 1)
    with src.open() as fh:
        size = fh.seek(0, 2)
        for start in range(0, size - block + 1, block):
            fh.seek(start)
            if b"\n" in fh.read(min(_PROBE, block)):
                continue
            fh.seek(start)
            if b"\n" not in fh.read(block):
                return True
    return False


def _first_long_line(src: Source, limit: int) -> int | None:
    """The 1-based number of the first line longer than ``limit`` bytes, or None (streamed:
    chunks of at most ``limit`` bytes, so a whole line inside one chunk is short enough)."""
    chunk_size = max(min(limit, 1 << 20), 1)
    lineno, run = 1, 0  # the current line's number and its bytes so far
    with src.open() as fh:
        while chunk := fh.read(chunk_size):
            first = chunk.find(b"\n")
            if first < 0:
                run += len(chunk)
                if run > limit:
                    return lineno
                continue
            if run + first > limit:
                return lineno
            lineno += chunk.count(b"\n")
            run = len(chunk) - chunk.rfind(b"\n") - 1
    return lineno if run > limit else None
