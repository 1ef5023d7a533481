"""from_spark: locks from fitted Spark ML scalers give the scalers' own outputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import normlock as nl
from normlock.spark import from_spark
from tests.engines.data import training_frame

COLUMNS = ["offset", "ramp", "heavy"]


def scalers() -> dict[str, Any]:
    from pyspark.ml.feature import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

    common = {"inputCol": "features", "outputCol": "scaled"}
    return {
        "standard": StandardScaler(withMean=True, **common),
        "minmax": MinMaxScaler(min=-1.0, max=2.0, **common),
        "maxabs": MaxAbsScaler(**common),
        "robust": RobustScaler(withCentering=True, **common),
    }


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return training_frame(2_000)[COLUMNS].fillna(0.0)


def fitted(spark: Any, frame: pd.DataFrame, method: str) -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import VectorAssembler

    assembler = VectorAssembler(inputCols=COLUMNS, outputCol="features", handleInvalid="keep")
    return Pipeline(stages=[assembler, scalers()[method]]).fit(spark.createDataFrame(frame))


def spark_outputs(spark: Any, model: Any, matrix: np.ndarray) -> np.ndarray:
    """The pipeline's scaled vectors for the rows of ``matrix``, in order."""
    rows = pd.DataFrame(np.asarray(matrix, dtype=np.float64), columns=COLUMNS)
    rows["row"] = np.arange(len(rows))
    out = model.transform(spark.createDataFrame(rows)).select("row", "scaled").toPandas()
    out = out.sort_values("row")
    return np.stack([v.toArray() for v in out["scaled"]]) if len(out) else np.empty((0, 3))


def within_an_ulp_or_two(a: np.ndarray, b: np.ndarray) -> bool:
    """Spark multiplies by a reciprocal where the lock divides by the scale."""
    return bool(np.all(np.abs(a - b) <= 2 * np.spacing(np.maximum(np.abs(b), 1.0))))


@pytest.mark.parametrize("method", ["standard", "minmax", "maxabs", "robust"])
def test_the_lock_gives_the_spark_scalers_outputs(
    spark: Any, frame: pd.DataFrame, method: str
) -> None:
    model = fitted(spark, frame, method)
    lock = from_spark(model)
    assert lock.feature_names == tuple(COLUMNS)
    assert (
        lock.provenance["imported_from"]["source"]
        == f"pyspark.ml.feature.{type(model.stages[1]).__name__}"
    )
    ours = lock.transform(frame[COLUMNS].to_numpy())
    theirs = spark_outputs(spark, model, frame[COLUMNS].to_numpy())
    assert within_an_ulp_or_two(ours, theirs)
    report = lock.verify(lambda x: spark_outputs(spark, model, x), ulps=2)
    assert report.passed, report


def test_the_standard_scaler_records_the_sample_std(spark: Any, frame: pd.DataFrame) -> None:
    lock = from_spark(fitted(spark, frame, "standard"))
    step = lock.feature("ramp").steps[0]
    assert step.params["ddof"] == 1
    assert step.params["std"] == pytest.approx(frame["ramp"].std(ddof=1), rel=1e-12)
    assert "ddof=1" in lock.provenance["imported_from"]["std"]
    assert lock.spec["features"]["ramp"][0]["ddof"] == 1
    assert nl.Lock.from_json(lock.to_json()).fingerprint == lock.fingerprint


def test_a_bare_scaler_takes_the_names_given(spark: Any, frame: pd.DataFrame) -> None:
    scaler = fitted(spark, frame, "maxabs").stages[1]
    assert from_spark(scaler).feature_names == ("x0", "x1", "x2")
    assert from_spark(scaler, names=["a", "b", "c"]).feature_names == ("a", "b", "c")
    with pytest.raises(nl.InputError, match="names has 2 entries but the scaler scales 3"):
        from_spark(scaler, names=["a", "b"])


def test_a_constant_column_or_another_model_is_a_clear_error(
    spark: Any, frame: pd.DataFrame
) -> None:
    constant = frame.assign(ramp=5.0)
    with pytest.raises(nl.InputError, match="column 'ramp' was constant"):
        from_spark(fitted(spark, constant, "standard"))
    with pytest.raises(nl.InputError, match="cannot import a str"):
        from_spark("scaler")
