"""Errors point where people look: the line an editor shows in a CSV file (its header on
line 1), the row counted from 1 in Parquet, Arrow and data in memory.

Each expected location is found independently of the library: by searching the file's
bytes for the bad value, or by the bad value's index in the table.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import normlock as nl
from normlock.io.files import batch_source, csv_line
from tests.cli.helpers import run

SPEC = {"id": "passthrough", "note": "passthrough", "b": "standard"}


def editor_line(path: Path, needle: bytes) -> int:
    """The line (counted from 1, lines ending at b"\\n") on which ``needle`` appears."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    (number,) = [n for n, text in enumerate(raw.split(b"\n"), 1) if needle in text]
    return number


def awkward_csv(rows: int = 40, bad: int = 31) -> str:
    """A CSV with blank lines, quoted values spanning two or three lines, CRLF line ends
    in places, and the text 'abc' in the numeric column at data row ``bad`` (from 0)."""
    lines = ["id,note,b"]
    for i in range(rows):
        note = {3: '"two\nlines"', 7: '"three\r\nlines\nhere"', 12: '"a ""quoted"" word"'}
        value = "abc" if i == bad else f"{i}.5"
        lines.append(f"{i},{note.get(i, 'plain')},{value}")
        if i in (5, 20):
            lines.append("")
    return "\n".join(lines).replace("plain,10.5", "plain,10.5\r") + "\n"


@pytest.mark.parametrize("name", ["awkward.csv", "awkward.csv.gz"])
def test_a_csv_error_names_the_line_an_editor_shows(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = awkward_csv().encode()
    path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    line = editor_line(path, b"abc")
    assert line == 2 + 31 + 3 + 2  # header, 31 rows before, 3 extra value lines, 2 blank
    with pytest.raises(
        nl.InputError, match=rf"column 'b', file '.*{name}', line {line}: 'abc' is not a number"
    ):
        nl.fit(batch_source([path], sourced=True), SPEC)


def test_csv_line_is_where_each_record_starts(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(awkward_csv(bad=-1), newline="")
    assert len(pd.read_csv(path)) == 40  # pandas parses the same 40 records
    lines = path.read_bytes().split(b"\n")
    for row in range(40):  # each record starts with its id; continuation lines never do
        (start,) = [n for n, text in enumerate(lines, 1) if text.startswith(f"{row},".encode())]
        assert csv_line(path, row) == start, row
    assert csv_line(path, 40) == len(lines)  # past the end: the line after the last


def test_apply_on_a_large_csv_names_the_line_in_a_later_batch(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    rows = 300_000
    data = pd.DataFrame({"a": rng.normal(0, 1, rows), "b": rng.lognormal(2, 1, rows)})
    lock = nl.fit(data, {"a": "standard", "b": ["log1p", "standard"]})
    saved = lock.save(tmp_path / "m.normlock.json")
    data.loc[rows - 1_000, "b"] = -7.123456  # outside log1p's domain, past the first block
    path = tmp_path / "served.csv"
    data.to_csv(path, index=False)
    assert path.stat().st_size > 4 << 20  # more than one 4 MiB block
    result = run("apply", saved, path, "-o", tmp_path / "out.parquet")
    assert result.exit_code == 2
    line = editor_line(path, b"-7.123456")
    assert line == rows - 1_000 + 2
    assert f"served.csv', line {line}: value -7.123456 is outside" in " ".join(
        result.output.split()
    )


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_parquet_and_arrow_errors_count_rows_from_1(tmp_path: Path, kind: str) -> None:
    values = np.random.default_rng(3).normal(0.0, 1.0, 5_000)
    bad = 4_321
    values[bad] = np.inf
    path = tmp_path / f"data.{kind}"
    table = pa.table({"x": values})
    if kind == "parquet":
        pq.write_table(table, path, row_group_size=1_000)
    else:
        feather.write_feather(table, path, chunksize=1_000)
    read = pq.read_table if kind == "parquet" else feather.read_table
    row = int(np.flatnonzero(np.isinf(read(path).column("x").to_numpy()))[0]) + 1
    assert row == bad + 1
    with pytest.raises(nl.InputError, match=rf"feature 'x', file '.*data.{kind}', row {row}: "):
        nl.fit(batch_source([path], sourced=True))


def test_chunks_in_memory_count_rows_across_chunks_from_1() -> None:
    first = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    second = pd.DataFrame({"x": [4.0, np.nan]})
    with pytest.raises(nl.InputError, match=r"feature 'x', row 5: NaN/missing"):
        nl.fit([first, second], {"x": {"method": "standard", "nan": "error"}})
    with pytest.raises(nl.DomainError, match=r"feature 'x', row 1: value -1.0 is outside"):
        nl.fit({"x": np.array([1.0, 2.0])}, {"x": "log1p"}).transform({"x": np.array([-1.0])})
