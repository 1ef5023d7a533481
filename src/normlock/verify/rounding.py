"""The rounding bound: how far a correct reimplementation of a locked chain may be from
the lock, value by value.

A serving pipeline is *equivalent up to rounding* when it computes the lock's formula
with parameters that differ from the locked ones only in their last bits (a mean and a
std from pandas or scikit-learn instead of the lock's correctly rounded ones), in any
evaluation order (``x * (1 / s) - c / s`` for ``(x - c) / s``), with another runtime's
``log``, ``pow``, ``exp`` or ``ndtri``. :func:`rounding_bound` follows the chain's
operations (:mod:`normlock.methods.ops`), carrying ``d``, the difference such a pipeline
may have reached on the values entering each operation, with ``K = ROUNDING_ULPS`` and
``eps`` the float64 machine epsilon:

* ``(v - c) / s`` (a ``sub`` followed by a ``div``: standard, robust, min-max):
  ``d / |s| + K eps (|v - c| + |c| + |s|) / |s|``. The center may be off by ``K eps
  (|c| + |s|)``: a mean or a median computed from values spread about ``|s|`` around
  ``c`` carries rounding of that size even when ``c`` itself is near 0 (the data's
  conditioning); the scale by ``K eps |s|``; and another order of the same operations
  rounds ``|v| / |s|`` and ``|c| / |s|`` a few times, with ``|v| <= |v - c| + |c|``.
* ``v + c`` or ``v - c`` alone: ``d + K eps (|v| + |c|)``; ``v * m``: ``d |m| + K eps
  |out|``; ``v / s`` (max-abs): ``d / |s| + K eps |out|``; ``clip``: ``d``.
* ``log``, ``log1p``, ``yeo-johnson``, ``box-cox``, ``quantile``: ``|f'(v)| d`` (the
  slope, measured on both sides of ``v``, carries the difference through) plus the
  difference the operation itself may make in any runtime
  (:func:`~normlock.export.tolerance.own_difference` with the largest ulps of
  :data:`~normlock.export.tolerance.ULPS`; for a power transform also that of its other
  textbook form, :func:`~normlock.export.tolerance.other_form_difference`, as
  ``scipy.stats.yeojohnson`` computes ``expm1(lmbda * log1p(x)) / lmbda`` where the lock
  computes ``((x + 1) ** lmbda - 1) / lmbda``), plus what its parameters a few ulps off
  change: ``lambda`` by ``K`` ulps, and for the quantile map the interpolation knots
  around ``v`` by ``K`` ulps of their size (``|f'(v)| K eps max|knot|``) plus ``K eps
  |out|``.

The bound for float32 output is the float64 bound plus one float32 ulp of the output: two
float64 values that close may round to neighbouring float32 values.

The bound does not grow with the number of rows: it holds the statistics to a few ulps,
as numpy's pairwise sums deliver (pandas and scikit-learn use them; measured within 1.3
ulps of the data's scale up to 10^6 rows). A statistic summed naively over many rows in
a loop can be further off, and then fails.

Where a ddof slip stops showing: ``ddof=1`` in place of ``ddof=0`` multiplies the std by
``sqrt(n / (n - 1))``, a relative ``1 / (2 n)``, and moves an output ``z`` by about
``|z| / (2 n)``, while the bound there is ``K eps (|z| + |c| / s + 1)``. The slip is
caught while some checked value has ``|z| / (2 n)`` above that, i.e. for
``n < max |z| / (2 K eps (|z| + |c| / s + 1))``. On the lock's float64 probes (which
include the extremes and the input 0, where ``|z| = |c| / s``) that is ``n`` up to about
10^14 whatever the data; on data alone within ``|z| <= 3`` and ``|c| / s`` large, up to
about ``3 / (16 eps |c| / s)`` (10^9 for ``|c| / s = 10^6``); on float32 output alone,
where a float32 ulp is ``2^-24`` relative, up to 10^6 to 10^7. Beyond that, the two stds
give outputs no further apart than two correct implementations of the same std do: the
slip is indistinguishable from rounding, and no model can tell the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from normlock.chain import FeatureLock
from normlock.export.tolerance import op_ulps, other_form_difference, own_difference
from normlock.methods import get_method
from normlock.methods.base import Method, Params
from normlock.methods.ops import Op, run

ROUNDING_ULPS = 8
"""``K``: parameters may be off by 4 ulps (of the data's scale for a center), and another
evaluation order rounds each of ``|v| / |s|`` and ``|c| / |s|`` twice more."""

_EPS = float(np.finfo(np.float64).eps)
_SLOPE_STEP = 2.0**-36
"""Relative step of the slope's finite differences: small enough to stay between
quantile knots, large enough that rounding leaves the slope good to ~2^-16."""
_PARAMETER_STEP = 2.0**-20
"""Relative change of a non-linear method's scalar parameter to measure its effect."""


def rounding_bound(feature: FeatureLock, x: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """Per value of ``x``, the largest ``|pipeline - lock|`` that rounding explains.

    Args:
        feature: the locked feature.
        x: float input values of the feature.
        dtype: the output dtype, float64 or float32.

    Returns:
        float64 bounds (``inf`` where a step jumps, as a quantile map at a repeated
        knot; 0 for NaN outputs and for chains of ``clip`` alone, which must be exact).
    """
    values = np.asarray(x, dtype=np.float64)
    bound = np.zeros_like(values)
    with np.errstate(all="ignore"):
        for step in feature.steps:
            method = get_method(step.method)
            ops = method.ops(step.params)
            index = 0
            while index < len(ops):
                op = ops[index]
                if op.kind == "sub" and index + 1 < len(ops) and ops[index + 1].kind == "div":
                    values, bound = _affine(values, bound, op.args[0], ops[index + 1].args[0])
                    index += 2
                    continue
                if op.exact:
                    values, bound = _arithmetic(op, values, bound)
                else:
                    values, bound = _nonlinear(op, method, step.params, values, bound)
                index += 1
        if np.dtype(dtype) == np.float32:
            rounded = values.astype(np.float32)
            bound = np.where(bound > 0, bound + np.spacing(np.abs(rounded)), 0.0)
    bound = np.nan_to_num(bound, nan=0.0, posinf=np.inf)
    return np.where(np.isnan(values), 0.0, bound)


def _affine(
    v: np.ndarray, d: np.ndarray, center: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    out = (v - center) / scale
    allowed = ROUNDING_ULPS * _EPS * (np.abs(v - center) + abs(center) + abs(scale))
    return out, (d + allowed) / abs(scale)


def _arithmetic(op: Op, v: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = run((op,), v)
    if op.kind in ("sub", "add"):
        return out, d + ROUNDING_ULPS * _EPS * (np.abs(v) + abs(op.args[0]))
    if op.kind == "mul":
        return out, d * abs(op.args[0]) + ROUNDING_ULPS * _EPS * np.abs(out)
    if op.kind == "div":
        return out, d / abs(op.args[0]) + ROUNDING_ULPS * _EPS * np.abs(out)
    return out, d  # clip never moves two values further apart


def _nonlinear(
    op: Op, method: Method, params: Params, v: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    def formula(changed: Params) -> Callable[[np.ndarray], np.ndarray]:
        if op.elementwise:
            return lambda u: run((op,), u)
        return lambda u: method.apply(changed, u)

    apply = formula(params)
    out = apply(v)
    slope = _slope(apply, v, out)
    k = op_ulps(op, None)
    bound = np.where(d > 0, slope * d, 0.0) + own_difference(op, k, v, out)
    if op.kind in ("yeo-johnson", "box-cox"):
        bound += other_form_difference(op, k, v, out)
    if op.kind == "quantile":
        knots = np.asarray(op.args[0], dtype=np.float64)
        above = np.clip(np.searchsorted(knots, v), 1, len(knots) - 1)
        size = np.maximum(np.abs(knots[above - 1]), np.abs(knots[above]))
        bound += ROUNDING_ULPS * _EPS * (slope * size + np.abs(out))
    if not op.elementwise:
        for key, value in params.items():
            if type(value) is float and value != 0.0:
                moved = formula({**params, key: value * (1 + _PARAMETER_STEP)})(v)
                bound += ROUNDING_ULPS * _EPS * np.abs(moved - out) / _PARAMETER_STEP
    return out, bound


def _slope(apply: Callable[[np.ndarray], np.ndarray], v: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``|f'(v)|``, the larger of the one-sided slopes (the steeper side of a kink)."""
    step = _SLOPE_STEP * np.where(v != 0, np.abs(v), 1.0)
    above = np.abs(apply(v + step) - out) / step
    below = np.abs(out - apply(v - step)) / step
    return np.fmax(above, below)
