"""Real images for the image-lock tests, and exact references of their statistics."""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np

from tests.exact_reference import sqrt_to_float, to_float


@functools.cache
def sample_images() -> np.ndarray:
    """scikit-learn's two bundled photographs, ``(2, 427, 640, 3)`` uint8 (NHWC)."""
    from sklearn.datasets import load_sample_images

    return np.stack(load_sample_images().images)


@functools.cache
def digits() -> np.ndarray:
    """scikit-learn's bundled digits, ``(1797, 8, 8)`` float64 in [0, 16]."""
    from sklearn.datasets import load_digits

    return load_digits().images


def exact_mean_std(values: np.ndarray, divisor: float | None = None) -> tuple[float, float]:
    """The float64 nearest to the exact mean and population std of ``values``, each
    first divided by ``divisor`` in float64 (as the lock's rescale does), by rational
    arithmetic over the distinct values and their counts."""
    distinct, counts = np.unique(np.asarray(values, dtype=np.float64), return_counts=True)
    if divisor is not None:
        distinct = distinct / divisor
    pairs = [(Fraction(float(v)), int(c)) for v, c in zip(distinct, counts, strict=True)]
    n = sum(c for _, c in pairs)
    mean = sum((v * c for v, c in pairs), Fraction(0)) / n
    variance = sum(((v - mean) ** 2 * c for v, c in pairs), Fraction(0)) / n
    return to_float(mean), sqrt_to_float(variance)


def by_hand(pixels: np.ndarray, means, stds, max_value: float | None, axis: int) -> np.ndarray:
    """``((x - 0) / max_value - mean) / std`` per channel in float64 (the lock's chain)."""
    shape = [1] * pixels.ndim
    shape[axis] = -1
    x = pixels.astype(np.float64)
    if max_value is not None:
        x = (x - 0.0) / max_value
    return (x - np.reshape(means, shape)) / np.reshape(stds, shape)
