"""Exact, mergeable co-moments of a group of columns: ``n``, ``Σxᵢ`` and ``Σxᵢxⱼ``.

:class:`CoMoments` summarizes the rows whose values are all finite (complete cases; a
row with a NaN or an infinity in any of the columns is counted in ``skipped``). Its sums
are exact integers in units of ``2**-UNIT_BITS``, like the per-feature sums of
:class:`~normlock.stats.summary.Summary`, so any chunking and any merge order of the same
rows give the same summary, and the mean vector, the covariance matrix and the
correlation matrix are the float64 values nearest to their exact rational values.

The compiled pass (``_comoments.c``) slices every value into integers of 21 bits read
off its bits, so the Gram matrix of the slices is exact in float64 whatever the order of
its sums, and runs as a matrix product. A value with more significant bits below its
column's largest magnitude than six slices hold makes its row "dirty": such rows are
summed again by the same pass on their own (their columns' ranges are then narrower),
and the few that stay dirty are added with Python integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from normlock.errors import InputError
from normlock.stats.exact import UNIT_BITS
from normlock.stats.kernel import MIN_ROWS_PER_THREAD, run_parallel, threads
from normlock.stats.rounding import ratio_to_float, sqrt_ratio_to_float

try:
    from normlock.stats import _comoments  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - only without a C compiler at install time
    _comoments = None

MAX_COLUMNS = 512
"""The most columns one co-moment summary takes (its pass holds a square of their slices)."""

_WORD_BYTES = 48  # one column pair's total in the compiled pass: 384-bit two's complement
_SUBNORMAL_BITS = 1074  # every finite float64 is an integer multiple of 2**-1074

Block = np.ndarray | Sequence[np.ndarray]


def _pairs(d: int) -> int:
    return d * (d + 1) // 2


def _index(i: int, j: int, d: int) -> int:
    """Position of the pair ``(i, j)``, ``i <= j``, in the upper triangle row by row."""
    return i * d - i * (i - 1) // 2 + (j - i)


@dataclass(frozen=True)
class CoMoments:
    """Exact co-moments of ``columns`` columns over their complete rows.

    Attributes:
        columns: how many columns.
        count: complete rows (every value finite).
        skipped: rows left out for a NaN or an infinite value.
        sums: per column, the exact sum of its values, in units of ``2**-UNIT_BITS``.
        products: the exact sums of ``x_i * x_j`` for ``i <= j`` (upper triangle, row by
            row), in the same units.
    """

    columns: int
    count: int = 0
    skipped: int = 0
    sums: tuple[int, ...] = ()
    products: tuple[int, ...] = ()

    @classmethod
    def empty(cls, columns: int) -> CoMoments:
        """The summary of no rows of ``columns`` columns."""
        if not 1 <= columns <= MAX_COLUMNS:
            raise InputError(
                f"a co-moment summary takes 1 to {MAX_COLUMNS} columns, got {columns}; "
                "split the columns into smaller groups"
            )
        return cls(columns, 0, 0, (0,) * columns, (0,) * _pairs(columns))

    @classmethod
    def of(cls, block: Block) -> CoMoments:
        """The summary of a 2-D float array's rows, or of equal-length 1-D columns."""
        columns = _as_columns(block)
        summary = cls.empty(len(columns))
        rows = len(columns[0])
        if rows == 0:
            return summary
        if _comoments is None:  # pragma: no cover - without the compiled pass
            return summary.merge(_python_sums(columns))
        parts = max(1, min(threads(), rows // MIN_ROWS_PER_THREAD))
        bounds = [rows * k // parts for k in range(parts + 1)]
        pieces = run_parallel(
            lambda k: _compiled_sums([c[bounds[k] : bounds[k + 1]] for c in columns]),
            range(parts),
        )
        for piece in pieces:
            summary = summary.merge(piece)
        return summary

    def update(self, block: Block) -> CoMoments:
        """A new summary that also covers the rows of ``block``."""
        return self.merge(CoMoments.of(block))

    def merge(self, other: CoMoments) -> CoMoments:
        """The summary of the rows of both; neither argument changes."""
        if other.columns != self.columns:
            raise InputError(
                f"cannot merge co-moments of {self.columns} and {other.columns} columns"
            )
        return CoMoments(
            self.columns,
            self.count + other.count,
            self.skipped + other.skipped,
            tuple(a + b for a, b in zip(self.sums, other.sums, strict=True)),
            tuple(a + b for a, b in zip(self.products, other.products, strict=True)),
        )

    def mean(self) -> np.ndarray:
        """The correctly rounded mean of each column (NaN without rows)."""
        if self.count == 0:
            return np.full(self.columns, math.nan)
        return np.array([ratio_to_float(s, self.count << UNIT_BITS) for s in self.sums])

    def _centered(self, i: int, j: int) -> int:
        """``n * Σ (x_i - mean_i)(x_j - mean_j)`` in units of ``2**-(2 * UNIT_BITS)``."""
        product = self.products[_index(min(i, j), max(i, j), self.columns)]
        return self.count * (product << UNIT_BITS) - self.sums[i] * self.sums[j]

    def covariance(self, ddof: int = 0) -> np.ndarray:
        """The covariance matrix, each entry the float64 nearest to its exact value
        (NaN when ``count <= ddof``)."""
        d = self.columns
        out = np.full((d, d), math.nan)
        if self.count - ddof <= 0:
            return out
        scale = (self.count * (self.count - ddof)) << (2 * UNIT_BITS)
        for i in range(d):
            for j in range(i, d):
                out[i, j] = out[j, i] = ratio_to_float(self._centered(i, j), scale)
        return out

    def correlation(self) -> np.ndarray:
        """The correlation matrix, each entry the float64 nearest to its exact value; NaN
        off the diagonal of a constant column (and 1 on the diagonal of a varying one)."""
        d = self.columns
        out = np.full((d, d), math.nan)
        if self.count == 0:
            return out
        spread = [self._centered(i, i) for i in range(d)]
        for i in range(d):
            out[i, i] = 1.0 if spread[i] > 0 else math.nan
            for j in range(i + 1, d):
                if spread[i] > 0 and spread[j] > 0:
                    joint = self._centered(i, j)
                    size = sqrt_ratio_to_float(joint * joint, spread[i] * spread[j])
                    out[i, j] = out[j, i] = size if joint >= 0 else -size
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: exact sums as hex integer strings in ``2**-unit_bits`` units."""
        return {
            "columns": self.columns,
            "count": self.count,
            "skipped": self.skipped,
            "unit_bits": UNIT_BITS,
            "sums": [hex(s) for s in self.sums],
            "products": [hex(p) for p in self.products],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CoMoments:
        """Inverse of :meth:`to_dict`."""
        shift = UNIT_BITS - int(data["unit_bits"])
        if shift < 0:
            raise InputError("co-moments use finer units than this library supports")
        columns = int(data["columns"])
        sums = tuple(int(s, 16) << shift for s in data["sums"])
        products = tuple(int(p, 16) << shift for p in data["products"])
        if len(sums) != columns or len(products) != _pairs(columns):
            raise InputError(
                f"co-moments of {columns} columns need {columns} sums and "
                f"{_pairs(columns)} products"
            )
        return cls(columns, int(data["count"]), int(data["skipped"]), sums, products)


def _as_columns(block: Block) -> list[np.ndarray]:
    """The columns of ``block`` as 1-D float32/float64 arrays of one length."""
    if isinstance(block, np.ndarray):
        if block.ndim != 2:
            raise InputError(f"co-moments need a 2-D array, got {block.ndim}-D")
        columns = [block[:, j] for j in range(block.shape[1])]
    else:
        columns = [np.asarray(c) for c in block]
    found = [c if c.dtype in (np.float32, np.float64) else c.astype(np.float64) for c in columns]
    if len({len(c) for c in found}) > 1:
        raise InputError("co-moment columns must have the same length")
    if not found:
        raise InputError("co-moments need at least one column")
    return found


def _compiled_sums(columns: list[np.ndarray]) -> CoMoments:
    """The co-moments of ``columns`` through the compiled pass; its dirty rows through
    the pass again on their own, and when that leaves as many, with Python integers."""
    d = len(columns)
    raw, bases, skipped, left = _comoments.comoments(columns)
    totals = [
        int.from_bytes(raw[k : k + _WORD_BYTES], "little", signed=True)
        for k in range(0, len(raw), _WORD_BYTES)
    ]
    units = [
        totals[_index(i, j, d + 1)] << (bases[i] + bases[j] + UNIT_BITS)
        for i in range(d + 1)
        for j in range(i, d + 1)
    ]
    ones = d  # the pass's last column is the column of ones
    summary = CoMoments(
        d,
        totals[_index(ones, ones, d + 1)],
        skipped,
        tuple(units[_index(i, ones, d + 1)] for i in range(d)),
        tuple(units[_index(i, j, d + 1)] for i in range(d) for j in range(i, d)),
    )
    dirty = np.frombuffer(left, dtype=np.int64)
    if dirty.size == 0:
        return summary
    rows = [c[dirty] for c in columns]
    again = _compiled_sums(rows) if dirty.size < len(columns[0]) else _python_sums(rows)
    return summary.merge(again)


def _python_sums(columns: list[np.ndarray]) -> CoMoments:
    """The co-moments of ``columns`` with Python integers, row by row (for the few rows
    whose values span more binades than the compiled pass slices)."""
    d = len(columns)
    matrix = np.column_stack([c.astype(np.float64) for c in columns])
    complete = np.isfinite(matrix).all(axis=1)
    sums, products = [0] * d, [0] * _pairs(d)
    square_shift = UNIT_BITS - 2 * _SUBNORMAL_BITS
    for row in matrix[complete]:
        units = [_subnormal_units(float(v)) for v in row]
        for i in range(d):
            sums[i] += units[i]
            base = _index(i, i, d)
            for j in range(i, d):
                products[base + j - i] += units[i] * units[j]
    return CoMoments(
        d,
        int(complete.sum()),
        int((~complete).sum()),
        tuple(s << (UNIT_BITS - _SUBNORMAL_BITS) for s in sums),
        tuple(p << square_shift for p in products),
    )


def _subnormal_units(value: float) -> int:
    """A finite float64 as an exact integer in units of ``2**-1074``."""
    numerator, denominator = value.as_integer_ratio()
    return numerator << (_SUBNORMAL_BITS - (denominator.bit_length() - 1))
