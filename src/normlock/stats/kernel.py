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
from dataclasses import dataclass, replace
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
    """Counts, extrema and exact sums (units of ``2**-UNIT_BITS``) of one column; the sum
    of squares is None where the pass was not asked for it."""

    count: int
    nan: int
    posinf: int
    neginf: int
    min: float
    max: float
    sum_units: int
    sum_sq_units: int | None

    def merge(self, other: ColumnMoments) -> ColumnMoments:
        """The moments of the values of both (a sum of squares only where both have one)."""
        return ColumnMoments(**merged_moments(self, other))


def merged_moments(a: Any, b: Any) -> dict[str, Any]:
    """The moment fields (those of :class:`ColumnMoments`) of the values of ``a`` and
    ``b``, any two objects that have them: a sum of squares only where both have one."""
    squares = None
    if a.sum_sq_units is not None and b.sum_sq_units is not None:
        squares = a.sum_sq_units + b.sum_sq_units
    return {
        "count": a.count + b.count,
        "nan": a.nan + b.nan,
        "posinf": a.posinf + b.posinf,
        "neginf": a.neginf + b.neginf,
        "min": min_total_order(a.min, b.min),
        "max": max_total_order(a.max, b.max),
        "sum_units": a.sum_units + b.sum_units,
        "sum_sq_units": squares,
    }


EMPTY_MOMENTS = ColumnMoments(0, 0, 0, 0, math.inf, -math.inf, 0, 0)


def min_total_order(a: float, b: float) -> float:
    """The smaller of ``a`` and ``b``, with -0.0 below +0.0."""
    if a == b == 0.0:
        return a if math.copysign(1.0, a) < 0 else b
    return min(a, b)


def max_total_order(a: float, b: float) -> float:
    """The larger of ``a`` and ``b``, with +0.0 above -0.0."""
    if a == b == 0.0:
        return a if math.copysign(1.0, a) > 0 else b
    return max(a, b)


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


_IN_POOL = threading.local()  # set in the pool's threads, whose calls run inline


def _mark_pool_thread() -> None:
    _IN_POOL.active = True


