"""Correctly rounded float64 results from exact integer ratios."""

from __future__ import annotations

import math

_GUARD_BITS = 56  # more than float64's 53 significant bits plus a rounding bit


def ratio_to_float(numerator: int, denominator: int) -> float:
    """The float64 nearest to ``numerator / denominator`` (ties to even), overflow to inf."""
    try:
        return numerator / denominator  # CPython's int true division is correctly rounded
    except OverflowError:
        return math.inf if (numerator > 0) == (denominator > 0) else -math.inf


def sqrt_ratio_to_float(numerator: int, denominator: int) -> float:
    """The float64 nearest to ``sqrt(numerator / denominator)`` for a non-negative ratio.

    An integer square root with guard bits, plus a sticky bit when it is inexact, makes
    the one final rounding correct (no double rounding through ``math.sqrt(float)``).
    """
    if numerator < 0 or denominator <= 0:
        raise ValueError("sqrt_ratio_to_float needs numerator >= 0 and denominator > 0")
    if numerator == 0:
        return 0.0
    magnitude = numerator.bit_length() - denominator.bit_length()
    shift = (2 * _GUARD_BITS - magnitude) // 2 + 1  # scale by 4**shift
    if shift >= 0:
        scaled, remainder = divmod(numerator << (2 * shift), denominator)
    else:
        scaled, remainder = divmod(numerator, denominator << (-2 * shift))
    root = math.isqrt(scaled)
    inexact = remainder != 0 or root * root != scaled
    root = 2 * root + int(inexact)  # one more bit; the sticky bit marks "strictly above"
    exponent = shift + 1  # sqrt = root / 2**exponent
    if exponent >= 0:
        return ratio_to_float(root, 1 << exponent)
    return ratio_to_float(root << -exponent, 1)


_SMALLEST_NORMAL = 2.0**-1022


def scaled_ratio_to_float(numerator: int, denominator: int, exponent: int) -> float:
    """The float64 nearest to ``numerator / denominator * 2**exponent``: the quotient
    rounded once, then scaled by the power of two, which is exact while the result is a
    normal float (else the whole ratio is rounded at once)."""
    quotient = ratio_to_float(numerator, denominator)
    if quotient == 0.0 or not math.isfinite(quotient):
        return quotient if exponent == 0 else _ratio_at(numerator, denominator, exponent)
    result = _scaled(quotient, exponent)
    if math.isfinite(result) and abs(result) >= _SMALLEST_NORMAL:
        return result
    return _ratio_at(numerator, denominator, exponent)


def scaled_sqrt_ratio_to_float(numerator: int, denominator: int, exponent: int) -> float:
    """The float64 nearest to ``sqrt(numerator / denominator * 2**exponent)`` for a
    non-negative ratio, the same way."""
    if exponent % 2:
        numerator, exponent = numerator << 1, exponent - 1
    root = sqrt_ratio_to_float(numerator, denominator)
    if root == 0.0 or not math.isfinite(root):
        return root if exponent == 0 else _sqrt_ratio_at(numerator, denominator, exponent)
    result = _scaled(root, exponent // 2)
    if math.isfinite(result) and abs(result) >= _SMALLEST_NORMAL:
        return result
    return _sqrt_ratio_at(numerator, denominator, exponent)


def _scaled(value: float, exponent: int) -> float:
    """``value * 2**exponent``, inf where it overflows (the callers then round anew)."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.inf


def _ratio_at(numerator: int, denominator: int, exponent: int) -> float:
    if exponent >= 0:
        return ratio_to_float(numerator << exponent, denominator)
    return ratio_to_float(numerator, denominator << -exponent)


def _sqrt_ratio_at(numerator: int, denominator: int, exponent: int) -> float:
    if exponent >= 0:
        return sqrt_ratio_to_float(numerator << exponent, denominator)
    return sqrt_ratio_to_float(numerator, denominator << -exponent)
