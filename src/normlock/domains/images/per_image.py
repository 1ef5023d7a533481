"""The ``per_image`` policy: each image standardized per channel by its own statistics.

For every image and channel, with ``y`` the rescaled pixels (``x / max_value``, the
lock's first step), ``mean`` and ``var`` their correctly rounded mean and population
variance (exact sums, as every lock's statistics), the output is::

    (y - mean) / sqrt(var + epsilon)

in float64, rounded once to the output dtype: torch's ``InstanceNorm2d`` without
affine parameters (whose ``eps`` is 1e-5), and the same numbers for every image
however it is batched.
"""

from __future__ import annotations

import numpy as np

from normlock.domains.images.layout import channel_axis
from normlock.stats import Summary
from normlock.stats.kernel import Moments


def instance_statistics(y: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """The correctly rounded mean and population variance of every image's channels
    of a rank-4 float64 batch, as ``(N, C)`` arrays."""
    axis = channel_axis(layout)
    images, channels = y.shape[0], y.shape[axis]
    planes = [
        np.take(y[n], c, axis=axis - 1).reshape(-1) for n in range(images) for c in range(channels)
    ]
    moments = Moments(len(planes))
    if planes and planes[0].size:
        moments.update(planes)
    summaries = [Summary.of_moments(m) for m in moments.result()]
    means = np.array([s.mean for s in summaries]).reshape(images, channels)
    variances = np.array([s.variance(0) for s in summaries]).reshape(images, channels)
    return means, variances


def standardize(y: np.ndarray, layout: str, epsilon: float) -> np.ndarray:
    """``(y - mean) / sqrt(var + epsilon)`` per image and channel of a rank-4 float64
    batch (float64 out)."""
    means, variances = instance_statistics(y, layout)
    shape = (y.shape[0], -1, 1, 1) if layout == "NCHW" else (y.shape[0], 1, 1, -1)
    return (y - means.reshape(shape)) / np.sqrt(variances.reshape(shape) + epsilon)
