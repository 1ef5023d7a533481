"""The mergeable per-feature summary: counts, extrema, exact moments and quantiles.

A :class:`Summary` is immutable. :meth:`Summary.update` and :meth:`Summary.merge`
return new summaries; merging is exactly associative and commutative for everything but
a sketch-mode quantile store, so any chunking of the same rows gives the same summary.

Edge semantics:

* NaN is counted in ``nan`` and skipped; +inf and -inf are counted and skipped (the
  caller's policy decides whether they are an error).
* ``min``/``max`` order -0.0 before +0.0, so the stored sign of a zero extreme does not
  depend on the order values arrive in.
* Mean, variance and standard deviation are the float64 values nearest to the exact
  rational results over the finite values (see :mod:`normlock.stats.rounding`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from normlock.stats.exact import UNIT_BITS
from normlock.stats.kernel import (
    ColumnMoments,
    column_moments,
    merged_moments,
)
from normlock.stats.quantiles import DEFAULT_EXACT_LIMIT, QuantileStore
from normlock.stats.rounding import (
    ratio_to_float,
    scaled_ratio_to_float,
    scaled_sqrt_ratio_to_float,
)


def _as_columns(block: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """The columns of a 2-D array, or the given list, as float32/float64 1-D arrays."""
    if isinstance(block, np.ndarray):
        if block.ndim != 2:
            raise ValueError(f"of_columns needs a 2-D array, got {block.ndim}-D")
        columns = [block[:, j] for j in range(block.shape[1])]
    else:
        columns = [np.asarray(c) for c in block]
    return [c if c.dtype in (np.float32, np.float64) else c.astype(np.float64) for c in columns]


def _trailing_zeros(value: int) -> int:
    """The number of trailing zero bits of a nonzero integer."""
    return (value & -value).bit_length() - 1


@dataclass(frozen=True)
class Summary:
    """Streaming summary of one feature's values.

    Attributes:
        count: number of finite values.
        nan: number of NaN values.
        posinf: number of +inf values.
        neginf: number of -inf values.
        min: smallest finite value (+inf when ``count == 0``).
        max: largest finite value (-inf when ``count == 0``).
        sum_units: exact sum of the finite values, in units of ``2**-UNIT_BITS``.
        sum_sq_units: exact sum of their squares, in the same units; None in a summary
            made without it (a fit whose chain reads no variance of these values).
        quantiles: the quantile store of the finite values.
    """

    count: int = 0
    nan: int = 0
    posinf: int = 0
    neginf: int = 0
    min: float = math.inf
    max: float = -math.inf
    sum_units: int = 0
    sum_sq_units: int | None = 0
    quantiles: QuantileStore = field(default_factory=QuantileStore)

    @classmethod
    def empty(cls, exact_limit: int = DEFAULT_EXACT_LIMIT) -> Summary:
        """A summary of no values whose quantiles stay exact up to ``exact_limit`` values."""
        return cls(quantiles=QuantileStore(limit=exact_limit))

    @classmethod
    def of_columns(
        cls, block: np.ndarray | Sequence[np.ndarray], exact_limit: int = DEFAULT_EXACT_LIMIT
    ) -> list[Summary]:
        """Summaries of each column of a 2-D float array (or of a list of equal-length
        1-D columns), computed together, every finite value kept in the quantile store
        (up to ``exact_limit``, then a sample)."""
        columns = _as_columns(block)
        matrix = isinstance(block, np.ndarray) and block.dtype in (np.float32, np.float64)
        found = column_moments(block if matrix else columns)
        return [
            cls.of_moments(m, QuantileStore(exact_limit).update(column, m.count))
            for column, m in zip(columns, found.moments, strict=True)
        ]

    @classmethod
    def of_moments(cls, moments: ColumnMoments, quantiles: QuantileStore | None = None) -> Summary:
        """The summary of a column with these counts, extrema and sums (and quantile
        store: none by default, for a summary that answers no quantile query)."""
        return cls(
            count=moments.count,
            nan=moments.nan,
            posinf=moments.posinf,
            neginf=moments.neginf,
            min=moments.min,
            max=moments.max,
            sum_units=moments.sum_units,
            sum_sq_units=moments.sum_sq_units,
            quantiles=QuantileStore() if quantiles is None else quantiles,
        )

    def update(self, values: np.ndarray) -> Summary:
        """A new summary that also covers the 1-D array ``values``."""
        values = np.asarray(values)
        if values.ndim != 1:
            raise ValueError(f"update needs a 1-D array, got {values.ndim}-D")
        (chunk,) = Summary.of_columns(values.reshape(-1, 1), self.quantiles.limit)
        return self.merge(chunk)

    def merge(self, other: Summary) -> Summary:
        """A new summary of the values of both; neither argument changes."""
        return Summary(
            **merged_moments(self, other), quantiles=self.quantiles.merge(other.quantiles)
        )

    @property
    def total(self) -> int:
        """Number of values of every kind: finite, NaN and infinite."""
        return self.count + self.nan + self.posinf + self.neginf

    @property
    def mean(self) -> float:
        """Correctly rounded mean of the finite values (NaN if there are none)."""
        if self.count == 0:
            return math.nan
        return ratio_to_float(self.sum_units, self.count << UNIT_BITS)

    def _centered_square_sum(self) -> tuple[int, int]:
        """``n * sum((x - mean)**2)`` exactly, as ``(numerator, exponent)``: it equals
        ``numerator * 2**exponent``, with the powers of two that both sums share taken out
        (the sums are multiples of ``2**-UNIT_BITS``, far finer than most data needs), so
        that the rounding below works on integers of the data's own width."""
        if self.sum_sq_units is None:
            raise ValueError("this summary keeps no sum of squares, so no variance")
        total, squares = self.sum_units, self.sum_sq_units
        if squares == 0:
            return 0, 0
        zeros_total = _trailing_zeros(total) if total else 2 * squares.bit_length() + UNIT_BITS
        zeros_squares = _trailing_zeros(squares)
        common = min(2 * zeros_total, zeros_squares + UNIT_BITS)
        numerator = self.count * (squares << (zeros_squares + UNIT_BITS - common) >> zeros_squares)
        if total:
            numerator -= (total >> zeros_total) ** 2 << (2 * zeros_total - common)
        return numerator, common - 2 * UNIT_BITS

    def variance(self, ddof: int = 0) -> float:
        """Correctly rounded variance with ``ddof`` delta degrees of freedom."""
        if self.count - ddof <= 0:
            return math.nan
        numerator, exponent = self._centered_square_sum()
        return scaled_ratio_to_float(numerator, self.count * (self.count - ddof), exponent)

    def std(self, ddof: int = 0) -> float:
        """Correctly rounded standard deviation (the root of the exact variance)."""
        if self.count - ddof <= 0:
            return math.nan
        numerator, exponent = self._centered_square_sum()
        return scaled_sqrt_ratio_to_float(numerator, self.count * (self.count - ddof), exponent)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; exact sums are hex integer strings in ``2**-unit_bits`` units."""
        return {
            "count": self.count,
            "nan": self.nan,
            "posinf": self.posinf,
            "neginf": self.neginf,
            "min": self.min,
            "max": self.max,
            "unit_bits": UNIT_BITS,
            "sum_units": hex(self.sum_units),
            "sum_sq_units": None if self.sum_sq_units is None else hex(self.sum_sq_units),
            "quantiles": self.quantiles.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        """Inverse of :meth:`to_dict`."""
        shift = UNIT_BITS - int(data["unit_bits"])
        if shift < 0:
            raise ValueError("summary uses finer units than this library supports")
        return cls(
            count=int(data["count"]),
            nan=int(data["nan"]),
            posinf=int(data["posinf"]),
            neginf=int(data["neginf"]),
            min=float(data["min"]),
            max=float(data["max"]),
            sum_units=int(data["sum_units"], 16) << shift,
            sum_sq_units=None
            if data["sum_sq_units"] is None
            else int(data["sum_sq_units"], 16) << shift,
            quantiles=QuantileStore.from_dict(data["quantiles"]),
        )
