"""Exact sums of float64 values and of their squares for many groups at once.

Every finite float64 is ``±M * 2**t`` with an integer ``M < 2**53``. Written in base
``2**26`` digits at positions fixed for all values (digit ``g`` weighs
``2**(26 g - OFFSET)``), ``M * 2**t`` has at most three non-zero digits and its square
``M**2 * 2**(2t)`` (from ``M = m1 * 2**26 + m0``: ``m1**2``, ``2 m0 m1`` and ``m0**2``,
integers below ``2**54``) at most six. Each digit plane is summed per group with
``numpy.bincount``, whose float64 sums of integers below ``2**30`` are exact for up to
``2**23`` rows at a time, and added to ``int64`` accumulators (carried into the next
digit before they could overflow). The totals are exact integers: the same for any
chunking and any order of the rows, and the correctly rounded mean and std follow from
them as for every lock (:mod:`normlock.stats.rounding`).

Only integer operations touch the values' bits, so subnormal and huge values are
exact too; NaN and infinities are counted apart and left out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from normlock.stats.rounding import scaled_ratio_to_float, scaled_sqrt_ratio_to_float

DIGIT_BITS = 26
_MASK = np.uint64((1 << DIGIT_BITS) - 1)
SUM_OFFSET = 26 * 43  # digit 0 of a sum weighs 2**-1118 (below the smallest subnormal)
SQUARE_OFFSET = 26 * 85  # digit 0 of a sum of squares weighs 2**-2210
ROWS_PER_PASS = 1 << 22  # float64 bincount sums of digits below 2**31 stay exact
_CARRY_AFTER = 1 << 9  # passes (each adds below 2**53) before the int64 totals are carried


def _parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sign, M, t)`` with ``value = sign * M * 2**t`` for finite float64 values."""
    bits = values.view(np.uint64)
    exponent = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    mantissa = bits & np.uint64((1 << 52) - 1)
    normal = exponent > 0
    mantissa = np.where(normal, mantissa | np.uint64(1 << 52), mantissa)
    t = np.where(normal, exponent - 1075, -1074)
    sign = np.where(bits >> np.uint64(63) == 1, -1.0, 1.0)
    return sign, mantissa, t


