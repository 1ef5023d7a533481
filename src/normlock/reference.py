"""The training reference a lock keeps per feature, derived from its summary.

It is what monitoring compares served data with and what probes are drawn from:
counts, extrema, correctly rounded mean and std (ddof 0), a percentile grid, and
quantile edges for PSI bins. The mode of the quantiles (``exact`` or ``sample``) and
the sample's rank-error bound are recorded beside them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from normlock.stats import Summary
from normlock.stats.sample import SampledValues

PERCENTILES = [i / 100 for i in range(101)]
"""Probabilities of the stored quantile grid."""

LARGE_REFERENCE = 10_000
"""From this many values on, PSI uses 20 bins instead of 10."""


def histogram_probabilities(count: int) -> list[float]:
    """Probabilities of the interior PSI bin edges for a reference of ``count`` values."""
    bins = 20 if count >= LARGE_REFERENCE else 10
    return [i / bins for i in range(1, bins)]


def reference_of(summary: Summary) -> dict[str, Any]:
    """The JSON-ready reference of a training summary.

    Its std is the summary's own where it kept the sum of squares (a chain that reads
    the variance of these values); else that of the values its quantiles read (a
    :class:`~normlock.stats.sample.SampledValues`: every row, exact, while the sample
    holds them all, else a sample of them); ``std_mode`` says which.
    """
    std, std_mode = _std(summary)
    reference: dict[str, Any] = {
        "count": summary.count,
        "nan": summary.nan,
        "posinf": summary.posinf,
        "neginf": summary.neginf,
        "min": summary.min,
        "max": summary.max,
        "mean": summary.mean,
        "std": std,
        "std_mode": std_mode,
        "quantile_mode": "exact" if summary.quantiles.exact else "sample",
        "rank_error": summary.quantiles.rank_error,
    }
    if summary.count:  # one query for both: the sample is sorted once
        both = summary.quantiles.quantiles(PERCENTILES + histogram_probabilities(summary.count))
        grid, edges = both[: len(PERCENTILES)], np.unique(both[len(PERCENTILES) :])
    else:
        grid, edges = np.empty(0), np.empty(0)
    reference["quantiles"] = {"probabilities": PERCENTILES, "values": grid.tolist()}
    reference["histogram_edges"] = edges.tolist()
    return reference


def _std(summary: Summary) -> tuple[float, str]:
    """The population std of the summary's values, and ``exact`` or ``sample``."""
    if summary.sum_sq_units is not None or summary.count == 0:
        return (summary.std(0) if summary.count else math.nan), "exact"
    sampled = summary.quantiles
    if not isinstance(sampled, SampledValues):
        raise ValueError("a summary without a sum of squares needs its sampled values")
    count, total, squares = sampled.exact_sums()
    std = Summary(count=count, sum_units=total, sum_sq_units=squares).std(0)
    return std, "exact" if sampled.exact else "sample"


class LazyReference(Mapping[str, Any]):
    """A reference computed when first read (its quantiles sort the feature's sample):
    a fitted lock transforms at once, and pays for its reference only where it is used
    (saved, shown, verified, monitored). It reads like the dict it stands for.

    Two threads that read it first at once may both compute it: the computation is
    deterministic, so either result is the same reference."""

    def __init__(self, compute: Callable[[], dict[str, Any]]) -> None:
        self._compute: Callable[[], dict[str, Any]] | None = compute
        self._value: dict[str, Any] = {}

    def _resolved(self) -> dict[str, Any]:
        compute = self._compute
        if compute is not None:
            self._value = compute()
            self._compute = None
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._resolved()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __repr__(self) -> str:
        return repr(self._resolved())

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        """Pickled and copied as the dict it stands for."""
        return dict, (self._resolved(),)
