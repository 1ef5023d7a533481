"""normlock.spark: the same lock, transform and profile as local, on a local Spark."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import normlock as nl
import normlock.spark as nls
from normlock.profile import Profile
from tests.engines.data import (
    EXACT_ROWS,
    SAMPLED_ROWS,
    full_spec,
    same_bits,
    shuffled,
    training_frame,
)


def quiet(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return function(*args, **kwargs)


@pytest.fixture(scope="module", params=[EXACT_ROWS, SAMPLED_ROWS], ids=["exact", "sampled"])
def regime(request: pytest.FixtureRequest, spark: Any) -> tuple[pd.DataFrame, Any, nl.Lock]:
    frame = training_frame(request.param)
    df = spark.createDataFrame(frame).cache()
    return frame, df, quiet(nl.fit, frame, full_spec())


def partitioned(df: Any, partitions: int) -> Any:
    return df.coalesce(1) if partitions == 1 else df.repartition(partitions)


@pytest.mark.parametrize("partitions", [1, 3, 17])
def test_fit_on_spark_is_the_local_lock(
    regime: tuple[pd.DataFrame, Any, nl.Lock], partitions: int
) -> None:
    frame, df, local = regime
    assert local.feature("heavy").reference["quantile_mode"] == (
        "exact" if len(frame) == EXACT_ROWS else "sample"
    )
    split = partitioned(df, partitions)
    assert split.rdd.getNumPartitions() == partitions
    lock = quiet(nls.fit, split, full_spec())
    assert lock.fingerprint == local.fingerprint
    assert lock.row_sketch == local.row_sketch
    assert lock.provenance["rows"] == len(frame)


def test_fit_on_shuffled_rows_is_the_local_lock(
    spark: Any, regime: tuple[pd.DataFrame, Any, nl.Lock]
) -> None:
    from pyspark.sql import functions as F

    frame, _, local = regime
    df = spark.createDataFrame(shuffled(frame)).orderBy(F.rand(seed=4))
    assert quiet(nls.fit, df, full_spec()).fingerprint == local.fingerprint


def test_transform_is_bit_identical_to_the_local_transform(
    regime: tuple[pd.DataFrame, Any, nl.Lock],
) -> None:
    frame, df, lock = regime
    out = nls.transform(lock, df.repartition(3))
    types = dict(out.dtypes)
    assert types["ranked"] == "float" and types["offset"] == "double" and types["id"] == "bigint"
    result = out.toPandas().sort_values("id").reset_index(drop=True)
    expected = lock.transform(frame)
    assert list(result.columns) == list(expected.columns)
    assert (result["id"].to_numpy() == expected["id"].to_numpy()).all()
    for name in lock.feature_names:
        assert same_bits(result[name].to_numpy(), expected[name].to_numpy()), name


def test_profile_merges_into_the_local_profile(
    spark: Any, regime: tuple[pd.DataFrame, Any, nl.Lock]
) -> None:
    """Exact below the profile's exact limit (100,000 values); past it, every count and
    moment is still exact and only the quantile sketch depends on the merge order."""
    frame, df, lock = regime
    served = frame.iloc[: len(frame) // 2]
    merged = nls.profile(lock, spark.createDataFrame(shuffled(served)).repartition(4))
    assert merged.to_dict() == Profile.empty(lock).update(served).to_dict()
    normalized = nls.profile(lock, nls.transform(lock, df), "normalized")
    local = Profile.empty(lock, "normalized").update(lock.transform(frame))
    assert without_sketch(normalized.to_dict()) == without_sketch(local.to_dict())


def without_sketch(profile: dict[str, Any]) -> dict[str, Any]:
    for feature in profile["features"].values():
        del feature["summary"]["quantiles"]
    return profile


def test_a_later_chain_step_past_the_exact_limit_reads_the_partitions_again(spark: Any) -> None:
    frame = training_frame(EXACT_ROWS)[["skewed"]]
    spec = {"skewed": ["yeo-johnson", "standard"]}
    local = quiet(nl.fit, frame, spec, exact_limit=500)
    df = spark.createDataFrame(frame).repartition(3)
    assert quiet(nls.fit, df, spec, exact_limit=500).fingerprint == local.fingerprint


def test_a_missing_column_names_the_partition_and_the_column(spark: Any) -> None:
    frame = training_frame(300)
    df = spark.createDataFrame(frame)
    with pytest.raises(nl.ColumnNotFoundError, match=r"^partition \d+: column\(s\) 'price'"):
        nls.fit(df, {**full_spec(), "price": "standard"})
    lock = quiet(nl.fit, frame, full_spec())
    with pytest.raises(nl.ColumnNotFoundError, match="'heavy' not found"):
        nls.transform(lock, df.drop("heavy"))


def test_a_string_in_a_numeric_column_names_the_partition_and_the_row(spark: Any) -> None:
    frame = training_frame(300)[["id", "offset", "ramp"]].fillna(0.0).astype({"ramp": str})
    frame.loc[250, "ramp"] = "n/a"
    df = spark.createDataFrame(frame).coalesce(1)
    with pytest.raises(nl.InputError, match=r"^partition 0: column 'ramp', row 251: 'n/a'"):
        nls.fit(df, {"id": "passthrough"})


def test_a_nan_that_the_spec_forbids_names_the_partition(spark: Any) -> None:
    from pyspark.errors import PythonException

    frame = training_frame(300)[["offset"]].fillna(0.0)
    frame.loc[120, "offset"] = np.nan
    df = spark.createDataFrame(frame).coalesce(1)
    spec = {"offset": {"method": "standard", "nan": "error"}}
    with pytest.raises(nl.InputError, match=r"^partition 0: feature 'offset', row 121: NaN"):
        nls.fit(df, spec)
    lock = nl.fit(frame.iloc[:100], spec)
    with pytest.raises(PythonException, match=r"partition 0: feature 'offset', row 121: NaN"):
        nls.transform(lock, df).collect()


def test_a_worker_without_normlock_says_which_python_to_use() -> None:
    """The function Spark ships unpickles in a worker without normlock and says to point
    PYSPARK_PYTHON at the driver's interpreter."""
    from pyspark import cloudpickle

    from normlock.engines import transport
    from normlock.engines.spark_entry import worker_function

    shipped = cloudpickle.dumps(worker_function("fit", transport.dumps(None), sys.executable))
    worker = (
        "import pickle, sys; sys.modules['normlock'] = None; "
        "run = pickle.loads(sys.stdin.buffer.read()); list(run(iter([])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", worker], input=shipped, capture_output=True, check=False
    )
    assert result.returncode != 0
    message = result.stderr.decode()
    assert "ImportError: the Spark worker's Python" in message
    assert f"point PYSPARK_PYTHON at the driver's interpreter ({sys.executable})" in message


def test_a_named_target_is_locked_as_locally(spark: Any) -> None:
    frame = training_frame(EXACT_ROWS).drop(columns=["heavy", "ranked"])
    spec = {"id": "passthrough", "offset": "standard", "ramp": "minmax"}
    local = quiet(nl.fit, frame, spec, target="skewed")
    lock = quiet(nls.fit, spark.createDataFrame(frame).repartition(4), spec, target="skewed")
    assert lock.target is not None and lock.fingerprint == local.fingerprint
