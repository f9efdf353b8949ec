"""Fuzzing of the ratings parser (issue 34's bar: at least 500 examples in CI).

Small inputs keep 500 examples to a few seconds: any bytes under any ratings-file name load as
:class:`Ratings` that hold together, or fail with one :class:`RatingsError` line naming the
file; and the streaming line-length check agrees with a plain split on every input.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import linelength
from engine.data.loaders import load_ratings
from engine.data.sources import FileSource, Source
from engine.errors import RatingsError

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Pieces a ratings file is made of, so that most examples get past the first line.
PIECES = st.sampled_from(
    [
        "userId,movieId,rating", "user\titem\trating\ttimestamp", "u;i;score", "1", "42", "3.5",
        "5", "-1", "1e308", "nan", "inf", "x", "é", '"', ",", ";", "\t", "::", "\n", "\r\n", " ",
        "\xff", "\x00", "", "10.5", "874965758",
    ]
)  # fmt: skip
NAMES = st.sampled_from(["ratings.csv", "u.data", "ratings.dat", "mine.tsv", "x.txt"])


def contents() -> st.SearchStrategy[bytes]:
    built = st.lists(PIECES, max_size=40).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogateescape")
    )
    return st.one_of(built, st.binary(max_size=200))


def holds_together(r) -> bool:
    n = r.n_ratings
    return (
        len(r.users) == len(r.items) == n
        and (n == 0 or (0 <= r.users.min() and r.users.max() < r.n_users))
        and (n == 0 or (0 <= r.items.min() and r.items.max() < r.n_items))
        and bool(np.isfinite(r.values).all())
        and (n == 0 or (r.values.min() >= 0 and r.values.max() <= 10))
        and len(r.movies) == r.n_items
    )


@pytest.mark.slow
@FUZZ
@given(content=contents(), name=NAMES)
def test_any_bytes_load_or_fail_with_one_ratings_error(content, name):
    with tempfile.TemporaryDirectory(prefix="rbm_fuzz_") as d:
        f = Path(d) / name
        f.write_bytes(content)
        try:
            r = load_ratings(f, cache=False)
        except RatingsError as e:
            text = str(e)
            assert text.startswith(str(f)) and "\n" not in text and len(text) < 700, text
        else:
            assert holds_together(r)


class BytesSource(Source):
    """An in-memory source: the streamed path of the line-length check (as for zips)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.display, self.name = data, "mem", "mem"

    def open(self):
        import contextlib

        return contextlib.nullcontext(io.BytesIO(self.data))

    def size(self) -> int:
        return len(self.data)


def first_long_line(data: bytes, limit: int) -> int | None:
    """The plain answer: split on line breaks and measure."""
    for k, line in enumerate(data.split(b"\n"), start=1):
        if len(line) > limit:
            return k
    return None


@pytest.mark.slow
@FUZZ
@given(
    lines=st.lists(st.integers(min_value=0, max_value=80), max_size=30),
    limit=st.integers(min_value=1, max_value=40),
    end_break=st.booleans(),
)
def test_the_line_length_check_agrees_with_a_plain_split(lines, limit, end_break):
    data = b"\n".join(b"x" * n for n in lines) + (b"\n" if end_break and lines else b"")
    want = first_long_line(data, limit)
    with tempfile.TemporaryDirectory(prefix="rbm_fuzz_") as d:
        f = Path(d) / "r.csv"
        f.write_bytes(data)
        for src in (FileSource(f), BytesSource(data)):  # probed, then streamed
            if want is None:
                linelength.check_line_lengths(src, limit)
            else:
                with pytest.raises(RatingsError) as e:
                    linelength.check_line_lengths(src, limit)
                assert e.value.line == want
