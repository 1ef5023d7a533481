"""Containers whose columns change: a pca group's inputs replaced by its components.

:func:`relayout` builds a container of the input's type with a new list of columns,
each one either kept from the input (its values and dtype as they are) or new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from normlock.frames import Columns


def relayout(
    container: Any, read: Columns, names: Sequence[str], new: Mapping[str, np.ndarray]
) -> Any:
    """``container`` (read as ``read``) with the columns ``names``, in order: ``new[name]``
    where given, else the container's own column of that name."""
    kind = read.kind
    if kind in ("numpy", "row"):
        arrays = [new[n] if n in new else read.arrays[n] for n in names]
        dtype = np.result_type(*(a.dtype for a in arrays)) if arrays else np.float64
        out = np.empty((read.rows, len(arrays)), dtype=dtype)
        for j, values in enumerate(arrays):
            out[:, j] = values
        return out[0] if kind == "row" else out
    if kind in ("dict", "row_dict"):
        keys = {str(k): k for k in container}
        scalar = kind == "row_dict"
        return type(container)(
            (
                keys.get(n, n),
                (new[n][0].item() if scalar else new[n]) if n in new else container[keys[n]],
            )
            for n in names
        )
    if kind == "pandas":
        import pandas as pd

        labels = {str(c): c for c in container.columns}
        data = {n: new[n] if n in new else container[labels[n]].array for n in names}
        return pd.DataFrame(data, index=container.index, copy=False).__finalize__(container)
    if kind == "polars":
        import polars as pl

        return pl.DataFrame([pl.Series(n, new[n]) if n in new else container[n] for n in names])
    import pyarrow as pa

    arrays = [pa.array(new[n]) if n in new else container.column(n) for n in names]
    maker = pa.Table if isinstance(container, pa.Table) else pa.RecordBatch
    return maker.from_arrays(arrays, names=list(names))


def replaced(
    names: Sequence[str], spans: Sequence[tuple[Sequence[str], Sequence[str]]]
) -> list[str]:
    """``names`` with each span's old columns replaced by its new ones, where the first of
    the old columns stood (the other old columns dropped)."""
    first: dict[str, list[str]] = {}
    dropped: set[str] = set()
    for old, fresh in spans:
        at = min(old, key=list(names).index)
        first[at] = list(fresh)
        dropped.update(old)
    out: list[str] = []
    for name in names:
        if name in first:
            out.extend(first[name])
        elif name not in dropped:
            out.append(name)
    return out