def _digits(terms: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The base-``2**26`` digits of ``sum(value * 2**position)`` over ``terms`` whose
    positions are ``26 k`` apart in order (``value < 2**54``): the lowest digit's index
    per row, and the digits from it up, each below ``2**29``."""
    first, shift = np.divmod(terms[0][1], DIGIT_BITS)
    shifts = shift.astype(np.uint64)
    planes = [np.zeros(len(first), np.uint64) for _ in range(len(terms) + 2)]
    for j, (value, _) in enumerate(terms):
        # the value's low 26 bits and its high (at most 28) bits, each shifted: below 2**54
        for k, piece in enumerate((value & _MASK, value >> np.uint64(DIGIT_BITS))):
            np.left_shift(piece, shifts, out=piece)
            planes[j + k] += piece & _MASK
            np.right_shift(piece, np.uint64(DIGIT_BITS), out=piece)
            planes[j + k + 1] += piece
    return first, planes


class GroupedSums:
    """Exact per-group sums of values and of their squares, over many chunks.

    Attributes:
        groups: the number of groups (grows with :meth:`grow`).
        count: finite values per group.
        nan: NaN values per group.
        inf: infinite values per group.
    """

    def __init__(self, groups: int = 0) -> None:
        self.groups = 0
        self.count = np.zeros(0, np.int64)
        self.nan = np.zeros(0, np.int64)
        self.inf = np.zeros(0, np.int64)
        self.low = np.zeros(0)
        self.high = np.zeros(0)
        self._negative_zero = np.zeros(0, bool)
        self._positive_zero = np.zeros(0, bool)
        self._sums: dict[int, np.ndarray] = {}  # digit -> per-group int64 totals
        self._squares: dict[int, np.ndarray] = {}
        self._passes = 0
        self.grow(groups)

    def grow(self, groups: int) -> None:
        """Make room for ``groups`` groups (new ones empty)."""
        extra = groups - self.groups
        if extra <= 0:
            return
        self.count = np.concatenate([self.count, np.zeros(extra, np.int64)])
        self.nan = np.concatenate([self.nan, np.zeros(extra, np.int64)])
        self.inf = np.concatenate([self.inf, np.zeros(extra, np.int64)])
        self.low = np.concatenate([self.low, np.full(extra, np.inf)])
        self.high = np.concatenate([self.high, np.full(extra, -np.inf)])
        self._negative_zero = np.concatenate([self._negative_zero, np.zeros(extra, bool)])
        self._positive_zero = np.concatenate([self._positive_zero, np.zeros(extra, bool)])
        for table in (self._sums, self._squares):
            for digit, totals in table.items():
                table[digit] = np.concatenate([totals, np.zeros(extra, np.int64)])
        self.groups = groups

    def update(self, codes: np.ndarray, values: np.ndarray) -> None:
        """Add ``values`` (float) of the groups ``codes`` (``int64``, each below
        :attr:`groups`)."""
        values = np.asarray(values, dtype=np.float64)
        for start in range(0, len(values), ROWS_PER_PASS):
            self._pass(codes[start : start + ROWS_PER_PASS], values[start : start + ROWS_PER_PASS])

    def _pass(self, codes: np.ndarray, values: np.ndarray) -> None:
        groups = self.groups
        finite = np.isfinite(values)
        if not finite.all():
            self.nan += np.bincount(codes[np.isnan(values)], minlength=groups)
            self.inf += np.bincount(codes[np.isinf(values)], minlength=groups)
            codes, values = codes[finite], values[finite]
        self.count += np.bincount(codes, minlength=groups)
        np.minimum.at(self.low, codes, values)
        np.maximum.at(self.high, codes, values)
        zeros = values == 0.0
        if zeros.any():
            negative = np.signbit(values) & zeros
            self._negative_zero |= np.bincount(codes[negative], minlength=groups) > 0
            self._positive_zero |= np.bincount(codes[zeros & ~negative], minlength=groups) > 0
        if not len(values):
            return
        sign, mantissa, t = _parts(values)
        self._add(self._sums, codes, sign, [(mantissa, t + SUM_OFFSET)])
        m0, m1 = mantissa & _MASK, mantissa >> np.uint64(DIGIT_BITS)
        position = 2 * t + SQUARE_OFFSET
        products = [(m0 * m0, position), (2 * m0 * m1, position + 26), (m1 * m1, position + 52)]
        self._add(self._squares, codes, None, products)
        self._passes += 1
        if self._passes >= _CARRY_AFTER:
            self._carry()

    def extrema(self) -> tuple[np.ndarray, np.ndarray]:
        """Each group's smallest and largest finite value, ``-0.0`` below ``+0.0``
        (``+inf``/``-inf`` for a group without one)."""
        low, high = self.low.copy(), self.high.copy()
        low[(low == 0.0) & self._negative_zero] = -0.0
        low[(low == 0.0) & ~self._negative_zero] = 0.0
        high[(high == 0.0) & self._positive_zero] = 0.0
        high[(high == 0.0) & ~self._positive_zero] = -0.0
        return low, high

    def _add(
        self,
        table: dict[int, np.ndarray],
        codes: np.ndarray,
        sign: np.ndarray | None,
        terms: list[tuple[np.ndarray, np.ndarray]],
    ) -> None:
        """Add ``sign * sum(value * 2**position)`` per row, per group: one bincount per
        digit plane, over keys ``(group, digit)``."""
        first, planes = _digits(terms)
        lowest, highest = int(first.min()), int(first.max()) + len(planes) - 1
        width = highest - lowest + 1
        keys = codes * width + (first - lowest)
        size = self.groups * width
        for k, plane in enumerate(planes):
            if not plane.any():
                continue
            weights = plane.astype(np.float64)
            if sign is not None:
                weights *= sign
            found = np.bincount(keys + k, weights=weights, minlength=size)[:size]
            found = found.reshape(self.groups, width).astype(np.int64)
            for column in np.flatnonzero(found.any(axis=0)):
                digit = lowest + int(column)
                totals = table.setdefault(digit, np.zeros(self.groups, np.int64))
                totals += found[:, column]

    def _carry(self) -> None:
        """Carry every accumulator's excess into the next digit (values unchanged)."""
        for table in (self._sums, self._squares):
            for digit in sorted(table):
                totals = table[digit]
                carry = totals >> DIGIT_BITS
                if carry.any():
                    totals -= carry << DIGIT_BITS
                    table.setdefault(digit + 1, np.zeros(self.groups, np.int64))
                    table[digit + 1] += carry
        self._passes = 0

    def totals(self) -> tuple[np.ndarray, int, np.ndarray, int]:
        """Each group's exact sum ``S * 2**e`` and sum of squares ``Q * 2**f`` as
        ``(S, e, Q, f)`` (object arrays of Python integers, one per group)."""
        sums, e = _integers(self._sums, self.groups, SUM_OFFSET)
        squares, f = _integers(self._squares, self.groups, SQUARE_OFFSET)
        return sums, e, squares, f

    def statistics(self, ddof: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Each group's correctly rounded mean and std (``ddof``; NaN for a group of at
        most ``ddof`` values)."""
        sums, e, squares, f = self.totals()
        n = self.count.astype(object)
        means = np.full(self.groups, np.nan)
        stds = np.full(self.groups, np.nan)
        seen = self.count > 0
        means[seen] = _scaled(sums[seen], n[seen], e, scaled_ratio_to_float)
        spread = self.count > ddof
        if spread.any():  # n q 2^f - s^2 2^(2e), over n (n - ddof), at the lower exponent
            low = min(f, 2 * e)
            s, q, k = sums[spread], squares[spread], n[spread]
            numerator = ((k * q) << (f - low)) - ((s * s) << (2 * e - low))
            stds[spread] = _scaled(numerator, k * (k - ddof), low, scaled_sqrt_ratio_to_float)
        return means, stds


def _scaled(
    numerators: np.ndarray, denominators: np.ndarray, exponent: int, exact: Callable[..., float]
) -> np.ndarray:
    """``exact(numerator, denominator, exponent)`` per entry (object arrays of Python
    integers): the correctly rounded quotient (or its square root) times ``2**exponent``."""
    if not len(numerators):
        return np.empty(0)
    found = np.frompyfunc(exact, 3, 1)(numerators, denominators, exponent)
    return found.astype(np.float64)


def _integers(table: dict[int, np.ndarray], groups: int, offset: int) -> tuple[np.ndarray, int]:
    """Per group, ``sum(totals[d] << 26 (d - lowest))`` (an object array of Python
    integers), and the exponent of its unit."""
    if not table:
        return np.zeros(groups, dtype=object), 0
    lowest = min(table)
    found = np.zeros(groups, dtype=object)
    for digit in sorted(table):
        found = found + (table[digit].astype(object) << (DIGIT_BITS * (digit - lowest)))
    return found, DIGIT_BITS * lowest - offset
