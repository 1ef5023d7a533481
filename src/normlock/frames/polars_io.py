"""polars frames as numpy columns and back.

A numeric column in one chunk without nulls is read without a copy; one with nulls
through Arrow (:func:`normlock.frames.arrow_io.read_column`). Output series wrap the
output arrays without a copy; nulls of the input stay nulls, NaN stays NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from normlock.frames import Columns, arrow_io, frame_columns


def read(frame: pl.DataFrame) -> Columns:
    """The columns of ``frame``: numeric ones with nulls through Arrow."""
    reads = [
        arrow_io.read_column(series.to_arrow())
        if series.dtype.is_numeric() and series.null_count()
        else (series.to_numpy(), None, None)
        for series in frame.get_columns()
    ]
    return frame_columns("polars", tuple(frame.columns), reads, frame.height)


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
