"""The conditioning of a linear model's normal equations, and what it costs gradient descent.

For a design matrix ``X`` with an intercept column, least squares minimizes
``|X w - y|² / 2n``, whose Hessian is ``XᵀX / n``. Its condition number ``κ`` (largest
over smallest eigenvalue) sets the pace of plain gradient descent with step ``1 / λmax``:
the error along the slowest direction shrinks by ``1 - 1/κ`` per step, so reaching a
relative tolerance ``tol`` takes ``ln(tol) / ln(1 - 1/κ) ≈ κ ln(1/tol)`` steps. Columns on
scales far apart, or far from zero, make ``κ`` huge; normalizing brings it down to that
of the columns' correlations, and whitening to 1.

``XᵀX`` comes from the exact co-moments of the columns
(:class:`~normlock.stats.comoments.CoMoments`, every entry correctly rounded), and ``κ``
from ``numpy.linalg.cond`` of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from normlock.stats.comoments import CoMoments
from normlock.stats.exact import UNIT_BITS
from normlock.stats.rounding import ratio_to_float


def normal_matrix(columns: Sequence[np.ndarray]) -> np.ndarray:
    """``XᵀX`` of the design matrix ``X = [1, columns]`` over the rows whose values are
    all finite, each entry the float64 nearest its exact value."""
    moments = CoMoments.of(list(columns))
    d = moments.columns
    out = np.empty((d + 1, d + 1))
    out[0, 0] = moments.count
    unit = 1 << UNIT_BITS
    for i in range(d):
        out[0, i + 1] = out[i + 1, 0] = ratio_to_float(moments.sums[i], unit)
    k = 0
    for i in range(d):
        for j in range(i, d):
            out[i + 1, j + 1] = out[j + 1, i + 1] = ratio_to_float(moments.products[k], unit)
            k += 1
    return out


def condition(columns: Sequence[np.ndarray]) -> float:
    """``κ(XᵀX)`` with an intercept (inf when singular, NaN without columns or rows)."""
    if not columns:
        return math.nan
    matrix = normal_matrix(columns)
    if matrix[0, 0] == 0 or not np.all(np.isfinite(matrix)):
        return math.nan
    return float(np.linalg.cond(matrix))


def iterations(kappa: float, tolerance: float) -> float:
    """Steps of gradient descent (step ``1/λmax``) to shrink the slowest error component
    by ``tolerance``: ``ln(tolerance) / ln(1 - 1/κ)``, inf for ``κ`` of inf."""
    if not math.isfinite(kappa):
        return math.inf
    if kappa <= 1.0:
        return 1.0
    return math.ceil(math.log(tolerance) / math.log1p(-1.0 / kappa))


def correlated_pairs(
    names: Sequence[str], columns: Sequence[np.ndarray], threshold: float = 0.9
) -> list[tuple[str, str, float]]:
    """The pairs of columns whose correlation's magnitude is at least ``threshold``,
    strongest first (from the exact co-moments, correctly rounded)."""
    if len(columns) < 2:
        return []
    correlation = CoMoments.of(list(columns)).correlation()
    found = [
        (names[i], names[j], float(correlation[i, j]))
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if abs(correlation[i, j]) >= threshold
    ]
    return sorted(found, key=lambda item: -abs(item[2]))
