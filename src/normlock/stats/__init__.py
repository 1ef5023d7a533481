"""Mergeable one-pass statistics: counts, extrema, exact moments and co-moments, quantiles."""

from normlock.stats.comoments import CoMoments
from normlock.stats.quantiles import DEFAULT_EXACT_LIMIT, QuantileStore
from normlock.stats.summary import Summary

__all__ = ["DEFAULT_EXACT_LIMIT", "CoMoments", "QuantileStore", "Summary"]
