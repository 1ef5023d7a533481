"""Every container gives the numpy formula's bits, keeps its family and its nulls, and is
read without copying where its memory allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import normlock as nl
from normlock.frames import read_columns

NAMES = ("a", "b", "c")
LOCK = nl.fit(
    {n: np.random.default_rng(i).normal(10.0 * i, 1.0 + i, 400) for i, n in enumerate(NAMES)}
)
MIXED = nl.fit(
    {
        "a": np.random.default_rng(5).normal(0.0, 3.0, 400),
        "b": np.random.default_rng(6).lognormal(0.0, 1.0, 400),
        "c": np.random.default_rng(7).normal(0.0, 3.0, 400),
    },
    {"b": ["log1p", "standard"], "c": "quantile"},
)


def formula(lock: nl.Lock, name: str, x: np.ndarray, dtype: type) -> np.ndarray:
    """``(x - mean) / std`` in float64, rounded once, from the lock's standard params."""
    params = lock.feature(name).steps[0].params
    with np.errstate(all="ignore"):
        return ((x.astype(np.float64) - params["mean"]) / params["std"]).astype(dtype)


def same_bits(got: np.ndarray, want: np.ndarray) -> bool:
    """Same dtype, NaN in the same places and every other value bit for bit."""
    nan = np.isnan(want)
    return (
        got.dtype == want.dtype
        and np.array_equal(np.isnan(got), nan)
        and got[~nan].tobytes() == want[~nan].tobytes()
    )


def pandas_nullable(values: np.ndarray, nulls: np.ndarray, dtype: type) -> pd.DataFrame:
    kind = "Float32" if dtype == np.float32 else "Float64"
    return pd.DataFrame(
        {
            n: pd.arrays.FloatingArray(values[:, j].astype(dtype), nulls[:, j])
            for j, n in enumerate(NAMES)
        }
    ).astype(kind)


def arrow_columns(values: np.ndarray, nulls: np.ndarray) -> dict[str, pa.Array]:
    return {n: pa.array(values[:, j], mask=nulls[:, j]) for j, n in enumerate(NAMES)}


def pandas_arrow(values: np.ndarray, nulls: np.ndarray, dtype: type) -> pd.DataFrame:
    columns = arrow_columns(values.astype(dtype), nulls)
    return pd.DataFrame({n: pd.arrays.ArrowExtensionArray(a) for n, a in columns.items()})


def polars_chunked(values: np.ndarray, nulls: np.ndarray) -> pl.DataFrame:
    half = len(values) // 2
    parts = [
        pl.from_arrow(pa.table(arrow_columns(v, m)))
        for v, m in ((values[:half], nulls[:half]), (values[half:], nulls[half:]))
    ]
    return pl.concat(parts, rechunk=False)  # type: ignore[arg-type]


def arrow_chunked(values: np.ndarray, nulls: np.ndarray) -> pa.Table:
    half = len(values) // 2
    first = pa.table(arrow_columns(values[:half], nulls[:half]))
    return pa.concat_tables([first, pa.table(arrow_columns(values[half:], nulls[half:]))])


# container name -> (build from float values and a null mask, has nulls)
Build = Callable[[np.ndarray, np.ndarray, type], Any]
CONTAINERS: dict[str, tuple[Build, bool]] = {
    "numpy": (lambda v, m, t: np.where(m, np.nan, v).astype(t), False),
    "numpy F-ordered": (lambda v, m, t: np.asfortranarray(np.where(m, np.nan, v).astype(t)), False),
    "dict": (
        lambda v, m, t: {n: np.where(m, np.nan, v)[:, j].astype(t) for j, n in enumerate(NAMES)},
        False,
    ),
    "pandas": (
        lambda v, m, t: pd.DataFrame(np.where(m, np.nan, v).astype(t), columns=list(NAMES)),
        False,
    ),
    "pandas, a block per column": (
        lambda v, m, t: pd.DataFrame(
            {n: np.where(m, np.nan, v)[:, j].astype(t) for j, n in enumerate(NAMES)}, copy=False
        ),
        False,
    ),
    "pandas nullable": (pandas_nullable, True),
    "pandas Arrow-backed": (pandas_arrow, True),
    "polars": (lambda v, m, t: pl.from_arrow(pa.table(arrow_columns(v.astype(t), m))), True),
    "polars, two chunks": (lambda v, m, t: polars_chunked(v.astype(t), m), True),
    "arrow": (lambda v, m, t: pa.table(arrow_columns(v.astype(t), m)), True),
    "arrow, two chunks": (lambda v, m, t: arrow_chunked(v.astype(t), m), True),
    "record batch": (
        lambda v, m, t: pa.RecordBatch.from_pydict(arrow_columns(v.astype(t), m)),
        True,
    ),
}


