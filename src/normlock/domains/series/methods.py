"""Per-series statistics of each method, and the ``(x - center) / scale`` they give.

* ``standard``: ``mean`` and ``std`` (``ddof`` 0 or 1), correctly rounded from exact
  sums (:mod:`normlock.domains.series.digits`); center the mean, scale the std (1 for a
  constant series, as for a constant column);
* ``minmax``: ``min`` and ``max``, exact; center the min, scale ``max - min`` (1 when 0),
  so that each series' extremes map to exactly 0 and 1;
* ``robust``: ``median``, ``q_low`` and ``q_high`` (numpy's ``linear`` quantiles of each
  series' values, ``quantile_range`` 25-75 by default); center the median, scale
  ``q_high - q_low`` (1 when 0). The values are kept for it, so memory grows with rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from normlock.domains.series.digits import GroupedSums
from normlock.errors import InputError

METHODS = {
    "standard": ("mean", "std"),
    "minmax": ("min", "max"),
    "robust": ("median", "q_low", "q_high"),
}
"""Each method's statistics, in the order the lock stores them."""


def check_method(method: str, ddof: int, quantile_range: tuple[float, float]) -> None:
    """Raise for an unknown method or a bad option."""
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if ddof not in (0, 1) or isinstance(ddof, bool):
        raise InputError(f"ddof must be 0 or 1, got {ddof!r}")
    low, high = quantile_range
    if not 0 <= low < high <= 100:
        raise InputError(f"quantile_range must be increasing within [0, 100], got {quantile_range}")


def moments_statistics(method: str, sums: GroupedSums, ddof: int) -> dict[str, np.ndarray]:
    """The ``standard`` or ``minmax`` statistics of every group."""
    if method == "standard":
        mean, std = sums.statistics(ddof)
        return {"mean": mean, "std": std}
    low, high = sums.extrema()
    empty = sums.count == 0
    return {"min": np.where(empty, np.nan, low), "max": np.where(empty, np.nan, high)}


def quantile_statistics(
    codes: np.ndarray, values: np.ndarray, groups: int, quantile_range: tuple[float, float]
) -> dict[str, np.ndarray]:
    """The ``robust`` statistics of every group: numpy ``linear`` quantiles (the same
    bits as ``numpy.quantile`` of each group's finite values), NaN for an empty group."""
    finite = np.isfinite(values)
    codes, values = codes[finite], values[finite]
    order = np.lexsort((values, codes))
    codes, values = codes[order], values[order]
    counts = np.bincount(codes, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    found = {}
    for name, p in (
        ("median", 0.5),
        ("q_low", quantile_range[0] / 100),
        ("q_high", quantile_range[1] / 100),
    ):
        found[name] = _linear(values, starts, counts, p)
    return found


def _linear(values: np.ndarray, starts: np.ndarray, counts: np.ndarray, p: float) -> np.ndarray:
    """numpy's ``linear`` quantile ``p`` of each run ``values[start : start + count]``
    (sorted), with its arithmetic step for step."""
    out = np.full(len(counts), np.nan)
    seen = counts > 0
    last = counts[seen] - 1
    virtual = last * p
    previous = np.floor(virtual).astype(np.int64)
    previous = np.where(virtual >= last, last, np.maximum(previous, 0))
    following = np.minimum(previous + 1, last)
    gamma = virtual - np.where(virtual >= last, -1, previous)
    base = starts[seen]
    low, high = values[base + previous], values[base + following]
    step = high - low
    result = low + step * gamma
    upper = gamma >= 0.5
    result[upper] = (high - step * (1 - gamma))[upper]
    out[seen] = result
    return out


def center_scale(
    method: str, statistics: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The per-series ``(center, scale)`` of the formula ``(x - center) / scale``."""
    if method == "standard":
        center, spread = statistics["mean"], statistics["std"]
    elif method == "minmax":
        center, spread = statistics["min"], statistics["max"] - statistics["min"]
    else:
        center, spread = statistics["median"], statistics["q_high"] - statistics["q_low"]
    return center, np.where(spread == 0.0, 1.0, spread)
