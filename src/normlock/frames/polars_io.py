"""polars frames as numpy columns and back.

A numeric column in one chunk without nulls is read without a copy; one with nulls
through Arrow (:func:`normlock.frames.arrow_io.numpy_column`), as floats with NaN in
their place, and its null mask. Output series wrap the output arrays without a copy;
nulls of the input stay nulls, NaN stays NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from normlock.frames import arrow_io


def read(
    frame: pl.DataFrame,
) -> tuple[tuple[str, ...], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Names, columns and null masks (for numeric columns with nulls) of ``frame``."""
    arrays: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    for series in frame.get_columns():
        name = series.name
        if series.dtype.is_numeric() and series.null_count():
            arrays[name], mask = arrow_io.numpy_column(series.to_arrow())
            if mask is not None:
                nulls[name] = mask
        else:
            arrays[name] = series.to_numpy()
    return tuple(frame.columns), arrays, nulls


def write(
    frame: pl.DataFrame, outputs: Mapping[str, np.ndarray], nulls: Mapping[str, np.ndarray]
) -> pl.DataFrame:
    """``frame`` with ``outputs`` replacing those columns, in the frame's order."""
    columns = []
    for series in frame.get_columns():
        name = series.name
        if name in outputs:
            series = pl.Series(name, outputs[name])
            if name in nulls:
                series = series.set(pl.Series(nulls[name]), None)
        columns.append(series)
    return pl.DataFrame(columns)
