"""``normlock fit``."""

from __future__ import annotations

from pathlib import Path

import pytest

import normlock as nl
from tests.cli.helpers import run, use_engine, write_parts, write_spec, write_training


def test_fit_writes_a_lock_equal_to_the_library_fit(tmp_path: Path) -> None:
    data, spec = write_training(tmp_path), write_spec(tmp_path)
    out = tmp_path / "model.normlock.json"
    result = run("fit", data, "--spec", spec, "-o", out, "--model", "churn", "--model-version", "3")
    assert result.exit_code == 0, result.output
    assert "locked 2 feature(s) from 2,000 rows" in result.output
    lock = nl.load(out)
    assert lock.model == {"name": "churn", "version": "3"}
    import pyarrow.parquet as pq

    assert lock.fingerprint == nl.fit(pq.read_table(data), spec).fingerprint


def test_fit_glob_over_several_files_equals_one_file(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    whole = pq.read_table(write_training(tmp_path))
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, start in enumerate(range(0, 2000, 700)):
        pq.write_table(whole.slice(start, 700), parts / f"part-{i}.parquet")
    spec = write_spec(tmp_path)
    assert (
        run("fit", str(parts / "*.parquet"), "-s", spec, "-o", tmp_path / "a.json").exit_code == 0
    )
    assert (
        run("fit", tmp_path / "train.parquet", "-s", spec, "-o", tmp_path / "b.json").exit_code == 0
    )
    assert nl.load(tmp_path / "a.json").fingerprint == nl.load(tmp_path / "b.json").fingerprint


def test_fit_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    data = write_training(tmp_path)
    result = run("fit", data, "-o", tmp_path / "x.json")
    assert result.exit_code == 2
    assert "column 'city' is not numeric" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.json").exists()
    missing = run("fit", str(tmp_path / "nothing-*.parquet"), "-o", tmp_path / "x.json")
    assert missing.exit_code == 2 and "matches no file" in missing.output


def test_fit_help_has_examples() -> None:
    result = run("fit", "--help")
    assert result.exit_code == 0 and "normlock fit train.parquet" in result.output


@pytest.mark.parametrize("engine", ["dask", "spark"])
def test_fit_on_an_engine_writes_the_local_lock(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    use_engine(request, engine)
    parts, spec = write_parts(tmp_path), write_spec(tmp_path)
    local, remote = tmp_path / "local.json", tmp_path / "remote.json"
    assert run("fit", parts, "-s", spec, "-o", local).exit_code == 0
    result = run("fit", parts, "-s", spec, "--engine", engine, "-o", remote, "-q")
    assert result.exit_code == 0, result.output
    assert "locked 2 feature(s) from 2,000 rows" in result.output
    lock = nl.load(remote)
    assert lock.fingerprint == nl.load(local).fingerprint
    assert [Path(s).name for s in lock.provenance["sources"]] == [
        "part-0.parquet",
        "part-1.parquet",
        "part-2.parquet",
    ]


def test_fit_on_a_dask_scheduler(tmp_path: Path) -> None:
    from distributed import LocalCluster

    parts, spec = write_parts(tmp_path), write_spec(tmp_path)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        result = run(
            "fit", parts, "-s", spec, "--engine", "dask", "--scheduler",
            cluster.scheduler_address, "-o", tmp_path / "d.json",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert run("fit", parts, "-s", spec, "-o", tmp_path / "l.json").exit_code == 0
    assert nl.load(tmp_path / "d.json").fingerprint == nl.load(tmp_path / "l.json").fingerprint


def test_engine_options_that_do_not_go_together_exit_2(tmp_path: Path) -> None:
    parts = write_parts(tmp_path)
    out = tmp_path / "x.json"
    wrong = run("fit", parts, "--engine", "spark", "--scheduler", "tcp://h:8786", "-o", out)
    assert wrong.exit_code == 2 and "--scheduler goes with --engine dask" in wrong.output
    unknown = run("fit", parts, "--engine", "ray", "-o", out)
    assert unknown.exit_code == 2 and "--engine must be local, dask or spark" in unknown.output
