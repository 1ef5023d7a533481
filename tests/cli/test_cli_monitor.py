"""``normlock monitor``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import normlock as nl
from normlock.monitor import load_profile
from tests.cli.helpers import run, use_engine, write_spec, write_training


def setup(tmp_path: Path) -> tuple[Path, Path]:
    data, spec = write_training(tmp_path), write_spec(tmp_path)
    lock = tmp_path / "m.normlock.json"
    assert run("fit", data, "-s", spec, "-o", lock).exit_code == 0
    return data, lock


def served(tmp_path: Path, name: str, income_factor: float = 1.0, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    table = pa.table(
        {
            "age": rng.normal(40, 10, 600),
            "income": rng.lognormal(10, 1, 600) * income_factor,
            "city": np.array(["paris", "oslo"])[rng.integers(0, 2, 600)],
        }
    )
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def test_healthy_data_exits_0_with_an_ok_table(tmp_path: Path) -> None:
    _, lock = setup(tmp_path)
    result = run("monitor", lock, served(tmp_path, "ok.parquet"))
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "all 2 features match" in result.output


def test_a_finding_exits_1_and_json_names_kind_feature_and_factor(tmp_path: Path) -> None:
    _, lock = setup(tmp_path)
    result = run("monitor", lock, served(tmp_path, "g.parquet", 1000.0), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    (finding,) = report["findings"]
    assert (finding["kind"], finding["features"]) == ("unit_change", ["income"])
    assert finding["evidence"]["factor"] == 1000.0 and "×1000" in finding["message"]


def test_outputs_html_profile_and_prometheus_files(tmp_path: Path) -> None:
    _, lock = setup(tmp_path)
    data = served(tmp_path, "g.parquet", 1000.0)
    html, profile, prom = tmp_path / "r.html", tmp_path / "p.json", tmp_path / "p.prom"
    result = run(
        "monitor", lock, data, "--html", html, "--profile-out", profile, "--prometheus", prom
    )
    assert result.exit_code == 1
    assert "<svg" in html.read_text() and "income" in html.read_text()
    assert load_profile(profile).rows == 600
    assert f'lock="{nl.load(lock).fingerprint}"' in prom.read_text()


def test_profiles_of_shards_merge_to_the_report_of_all_the_data(tmp_path: Path) -> None:
    _, lock = setup(tmp_path)
    parts = [served(tmp_path, f"part{i}.parquet", seed=i) for i in range(3)]
    profiles = []
    for i, part in enumerate(parts):
        out = tmp_path / f"p{i}.json"
        assert run("monitor", lock, part, "--profile-out", out).exit_code == 0
        profiles.append(out)
    merged = run("monitor", lock, "--profiles", *profiles, "--json")
    direct = run("monitor", lock, *parts, "--json")
    assert merged.exit_code == direct.exit_code == 0
    assert json.loads(merged.output) == json.loads(direct.output)


def test_normalized_stage_and_csv_input(tmp_path: Path) -> None:
    data, lock_path = setup(tmp_path)
    lock = nl.load(lock_path)
    normalized = lock.transform(pq.read_table(served(tmp_path, "s.parquet")), extra="keep")
    csv = tmp_path / "normalized.csv"
    pacsv.write_csv(normalized, csv)
    assert run("monitor", lock_path, csv, "--stage", "normalized").exit_code == 0
    skipped = run("monitor", lock_path, data, "--stage", "normalized", "--json")
    assert skipped.exit_code == 1
    assert json.loads(skipped.output)["findings"][0]["kind"] == "skipped_normalization"


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    _, lock = setup(tmp_path)
    cases = [
        (["monitor", lock, tmp_path / "missing.parquet"], "does not exist"),
        (["monitor", lock], "give served data files"),
        (["monitor", lock, served(tmp_path, "x.parquet"), "--stage", "model"], "--stage must be"),
        (["monitor", lock, "--profiles", tmp_path / "x.parquet"], "is not a JSON profile"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
    other_lock = tmp_path / "other.normlock.json"
    (tmp_path / "other").mkdir()
    other_data = write_training(tmp_path / "other", seed=3)
    assert run("fit", other_data, "-s", write_spec(tmp_path), "-o", other_lock).exit_code == 0
    profile = tmp_path / "p.json"
    run("monitor", lock, served(tmp_path, "y.parquet"), "--profile-out", profile)
    result = run("monitor", other_lock, "--profiles", profile)
    assert result.exit_code == 2 and "recorded for lock" in result.output


def test_help_has_examples() -> None:
    result = run("monitor", "--help")
    assert result.exit_code == 0 and "Examples" in result.output and "--profiles" in result.output


@pytest.mark.parametrize("engine", ["dask", "spark"])
def test_an_engine_profiles_the_files_into_the_local_report(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    use_engine(request, engine)
    _, lock = setup(tmp_path)
    parts = [served(tmp_path, f"part{i}.parquet", 1000.0 if i else 1.0, seed=i) for i in range(3)]
    local = run("monitor", lock, *parts, "--json")
    remote = run("monitor", lock, *parts, "--engine", engine, "--json")
    assert local.exit_code == remote.exit_code == 1
    assert json.loads(remote.output) == json.loads(local.output)
