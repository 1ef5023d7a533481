"""Instance statistics: every slice of an array standardized by its own mean and std.

The ``per_image`` policy of an image lock (each image and channel over its pixels) and
the per-window normalization of a window lock (each window and channel over its time
steps) are the same formula over other axes::

    (y - mean) / sqrt(var + epsilon)

with ``mean`` and ``var`` the correctly rounded mean and population variance of each
slice (exact sums, :class:`~normlock.stats.kernel.Moments`), in float64: the same numbers
for a slice however the array around it is batched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from normlock.stats import Summary
from normlock.stats.kernel import Moments


def instance_statistics(y: np.ndarray, axes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The correctly rounded mean and population variance of ``y`` (float64) over
    ``axes``, for each index of the other axes (arrays with those axes kept, of size 1)."""
    axes = tuple(sorted(a % y.ndim for a in axes))
    kept = [a for a in range(y.ndim) if a not in axes]
    moved = np.moveaxis(y, kept, list(range(len(kept))))
    shape = moved.shape[: len(kept)]
    slices = moved.reshape(int(np.prod(shape, dtype=np.int64)), -1)
    moments = Moments(len(slices))
    if slices.size:
        moments.update(list(slices))
    summaries = [Summary.of_moments(m) for m in moments.result()]
    full = [1 if a in axes else y.shape[a] for a in range(y.ndim)]
    means = np.array([s.mean for s in summaries]).reshape(shape)
    variances = np.array([s.variance(0) for s in summaries]).reshape(shape)
    back = list(range(len(kept)))
    means = np.moveaxis(means.reshape(*shape, *([1] * len(axes))), back, kept).reshape(full)
    variances = np.moveaxis(variances.reshape(*shape, *([1] * len(axes))), back, kept).reshape(full)
    return means, variances


def standardize(y: np.ndarray, axes: Sequence[int], epsilon: float) -> np.ndarray:
    """``(y - mean) / sqrt(var + epsilon)`` over ``axes`` of a float64 array."""
    means, variances = instance_statistics(y, axes)
    return (y - means) / np.sqrt(variances + epsilon)
