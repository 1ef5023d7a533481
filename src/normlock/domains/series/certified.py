"""Correctly rounded means and stds of many groups at once, from exact digit sums.

The exact totals of :mod:`normlock.domains.series.digits` are integers written in
base-``2**26`` digits. For each group this module forms the quotient (the mean, or the
variance before its square root) in double-double arithmetic (error-free ``TwoSum`` and
``TwoProduct`` from Dekker's splitting), bounds its error rigorously (with a wide
margin), and accepts the float64 nearest to it only when that error cannot cross a
rounding boundary of the result: then the result is the correctly rounded one. A group
it cannot settle so (a tie or a near-tie, a value at a power of two, a sum that cancels
almost to zero, results near the ends of the float64 range, groups of 2**26 values or
more) is left to the exact integer path, which settles every group. So the results are
the same bits as :func:`normlock.stats.rounding.scaled_ratio_to_float` and
:func:`~normlock.stats.rounding.scaled_sqrt_ratio_to_float` give, at numpy speed.
"""

from __future__ import annotations

import numpy as np

DIGIT_BITS = 26
_SPLIT = 134217729.0  # 2**27 + 1
_MARGIN = 2.0**-96  # per unit of the terms' magnitude: a few hundred times the analysis'
_SMALLEST_NORMAL = 2.0**-1022
_LARGEST_DIVISOR = 2.0**52


def matrix(table: dict[int, np.ndarray], rows: slice, groups: int) -> tuple[np.ndarray, int]:
    """The groups ``rows`` (of ``groups``) of a digit table (digit -> per-group totals) as
    a ``groups x digits`` int64 matrix (each digit's column contiguous), and its lowest
    digit."""
    size = len(range(*rows.indices(groups)))
    if not table:
        return np.zeros((size, 0), np.int64, order="F"), 0
    lowest, highest = min(table), max(table)
    picked = {digit: totals[rows] for digit, totals in table.items()}
    found = np.zeros((size, highest - lowest + 1), np.int64, order="F")
    for digit, totals in picked.items():
        found[:, digit - lowest] = totals
    return found, lowest


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = _SPLIT * a
    high = c - (c - a)
    return high, a - high


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _scaled_sum(
    digits: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``sum(d_k 2**(26 (k - top)))`` as a double-double ``(high, low)``, the sum
    of the terms' magnitudes, ``top`` (its highest non-zero digit, 0 for none) and whether
    the terms stayed normal floats."""
    width = digits.shape[1]
    nonzero = digits != 0
    top = np.where(nonzero.any(axis=1), width - 1 - np.argmax(nonzero[:, ::-1], axis=1), 0)
    high = np.zeros(len(digits))
    low = np.zeros(len(digits))
    magnitude = np.zeros(len(digits))
    fine = np.ones(len(digits), bool)
    for k in range(width):
        shift = DIGIT_BITS * (k - top)
        term = np.ldexp(digits[:, k].astype(np.float64), shift)
        fine &= (digits[:, k] == 0) | (shift > -900)
        high, error = _two_sum(high, term)
        low += error
        magnitude += np.abs(term)
    return high, low, magnitude, top, fine


def _divided(
    high: np.ndarray, low: np.ndarray, divisor: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(high + low) / divisor`` as a double-double (``divisor`` exact, below 2**52)."""
    first = high / divisor
    product, error = _two_product(first, divisor)
    rest = ((high - product) - error) + low
    return first, rest / divisor


def _rounded(
    first: np.ndarray, second: np.ndarray, bound: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The float64 nearest to ``first + second``, and whether an error of ``bound`` around
    it cannot cross a rounding boundary (so that it is the nearest to the exact value)."""
    value = first + second
    offset = (first - value) + second  # first - value is exact: they are neighbours
    gap = np.minimum(np.nextafter(value, np.inf) - value, value - np.nextafter(value, -np.inf))
    safe = np.abs(offset) * (1 + 2.0**-50) + bound < gap / 2
    return value, safe & np.isfinite(value)


def ratios(
    digits: np.ndarray, divisors: np.ndarray, exponent: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the float64 nearest to ``S / divisor * 2**exponent`` with ``S`` the digits'
    integer (digit ``k`` weighs ``2**(26 k)``), and which rows are certain."""
    high, low, magnitude, top, fine = _scaled_sum(digits)
    small = divisors.astype(np.float64)
    terms = digits.shape[1]
    with np.errstate(all="ignore"):  # rows the checks below leave to the exact path
        first, second = _divided(high, low, small)
        bound = (terms * terms + 64) * _MARGIN * magnitude / small
        value, safe = _rounded(first, second, bound)
    scale = exponent + DIGIT_BITS * top
    with np.errstate(over="ignore", under="ignore"):
        result = np.ldexp(value, scale)
    normal = (np.abs(result) >= _SMALLEST_NORMAL) & np.isfinite(result)
    zero = ~digits.any(axis=1)  # an exact zero total
    settled = (safe & normal & fine & (small < _LARGEST_DIVISOR)) | zero
    return np.where(zero, 0.0, result), settled


def roots(
    digits: np.ndarray, divisors: np.ndarray, exponent: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the float64 nearest to ``sqrt(S / divisor * 2**exponent)`` (``S >= 0``, an
    even ``exponent``), and which rows are certain."""
    high, low, magnitude, top, fine = _scaled_sum(digits)
    shift = np.asarray(exponent) + DIGIT_BITS * top  # even: 26 and the exponents are
    small = divisors.astype(np.float64)
    terms = digits.shape[1]
    with np.errstate(all="ignore"):  # rows the checks below leave to the exact path
        first, second = _divided(high, low, small)
        variance_bound = (terms * terms + 64) * _MARGIN * magnitude / small
        root = np.sqrt(first)
        square, error = _two_product(root, root)
        correction = (((first - square) - error) + second) / (2 * root)
        bound = 1.1 * variance_bound / (2 * root) + _MARGIN * root
        value, safe = _rounded(root, correction, bound)
    with np.errstate(over="ignore", under="ignore"):
        result = np.ldexp(value, shift // 2)
    normal = (result >= _SMALLEST_NORMAL) & np.isfinite(result) & (first > 0)
    zero = ~digits.any(axis=1)
    settled = (safe & normal & fine & (small < _LARGEST_DIVISOR) & (shift % 2 == 0)) | zero
    return np.where(zero, 0.0, result), settled


def square(digits: np.ndarray) -> np.ndarray:
    """The digits of each row's integer squared (balanced digits: products at most
    ``2**50``, their sums below ``2**63`` for rows of up to 4096 digits)."""
    groups, width = digits.shape
    found = np.zeros((groups, max(2 * width - 1, 0)), np.int64, order="F")
    for i in range(width):
        for j in range(width):
            found[:, i + j] += digits[:, i] * digits[:, j]
    return found


def carried(digits: np.ndarray) -> np.ndarray:
    """The same integers in balanced digits, each in ``[-2**25, 2**25)`` (two more digits
    at the top): then ``|integer| >= |top digit| 2**(26 top) / 2``, so that no sum of the
    digits cancels, and zero is the row of zero digits."""
    found = np.zeros((len(digits), digits.shape[1] + 2), np.int64, order="F")
    found[:, : digits.shape[1]] = digits
    half = 1 << (DIGIT_BITS - 1)
    for k in range(found.shape[1] - 1):
        carry = (found[:, k] + half) >> DIGIT_BITS
        found[:, k] -= carry << DIGIT_BITS
        found[:, k + 1] += carry
    return found
