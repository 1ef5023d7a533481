"""What a lock tells the model side: per feature, the statistics of its raw inputs and of
its outputs, and its formula as one ``(x - center) / scale`` where it is affine."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from normlock.chain import FeatureLock
from normlock.errors import NormlockError
from normlock.lock import Lock


@dataclass(frozen=True)
class Moments:
    """Mean and standard deviation of one feature's values."""

    mean: float
    std: float


@dataclass(frozen=True)
class FeatureSide:
    """One feature as the model sees it.

    Attributes:
        name: the feature.
        raw: the training data's moments (for a lock built from declared constants,
            such as an image preset, the constants themselves), or None.
        normalized: the moments of the lock's outputs on that data, or None.
        affine: ``(center, scale)`` when the chain is ``(x - center) / scale``.
        rescale: the value its first step maps to 1 when it rescales images, else 1.
    """

    name: str
    raw: Moments | None
    normalized: Moments | None
    affine: tuple[float, float] | None
    rescale: float = 1.0


def sides(lock: Lock) -> list[FeatureSide]:
    """Every feature of ``lock``, in lock order."""
    return [_side(f) for f in lock.features]


def _side(feature: FeatureLock) -> FeatureSide:
    affine = effective_affine(feature)
    reference = feature.reference
    rescale = rescale_of(feature)
    if not reference.get("count"):
        if affine is None:
            return FeatureSide(feature.name, None, None, None, rescale)
        return FeatureSide(feature.name, Moments(*affine), Moments(0.0, 1.0), affine, rescale)
    raw = Moments(float(reference["mean"]), float(reference["std"]))
    normalized: Moments | None
    if affine is not None:
        center, scale = affine
        normalized = Moments((raw.mean - center) / scale, raw.std / abs(scale))
    else:
        normalized = _grid_moments(feature)
    return FeatureSide(feature.name, raw, normalized, affine, rescale)


def _grid_moments(feature: FeatureLock) -> Moments | None:
    """The outputs' moments, from the reference's percentile grid (an approximation)."""
    grid = np.asarray(feature.reference["quantiles"]["values"], dtype=np.float64)
    try:
        out = feature.apply(grid)
    except NormlockError:
        return None
    out = out[np.isfinite(out)]
    return Moments(float(out.mean()), float(out.std())) if out.size else None


def effective_affine(feature: FeatureLock) -> tuple[float, float] | None:
    """``(center, scale)`` such that the chain is ``(x - center) / scale`` around the
    training data (or, for a lock without data, around the inputs it maps to 0 and
    ±1); None when it is not affine there."""
    reference = feature.reference
    if reference.get("count"):
        mean, std = float(reference["mean"]), float(reference["std"])
        step = std if std > 0 and math.isfinite(std) else 1.0
        x = np.array([mean - step, mean, mean + step])
    elif feature.invertible:
        try:
            x = feature.apply(np.array([-1.0, 0.0, 1.0]), inverse=True)
        except NormlockError:
            return None
    else:
        return None
    try:
        y = feature.apply(x.astype(np.float64))
    except NormlockError:
        return None
    if not (np.isfinite(x).all() and np.isfinite(y).all()) or x[2] == x[0]:
        return None
    low, high = (y[1] - y[0]) / (x[1] - x[0]), (y[2] - y[1]) / (x[2] - x[1])
    if low == 0 or abs(high - low) > 1e-9 * abs(low):
        return None
    scale = 1.0 / low
    return float(x[1] - y[1] * scale), float(scale)


def rescale_of(feature: FeatureLock) -> float:
    """The value a feature's first step maps to 1 when that step is an image lock's
    rescale (``minmax`` from ``[0, max]`` to ``[0, 1]``), else 1."""
    first = feature.steps[0] if feature.steps else None
    if first is None or first.method != "minmax":
        return 1.0
    params = first.params
    if params.get("min") == 0.0 and list(params.get("feature_range", [])) == [0.0, 1.0]:
        return float(params["max"])
    return 1.0


def numbers(values: object, limit: int = 6) -> str:
    """Values as ``(a, b, c)`` with four significant digits, at most ``limit`` shown."""
    items = [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]
    shown = ", ".join(f"{v:.4g}" for v in items[:limit])
    return f"({shown}{', ...' if len(items) > limit else ''})"
