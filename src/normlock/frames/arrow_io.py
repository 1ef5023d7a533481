"""pyarrow tables and record batches as numpy columns and back.

A numeric column in one chunk without nulls is read without a copy; one with nulls is
read as floats with NaN in their place, and its null mask; a float one with nulls also
as its stored values (a view), the floats with NaN then made only when asked for.
Output columns are wrapped without a copy, their nulls where the input's were.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from normlock.errors import InputError
from normlock.frames import Columns, Read, frame_columns

Table = pa.Table | pa.RecordBatch


def read(table: Table) -> Columns:
    """The columns of ``table`` (see :func:`read_column`)."""
    names = tuple(table.schema.names)
    if len(set(names)) != len(names):
        raise InputError("the Arrow table has duplicate column names; make them unique")
    reads = [read_column(column) for column in table.columns]
    return frame_columns("arrow", names, reads, table.num_rows)


def is_numeric_type(kind: pa.DataType) -> bool:
    """Whether an Arrow type is an integer, float or boolean."""
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def read_column(column: pa.Array | pa.ChunkedArray) -> Read:
    """A column as a 1-D numpy array (a view for one chunk of numbers without nulls); for
    a numeric column with nulls, as floats with NaN in their place and its null mask, and
    for a float32/float64 one with nulls, also its stored values, the floats being made
    on first use."""
    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if not (is_numeric_type(column.type) and column.null_count):
        return column.to_numpy(zero_copy_only=False), None, None
    target = pa.float32() if column.type == pa.float32() else pa.float64()

    def with_nan() -> np.ndarray:
        return column.cast(target).fill_null(np.nan).to_numpy(zero_copy_only=False)

    if column.type not in (pa.float32(), pa.float64()):
        return with_nan(), null_mask(column), None
    dtype = column.type.to_pandas_dtype()
    own = np.frombuffer(column.buffers()[1], dtype=dtype, count=column.offset + len(column))
    return with_nan, null_mask(column), own[column.offset :]


def null_mask(array: pa.Array) -> np.ndarray:
    """Where ``array`` (which has nulls) is null, from its validity bitmap."""
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    valid = np.unpackbits(bits, count=array.offset + len(array), bitorder="little")
    return valid[array.offset :] == 0


def arrow_array(values: np.ndarray, nulls: np.ndarray | None) -> pa.Array:
    """A 1-D numeric numpy array as an Arrow array without a copy (of a contiguous one),
    null where ``nulls``."""
    if nulls is None:
        return pa.array(values)
    values = np.ascontiguousarray(values)
    validity = pa.py_buffer(np.packbits(~nulls, bitorder="little"))
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [validity, pa.py_buffer(values)])


def empty(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """An uninitialized C-ordered array in Arrow's memory pool. The pool keeps freed
    memory for the next allocation where the system allocator gives large blocks back
    to the system, so a transform's output need not have its pages faulted in again."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if not size:
        return np.empty(shape, dtype)
    return np.frombuffer(pa.allocate_buffer(size), dtype=dtype).reshape(shape)


def write(
    table: Table,
    names: tuple[str, ...],
    outputs: Mapping[str, np.ndarray],
    nulls: Mapping[str, np.ndarray],
) -> Table:
    """``table`` with ``outputs`` replacing those columns (same type, schema metadata and
    order; nulls where the input's were)."""
    arrays = []
    fields = []
    for position, name in enumerate(names):
        if name in outputs:
            array = arrow_array(outputs[name], nulls.get(name))
            arrays.append(array)
            fields.append(pa.field(name, array.type))
        else:
            arrays.append(table.column(position))
            fields.append(table.schema.field(position))
    schema = pa.schema(fields, metadata=table.schema.metadata)
    if isinstance(table, pa.Table):
        return pa.Table.from_arrays(arrays, schema=schema)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
