"""Mergeable one-pass statistics: counts, extrema, exact moments, quantiles."""

from normlock.stats.quantiles import DEFAULT_EXACT_LIMIT, QuantileStore
from normlock.stats.summary import Summary

__all__ = ["DEFAULT_EXACT_LIMIT", "QuantileStore", "Summary"]
