"""pandas frames as numpy columns and back.

A frame whose columns all have one numpy float dtype is read as its 2-D block (a view,
no copy) and written back from one 2-D array as one block (no copy either). Other frames
go column by column: numpy-backed columns as views; nullable float and Arrow-backed
numeric columns through Arrow (:func:`normlock.frames.arrow_io.read_column`: their own
values, not copied, with their nulls); other nullable (masked) numeric columns as
float64 with NaN where they are missing. A transformed column keeps its family: nullable
columns come back nullable (``Float64``/``Float32``, missing where the output is NaN, as
``pd.array`` makes them) and Arrow-backed ones Arrow-backed, with their nulls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from normlock.errors import InputError
from normlock.frames import Columns, Read, arrow_io, frame_columns

_MASKED = frozenset(
    {"Float32", "Float64", "Int8", "Int16", "Int32", "Int64"}
    | {"UInt8", "UInt16", "UInt32", "UInt64", "boolean"}
)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def read(frame: pd.DataFrame) -> Columns:
    """The columns of ``frame``: one matrix for a frame of one numpy float dtype in one
    block (F-ordered, a view), else column by column."""
    names = tuple(map(str, frame.columns.tolist()))
    if len(set(names)) != len(names):
        raise InputError("the DataFrame has duplicate column names; make them unique")
    dtypes = set(frame.dtypes)
    if len(dtypes) == 1 and dtypes <= set(_FLOATS) and _one_block(frame):
        matrix = frame.to_numpy()  # a view of the block
        arrays = {n: matrix[:, j] for j, n in enumerate(names)}
        return Columns("pandas", names, arrays, {}, len(frame), matrix=matrix)
    reads = [_read_series(series) for _, series in frame.items()]
    return frame_columns("pandas", names, reads, len(frame))


def _read_series(series: pd.Series) -> Read:
    if series.dtype in ("Float32", "Float64") or _is_arrow_numeric(series.dtype):
        return arrow_io.read_column(pa.array(series.array))  # its own values, not copied
    if _is_masked(series.dtype):  # Int64, boolean, ...: pd.NA marks missing values
        values = series.array
        return values.to_numpy(dtype=np.float64, na_value=np.nan), values.isna(), None
    return series.to_numpy(), None, None


def write(
    frame: pd.DataFrame,
    names: tuple[str, ...],
    outputs: Mapping[str, np.ndarray],
    nulls: Mapping[str, np.ndarray],
    matrix: np.ndarray | None,
) -> pd.DataFrame:
    """``frame`` with ``outputs`` replacing those columns: from ``matrix`` (every column's
    output in order) as one block when every column is numpy-backed, else column by
    column."""
    if matrix is not None and all(isinstance(d, np.dtype) for d in frame.dtypes):
        result = pd.DataFrame(matrix, index=frame.index, columns=frame.columns, copy=False)
        return result.__finalize__(frame)
    columns = {}
    for j, (name, (_, series)) in enumerate(zip(names, frame.items(), strict=True)):
        columns[j] = (
            _column(series.dtype, outputs[name], nulls.get(name))
            if name in outputs
            else series.array
        )
    result = pd.DataFrame(columns, index=frame.index, copy=False)
    result.columns = frame.columns
    return result.__finalize__(frame)


def _one_block(frame: pd.DataFrame) -> bool:
    """Whether pandas holds the frame's columns in one 2-D block, so that ``to_numpy`` is
    a view (it copies several blocks into one). pandas has no public test for it: this
    reads its block manager, and says False where that is not there."""
    return getattr(getattr(frame, "_mgr", None), "nblocks", None) == 1


def _column(dtype: Any, values: np.ndarray, nulls: np.ndarray | None) -> Any:
    """An output column in the family of the input's ``dtype``."""
    if _is_masked(dtype):
        return pd.arrays.FloatingArray(values, np.isnan(values))
    if _is_arrow_numeric(dtype):
        return pd.arrays.ArrowExtensionArray(arrow_io.arrow_array(values, nulls))
    return values


def _is_masked(dtype: Any) -> bool:
    """Whether a pandas dtype is one of its nullable (masked) numeric or boolean dtypes."""
    return isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.name in _MASKED


def _is_arrow_numeric(dtype: Any) -> bool:
    """Whether a pandas dtype is an Arrow-backed integer, float or boolean."""
    return isinstance(dtype, pd.ArrowDtype) and arrow_io.is_numeric_type(dtype.pyarrow_dtype)
