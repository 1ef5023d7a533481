"""Series locks fitted on panels: exact per-series statistics, any chunking, any container."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import normlock as nl
from normlock.domains import series
from normlock.domains.series.digits import GroupedSums
from tests.exact_reference import exact_mean_variance, sqrt_to_float, to_float

from .series_data import panel


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return panel()


@pytest.fixture(scope="module")
def lock(data) -> series.SeriesLock:
    return series.fit(data, id="sensor", time="t")


def test_per_series_statistics_match_pandas_and_are_correctly_rounded(data, lock) -> None:
    frame = pd.DataFrame(data)
    grouped = frame.groupby("sensor")
    for column in ("load", "temp"):
        stats = lock.table.statistics[column]
        wide = frame[column].astype(np.float64).groupby(frame["sensor"])  # float32 stays exact
        mean, std = wide.mean().to_numpy(), wide.std(ddof=0).to_numpy()
        assert np.all(np.abs(stats["mean"] - mean) <= 1e-12 * np.abs(mean))
        assert np.all(np.abs(stats["std"] - std) <= 1e-12 * std)
    assert lock.table.ids.ids.to_pylist() == sorted(set(data["sensor"].tolist()))
    assert lock.table.counts.tolist() == grouped.size().tolist()
    for position in range(0, len(lock.table), 97):  # an exact reference for a sample
        values = data["load"][data["sensor"] == lock.table.ids.value(position)]
        mean, variance = exact_mean_variance(values)
        assert lock.table.statistics["load"]["mean"][position] == to_float(mean)
        assert lock.table.statistics["load"]["std"][position] == sqrt_to_float(variance)
    assert lock.value_columns == ("load", "temp") and lock.passthrough == ("sensor", "t")


def test_any_order_chunking_or_container_gives_the_same_lock(data, lock, tmp_path) -> None:
    frame = pd.DataFrame(data)
    shuffled = frame.sample(frac=1.0, random_state=3)
    chunks = [shuffled.iloc[i : i + 9000] for i in range(0, len(shuffled), 9000)]
    pq.write_table(
        pa.Table.from_pandas(frame.iloc[:20000], preserve_index=False), tmp_path / "a.parquet"
    )
    pq.write_table(
        pa.Table.from_pandas(frame.iloc[20000:], preserve_index=False), tmp_path / "b.parquet"
    )
    fits = [
        series.fit(chunks, id="sensor", time="t"),
        series.fit(pl.from_pandas(frame), id="sensor", time="t"),
        series.fit(pa.Table.from_pandas(shuffled, preserve_index=False), id="sensor", time="t"),
        series.fit(str(tmp_path / "*.parquet"), id="sensor", time="t"),
    ]
    assert {f.fingerprint for f in fits} == {lock.fingerprint}


def test_string_ids_robust_and_minmax_methods() -> None:
    data = panel(400, seed=5, string_ids=True)
    frame = pd.DataFrame(data)
    grouped = frame.groupby("sensor")["load"]
    robust = series.fit(data, id="sensor", value_columns=["load"], method="robust")
    stats = robust.table.statistics["load"]
    median = grouped.median().to_numpy()
    assert np.all(np.abs(stats["median"] - median) <= 1e-12 * np.abs(median))
    for position, (_, values) in enumerate(grouped):  # numpy's linear quantiles, bit for bit
        assert stats["median"][position] == np.quantile(values.to_numpy(), 0.5)
        assert stats["q_low"][position] == np.quantile(values.to_numpy(), 0.25)
        assert stats["q_high"][position] == np.quantile(values.to_numpy(), 0.75)
    assert robust.table.ids.value(0) == "unit-001000"
    minmax = series.fit(frame, id="sensor", value_columns=["load"], method="minmax")
    out = minmax.transform(frame[["sensor", "load"]])
    assert out["load"].groupby(frame["sensor"]).min().eq(0.0).all()
    assert out["load"].groupby(frame["sensor"]).max().eq(1.0).all()


def test_transform_inverse_unseen_policies_and_dtypes(data, lock) -> None:
    rows = {k: v[:500] for k, v in data.items()}
    out = lock.transform(rows)
    assert out["temp"].dtype == np.float32 and out["load"].dtype == np.float64
    position = lock.series_of(rows["sensor"])
    center = lock.table.statistics["load"]["mean"][position]
    scale = lock.table.statistics["load"]["std"][position]
    assert np.array_equal(out["load"], (rows["load"] - center) / scale)
    back = lock.inverse_transform({**rows, "load": out["load"]})
    assert np.allclose(back["load"], rows["load"], rtol=1e-14, atol=0)
    unseen = {
        "sensor": np.array([5, 1000]),
        "t": np.array([0, 0]),
        "load": np.array([1.0, 2.0]),
        "temp": np.ones(2, np.float32),
    }
    glob = lock.feature("load").steps[0].params
    assert lock.transform(unseen)["load"][0] == (1.0 - glob["mean"]) / glob["std"]
    strict = series.fit(data, id="sensor", unseen="error")
    with pytest.raises(nl.DomainError, match=r"series 5 \(row 1\) is not in the lock"):
        strict.transform(unseen)
    assert np.isnan(series.fit(data, id="sensor", unseen="nan").transform(unseen)["load"][0])
    with pytest.raises(nl.ColumnNotFoundError, match="'sensor'"):
        lock.transform({"load": np.ones(2)})


def test_few_values_nan_and_constant_series(tmp_path) -> None:
    data = {"id": np.array([1, 1, 1, 2, 3, 3]), "x": np.array([1.0, 2.0, np.nan, 5.0, 4.0, 4.0])}
    with pytest.warns(nl.NormlockWarning, match="1 series have fewer than 2 finite"):
        lock = series.fit(data, id="id", ddof=1)
    stats = lock.table.statistics["x"]
    glob = lock.feature("x").steps[0].params
    assert stats["mean"][1] == glob["mean"] and stats["std"][1] == glob["std"]
    assert stats["std"][2] == 0.0  # constant: scale 1, output x - mean
    assert lock.transform({"id": np.array([3]), "x": np.array([6.0])})["x"][0] == 2.0
    assert lock.table.counts.tolist() == [3, 1, 2]


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(st.lists(st.tuples(st.integers(0, 4), finite), min_size=1, max_size=60))
def test_grouped_sums_are_exact_for_any_floats(rows) -> None:
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    values = np.array([v for _, v in rows])
    sums = GroupedSums(5)
    half = len(values) // 2
    sums.update(codes[:half], values[:half])
    sums.update(codes[half:], values[half:])
    means, stds = sums.statistics()
    low, high = sums.extrema()
    for group in range(5):
        own = values[codes == group]
        if not len(own):
            assert np.isnan(means[group])
            continue
        mean, variance = exact_mean_variance(own)
        assert means[group] == to_float(mean) and stds[group] == sqrt_to_float(variance)
        assert low[group] == own.min() and high[group] == own.max()
