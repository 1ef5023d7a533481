"""Streaming files: same results as in memory, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import normlock as nl
from normlock.io.files import batch_source, expand, total_rows
from tests.cli.helpers import run

SPEC = {"b": ["log1p", "standard"], "c": "robust"}


def table(rows: int = 30_000, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "a": 1e9 + rng.normal(0, 1e-3, rows),
            "b": rng.lognormal(2, 1, rows),
            "c": rng.standard_t(3, rows).astype(np.float32),
        }
    )


@pytest.mark.parametrize("suffix", ["parquet", "csv", "arrow"])
def test_streamed_fit_equals_in_memory_fit(tmp_path: Path, suffix: str) -> None:
    data = table()
    path = tmp_path / f"train.{suffix}"
    if suffix == "parquet":
        pq.write_table(data, path, row_group_size=4096)
    elif suffix == "csv":
        pacsv.write_csv(data, path)
        data = pacsv.read_csv(path)  # CSV text is what the stream sees
    else:
        with pa.ipc.new_file(path, data.schema) as writer:
            for batch in data.to_batches(max_chunksize=5000):
                writer.write_batch(batch)
    streamed = nl.fit(batch_source([path]), SPEC)
    in_memory = nl.fit(data, SPEC)
    assert streamed.fingerprint == in_memory.fingerprint
    assert streamed.feature("a").steps[0].params == in_memory.feature("a").steps[0].params


def test_total_rows_from_metadata(tmp_path: Path) -> None:
    pq.write_table(table(1000), tmp_path / "a.parquet")
    pacsv.write_csv(table(10), tmp_path / "b.csv")
    assert total_rows([tmp_path / "a.parquet"]) == 1000
    assert total_rows([tmp_path / "b.csv"]) is None


def test_csv_bad_value_names_file_line_and_column(tmp_path: Path) -> None:
    lines = ["a,b"] + [f"{i}.5,{i}" for i in range(500)]
    lines[301] = "3.5,abc"  # the file's line 302: the header is line 1
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        nl.InputError, match=r"column 'b', file '.*bad.csv', line 302: 'abc' is not a number"
    ):
        nl.fit(batch_source([path], sourced=True), {"b": "standard"})


def test_truncated_parquet_is_a_clear_error_and_leaves_no_output(tmp_path: Path) -> None:
    source = tmp_path / "good.parquet"
    pq.write_table(table(), source)
    lock = nl.fit(table(), SPEC).save(tmp_path / "m.normlock.json")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    result = run("apply", lock, broken, "-o", tmp_path / "out.parquet")
    assert (
        result.exit_code == 2
        and "cannot read" in result.output
        and "broken.parquet" in result.output
    )
    assert not (tmp_path / "out.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_apply_error_names_the_file_and_row(tmp_path: Path) -> None:
    lock = nl.fit(table(), SPEC).save(tmp_path / "m.normlock.json")
    served = table(3000).to_pandas()
    served.loc[2500, "b"] = -7.0  # outside log1p's domain, in the file's 2,501st row
    pq.write_table(
        pa.Table.from_pandas(served, preserve_index=False),
        tmp_path / "s.parquet",
        row_group_size=1000,
    )
    result = run("apply", lock, tmp_path / "s.parquet", "-o", tmp_path / "o.parquet")
    assert result.exit_code == 2
    assert "feature 'b', file" in result.output and "s.parquet', row 2501" in result.output


def test_expand_orders_globs_and_directories(tmp_path: Path) -> None:
    for name in ("b.parquet", "a.parquet", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in expand([tmp_path])] == ["a.parquet", "b.parquet"]
    assert [p.name for p in expand([str(tmp_path / "*.parquet")])] == ["a.parquet", "b.parquet"]
    with pytest.raises(nl.InputError, match="matches no file"):
        expand([str(tmp_path / "*.csv")])
    with pytest.raises(nl.InputError, match="unknown file type"):
        expand([tmp_path / "notes.txt"]) and list(batch_source([tmp_path / "notes.txt"])())


def test_csv_missing_locked_column_is_named_with_a_hint(tmp_path: Path) -> None:
    lock = nl.fit(table(), SPEC).save(tmp_path / "m.normlock.json")
    pacsv.write_csv(table(100).rename_columns(["a", "bb", "c"]), tmp_path / "s.csv")
    result = run("apply", lock, tmp_path / "s.csv", "-o", tmp_path / "o.parquet")
    assert result.exit_code == 2 and "'b' (did you mean 'bb'?)" in result.output
