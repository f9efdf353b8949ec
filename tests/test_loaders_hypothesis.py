"""Property tests of the generic CSV/TSV reader: valid files round-trip, bad rows name the line."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import parsing
from engine.data.loaders import load_ratings
from engine.errors import RatingsError

SETTINGS = settings(
    max_examples=int(os.environ.get("RBM_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

int_ids = st.one_of(
    st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**12)
)
str_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé_-", min_size=1, max_size=8).map(
    lambda s: "x" + s
)
ratings = st.one_of(
    st.integers(min_value=0, max_value=10).map(str),
    st.integers(min_value=1, max_value=10).map(lambda k: f"{k / 2:.1f}"),
    st.integers(min_value=0, max_value=1000).map(lambda k: f"{k / 100}"),
)
timestamps = st.integers(min_value=0, max_value=2_000_000_000).map(str)
headers = st.sampled_from(
    [
        ("user", "item", "rating"),
        ("userId", "movieId", "rating"),
        ("user_id", "movie_id", "score"),
        ("UserID", "ItemID", "Stars"),
    ]
)


@st.composite
def ratings_files(draw):
    """(text, sep, header, rows, blank_lines_before) of a valid file with unique pairs."""
    sep = draw(st.sampled_from([",", ";", "\t"]))
    header = list(draw(headers))
    with_ts = draw(st.booleans())
    if with_ts:
        header.append("timestamp")
    uid = draw(st.sampled_from([int_ids, str_ids, st.one_of(int_ids, str_ids)]))
    iid = draw(st.sampled_from([int_ids, str_ids]))
    keys = draw(
        st.lists(
            st.tuples(uid, iid), min_size=1, max_size=30, unique_by=lambda t: (str(t[0]), str(t[1]))
        )
    )
    rows = []
    for u, i in keys:
        row = [str(u), str(i), draw(ratings)]
        if with_ts:
            row.append(draw(timestamps))
        rows.append(row)
    blanks = draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    return sep, header, rows, blanks


def render(sep: str, header: list[str], rows: list[list[str]], blanks: list[bool]) -> str:
    out = [sep.join(header)]
    for row, blank in zip(rows, blanks):
        if blank:
            out.append("")
        out.append(sep.join(row))
    return "\n".join(out) + "\n"


@contextmanager
def written(data: str | bytes, name: str = "ratings_in.csv") -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="rbm_hyp_") as d:
        f = Path(d) / name
        f.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        yield f


@SETTINGS
@given(ratings_files())
def test_valid_files_round_trip(spec) -> None:
    sep, header, rows, blanks = spec
    with written(render(sep, header, rows, blanks)) as f:
        r = load_ratings(f, cache=False)
    got = {
        (str(u), str(i)): float(v)
        for u, i, v in zip(
            r.user_ids[r.users].tolist(), r.item_ids[r.items].tolist(), r.values.tolist()
        )
    }
    want = {(row[0], row[1]): float(np.float32(float(row[2]))) for row in rows}
    assert got == want
    assert r.report.rows_read == len(rows) and r.report.duplicates_dropped == 0
    if len(header) == 4:
        assert r.timestamps is not None
        got_ts = dict(
            zip(zip(map(str, r.user_ids[r.users]), map(str, r.item_ids[r.items])), r.timestamps)
        )
        assert got_ts == {(row[0], row[1]): int(row[3]) for row in rows}
    else:
        assert r.timestamps is None
    for ids in (r.user_ids, r.item_ids):
        if all(isinstance(x, int) for x in ids.tolist()):
            assert ids.dtype == np.int64


CORRUPTIONS = ["drop_field", "add_field", "word_rating", "big_rating", "neg_rating", "empty_id"]


@SETTINGS
@given(ratings_files(), st.sampled_from(CORRUPTIONS), st.data())
def test_corrupt_row_names_its_line(spec, kind, data) -> None:
    sep, header, rows, blanks = spec
    k = data.draw(st.integers(min_value=0, max_value=len(rows) - 1), label="row")
    row = list(rows[k])
    if kind == "drop_field":
        row.pop(data.draw(st.integers(min_value=0, max_value=len(row) - 1), label="field"))
        words = ["expected", f"found {len(row)}"]
    elif kind == "add_field":
        row.append("7")
        words = [f"found {len(row)}"]
    elif kind == "word_rating":
        row[2] = data.draw(st.sampled_from(["good", "4 stars", "x", "★★★"]), label="word")
        words = ["not a number"]
    elif kind == "big_rating":
        row[2] = data.draw(st.sampled_from(["11", "10.5", "100", "1e9"]), label="big")
        words = ["outside"]
    elif kind == "neg_rating":
        row[2] = data.draw(st.sampled_from(["-1", "-0.5", "-10"]), label="neg")
        words = ["outside"]
    else:
        j = data.draw(st.sampled_from([0, 1]), label="which id")
        row[j] = ""
        words = ["ID is empty"]
    rows = rows[:k] + [row] + rows[k + 1 :]
    line = 1 + k + 1 + sum(blanks[: k + 1])
    # The bad line is hunted in blocks of lines; small blocks exercise the block edges.
    block = data.draw(st.sampled_from([1, 2, 3, 7, 100_000]), label="scan block")
    saved = parsing._SCAN_BLOCK
    parsing._SCAN_BLOCK = block
    try:
        with written(render(sep, header, rows, blanks)) as f, pytest.raises(RatingsError) as ei:
            load_ratings(f)
    finally:
        parsing._SCAN_BLOCK = saved
    e = ei.value
    assert e.line == line, str(e)
    assert "ratings_in.csv" in str(e) and f"line {line}" in str(e)
    for w in words:
        assert w in str(e), str(e)
    assert e.hint


@SETTINGS
@given(ratings_files(), st.integers(min_value=0, max_value=29))
def test_bad_bytes_name_their_line(spec, k) -> None:
    sep, header, rows, blanks = spec
    k = k % len(rows)
    text = render(sep, header, rows, blanks).encode("utf-8").split(b"\n")
    line = 1 + k + 1 + sum(blanks[: k + 1])
    text[line - 1] = text[line - 1] + b"\xff"
    with written(b"\n".join(text), "bytes.csv") as f, pytest.raises(RatingsError) as ei:
        load_ratings(f, cache=False)
    assert ei.value.line == line, str(ei.value)
