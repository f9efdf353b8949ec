"""Text tables and ``key  value`` lines for the terminal: aligned, and fitted to its width
(``COLUMNS`` first; 80 columns when stdout is not a terminal)."""

from __future__ import annotations


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes: a CJK character or an emoji two, a combining
    mark none (``len`` counted each as one and misaligned the columns after them)."""
    from rich.cells import cell_len

    return cell_len(text)


def table(
    rows: list[list[str]], header: list[str], right: set[int] | frozenset[int] = frozenset()
) -> str:
    """A plain aligned text table."""
    widths = [cells(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], cells(c))

    def line(row: list[str]) -> str:
        out = []
        for i, c in enumerate(row):
            pad = " " * (widths[i] - cells(c))
            out.append(pad + c if i in right else c + pad)
        return "  ".join(out).rstrip()

    return "\n".join([line(header)] + [line(r) for r in rows])


def terminal_width() -> int:
    """The terminal's columns (``COLUMNS`` first; 80 when stdout is not a terminal)."""
    import shutil

    return max(40, shutil.get_terminal_size((80, 24)).columns)


def fitted_table(
    rows: list[list[str]],
    header: list[str],
    right: set[int] | frozenset[int] = frozenset(),
    *,
    width: int | None = None,
    shrink: tuple[int, ...] = (),
) -> str:
    """:func:`table` no wider than ``width`` (default: the terminal's): the columns of
    ``shrink``, in that order, are cut (``…``) as far as needed, or left out when they would
    be narrower than their heading or 12 characters."""
    width = terminal_width() if width is None else width
    keep = list(range(len(header)))
    for c in shrink:
        lines = [header] + rows
        widths = {i: max(cells(r[i]) for r in lines) for i in keep}
        over = sum(widths.values()) + 2 * (len(keep) - 1) - width
        if over <= 0:
            break
        room = widths[c] - over
        if room < max(12, cells(header[c])):
            keep.remove(c)
            continue
        rows = [r[:c] + [shorten(r[c], room)] + r[c + 1 :] for r in rows]
    return table(
        [[r[i] for i in keep] for r in rows],
        [header[i] for i in keep],
        right={n for n, i in enumerate(keep) if i in right},
    )


def shorten(text: str, n: int) -> str:
    """``text`` in at most ``n`` terminal cells, cut with ``…`` where longer."""
    from rich.cells import set_cell_size

    text = " ".join(str(text).split())
    if cells(text) <= n:
        return text
    return set_cell_size(text, n - 1).rstrip() + "…"


def print_pairs(lines: list[tuple[str, str]], width: int | None = None) -> None:
    """``key  value`` lines, keys aligned; a value too long for ``width`` (default: the
    terminal's) wraps under itself, at spaces only (a path stays whole)."""
    import textwrap

    w = max(len(k) for k, _ in lines)
    room = max(20, (terminal_width() if width is None else width) - w - 2)
    for k, v in lines:
        parts = [v]
        if len(v) > room:
            parts = textwrap.wrap(v, room, break_long_words=False, break_on_hyphens=False) or [""]
        print(f"{k.ljust(w)}  {parts[0]}".rstrip())
        for part in parts[1:]:
            print(" " * (w + 2) + part)
