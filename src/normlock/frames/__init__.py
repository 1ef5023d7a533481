"""Containers in, the same container out: numpy, dicts, pandas, polars and pyarrow.

:func:`read_columns` turns a supported container into named numpy columns, without a
copy where the container's memory allows it; :func:`write_columns` puts transformed
columns back into a container of the input's type. Frame libraries are imported only
when such a frame is passed (:mod:`~normlock.frames.pandas_io`,
:mod:`~normlock.frames.polars_io`, :mod:`~normlock.frames.arrow_io`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from normlock.errors import InputError


@dataclass(frozen=True)
class Columns:
    """Named columns read from a container.

    Attributes:
        kind: the container family (``numpy``, ``row``, ``dict``, ``row_dict``, ``pandas``,
            ``polars``, ``arrow``).
        names: column names in container order.
        arrays: column name -> 1-D numpy array (NaN where the container had a null).
        nulls: column name -> mask of nulls, for containers with null support.
        rows: number of rows.
        named: whether the container carries column names (numpy arrays do not).
        matrix: every column as one 2-D ``(rows, columns)`` array, when the container is
            one (a 2-D numpy array) or holds its columns as one (a pandas frame of one
            numpy float dtype in one block: a view of the block, F-ordered); ``arrays``
            are then its columns. None otherwise.
        stored: column name -> the container's own float32/float64 values of a column
            with nulls, read without a copy (whatever the container holds at its nulls);
            its ``arrays`` entry, a copy with NaN there, is made on first use.
    """

    kind: str
    names: tuple[str, ...]
    arrays: Mapping[str, np.ndarray]
    nulls: dict[str, np.ndarray]
    rows: int
    named: bool = True
    matrix: np.ndarray | None = None
    stored: dict[str, np.ndarray] = field(default_factory=dict)


# A column read from a frame: its values (or how to make them on first use), its null
# mask and its stored values (see Columns).
Read = tuple["np.ndarray | Callable[[], np.ndarray]", "np.ndarray | None", "np.ndarray | None"]


def frame_columns(kind: str, names: tuple[str, ...], reads: Sequence[Read], rows: int) -> Columns:
    """The :class:`Columns` of a frame from its columns as read."""
    made: dict[str, np.ndarray] = {}
    pending: dict[str, Callable[[], np.ndarray]] = {}
    nulls: dict[str, np.ndarray] = {}
    stored: dict[str, np.ndarray] = {}
    for name, (values, mask, own) in zip(names, reads, strict=True):
        if isinstance(values, np.ndarray):
            made[name] = values
        else:
            pending[name] = values
        if mask is not None:
            nulls[name] = mask
        if own is not None:
            stored[name] = own
    arrays = _Pending(names, made, pending) if pending else made
    return Columns(kind, names, arrays, nulls, rows, stored=stored)


class _Pending(Mapping[str, np.ndarray]):
    """Columns by name, some of them made on first use."""

    def __init__(
        self,
        names: tuple[str, ...],
        made: dict[str, np.ndarray],
        pending: dict[str, Callable[[], np.ndarray]],
    ) -> None:
        self._names, self._made, self._pending = names, made, pending

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._made:
            self._made[name] = self._pending[name]()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._made or name in self._pending


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
    when None). A 1-D numpy array is one row. Frame columns are views of the frame's
    memory where it allows (numpy-backed pandas columns, Arrow and Polars numeric columns
    in one chunk without nulls); columns with nulls are copies with NaN in their place.
    """
    kind = _family(obj)
    if kind in ("numpy", "row"):
        return _read_numpy(obj, kind, default_names)
    if kind == "dict":
        return _read_dict(obj)
    if kind == "pandas":
        from normlock.frames import pandas_io

        return pandas_io.read(obj)
    if kind == "polars":
        from normlock.frames import polars_io

        return polars_io.read(obj)
    from normlock.frames import arrow_io

    return arrow_io.read(obj)


def _read_numpy(obj: np.ndarray, kind: str, default_names: Sequence[str] | None) -> Columns:
    matrix = obj.reshape(1, -1) if kind == "row" else obj
    if matrix.ndim != 2:
        raise InputError(f"expected a 1-D row or a 2-D array, got {obj.ndim}-D")
    width = matrix.shape[1]
    names = (
        tuple(default_names) if default_names is not None else tuple(f"x{i}" for i in range(width))
    )
    if len(names) != width:
        raise InputError(
            f"the array has {width} columns but the lock expects {len(names)} "
            f"({', '.join(names[:10])}{', ...' if len(names) > 10 else ''}); "
            "pass an array with one column per locked column, in locked order"
        )
    arrays = {name: matrix[:, i] for i, name in enumerate(names)}
    return Columns(kind, names, arrays, {}, matrix.shape[0], named=False, matrix=matrix)


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


def allocator(read: Columns) -> Callable[[tuple[int, int], type], np.ndarray]:
    """How to allocate a transform's arrays for the container ``read`` came from:
    frames (pandas, polars, pyarrow), whose outputs wrap them, take them from Arrow's
    memory pool (see :func:`normlock.frames.arrow_io.empty`); arrays and dicts of arrays
    get numpy's own."""
    if read.kind in ("pandas", "polars", "arrow"):
        from normlock.frames import arrow_io

        return arrow_io.empty
    return np.empty


def is_numeric(array: np.ndarray) -> bool:
    """Whether a column can be normalized (floats, integers, booleans)."""
    return array.dtype.kind in "fiub"


def write_columns(
    original: Any,
    read: Columns,
    outputs: Mapping[str, np.ndarray],
    matrix: np.ndarray | None = None,
) -> Any:
    """A container of ``original``'s type with ``outputs`` replacing those columns.

    ``matrix``, when given, holds the outputs of every column of ``read`` as one 2-D
    array in container order; numpy arrays and numpy-backed pandas frames are built
    from it without a copy. Nulls of the input stay nulls in containers that have
    them.
    """
    if read.kind == "numpy":
        if matrix is not None:
            return matrix
        dtypes = [outputs[n].dtype if n in outputs else read.arrays[n].dtype for n in read.names]
        result = np.empty((read.rows, len(read.names)), dtype=np.result_type(*dtypes))
        for i, name in enumerate(read.names):
            result[:, i] = outputs.get(name, read.arrays[name])
        return result
    if read.kind == "row":
        return write_columns(original.reshape(1, -1), replace(read, kind="numpy"), outputs, matrix)[
            0
        ]
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
        from normlock.frames import pandas_io

        return pandas_io.write(original, read.names, outputs, read.nulls, matrix)
    if read.kind == "polars":
        from normlock.frames import polars_io

        return polars_io.write(original, outputs, read.nulls)
    from normlock.frames import arrow_io

    return arrow_io.write(original, read.names, outputs, read.nulls)