def output_columns(out: Any) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """The output's columns as numpy (NaN at nulls) and its null masks (None without)."""
    if isinstance(out, np.ndarray):
        return {n: out[:, j] for j, n in enumerate(NAMES)}, None
    if isinstance(out, dict):
        return dict(out), None
    if isinstance(out, pd.DataFrame):
        columns = {
            n: out[n].to_numpy(dtype=_numpy_dtype(out[n].dtype), na_value=np.nan) for n in NAMES
        }
        extension = isinstance(out[NAMES[0]].dtype, pd.api.extensions.ExtensionDtype)
        return columns, {n: out[n].isna().to_numpy() for n in NAMES} if extension else None
    if isinstance(out, pl.DataFrame):
        return {n: out[n].to_numpy() for n in NAMES}, {
            n: out[n].is_null().to_numpy() for n in NAMES
        }
    return (
        {n: out.column(n).to_numpy(zero_copy_only=False) for n in NAMES},
        {n: out.column(n).is_null().to_numpy(zero_copy_only=False) for n in NAMES},
    )


def _numpy_dtype(dtype: Any) -> type:
    return np.float32 if str(dtype) in ("float32", "Float32", "float[pyarrow]") else np.float64


@pytest.mark.parametrize("container", sorted(CONTAINERS))
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    rows=st.integers(1, 90),
    seed=st.integers(0, 2**32 - 1),
    nan_share=st.sampled_from([0.0, 0.1]),
    null_share=st.sampled_from([0.0, 0.2]),
)
def test_every_container_gives_the_numpy_formulas_bits(
    container: str, dtype: type, rows: int, seed: int, nan_share: float, null_share: float
) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 30, (rows, len(NAMES))) * rng.choice([1e-3, 1.0, 1e3], (rows, 1))
    values[rng.random(values.shape) < nan_share] = np.nan
    nulls = rng.random(values.shape) < null_share
    build, null_support = CONTAINERS[container]
    data = build(values, nulls, dtype)
    out = LOCK.transform(data)
    assert type(out) is type(data)
    columns, null_masks = output_columns(out)
    for j, name in enumerate(NAMES):
        want = formula(LOCK, name, np.where(nulls[:, j], np.nan, values[:, j]).astype(dtype), dtype)
        assert same_bits(columns[name], want), (container, name)
        if null_masks is not None:
            expected = nulls[:, j] if null_support else np.isnan(want)
            if container == "pandas nullable":
                expected = np.isnan(want)  # pd.array's rule: NaN outputs are missing
            assert np.array_equal(null_masks[name], expected), (container, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_keep_the_inputs_dtypes(dtype: type) -> None:
    values = np.random.default_rng(1).normal(size=(5, 3))
    nulls = np.zeros_like(values, dtype=bool)
    nulls[1, 0] = True
    width = "32" if dtype == np.float32 else "64"
    arrow = "float" if dtype == np.float32 else "double"
    expected = {
        "pandas": f"float{width}",
        "pandas nullable": f"Float{width}",
        "pandas Arrow-backed": f"{arrow}[pyarrow]",
        "polars": f"Float{width}",
        "arrow": arrow,
    }
    for container, dtype_name in expected.items():
        out = LOCK.transform(CONTAINERS[container][0](values, nulls, dtype))
        found = out.schema.field("a").type if isinstance(out, pa.Table) else out["a"].dtype
        assert str(found) == dtype_name, container


@pytest.mark.parametrize(
    "container",
    [
        "pandas nullable",
        "pandas Arrow-backed",
        "polars",
        "polars, two chunks",
        "arrow",
        "record batch",
    ],
)
def test_a_null_breaks_a_nan_error_policy_in_every_container(container: str) -> None:
    lock = nl.fit(
        {n: np.arange(5.0) + i for i, n in enumerate(NAMES)},
        {"b": {"method": "standard", "nan": "error"}},
    )
    values = np.ones((4, 3))
    nulls = np.zeros_like(values, dtype=bool)
    nulls[2, 1] = True
    with pytest.raises(nl.DomainError, match=r"feature 'b', row 3: NaN/missing value \(1 in all\)"):
        lock.transform(CONTAINERS[container][0](values, nulls, np.float64))


@pytest.mark.parametrize("container", ["pandas", "pandas nullable", "polars", "arrow"])
def test_overflow_and_infinity_errors_are_those_of_the_numpy_path(container: str) -> None:
    lock = nl.fit({n: np.array([0.0, 1e-3, 2e-3]) for n in NAMES})
    values = np.ones((3, 3), dtype=np.float32)
    values[1, 2] = 3e38  # its output overflows float32
    nulls = np.zeros_like(values, dtype=bool)
    build = CONTAINERS[container][0]
    with pytest.raises(nl.DomainError, match=r"feature 'c', row 2: the finite input .* float32"):
        lock.transform(build(values, nulls, np.float32))
    values[1, 2] = np.inf
    with pytest.raises(nl.DomainError, match=r"feature 'c', row 2: infinite value inf"):
        lock.transform(build(values, nulls, np.float32))


@pytest.mark.parametrize("container", sorted(CONTAINERS))
def test_chains_and_quantiles_give_the_numpy_paths_bits(container: str) -> None:
    rng = np.random.default_rng(4)
    values = np.abs(rng.normal(0, 3, (300, 3)))
    nulls = rng.random(values.shape) < 0.1
    build, _ = CONTAINERS[container]
    columns, _ = output_columns(MIXED.transform(build(values, nulls, np.float64)))
    reference = MIXED.transform(
        {n: np.where(nulls, np.nan, values)[:, j] for j, n in enumerate(NAMES)}
    )
    for name in NAMES:
        assert same_bits(columns[name], reference[name]), (container, name)


def test_pandas_keeps_its_index_labels_attrs_and_other_columns() -> None:
    frame = pd.DataFrame(
        {"id": ["u", "v", "w"], "a": [1.0, 2.0, 3.0], 7: [1, 2, 3]}, index=[10, 30, 20]
    )
    frame.attrs["source"] = "test"
    lock = nl.fit(frame, {"id": "passthrough"})
    out = lock.transform(frame)
    assert list(out.columns) == ["id", "a", 7] and out.index.tolist() == [10, 30, 20]
    assert out["id"].tolist() == ["u", "v", "w"] and out.attrs == {"source": "test"}
    assert out[7].dtype == np.float64
    whole = LOCK.transform(pd.DataFrame(np.ones((3, 3)), columns=list(NAMES), index=[5, 6, 7]))
    assert whole.index.tolist() == [5, 6, 7]


def test_extra_columns_are_carried_through_every_frame() -> None:
    values = np.ones((2, 3))
    frames = {
        "pandas": pd.DataFrame({**dict(zip(NAMES, values.T, strict=True)), "note": ["x", "y"]}),
        "polars": pl.DataFrame({**dict(zip(NAMES, values.T, strict=True)), "note": ["x", "y"]}),
        "arrow": pa.table({**dict(zip(NAMES, values.T, strict=True)), "note": ["x", "y"]}),
    }
    for kind, frame in frames.items():
        out = LOCK.transform(frame, extra="keep")
        assert list(out.column_names if kind == "arrow" else out.columns) == [*NAMES, "note"]
        note = out.column("note").to_pylist() if kind == "arrow" else list(out["note"])
        assert note == ["x", "y"], kind


def test_a_float_pandas_frame_is_read_and_written_as_one_block() -> None:
    frame = pd.DataFrame(np.random.default_rng(3).normal(size=(50, 3)), columns=list(NAMES))
    read = read_columns(frame)
    assert read.matrix is not None and np.shares_memory(read.matrix, frame["a"].to_numpy())
    assert all(np.shares_memory(read.arrays[n], read.matrix) for n in NAMES)
    out = LOCK.transform(frame)
    assert np.shares_memory(out.to_numpy(), out["a"].to_numpy())  # one block, not copied


def test_a_pandas_frame_of_several_blocks_is_read_column_by_column_without_copies() -> None:
    values = np.random.default_rng(3).normal(size=(50, 3))
    frame = pd.DataFrame({n: values[:, j].copy() for j, n in enumerate(NAMES)}, copy=False)
    read = read_columns(frame)
    assert read.matrix is None
    assert all(np.shares_memory(read.arrays[n], frame[n].to_numpy()) for n in NAMES)
    out = LOCK.transform(frame)
    assert np.shares_memory(out.to_numpy(), out["a"].to_numpy())  # written as one block


def test_polars_and_arrow_columns_without_nulls_are_read_without_a_copy() -> None:
    values = np.random.default_rng(3).normal(size=(50, 3))
    frame = pl.from_numpy(values, schema=list(NAMES))
    table = pa.table(dict(zip(NAMES, values.T.copy(), strict=True)))
    for data in (frame, table):
        read = read_columns(data)
        source = {
            n: data[n].to_numpy()
            if isinstance(data, pl.DataFrame)
            else data.column(n).chunk(0).to_numpy()
            for n in NAMES
        }
        assert all(np.shares_memory(read.arrays[n], source[n]) for n in NAMES)
        assert read.nulls == {}


def test_columns_with_nulls_are_read_as_nan_with_their_mask() -> None:
    nulls = np.array([[False, True, False], [True, False, False]])
    values = np.arange(6.0).reshape(2, 3)
    for container in ("pandas nullable", "pandas Arrow-backed", "polars", "arrow"):
        read = read_columns(CONTAINERS[container][0](values, nulls, np.float64))
        for j, name in enumerate(NAMES):
            assert same_bits(read.arrays[name], np.where(nulls[:, j], np.nan, values[:, j]))
            found = read.nulls.get(name, np.zeros(len(values), dtype=bool))
            assert np.array_equal(found, nulls[:, j]), container


def test_float_columns_with_nulls_are_also_read_as_their_stored_values() -> None:
    nulls = np.array([[False, True, False], [True, False, False]])
    values = np.arange(6.0).reshape(2, 3)
    table = CONTAINERS["arrow"][0](values, nulls, np.float64)
    read = read_columns(table)
    assert sorted(read.stored) == ["a", "b"]  # c has no nulls
    for name in read.stored:
        stored = read.stored[name]
        assert stored.ctypes.data == table.column(name).chunk(0).buffers()[1].address
        assert np.array_equal(stored[~read.nulls[name]], read.arrays[name][~read.nulls[name]])


def test_fitting_any_container_gives_the_numpy_fit() -> None:
    values = np.random.default_rng(8).normal(3.0, 2.0, (1000, 3))
    expected = nl.fit(values, names=list(NAMES)).fingerprint
    nulls = np.zeros_like(values, dtype=bool)
    for container, (build, _) in CONTAINERS.items():
        data = build(values, nulls, np.float64)
        assert nl.fit(data, names=list(NAMES)).fingerprint == expected, container


def test_frame_outputs_keep_their_memory_after_the_pool_reuses_freed_memory() -> None:
    """Frame outputs live in Arrow's memory pool: they must hold on to their buffers
    while the pool hands freed memory to later allocations."""
    values = np.random.default_rng(6).normal(size=(20_000, 3))
    want = LOCK.transform(values)
    frames = {
        "pandas": pd.DataFrame(values, columns=list(NAMES)),
        "polars": pl.from_numpy(values, schema=list(NAMES)),
        "arrow": pa.table(dict(zip(NAMES, values.T.copy(), strict=True))),
    }
    outputs = {kind: LOCK.transform(frame) for kind, frame in frames.items()}
    del frames
    for _ in range(4):  # later transforms, and garbage over any freed memory
        LOCK.transform(pa.table(dict(zip(NAMES, values.T * 3, strict=True))))
        np.frombuffer(pa.allocate_buffer(values.nbytes), np.uint8)[:] = 255
    for kind, out in outputs.items():
        columns, _ = output_columns(out)
        got = np.column_stack([columns[n] for n in NAMES])
        assert got.tobytes() == want.tobytes(), kind


@pytest.mark.parametrize("under", [np.nan, np.inf, -np.inf, "largest", -0.0, 5.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_what_a_column_holds_under_its_nulls_never_shows(under: Any, dtype: type) -> None:
    lock = nl.fit({n: np.array([0.0, 1e-3, 2e-3]) for n in NAMES})  # the largest overflows
    held = np.finfo(dtype).max if under == "largest" else under
    values = np.array([1e-3, held, 2e-3, held], dtype=dtype)
    nulls = np.array([False, True, False, True])
    validity = pa.py_buffer(np.packbits(~nulls, bitorder="little"))
    kind = pa.from_numpy_dtype(dtype)
    column = pa.Array.from_buffers(kind, 4, [validity, pa.py_buffer(values)])
    table = pa.table({n: column for n in NAMES})
    want = formula(lock, "a", np.where(nulls, np.nan, values).astype(dtype), dtype)
    for data in (table, pl.from_arrow(table), table.to_pandas(types_mapper=pd.ArrowDtype)):
        columns, null_masks = output_columns(lock.transform(data))
        assert same_bits(columns["b"], want) and np.array_equal(null_masks["b"], nulls)
    strict = nl.fit(
        {n: np.array([0.0, 1e-3, 2e-3]) for n in NAMES},
        {"a": {"method": "standard", "nan": "error"}},
    )
    with pytest.raises(nl.DomainError, match=r"feature 'a', row 2: NaN/missing value \(2 in all\)"):
        strict.transform(table)
