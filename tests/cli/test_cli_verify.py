"""``normlock verify``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import normlock as nl
from tests.cli.helpers import run

SERVING = """\
from pathlib import Path

import numpy as np
import pandas as pd

MEAN = np.array({mean!r})
STD = np.array({std!r})
TRAIN = pd.read_parquet(Path(__file__).with_name("sample.parquet"))


def normalize(x):
    return ((x.astype(np.float64) - MEAN) / STD).astype(x.dtype)


def pandas_stats(x):
    frame = pd.DataFrame(x.astype(np.float64), columns=TRAIN.columns)
    return ((frame - TRAIN.mean()) / TRAIN.std(ddof=0)).to_numpy().astype(x.dtype)


def sample_std(x):
    return ((x.astype(np.float64) - MEAN) / (STD * np.sqrt({n} / {n_1}))).astype(x.dtype)


def swapped(x):
    return normalize(x[:, ::-1])[:, ::-1]


def garbled(x):
    return np.where(x > 50, np.nan, x * 3.0)
"""


def setup(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    data = {"age": rng.normal(40, 10, 300), "pixel": rng.integers(0, 256, 300).astype(float)}
    lock = nl.fit(data)
    path = lock.save(tmp_path / "model.normlock.json")
    params = [lock.feature(n).steps[0].params for n in ("age", "pixel")]
    code = tmp_path / "serving.py"
    code.write_text(
        SERVING.format(
            mean=[p["mean"] for p in params], std=[p["std"] for p in params], n=300, n_1=299
        )
    )
    pq.write_table(pa.table(data), tmp_path / "sample.parquet")
    return path, code


def test_verify_passes_a_correct_function_and_exits_0(tmp_path: Path) -> None:
    lock, code = setup(tmp_path)
    result = run("verify", lock, "--against", f"{code}:normalize")
    assert result.exit_code == 0, result.output
    assert "reproduces the lock bit for bit" in result.output
    with_data = run(
        "verify",
        lock,
        "--against",
        f"{code}:normalize",
        "--data",
        tmp_path / "sample.parquet",
        "--json",
    )
    report = json.loads(with_data.output)
    assert with_data.exit_code == 0 and report["passed"] is True
    assert report["verdict"] == "identical" and report["identical"] is True
    assert {r["status"] for r in report["results"]} == {"identical"}
    assert {r["run"] for r in report["results"]} == {"float64 probes", "float32 probes", "data"}


def test_pandas_mean_and_std_of_the_same_data_pass_as_equivalent(tmp_path: Path) -> None:
    lock, code = setup(tmp_path)
    train = pd.read_parquet(tmp_path / "sample.parquet")
    locked = nl.load(lock).feature("age").steps[0].params
    assert train["age"].mean() != locked["mean"]  # pandas is one ulp off here
    result = run("verify", lock, "--against", f"{code}:pandas_stats")
    assert result.exit_code == 0, result.output
    assert "equivalent to the lock up to rounding; not bit-identical" in result.output
    report = json.loads(run("verify", lock, "--against", f"{code}:pandas_stats", "--json").output)
    assert report["verdict"] == "equivalent" and report["passed"] is True
    assert report["identical"] is False
    age = [r for r in report["results"] if r["feature"] == "age" and r["run"] == "float64 probes"]
    assert age[0]["status"] == "equivalent" and 0 < age[0]["rounding_share"] <= 1
    exact = run("verify", lock, "--against", f"{code}:pandas_stats", "--exact", "--json")
    assert exact.exit_code == 1
    causes = json.loads(exact.output)["causes"]
    assert causes["age"][0].startswith("equivalent up to rounding, not bit-identical")
    assert run("verify", lock, "--against", f"{code}:normalize", "--exact").exit_code == 0


def test_verify_exact_and_ulps_together_exit_2(tmp_path: Path) -> None:
    lock, code = setup(tmp_path)
    result = run("verify", lock, "--against", f"{code}:normalize", "--exact", "--ulps", "2")
    assert result.exit_code == 2 and "exact and ulps exclude each other" in result.output


def test_verify_names_the_cause_and_exits_1(tmp_path: Path) -> None:
    lock, code = setup(tmp_path)
    result = run("verify", lock, "--against", f"{code}:sample_std")
    assert result.exit_code == 1
    assert "MISMATCH" in result.output and "sample std (ddof=1)" in result.output
    report = json.loads(run("verify", lock, "--against", f"{code}:swapped", "--json").output)
    assert report["passed"] is False
    assert set(report["causes"]) == {"age", "pixel"}
    kinds = {r["cause"]["kind"] for r in report["results"] if r["cause"]}
    assert kinds == {"feature_order"}
    garbled = run("verify", lock, "--against", f"{code}:garbled", "--json")
    assert garbled.exit_code == 1
    details = [r["cause"]["details"] for r in json.loads(garbled.output)["results"]]
    assert {d["got"] for d in details} == {"nan"}


def test_verify_module_function_from_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    lock, _ = setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("verify", lock, "--against", "serving:normalize")
    assert result.exit_code == 0, result.output


def test_verify_bad_targets_exit_2(tmp_path: Path) -> None:
    lock, code = setup(tmp_path)
    missing = run("verify", lock, "--against", tmp_path / "absent.onnx")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    unknown = run("verify", lock, "--against", f"{code}:nothing")
    assert unknown.exit_code == 2 and "has no attribute 'nothing'" in unknown.output
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(b"not even a pickle")
    refused = run("verify", lock, "--against", pickled)
    assert refused.exit_code == 2 and "--trust-pickle" in refused.output
    assert run("verify", tmp_path / "nope.json", "--against", f"{code}:normalize").exit_code == 2


def test_verify_checks_the_lock_stage_of_a_combined_model(tmp_path: Path) -> None:
    import onnx
    import torch

    from tests.audit.models import to_onnx

    rng = np.random.default_rng(4)
    lock = nl.fit({"a": rng.normal(3, 2, 500), "b": rng.normal(-1, 5, 500)})
    lock.save(tmp_path / "model.normlock.json")
    model = to_onnx(torch.nn.Sequential(torch.nn.Linear(2, 1)).eval(), torch.zeros(2, 2))
    onnx.save(lock.attach(model), str(tmp_path / "combined.onnx"))
    result = run(
        "verify", tmp_path / "model.normlock.json", "--against", tmp_path / "combined.onnx"
    )
    assert result.exit_code == 0 and "bit for bit" in result.output
    assert "its lock stage (output 'normlock/out') is checked" in result.output
    other = nl.fit({"a": rng.normal(3, 2, 500), "b": rng.normal(-1, 5, 500)})
    onnx.save(other.attach(model), str(tmp_path / "other.onnx"))
    assert (
        run(
            "verify", tmp_path / "model.normlock.json", "--against", tmp_path / "other.onnx"
        ).exit_code
        == 1
    )
