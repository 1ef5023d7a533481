"""The compiled kernels, across threads, each with its numpy reference.

:func:`column_moments` returns, per column of a 2-D float array, the counts, extrema
(with the signs of zero extremes settled) and exact sums that a
:class:`~normlock.stats.summary.Summary` holds; in the same pass over the data it can
hash the rows (:func:`wide_row_hashes`, whose top bits are :func:`row_hashes`, see
:mod:`normlock.stats.rows`), keeping the hashes below a bound and their rows.
:func:`affine_columns` is the fused ``(x - center) / scale`` transform. The compiled
kernel (``_moments.c``, with AVX2 and AVX-512 paths in ``_moments_simd.c``, and ``_affine.c``)
releases the GIL, so row ranges run on several cores; the results are exact integers,
so the split cannot change them. Without the compiled kernel, the numpy
implementations (here and in :mod:`normlock.stats.exact`) give the same results, slower.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from normlock.stats import exact

try:
    from normlock.stats import _moments
except ImportError:  # pragma: no cover - only without a C compiler at install time
    _moments = None

MIN_ROWS_PER_THREAD = 1 << 14
HASH_BITS = 48
_GOLDEN = 0x9E3779B97F4A7C15
_MULTIPLIER = 0xD6E8FEB86659FD93
_CANONICAL_NAN = 0x7FF8000000000000


@dataclass(frozen=True)
class ColumnMoments:
    """Counts, extrema and exact sums (units of ``2**-UNIT_BITS``) of one column."""

    count: int
    nan: int
    posinf: int
    neginf: int
    min: float
    max: float
    sum_units: int
    sum_sq_units: int


def threads() -> int:
    """Worker threads for the kernel: ``NORMLOCK_THREADS``, else the CPUs available."""
    configured = os.environ.get("NORMLOCK_THREADS")
    if configured:
        return max(1, int(configured))
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


_POOL: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_POOL.clear)


def run_parallel(function: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[function(item) for item in items]`` on a shared pool of threads (the kernels
    release the GIL); inline for one item."""
    if len(items) <= 1:
        return [function(item) for item in items]
    workers = threads()
    with _POOL_LOCK:
        pool = _POOL.get(workers)
        if pool is None:
            pool = _POOL[workers] = ThreadPoolExecutor(workers, thread_name_prefix="normlock")
    return list(pool.map(function, items))


