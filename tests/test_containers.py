"""Same container out as in, bit-identical results across containers and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import normlock as nl

SPEC = {"a": "standard", "b": "minmax", "c": "maxabs", "d": "robust"}


def training() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    return {
        "a": 1e4 + rng.normal(0, 3, 500),
        "b": rng.uniform(-5, 5, 500),
        "c": rng.normal(0, 100, 500),
        "d": rng.standard_cauchy(500),
    }


LOCK = nl.fit(training(), SPEC)


def reference(dtype: type) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(9)
    return {k: rng.normal(0, 50, 200).astype(dtype) for k in SPEC}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_containers_give_identical_bits(dtype: type) -> None:
    cols = reference(dtype)
    expected = LOCK.transform(cols)
    for name in SPEC:
        assert expected[name].dtype == dtype
    matrix = np.column_stack([cols[k] for k in SPEC])
    outputs = {
        "numpy": LOCK.transform(matrix),
        "pandas": LOCK.transform(pd.DataFrame(cols)).to_numpy(),
        "polars": LOCK.transform(pl.DataFrame(cols)).to_numpy(),
        "arrow": np.column_stack([c.to_numpy() for c in LOCK.transform(pa.table(cols)).columns]),
        "record_batch": np.column_stack(
            [c.to_numpy() for c in LOCK.transform(pa.RecordBatch.from_pydict(cols)).columns]
        ),
    }
    want = np.column_stack([expected[k] for k in SPEC])
    for kind, got in outputs.items():
        assert got.dtype == dtype, kind
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes(), kind


def test_float32_is_float64_formula_rounded_once() -> None:
    x = reference(np.float32)["a"]
    mean, std = LOCK.feature("a").steps[0].params["mean"], LOCK.feature("a").steps[0].params["std"]
    expected = ((x.astype(np.float64) - mean) / std).astype(np.float32)
    assert np.array_equal(LOCK.transform({**reference(np.float32)})["a"], expected)


def test_integers_become_float64() -> None:
    cols = {k: np.arange(10, dtype=np.int64) for k in SPEC}
    assert LOCK.transform(cols)["a"].dtype == np.float64
    assert LOCK.transform(pd.DataFrame(cols))["b"].dtype == np.float64


def test_minmax_maps_training_extremes_exactly() -> None:
    b = training()["b"]
    out = LOCK.transform({**{k: np.zeros(2) for k in SPEC}, "b": np.array([b.min(), b.max()])})["b"]
    assert out.tolist() == [0.0, 1.0]
    out32 = LOCK.transform({k: np.array([b.min(), b.max()], np.float32) for k in SPEC})
    assert out32["b"].dtype == np.float32


def test_columns_are_matched_by_name_not_position() -> None:
    cols = reference(np.float64)
    reordered = pd.DataFrame({k: cols[k] for k in reversed(list(SPEC))})
    out = LOCK.transform(reordered)
    assert list(out.columns) == list(reversed(list(SPEC)))
    for k in SPEC:
        assert np.array_equal(out[k].to_numpy(), LOCK.transform(cols)[k])


def test_one_row_paths() -> None:
    row = {"a": 10001.0, "b": 0.5, "c": -3.0, "d": 1.0}
    as_dict = LOCK.transform(row)
    assert isinstance(as_dict["a"], float)
    as_array = LOCK.transform(np.array(list(row.values())))
    assert as_array.shape == (4,)
    assert as_array.tolist() == [as_dict[k] for k in SPEC]
    assert LOCK.inverse_transform(as_dict) == pytest.approx(row, rel=1e-15)


def test_nulls_stay_nulls_in_frames() -> None:
    frame = pl.DataFrame(
        {"a": [1.0, None, 3.0], "b": [None, 2.0, 1.0], "c": [1.0, 2.0, 3.0], "d": [0.0, 0.0, None]}
    )
    out = LOCK.transform(frame)
    assert out["a"].null_count() == 1 and out["b"].null_count() == 1 and out["d"].null_count() == 1
    table = pa.table({"a": pa.array([1.0, None]), "b": [1.0, 2.0], "c": [1.0, 2.0], "d": [1, None]})
    out_table = LOCK.transform(table)
    assert out_table["a"].null_count == 1 and out_table["d"].null_count == 1
    pandas_nullable = pd.DataFrame({k: pd.array([1.0, None], dtype="Float64") for k in SPEC})
    out_pandas = LOCK.transform(pandas_nullable)
    assert out_pandas["a"].isna().tolist() == [False, True]


def test_passthrough_columns_are_carried_unchanged() -> None:
    data = pd.DataFrame({"id": ["u1", "u2", "u3"], "v": [1.0, 2.0, 4.0]})
    lock = nl.fit(data, {"id": "passthrough"})
    out = lock.transform(data)
    assert out["id"].tolist() == ["u1", "u2", "u3"]
    assert lock.passthrough == ("id",)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50))
def test_transform_then_inverse_round_trips(values: list[float]) -> None:
    x = np.array(values)
    cols = {k: x for k in SPEC}
    back = LOCK.inverse_transform(LOCK.transform(cols))
    for k in SPEC:
        assert np.allclose(back[k], x, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernel_equals_the_numpy_formula(dtype: type) -> None:
    rng = np.random.default_rng(12)
    matrix = (rng.standard_cauchy((70_000, 4)) * 1e3).astype(dtype)
    matrix[rng.random(matrix.shape) < 0.01] = np.nan
    fused = LOCK.transform(matrix)
    for j, feature in enumerate(LOCK.features):
        with np.errstate(all="ignore"):
            expected = feature._forward(matrix[:, j].astype(np.float64)).astype(dtype)
        assert np.array_equal(fused[:, j], expected, equal_nan=True), feature.name
        assert np.array_equal(feature.apply(matrix[:, j]), expected, equal_nan=True)


def test_transform_into_a_given_array() -> None:
    matrix = np.column_stack([reference(np.float32)[k] for k in SPEC])
    out = np.full(matrix.shape, np.nan, dtype=np.float32)
    assert LOCK.transform(matrix, out=out) is out
    assert np.array_equal(out, LOCK.transform(matrix))
    with pytest.raises(nl.InputError, match="out must be a writable float32 array"):
        LOCK.transform(matrix, out=np.empty(matrix.shape))


def test_pandas_nullable_columns_stay_nullable() -> None:
    frame = pd.DataFrame(
        {
            "a": pd.array([1.0, None, 3.0], dtype="Float64"),
            "b": pd.array([1, None, 3], dtype="Int64"),
            "c": pd.array([1.5, 2.5, None], dtype="Float32"),
            "d": [0.0, 1.0, 2.0],
        }
    )
    out = LOCK.transform(frame)
    assert str(out["a"].dtype) == "Float64" and str(out["b"].dtype) == "Float64"
    assert str(out["c"].dtype) == "Float32" and out["d"].dtype == np.float64
    assert out["a"].isna().tolist() == [False, True, False]
    assert out["c"].isna().tolist() == [False, False, True]
    expected = LOCK.transform({k: np.array([1.0, 2.0, 3.0]) for k in SPEC})["a"]
    assert out["a"][0] == expected[0] and out["a"][2] == expected[2]


def test_one_row_paths_follow_the_general_rules() -> None:
    lock = nl.fit({"a": np.array([0.0, 1e-3, 2e-3])})
    with pytest.raises(nl.DomainError, match="non-finite float32 output"):
        lock.transform(np.array([3e38], dtype=np.float32))
    assert lock.transform(np.array([1.0], dtype=np.float16)).dtype == np.float32
    as_scalar = lock.transform({"a": np.float32(1.1)})["a"]
    assert as_scalar == float(lock.transform({"a": np.array([1.1], dtype=np.float32)})["a"][0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unaligned_and_misspelled_dtypes_fit_and_transform_like_plain_arrays(
    dtype: type,
) -> None:
    """Arrays as a Dask worker may receive them: unaligned in a buffer, or with a native
    dtype spelled ``<f4``. Each gives the plain array's bits."""
    plain = np.random.default_rng(0).normal(size=50).astype(dtype)
    raw = np.zeros(plain.nbytes + 1, np.uint8)
    unaligned = raw[1:].view(dtype)
    unaligned[:] = plain
    assert not unaligned.flags.aligned
    spelled = plain.view(np.dtype(dtype).newbyteorder("<"))
    lock = nl.fit({"a": plain})
    expected = lock.transform({"a": plain})["a"]
    for variant in (unaligned, spelled):
        assert nl.fit({"a": variant}).fingerprint == lock.fingerprint
        out = lock.transform({"a": variant})["a"]
        assert out.dtype == expected.dtype and out.tobytes() == expected.tobytes()
