"""The advisor's cheap checks that ``normlock.fit`` makes for each feature.

They read only what the fit has already: the feature's summary (count, extrema) and the
row sample's values of the column (every distinct row while the fit has at most the
sample's size). Each returns a warning, kept in the lock and shown on the terminal, or
None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from normlock.advise.precision import FORMATS
from normlock.advise.recommend import ID_NAME

MIN_ID_ROWS = 50
"""Fewer rows than this make no ID warning (small tables repeat by chance less)."""


def id_warning(
    name: str,
    count: int,
    low: float,
    high: float,
    values: np.ndarray,
    counts: np.ndarray,
    exact: bool,
) -> str | None:
    """A warning when the column reads as an ID: whole numbers, every one distinct, spread
    about as densely as the rows (or named like an ID) -- normalizing it makes a number
    of a label.

    Args:
        name: the column.
        count: its finite values; low: their minimum; high: their maximum.
        values: the sample's values of the column (one per distinct sampled row).
        counts: how often each sampled row occurred.
        exact: whether the sample holds every row.
    """
    dense = high - low + 1 <= 3 * count
    if count < MIN_ID_ROWS or low != round(low) or not (dense or ID_NAME.search(name)):
        return None  # decided from the summary alone, the usual case
    finite = values[np.isfinite(values)]
    if finite.size < MIN_ID_ROWS or not np.all(finite == np.round(finite)):
        return None
    distinct = np.unique(finite).size
    if distinct != finite.size or np.any(counts[np.isfinite(values)] > 1):
        return None
    if not (exact and dense) and not ID_NAME.search(name):
        return None
    seen = "" if exact else " in a sample of the rows"
    return (
        f"looks like an ID ({distinct:,} distinct whole numbers{seen}, from {low:g} to "
        f"{high:g}): normalizing it makes a quantity of a label; mark it 'passthrough'"
    )


def float16_warning(extremes: Sequence[float]) -> str | None:
    """A warning when the normalized training extremes ``extremes`` overflow float16."""
    top = FORMATS["float16"].max_value
    finite = [abs(float(e)) for e in extremes if math.isfinite(e)]
    if not finite or max(finite) <= top:
        return None
    return (
        f"normalized values reach {max(finite):.3g}, beyond float16's "
        f"largest {top:g}: a float16 model would read inf; add a log step or a clip before it"
    )
