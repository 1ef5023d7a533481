"""``normlock apply``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import normlock as nl
from tests.cli.helpers import run, use_engine, write_parts, write_spec, write_training


def fitted(tmp_path: Path) -> tuple[Path, Path]:
    data, spec = write_training(tmp_path), write_spec(tmp_path)
    lock = tmp_path / "m.normlock.json"
    assert run("fit", data, "-s", spec, "-o", lock).exit_code == 0
    return data, lock


def test_apply_equals_in_memory_transform_bit_for_bit(tmp_path: Path) -> None:
    data, lock_path = fitted(tmp_path)
    for suffix in ("parquet", "csv", "arrow"):
        out = tmp_path / f"out.{suffix}"
        result = run("apply", lock_path, data, "-o", out)
        assert result.exit_code == 0, result.output
        expected = nl.load(lock_path).transform(pq.read_table(data))
        if suffix == "parquet":
            got = pq.read_table(out)
            for name in ("age", "income"):
                assert np.array_equal(got[name].to_numpy(), expected[name].to_numpy())
            assert got["city"].to_pylist() == expected["city"].to_pylist()


def test_apply_inverse_restores_the_input(tmp_path: Path) -> None:
    data, lock_path = fitted(tmp_path)
    run("apply", lock_path, data, "-o", tmp_path / "z.parquet")
    assert (
        run(
            "apply", lock_path, tmp_path / "z.parquet", "-o", tmp_path / "x.parquet", "--inverse"
        ).exit_code
        == 0
    )
    original, restored = pq.read_table(data), pq.read_table(tmp_path / "x.parquet")
    assert np.allclose(original["income"].to_numpy(), restored["income"].to_numpy(), rtol=1e-13)


def test_apply_failure_leaves_no_partial_output(tmp_path: Path) -> None:
    data, lock_path = fitted(tmp_path)
    table = pq.read_table(data).drop(["income"])
    pq.write_table(table, tmp_path / "no_income.parquet")
    out = tmp_path / "out.parquet"
    result = run("apply", lock_path, tmp_path / "no_income.parquet", "-o", out)
    assert result.exit_code == 2 and "'income'" in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_apply_with_a_tampered_lock_exits_2(tmp_path: Path) -> None:
    data, lock_path = fitted(tmp_path)
    lock_path.write_text(lock_path.read_text().replace('"ddof": 0', '"ddof": 1', 1))
    result = run("apply", lock_path, data, "-o", tmp_path / "o.parquet")
    assert result.exit_code == 2 and "modified after it was written" in result.output


@pytest.mark.parametrize("engine", ["dask", "spark"])
def test_apply_on_an_engine_writes_the_local_bits_into_a_directory(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    use_engine(request, engine)
    data, lock_path = fitted(tmp_path)
    parts, out = write_parts(tmp_path), tmp_path / "normalized"  # the same rows as data
    result = run("apply", lock_path, parts, "--engine", engine, "-o", out)
    assert result.exit_code == 0, result.output
    assert "wrote 2,000 rows" in result.output
    assert out.is_dir() and not list(tmp_path.glob(".normalized.tmp-*"))
    got = pq.read_table(out).sort_by([("age", "ascending")])
    expected = nl.load(lock_path).transform(pq.read_table(data)).sort_by([("age", "ascending")])
    for name in ("age", "income"):
        assert got[name].to_numpy().tobytes() == expected[name].to_numpy().tobytes()
    assert got["city"].to_pylist() == expected["city"].to_pylist()


@pytest.mark.parametrize("engine", ["dask", "spark"])
def test_apply_on_an_engine_names_the_partition_of_a_bad_value(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    use_engine(request, engine)
    data, lock_path = fitted(tmp_path)
    table = pq.read_table(data)
    income = table["income"].to_numpy().copy()
    income[7] = -5.0  # log1p of a value below -1: outside the domain
    served = tmp_path / "served.parquet"
    pq.write_table(table.set_column(1, "income", [income]), served)
    out = tmp_path / "normalized"
    result = run("apply", lock_path, served, "--engine", engine, "-o", out)
    assert result.exit_code == 2, result.output
    assert "partition 0: " in result.output and "income" in result.output
    assert not out.exists() and not list(tmp_path.glob(".normalized.tmp-*"))