def row_ranges(rows: int) -> list[tuple[int, int]]:
    """Row ranges to split a kernel call over: one per thread, each of a useful size."""
    workers = min(threads(), max(1, rows // MIN_ROWS_PER_THREAD))
    bounds = np.linspace(0, rows, workers + 1).astype(int)
    return list(itertools.pairwise(bounds))


def _exact_sum(raw: bytes) -> int:
    """The kernel's exact sum: little-endian two's complement bytes."""
    return int.from_bytes(raw, "little", signed=True)


def _rows(data: np.ndarray | list[np.ndarray], a: int, b: int) -> np.ndarray | list[np.ndarray]:
    return data[a:b] if isinstance(data, np.ndarray) else [c[a:b] for c in data]


def _compiled(
    data: np.ndarray | list[np.ndarray], hash_below: int | None
) -> tuple[list[list[tuple]], np.ndarray | None, np.ndarray | None]:
    """The kernel over row ranges of a matrix or of a list of columns, one per thread:
    each range's results, and the wide hashes below ``hash_below`` with their rows, in
    row order."""
    # the kernel keeps the hashes at most a bound, which 2**64 - 1 is for every hash
    most = None if hash_below is None or hash_below <= 0 else min(hash_below, 2**64) - 1

    def run(bound: tuple[int, int]) -> tuple[list[tuple], bytes | None, bytes | None]:
        a, b = bound
        return _moments.moments(_rows(data, a, b), most)

    rows = data.shape[0] if isinstance(data, np.ndarray) else len(data[0])
    bounds = row_ranges(rows)
    parts = run_parallel(run, bounds)
    columns = [found for found, _, _ in parts]
    if hash_below is None:
        return columns, None, None
    if most is None:  # no hash is below 0
        return columns, np.empty(0, np.uint64), np.empty(0, np.int64)
    hashes = [np.frombuffer(kept or b"", dtype=np.uint64) for _, kept, _ in parts]
    where = [
        np.frombuffer(at or b"", dtype=np.int64) + a
        for (_, _, at), (a, _) in zip(parts, bounds, strict=True)
    ]
    return columns, np.concatenate(hashes), np.concatenate(where)


def _zero_signed(value: float, negzero: bool, poszero: bool, *, lowest: bool) -> float:
    if value != 0.0:
        return value
    if lowest:
        return -0.0 if negzero else 0.0
    return 0.0 if poszero else -0.0


@dataclass(frozen=True)
class ColumnsPass:
    """What one pass over a block's columns found (see :func:`column_moments`)."""

    moments: list[ColumnMoments]
    hashes: np.ndarray | None  # the rows' wide hashes below the bound asked for, in row order
    rows: np.ndarray | None  # the rows of those hashes


def column_moments(
    block: np.ndarray | Sequence[np.ndarray], hash_below: int | None = None
) -> ColumnsPass:
    """Moments of each column of a 2-D float32/float64 array (any strides), or of each
    1-D array of a list of equal-length columns (no copy into one matrix).

    In the same pass over the data, with ``hash_below``, computes every row's
    :func:`wide_row_hashes` value and keeps those below it, with their rows.
    """
    data = readable(block) if isinstance(block, np.ndarray) else [readable(c) for c in block]
    matrix = isinstance(data, np.ndarray)
    columns = list(data.T) if matrix else data
    floats = (np.float32, np.float64)
    compiled = data.dtype in floats if matrix else all(c.dtype in floats for c in columns)
    if _moments is not None and compiled and columns:
        parts, hashes, rows = _compiled(data, hash_below)
        return ColumnsPass(_combine(parts, len(columns)), hashes, rows)
    hashes = rows = None
    if hash_below is not None:
        hashes = wide_row_hashes(columns)
        rows = np.flatnonzero(hashes < np.uint64(hash_below))
        hashes = hashes[rows]
    if matrix:
        return ColumnsPass(_numpy_moments(data), hashes, rows)
    moments = [m for c in columns for m in _numpy_moments(c.reshape(-1, 1))]
    return ColumnsPass(moments, hashes, rows)


def readable(array: Any) -> np.ndarray:
    """``array`` as the compiled kernels read it: aligned, in native byte order, with
    numpy's own dtype object.

    An array deserialized on a Dask worker can sit unaligned in the buffer it arrived in
    (its buffer format is then ``=f``), and a native dtype can be spelled ``<f4`` (format
    ``<f``); the kernels read neither. A misspelled native dtype is viewed with the plain
    one (no copy); an unaligned or non-native float array is copied.
    """
    array = np.asarray(array)
    dtype = array.dtype
    if dtype.kind != "f":
        return array
    plain = np.dtype(dtype.char)
    if not array.flags.aligned or not dtype.isnative:
        return np.array(array, dtype=plain)
    return array if dtype is plain else array.view(plain)


def _combine(results: list[list[tuple]], columns: int) -> list[ColumnMoments]:
    """One :class:`ColumnMoments` per column from the kernel's per-thread results."""
    return [_combined([part[column] for part in results]) for column in range(columns)]


def _combined(parts: list[tuple]) -> ColumnMoments:
    """One column's moments from its row ranges' results."""
    if len(parts) == 1:  # one range: nothing to add up
        count, nan, posinf, neginf, low, high, negzero, poszero, raw_sum, raw_sq = parts[0]
        sums, squares = _exact_sum(raw_sum), _exact_sum(raw_sq)
    else:
        count, nan, posinf, neginf = (sum(p[i] for p in parts) for i in range(4))
        low, high = min(p[4] for p in parts), max(p[5] for p in parts)
        negzero, poszero = any(p[6] for p in parts), any(p[7] for p in parts)
        sums, squares = (sum(_exact_sum(p[i]) for p in parts) for i in (8, 9))
    return ColumnMoments(
        count=count,
        nan=nan,
        posinf=posinf,
        neginf=neginf,
        min=_zero_signed(low, bool(negzero), bool(poszero), lowest=True),
        max=_zero_signed(high, bool(negzero), bool(poszero), lowest=False),
        sum_units=sums,
        sum_sq_units=squares,
    )


def _numpy_moments(block: np.ndarray) -> list[ColumnMoments]:
    """The same results from numpy alone (reference implementation and fallback)."""
    data = block.astype(np.float64, copy=False)
    finite = np.isfinite(data)
    clean = np.where(finite, data, 0.0)
    sums, squares = exact.exact_moment_sums(
        clean, exact_square=block.dtype.kind == "f" and block.dtype.itemsize <= 4
    )
    out = []
    for j in range(data.shape[1]):
        values = data[finite[:, j], j]
        zeros = values[values == 0.0]
        negzero, poszero = bool(np.signbit(zeros).any()), bool((~np.signbit(zeros)).any())
        low = float(values.min()) if values.size else math.inf
        high = float(values.max()) if values.size else -math.inf
        out.append(
            ColumnMoments(
                count=int(values.size),
                nan=int(np.isnan(data[:, j]).sum()),
                posinf=int(np.isposinf(data[:, j]).sum()),
                neginf=int(np.isneginf(data[:, j]).sum()),
                min=_zero_signed(low, negzero, poszero, lowest=True),
                max=_zero_signed(high, negzero, poszero, lowest=False),
                sum_units=sums[j],
                sum_sq_units=squares[j],
            )
        )
    return out


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place on a ``uint64`` array (wraps mod 2**64)."""
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def row_hashes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """The 48-bit hash ``normlock-row-v1`` of every row of equal-length numeric
    ``columns`` (``uint64``); :mod:`normlock.stats.rows` defines it."""
    return _row_hashes(columns, wide=False)


def wide_row_hashes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """The 64 bits whose top :data:`HASH_BITS` are :func:`row_hashes` (the rows' keys
    for the reference sample of :mod:`normlock.stats.sample`)."""
    return _row_hashes(columns, wide=True)


def _row_hashes(columns: Sequence[np.ndarray], *, wide: bool) -> np.ndarray:
    floats = _hashable(columns)
    if _moments is None:
        hashes = _numpy_wide_row_hashes(floats)
        return hashes if wide else hashes >> np.uint64(64 - HASH_BITS)
    out = np.empty(len(floats[0]), dtype=np.uint64)
    run_parallel(
        lambda r: _moments.row_hash(_rows(floats, *r), out[r[0] : r[1]], wide),
        row_ranges(len(out)),
    )
    return out


def _hashable(columns: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``columns`` checked for equal lengths, as float32/float64 arrays."""
    if not columns:
        raise ValueError("row_hashes needs at least one column")
    rows = len(columns[0])
    for position, column in enumerate(columns):
        if np.shape(column) != (rows,):
            raise ValueError(f"column {position} has shape {np.shape(column)}, expected ({rows},)")
    return [
        readable(c) if c.dtype in (np.float32, np.float64) else np.asarray(c, np.float64)
        for c in columns
    ]


def _numpy_wide_row_hashes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """The reference implementation of the wide row hash (and the fallback)."""
    rows = len(columns[0])
    state = _mix(np.full(rows, len(columns), dtype=np.uint64))
    for position, column in enumerate(columns):
        values = np.array(column, dtype=np.float64)  # a copy: zeros and NaNs are rewritten
        values[values == 0.0] = 0.0
        bits = values.view(np.uint64)
        bits[np.isnan(values)] = _CANONICAL_NAN
        bits += np.uint64((_GOLDEN * (position + 1)) % 2**64)
        state ^= bits
        state *= np.uint64(_MULTIPLIER)
        state ^= state >> np.uint64(32)
    return _mix(state)


@dataclass(frozen=True)
class AffineResult:
    """Output of :func:`affine_columns` with per-column counts of the inputs it met."""

    out: np.ndarray
    nan: np.ndarray
    inf: np.ndarray
    overflow: np.ndarray


_LANES = 16  # a contiguous column runs through the affine kernel as rows of this many values
_NO_COUNTS = (0, 0, 0)


def affine_columns(
    block: np.ndarray | Sequence[np.ndarray],
    centers: np.ndarray,
    scales: np.ndarray,
    out_dtype: type,
    out: np.ndarray | None = None,
    allocate: Callable[[tuple[int, int], type], np.ndarray] = np.empty,
) -> AffineResult | None:
    """``(block - centers) / scales`` in float64, rounded once to ``out_dtype``, in one
    fused pass per element across threads (into ``out`` when given, else into a C-ordered
    array from ``allocate(shape, dtype)`` that it lays out); None without the compiled
    kernel or for columns that are not float32/float64.

    ``block`` is a 2-D array of any layout, or a sequence of equal-length 1-D columns
    (not copied into one matrix). A matrix whose rows are contiguous runs row by row and
    its output is C-ordered; any other input runs column by column (a contiguous column as
    rows of ``_LANES`` values that share its center and scale) and its output is
    F-ordered, each output column contiguous.
    """
    if _moments is None:
        return None
    floats = (np.float32, np.float64)
    if isinstance(block, np.ndarray):
        if block.dtype not in floats:
            return None
        block = readable(block)
        by_rows = block.strides[1] == block.itemsize and block.shape[1] > 1
        columns = None if by_rows else list(block.T)
        rows, width = block.shape
    else:
        columns = [readable(c) for c in block]
        if any(c.dtype not in floats or c.ndim != 1 for c in columns):
            return None
        rows, width = (len(columns[0]) if columns else 0), len(columns)
        if any(len(c) != rows for c in columns):
            raise ValueError(f"columns of different lengths: {sorted({len(c) for c in columns})}")
    if out is None and columns is None:
        out = allocate((rows, width), out_dtype)
    elif out is None:  # F-ordered: each column's output contiguous
        out = allocate((width, rows), out_dtype).T
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    scales = np.ascontiguousarray(scales, dtype=np.float64)
    if columns is not None:  # each column's center and scale in every lane
        lanes_c, lanes_s = (np.repeat(v, _LANES).reshape(-1, _LANES) for v in (centers, scales))

    def run(bound: tuple[int, int]) -> list[tuple[int, int, int]]:
        a, b = bound
        if columns is None:
            return _moments.affine(block[a:b], out[a:b], centers, scales)  # type: ignore[index]
        return [
            _affine_column(column[a:b], out[a:b, j], lanes_c[j], lanes_s[j])
            for j, column in enumerate(columns)
        ]

    parts = run_parallel(run, row_ranges(rows))
    if all(part.count(_NO_COUNTS) == len(part) for part in parts):  # the usual case
        return AffineResult(out, *(np.zeros(width, dtype=np.int64) for _ in range(3)))
    counts = np.array(parts, dtype=np.int64).sum(axis=0)
    return AffineResult(out, counts[:, 0], counts[:, 1], counts[:, 2])


def _affine_column(
    x: np.ndarray, y: np.ndarray, centers: np.ndarray, scales: np.ndarray
) -> tuple[int, int, int]:
    """One column ``x`` into ``y`` through the affine kernel, with its (nan, inf, overflow)
    counts: contiguous values as rows of ``len(centers)`` lanes and one row for the rest;
    strided values one per row."""
    if x.strides[0] != x.itemsize or y.strides[0] != y.itemsize:
        parts = _moments.affine(_one_per_row(x), _one_per_row(y), centers[:1], scales[:1])
    else:
        lanes = len(centers)
        whole = len(x) - len(x) % lanes
        parts = _moments.affine(
            x[:whole].reshape(-1, lanes), y[:whole].reshape(-1, lanes), centers, scales
        )
        if whole < len(x):
            rest = len(x) - whole
            parts += _moments.affine(
                x[whole:].reshape(1, -1), y[whole:].reshape(1, -1), centers[:rest], scales[:rest]
            )
    if parts.count(_NO_COUNTS) == len(parts):
        return _NO_COUNTS
    nan, inf, overflow = (sum(counts) for counts in zip(*parts, strict=True))
    return nan, inf, overflow


def _one_per_row(column: np.ndarray) -> np.ndarray:
    """A 1-D array as a one-column matrix whose rows the kernel reads as contiguous."""
    return np.lib.stride_tricks.as_strided(
        column,
        (len(column), 1),
        (column.strides[0], column.itemsize),
        writeable=column.flags.writeable,
    )