def run_parallel(function: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[function(item) for item in items]`` on a shared pool of threads (the kernels
    release the GIL); inline for one item, and inside the pool's own threads (which are
    all busy then: waiting on them would never end)."""
    if len(items) <= 1 or getattr(_IN_POOL, "active", False):
        return [function(item) for item in items]
    workers = threads()
    with _POOL_LOCK:
        pool = _POOL.get(workers)
        if pool is None:
            pool = _POOL[workers] = ThreadPoolExecutor(
                workers, thread_name_prefix="normlock", initializer=_mark_pool_thread
            )
    return list(pool.map(function, items))


def row_ranges(rows: int) -> list[tuple[int, int]]:
    """Row ranges to split a kernel call over: one per thread, each of a useful size."""
    workers = min(threads(), max(1, rows // MIN_ROWS_PER_THREAD))
    return list(itertools.pairwise(rows * w // workers for w in range(workers + 1)))


def _rows(data: np.ndarray | list[np.ndarray], a: int, b: int) -> np.ndarray | list[np.ndarray]:
    return data[a:b] if isinstance(data, np.ndarray) else [c[a:b] for c in data]


def _length(data: np.ndarray | list[np.ndarray]) -> int:
    return data.shape[0] if isinstance(data, np.ndarray) else len(data[0])


class Moments:
    """The running counts, extrema and exact sums of a block's columns over many chunks,
    held in the compiled kernel's accumulators (as :class:`ColumnMoments` without it).

    ``squares`` says which columns keep the exact sum of their squares (all when None);
    the others cost the pass less and report it as None. Mutable: :meth:`update` adds a
    chunk; :meth:`merge` returns new moments.
    """

    def __init__(self, columns: int, squares: Sequence[bool] | None = None) -> None:
        self.columns = columns
        self.squares = (True,) * columns if squares is None else tuple(map(bool, squares))
        if len(self.squares) != columns:
            raise ValueError(f"squares has {len(self.squares)} entries for {columns} columns")
        self._flags = None if all(self.squares) else bytes(self.squares)
        self._acc = _moments.accumulator(columns) if _moments is not None else None
        # what numpy computed where the kernel did not (None while it computed everything)
        self._folded: list[ColumnMoments] | None = (
            None if self._acc is not None else [EMPTY_MOMENTS] * columns
        )

    def update(
        self, block: np.ndarray | Sequence[np.ndarray], hash_below: int | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Add a chunk (a 2-D float array of any strides, or a list of equal-length 1-D
        columns); with ``hash_below``, also return the wide row hashes below it and their
        rows, in row order, found in the same pass over the data."""
        data = readable(block) if isinstance(block, np.ndarray) else [readable(c) for c in block]
        matrix = isinstance(data, np.ndarray)
        columns = list(data.T) if matrix else data
        if self._acc is not None and self.columns and all(c.dtype in _FLOATS for c in columns):
            return self._compiled(data, hash_below)
        found = _numpy_moments(data) if matrix else [_numpy_moments(c[:, None])[0] for c in columns]
        self._folded = [
            a.merge(b if keep else replace(b, sum_sq_units=None))
            for a, b, keep in zip(
                self._folded or [EMPTY_MOMENTS] * self.columns, found, self.squares, strict=True
            )
        ]
        if hash_below is None:
            return None
        hashes = wide_row_hashes(columns)
        rows = np.flatnonzero(hashes < np.uint64(hash_below)) if hash_below < 2**64 else None
        return (hashes, np.arange(len(hashes))) if rows is None else (hashes[rows], rows)

    def _compiled(
        self, data: np.ndarray | list[np.ndarray], hash_below: int | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The kernel over row ranges, one per thread, each into its own accumulator."""
        acc = self._acc
        bounds = row_ranges(_length(data))
        accs = [acc, *(_moments.accumulator(self.columns) for _ in bounds[1:])]
        if hash_below is None or hash_below <= 0:  # no hash is below 0
            run_parallel(
                lambda i: _moments.moments(_rows(data, *bounds[i]), accs[i], self._flags),
                range(len(bounds)),
            )
            found = None if hash_below is None else (np.empty(0, np.uint64), np.empty(0, np.int64))
        else:
            # the kernel keeps the hashes at most a bound, which 2**64 - 1 is for every hash
            most = min(hash_below, 2**64) - 1
            hashes = np.empty(_length(data), np.uint64)
            rows = np.empty(len(hashes), np.int64)

            def run(i: int) -> int:
                a, b = bounds[i]
                return _moments.moments(
                    _rows(data, a, b), accs[i], self._flags, hashes[a:b], rows[a:b], most
                )

            found = _compacted(hashes, rows, bounds, run_parallel(run, range(len(bounds))))
        for part in accs[1:]:
            _moments.combine(acc, part)
        return found

    def merge(self, other: Moments) -> Moments:
        """The moments of the chunks of both; neither changes."""
        if (other.columns, other.squares) != (self.columns, self.squares):
            raise ValueError("cannot merge the moments of different columns")
        merged = Moments(self.columns, self.squares)
        if merged._acc is not None:
            merged._acc = bytearray(self._acc)
            _moments.combine(merged._acc, bytearray(other._acc))
        if self._folded is not None or other._folded is not None:
            empty = [EMPTY_MOMENTS] * self.columns
            pairs = zip(self._folded or empty, other._folded or empty, strict=True)
            merged._folded = [a.merge(b) for a, b in pairs]
        return merged

    def counts(self) -> np.ndarray:
        """Every column's finite, NaN, +inf and -inf values so far (``columns x 4``)."""
        found = np.zeros((self.columns, 4), np.int64)
        if self._acc is not None:
            found += np.frombuffer(_moments.counts(self._acc), np.int64).reshape(-1, 4)
        if self._folded is not None:
            found += np.array(
                [(m.count, m.nan, m.posinf, m.neginf) for m in self._folded], np.int64
            ).reshape(-1, 4)
        return found

    def result(self) -> list[ColumnMoments]:
        """Every column's moments over the chunks seen."""
        if self._acc is None:
            return list(self._folded or ())
        counts, extrema, zeros, sums, squares = _moments.unpack(self._acc)
        n = np.frombuffer(counts, np.int64).reshape(-1, 4).tolist()
        e = np.frombuffer(extrema, np.float64).reshape(-1, 2).tolist()
        width = len(sums) // self.columns if self.columns else 0
        found = []
        for j, keep in enumerate(self.squares):
            part = slice(j * width, (j + 1) * width)
            negzero, poszero = bool(zeros[2 * j]), bool(zeros[2 * j + 1])
            moments = ColumnMoments(
                *n[j],
                min=_zero_signed(e[j][0], negzero, poszero, lowest=True),
                max=_zero_signed(e[j][1], negzero, poszero, lowest=False),
                sum_units=int.from_bytes(sums[part], "little", signed=True),
                sum_sq_units=int.from_bytes(squares[part], "little", signed=True) if keep else None,
            )
            found.append(moments if self._folded is None else moments.merge(self._folded[j]))
        return found


_FLOATS = (np.float32, np.float64)


def _compacted(
    hashes: np.ndarray, rows: np.ndarray, bounds: list[tuple[int, int]], kept: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The kept hashes and rows of every range, which the kernel wrote at each range's
    start (rows counted within it), as one pair of arrays in row order."""
    if len(bounds) == 1:
        return hashes[: kept[0]], rows[: kept[0]]
    pieces = [
        (hashes[a : a + k], rows[a : a + k] + a) for (a, _), k in zip(bounds, kept, strict=True)
    ]
    return np.concatenate([h for h, _ in pieces]), np.concatenate([r for _, r in pieces])


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
    block: np.ndarray | Sequence[np.ndarray],
    hash_below: int | None = None,
    squares: Sequence[bool] | None = None,
) -> ColumnsPass:
    """Moments of each column of a 2-D float32/float64 array (any strides), or of each
    1-D array of a list of equal-length columns (no copy into one matrix); the sums of
    squares of the columns ``squares`` marks (all when None).

    In the same pass over the data, with ``hash_below``, computes every row's
    :func:`wide_row_hashes` value and keeps those below it, with their rows.
    """
    width = block.shape[1] if isinstance(block, np.ndarray) else len(block)
    moments = Moments(width, squares)
    found = moments.update(block, hash_below)
    hashes, rows = (None, None) if found is None else found
    return ColumnsPass(moments.result(), hashes, rows)


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


def sort_pairs(keys: np.ndarray, payload: np.ndarray) -> None:
    """Sort the 64-bit ``keys`` (``uint64``, or non-negative ``int64``) ascending in place,
    and their ``int64`` ``payload`` with them (in any order among equal keys): linear
    time for keys spread evenly over their range, as hashes and row numbers are."""
    if _moments is not None and len(keys) > 1:
        _moments.sort_pairs(keys, payload, int(keys.max()))
        return
    order = np.argsort(keys, kind="stable")
    keys[:] = keys[order]
    payload[:] = payload[order]


def gather_rows(
    block: np.ndarray | Sequence[np.ndarray], picked: np.ndarray, spare: int = 0
) -> np.ndarray:
    """The float64 values of ``block``'s rows ``picked`` (a 2-D float array or a list of
    float columns) as a ``(len(picked), columns + spare)`` array, as the row hash reads
    them (-0.0 as +0.0, every NaN as one NaN); the ``spare`` last columns are left for the
    caller to fill. The array is laid out as the block is (C-ordered for a matrix whose
    rows hold adjacent values, else F-ordered), so that rows in increasing order are read
    and written in memory order."""
    data = readable(block) if isinstance(block, np.ndarray) else [readable(c) for c in block]
    columns = list(data.T) if isinstance(data, np.ndarray) else data
    picked = np.ascontiguousarray(picked, dtype=np.int64)
    width, rows = len(columns) + spare, len(picked)
    compiled = _moments is not None and columns and all(c.dtype in _FLOATS for c in columns)
    if compiled and _moments.rows_adjacent(data):
        out = np.empty((rows, width))
        pitch = width
    else:
        out = np.empty((width, rows)).T  # F-ordered: each column contiguous
        pitch = rows
    if compiled:
        buffer = out if out.flags.c_contiguous else out.T
        run_parallel(
            lambda r: _moments.gather_rows(data, picked, buffer, pitch, len(columns), *r),
            row_ranges(rows),
        )
        return out
    gathered = out[:, : len(columns)]
    for j, column in enumerate(columns):
        gathered[:, j] = column[picked]
    np.add(gathered, 0.0, out=gathered)  # -0.0 + 0.0 is +0.0
    gathered[np.isnan(gathered)] = np.nan
    return out


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
