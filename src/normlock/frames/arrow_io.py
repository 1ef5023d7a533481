"""pyarrow tables and record batches as numpy columns and back.

A numeric column in one chunk without nulls is read without a copy; one with nulls is
read as floats with NaN in their place, and its null mask. Output columns are wrapped
without a copy, their nulls where the input's were.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from normlock.errors import InputError

Table = pa.Table | pa.RecordBatch


def read(table: Table) -> tuple[tuple[str, ...], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Names, columns and null masks (for columns with nulls) of ``table``."""
    names = tuple(table.schema.names)
    if len(set(names)) != len(names):
        raise InputError("the Arrow table has duplicate column names; make them unique")
    arrays: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    for name, column in zip(names, table.columns, strict=True):
        arrays[name], mask = numpy_column(column)
        if mask is not None:
            nulls[name] = mask
    return names, arrays, nulls


def is_numeric_type(kind: pa.DataType) -> bool:
    """Whether an Arrow type is an integer, float or boolean."""
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def numpy_column(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
    """A column as a 1-D numpy array (a view for one chunk of numbers without nulls) and,
    for a numeric column with nulls, its null mask (the values then NaN there)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if is_numeric_type(column.type) and column.null_count:
        target = pa.float32() if column.type == pa.float32() else pa.float64()
        values = column.cast(target).fill_null(np.nan).to_numpy(zero_copy_only=False)
        return values, null_mask(column)
    return column.to_numpy(zero_copy_only=False), None


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
