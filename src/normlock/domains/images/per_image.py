"""The ``per_image`` policy: each image standardized per channel by its own statistics.

For every image and channel, with ``y`` the rescaled pixels (``x / max_value``, the
lock's first step), ``mean`` and ``var`` their correctly rounded mean and population
variance (exact sums, as every lock's statistics), the output is::

    (y - mean) / sqrt(var + epsilon)

in float64, rounded once to the output dtype: torch's ``InstanceNorm2d`` without
affine parameters (whose ``eps`` is 1e-5), and the same numbers for every image
however it is batched (:mod:`normlock.domains.instance`).
"""

from __future__ import annotations

import numpy as np

from normlock.domains import instance


def pixel_axes(layout: str) -> tuple[int, int]:
    """The axes of a rank-4 batch's rows and columns."""
    return (2, 3) if layout == "NCHW" else (1, 2)


def instance_statistics(y: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """The correctly rounded mean and population variance of every image's channels
    of a rank-4 float64 batch, as ``(N, C)`` arrays."""
    means, variances = instance.instance_statistics(y, pixel_axes(layout))
    return means.reshape(y.shape[0], -1), variances.reshape(y.shape[0], -1)


def standardize(y: np.ndarray, layout: str, epsilon: float) -> np.ndarray:
    """``(y - mean) / sqrt(var + epsilon)`` per image and channel of a rank-4 float64
    batch (float64 out)."""
    return instance.standardize(y, pixel_axes(layout), epsilon)
