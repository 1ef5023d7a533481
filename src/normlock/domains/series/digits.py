"""Exact sums of float64 values and of their squares for many groups at once.

Every finite float64 is ``±M * 2**t`` with an integer ``M < 2**53``. Written in base
``2**26`` digits at positions fixed for all values (digit ``g`` weighs
``2**(26 g - OFFSET)``), ``M * 2**t`` has at most three non-zero digits and its square
``M**2 * 2**(2t)`` (from ``M = m1 * 2**26 + m0``: ``m1**2``, ``2 m0 m1`` and ``m0**2``,
integers below ``2**54``) at most six. Each digit plane is summed per group with
``numpy.bincount``, whose float64 sums of integers below ``2**29`` are exact for up to
``2**24`` rows at a time (a pass takes ``2**21``, which bounds the memory of a fit), and
added to ``int64`` accumulators (carried into the next
digit before they could overflow). The totals are exact integers: the same for any
chunking and any order of the rows, and the correctly rounded mean and std follow from
them as for every lock (:mod:`normlock.stats.rounding`).

Only integer operations touch the values' bits, so subnormal and huge values are
exact too; NaN and infinities are counted apart and left out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from normlock.domains.series import certified
from normlock.stats.rounding import scaled_ratio_to_float, scaled_sqrt_ratio_to_float

DIGIT_BITS = 26
_MASK = np.uint64((1 << DIGIT_BITS) - 1)
SUM_OFFSET = 26 * 43  # digit 0 of a sum weighs 2**-1118 (below the smallest subnormal)
SQUARE_OFFSET = 26 * 85  # digit 0 of a sum of squares weighs 2**-2210
ROWS_PER_PASS = 1 << 21  # float64 bincount sums of digits below 2**29 stay exact
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
        digit plane, over keys ``(group, digit)`` of the groups this pass holds (a
        contiguous range of them when the rows come by group)."""
        first, planes = _digits(terms)
        lowest, highest = int(first.min()), int(first.max()) + len(planes) - 1
        width = highest - lowest + 1
        start, stop = int(codes.min()), int(codes.max()) + 1
        keys = (codes - start) * width + (first - lowest)
        size = (stop - start) * width
        for k, plane in enumerate(planes):
            if not plane.any():
                continue
            weights = plane.astype(np.float64)
            if sign is not None:
                weights *= sign
            found = np.bincount(keys + k, weights=weights, minlength=size)[:size]
            found = found.reshape(stop - start, width).T.astype(np.int64)  # a row per digit
            for column in np.flatnonzero(found.any(axis=1)):
                digit = lowest + int(column)
                totals = table.setdefault(digit, np.zeros(self.groups, np.int64))
                totals[start:stop] += found[column]

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
        sums, low_s = certified.matrix(self._sums, slice(None), self.groups)
        squares, low_q = certified.matrix(self._squares, slice(None), self.groups)
        return (
            _integers(sums),
            DIGIT_BITS * low_s - SUM_OFFSET,
            _integers(squares),
            DIGIT_BITS * low_q - SQUARE_OFFSET,
        )

    def statistics(self, ddof: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Each group's correctly rounded mean and std (``ddof``; NaN for a group of at
        most ``ddof`` values): certified double-double quotients where they settle the
        rounding (:mod:`normlock.domains.series.certified`), exact integers elsewhere;
        block by block of groups, so that the memory stays that of the totals."""
        means = np.full(self.groups, np.nan)
        stds = np.full(self.groups, np.nan)
        for start in range(0, self.groups, _GROUPS_PER_BLOCK):
            rows = slice(start, min(start + _GROUPS_PER_BLOCK, self.groups))
            means[rows], stds[rows] = self._block(rows, ddof)
        return means, stds

    def _block(self, rows: slice, ddof: int) -> tuple[np.ndarray, np.ndarray]:
        sums, low_s = certified.matrix(self._sums, rows, self.groups)
        squares, low_q = certified.matrix(self._squares, rows, self.groups)
        sums, squares = certified.carried(sums), certified.carried(squares)
        count = self.count[rows]
        means = np.full(len(count), np.nan)
        stds = np.full(len(count), np.nan)
        seen = np.flatnonzero(count > 0)
        e = DIGIT_BITS * low_s - SUM_OFFSET
        found, settled = certified.ratios(sums[seen], count[seen], e)
        means[seen] = found
        rest = seen[~settled]
        if len(rest):
            n = count[rest].astype(object)
            means[rest] = _scaled(_integers(sums[rest]), n, e, scaled_ratio_to_float)
        spread = np.flatnonzero(count > ddof)
        if not len(spread):
            return means, stds
        n = count[spread]
        numerator, low = _numerators(sums[spread], low_s, squares[spread], low_q, n)
        found, settled = certified.roots(numerator, n * (n - ddof), DIGIT_BITS * low)
        stds[spread] = found
        rest = np.flatnonzero(~settled)
        if len(rest):
            k = n[rest].astype(object)
            numerators = _integers(numerator[rest])
            exact = _scaled(
                numerators, k * (k - ddof), DIGIT_BITS * low, scaled_sqrt_ratio_to_float
            )
            stds[spread[rest]] = exact
        return means, stds


_GROUPS_PER_BLOCK = 1 << 16


def _scaled(
    numerators: np.ndarray, denominators: np.ndarray, exponent: int, exact: Callable[..., float]
) -> np.ndarray:
    """``exact(numerator, denominator, exponent)`` per entry of object arrays of Python
    integers (the exact path, for the groups the certified one leaves)."""
    return np.frompyfunc(exact, 3, 1)(numerators, denominators, exponent).astype(np.float64)


def _numerators(
    sums: np.ndarray, low_s: int, squares: np.ndarray, low_q: int, counts: np.ndarray
) -> tuple[np.ndarray, int]:
    """The digits of ``n Q - S**2`` (``n`` times the variance's numerator) on one grid of
    ``2**26`` units, and the index of its lowest digit: ``S**2``'s digit ``c`` weighs
    ``2**(26 (c + 2 low_s - 86))``, ``Q``'s digit ``k`` ``2**(26 (k + low_q - 85))``."""
    squared = certified.square(sums)
    start_s, start_q = 2 * low_s - 86, low_q - 85
    low = min(start_s, start_q)
    width = max(start_s + squared.shape[1], start_q + squares.shape[1]) - low
    found = np.zeros((len(sums), width), np.int64, order="F")
    n = counts.astype(np.int64)
    for k in range(squares.shape[1]):  # n q_k: below 2**51 while n < 2**26
        found[:, start_q - low + k] += n * squares[:, k]
    for c in range(squared.shape[1]):
        found[:, start_s - low + c] -= squared[:, c]
    return certified.carried(found), low


def _integers(digits: np.ndarray) -> np.ndarray:
    """Per row, ``sum(digits[k] << 26 k)`` (an object array of Python integers)."""
    found = np.zeros(len(digits), dtype=object)
    for k in range(digits.shape[1]):
        found = found + (digits[:, k].astype(object) << (DIGIT_BITS * k))
    return found
