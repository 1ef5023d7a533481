"""Containers in, the same container out: numpy, dicts, pandas, polars and pyarrow.

:func:`read_columns` turns a supported container into named numpy columns;
:func:`write_columns` puts transformed columns back into a container of the input's
type. Frame libraries are imported only when such a frame is passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from normlock.errors import InputError


@dataclass(frozen=True)
class Columns:
    """Named columns read from a container.

    Attributes:
        kind: the container family (``numpy``, ``row``, ``dict``, ``pandas``, ``polars``,
            ``arrow``).
        names: column names in container order.
        arrays: column name -> 1-D numpy array (NaN where the container had a null).
        nulls: column name -> mask of nulls, for containers with null support.
        rows: number of rows.
        named: whether the container carries column names (numpy arrays do not).
        matrix: the 2-D numpy array itself, for numpy input (None otherwise).
    """

    kind: str
    names: tuple[str, ...]
    arrays: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray]
    rows: int
    named: bool = True
    matrix: np.ndarray | None = None


def _family(obj: Any) -> str:
    module = type(obj).__module__.split(".")[0]
    if isinstance(obj, np.ndarray):
        return "row" if obj.ndim == 1 else "numpy"
    if isinstance(obj, Mapping):
        return "dict"
    if module == "pandas" and type(obj).__name__ == "DataFrame":
        return "pandas"
    if module == "polars" and type(obj).__name__ == "DataFrame":
        return "polars"
    if module == "pyarrow" and type(obj).__name__ in ("Table", "RecordBatch"):
        return "arrow"
    raise InputError(
        f"unsupported data type {type(obj).__module__}.{type(obj).__name__}; pass a numpy "
        "array, a dict of columns, or a pandas, polars or pyarrow table"
    )


def is_container(obj: Any) -> bool:
    """Whether ``obj`` is one supported container (rather than an iterable of chunks)."""
    try:
        _family(obj)
    except InputError:
        return False
    return True


def read_columns(obj: Any, default_names: Sequence[str] | None = None) -> Columns:
    """Named numpy columns of a container.

    A 2-D numpy array has no names: its columns get ``default_names`` (``x0, x1, ...``
    when None). A 1-D numpy array is one row.
    """
    kind = _family(obj)
    if kind in ("numpy", "row"):
        matrix = canonical(obj.reshape(1, -1) if kind == "row" else obj)
        if matrix.ndim != 2:
            raise InputError(f"expected a 1-D row or a 2-D array, got {obj.ndim}-D")
        width = matrix.shape[1]
        names = (
            tuple(default_names)
            if default_names is not None
            else tuple(f"x{i}" for i in range(width))
        )
        if len(names) != width:
            raise InputError(
                f"the array has {width} columns but the lock expects {len(names)} "
                f"({', '.join(names[:10])}{', ...' if len(names) > 10 else ''}); "
                "pass an array with one column per locked column, in locked order"
            )
        arrays = {name: matrix[:, i] for i, name in enumerate(names)}
        return Columns(kind, names, arrays, {}, matrix.shape[0], named=False, matrix=matrix)
    readers = {"dict": _read_dict, "pandas": _read_pandas, "polars": _read_polars}
    read = readers.get(kind, _read_arrow)(obj)
    arrays = {name: canonical(array) for name, array in read.arrays.items()}
    same = all(a is read.arrays[n] for n, a in arrays.items())
    return read if same else replace(read, arrays=arrays)


def canonical(array: np.ndarray) -> np.ndarray:
    """``array`` as the compiled kernels read it: aligned, with numpy's own dtype of its
    kind in native byte order.

    Arrays deserialized on a Dask worker can sit unaligned in the received buffer (their
    buffer format is then ``=f``), and a native dtype can be spelled ``<f4`` (format
    ``<f``); the kernels read neither. A misspelled native dtype is viewed with the plain
    one (no copy); an unaligned or non-native array is copied.
    """
    dtype = array.dtype
    if dtype.kind not in "fiub":
        return array
    plain = np.dtype(dtype.char)
    if not array.flags.aligned or not dtype.isnative:
        return np.array(array, dtype=plain)
    return array if dtype is plain else array.view(plain)


def _read_dict(obj: Mapping[str, Any]) -> Columns:
    names = tuple(str(k) for k in obj)
    arrays = {str(k): np.asarray(v) for k, v in obj.items()}
    scalar = all(a.ndim == 0 for a in arrays.values())
    if scalar:
        arrays = {k: a.reshape(1) for k, a in arrays.items()}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise InputError(f"dict columns have different lengths: {sorted(lengths)}")
    rows = lengths.pop() if lengths else 0
    return Columns("row_dict" if scalar else "dict", names, arrays, {}, rows)


def _read_pandas(frame: Any) -> Columns:
    arrays: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    names = tuple(str(c) for c in frame.columns)
    if len(set(names)) != len(names):
        raise InputError("the DataFrame has duplicate column names; make them unique")
    for name, column in zip(names, frame.columns, strict=True):
        series = frame[column]
        if _is_masked_numeric(series.dtype):  # Float64, Int64, ...: pd.NA marks missing values
            nulls[name] = series.isna().to_numpy()
            dtype = np.float32 if str(series.dtype) == "Float32" else np.float64
            arrays[name] = series.to_numpy(dtype=dtype, na_value=np.nan)
        else:
            arrays[name] = series.to_numpy()
    return Columns("pandas", names, arrays, nulls, len(frame))


def _is_masked_numeric(dtype: Any) -> bool:
    """Whether a pandas dtype is one of its nullable (masked) numeric or boolean dtypes."""
    return type(dtype).__name__ in (
        "Float32Dtype",
        "Float64Dtype",
        "Int8Dtype",
        "Int16Dtype",
        "Int32Dtype",
        "Int64Dtype",
        "UInt8Dtype",
        "UInt16Dtype",
        "UInt32Dtype",
        "UInt64Dtype",
        "BooleanDtype",
    )


def _read_polars(frame: Any) -> Columns:
    arrays: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    for name in frame.columns:
        series = frame.get_column(name)
        if series.dtype.is_numeric():
            if series.null_count():
                nulls[name] = series.is_null().to_numpy()
                dtype = np.float32 if str(series.dtype) == "Float32" else np.float64
                arrays[name] = series.to_numpy().astype(dtype)
            else:
                arrays[name] = series.to_numpy()
        else:
            arrays[name] = series.to_numpy()
    return Columns("polars", tuple(frame.columns), arrays, nulls, frame.height)


def _read_arrow(table: Any) -> Columns:
    import pyarrow as pa

    arrays: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    names = tuple(table.schema.names)
    if len(set(names)) != len(names):
        raise InputError("the Arrow table has duplicate column names; make them unique")
    for name in names:
        column = table.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if (
            pa.types.is_integer(column.type)
            or pa.types.is_floating(column.type)
            or pa.types.is_boolean(column.type)
        ):
            if column.null_count:
                nulls[name] = column.is_null().to_numpy(zero_copy_only=False)
                target = pa.float32() if column.type == pa.float32() else pa.float64()
                arrays[name] = column.cast(target).fill_null(np.nan).to_numpy(zero_copy_only=False)
            else:
                arrays[name] = column.to_numpy(zero_copy_only=False)
        else:
            arrays[name] = column.to_numpy(zero_copy_only=False)
    return Columns("arrow", names, arrays, nulls, table.num_rows)


def is_numeric(array: np.ndarray) -> bool:
    """Whether a column can be normalized (floats, integers, booleans)."""
    return array.dtype.kind in "fiub"


def write_columns(original: Any, read: Columns, outputs: Mapping[str, np.ndarray]) -> Any:
    """A container of ``original``'s type with ``outputs`` replacing those columns.

    Nulls of the input stay nulls in containers that have them.
    """
    if read.kind == "numpy":
        dtypes = [outputs[n].dtype if n in outputs else read.arrays[n].dtype for n in read.names]
        result = np.empty((read.rows, len(read.names)), dtype=np.result_type(*dtypes))
        for i, name in enumerate(read.names):
            result[:, i] = outputs.get(name, read.arrays[name])
        return result
    if read.kind == "row":
        return write_columns(original.reshape(1, -1), _as_kind(read, "numpy"), outputs)[0]
    if read.kind == "row_dict":
        return type(original)(
            (key, outputs[str(key)][0].item() if str(key) in outputs else value)
            for key, value in original.items()
        )
    if read.kind == "dict":
        return type(original)(
            (key, outputs.get(str(key), value)) for key, value in original.items()
        )
    if read.kind == "pandas":
        return _write_pandas(original, read, outputs)
    if read.kind == "polars":
        return _write_polars(original, read, outputs)
    return _write_arrow(original, read, outputs)


def _as_kind(read: Columns, kind: str) -> Columns:
    return Columns(kind, read.names, read.arrays, read.nulls, read.rows, read.named, read.matrix)


def _write_pandas(frame: Any, read: Columns, outputs: Mapping[str, np.ndarray]) -> Any:
    import pandas as pd

    result = frame.copy(deep=False)
    for column, name in zip(frame.columns, read.names, strict=True):
        if name not in outputs:
            continue
        values = outputs[name]
        if name in read.nulls:
            dtype = "Float32" if values.dtype == np.float32 else "Float64"
            array = pd.array(values, dtype=dtype)
            array[read.nulls[name]] = pd.NA
            result[column] = array
        else:
            result[column] = values
    return result


def _write_polars(frame: Any, read: Columns, outputs: Mapping[str, np.ndarray]) -> Any:
    import polars as pl

    replaced = []
    for name, values in outputs.items():
        series = pl.Series(name, values)
        if name in read.nulls:
            series = pl.select(
                pl.when(pl.Series(read.nulls[name])).then(None).otherwise(series).alias(name)
            ).to_series()
        replaced.append(series)
    return frame.with_columns(replaced)


def _write_arrow(table: Any, read: Columns, outputs: Mapping[str, np.ndarray]) -> Any:
    import pyarrow as pa

    result = table
    for i, name in enumerate(read.names):
        if name not in outputs:
            continue
        mask = read.nulls.get(name)
        array = pa.array(outputs[name], mask=mask)
        if isinstance(result, pa.Table):
            result = result.set_column(i, name, array)
        else:
            arrays = [array if j == i else result.column(j) for j in range(result.num_columns)]
            result = pa.RecordBatch.from_arrays(arrays, names=list(read.names))
    return result
