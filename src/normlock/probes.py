"""Probe inputs and their expected outputs, derived from the reference — never raw rows.

Per feature the probes are: reference quantiles, the training extremes and the floats
just beyond them, points a tenth of the range outside it, the mean, zero, and NaN when
the policy keeps NaN. A lock imported without training data (reference count 0) is
probed at zero and at the inputs its chain maps to -3, -1, -0.5, 0, 0.5, 1 and 3.
Points outside a step's domain are left out. Outputs are stored
for the float64 inputs and, separately, for those inputs rounded to float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from normlock.chain import FeatureLock
from normlock.errors import DomainError

_PROBE_PERCENTILES = (0, 1, 5, 25, 50, 75, 95, 99, 100)
_PROBE_OUTPUTS = (-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0)


def _without_reference(feature: FeatureLock) -> list[float]:
    if not feature.invertible:
        return [0.0]
    with np.errstate(all="ignore"):
        points = feature.apply(np.array(_PROBE_OUTPUTS), inverse=True)
    return sorted({0.0, *(float(p) for p in points if math.isfinite(p))})


def _candidates(feature: FeatureLock) -> list[float]:
    reference = feature.reference
    if not reference.get("count"):
        return _without_reference(feature)
    values = reference["quantiles"]["values"]
    low, high = reference["min"], reference["max"]
    span = high - low if math.isfinite(high - low) else 0.0
    points = [values[p] for p in _PROBE_PERCENTILES]
    points += [low, high, reference["mean"], 0.0]
    points += [math.nextafter(low, -math.inf), math.nextafter(high, math.inf)]
    points += [low - 0.1 * span, high + 0.1 * span]
    return sorted({float(p) for p in points if math.isfinite(p)})


def _valid(feature: FeatureLock, value: float, dtype: type[np.floating[Any]]) -> bool:
    with np.errstate(over="ignore"):
        candidate = np.array([value], dtype=dtype)
    if not np.isfinite(candidate).all():
        return False
    try:
        feature.apply(candidate)
    except DomainError:
        return False
    return True


def _all_valid(
    feature: FeatureLock, values: list[float], dtype: type[np.floating[Any]]
) -> list[float]:
    """The ``values`` the feature accepts in ``dtype``: all of them in one call when it
    accepts them all (the common case), else one by one."""
    with np.errstate(over="ignore"):
        candidates = np.array(values, dtype=dtype)
    try:
        if np.isfinite(candidates).all():
            feature.apply(candidates)
            return values
    except DomainError:
        pass
    return [v for v in values if _valid(feature, v, dtype)]


def probes_of(feature: FeatureLock) -> dict[str, list[float]]:
    """Probe inputs and the expected outputs of one feature, for float64 and float32 inputs."""
    inputs = _all_valid(feature, _candidates(feature), np.float64)
    rounded = sorted({float(np.float32(v)) for v in _all_valid(feature, inputs, np.float32)})
    if feature.nan == "keep":
        inputs.append(math.nan)
        rounded.append(math.nan)
    x32 = np.array(rounded, dtype=np.float32)
    return {
        "input": inputs,
        "float64": feature.apply(np.array(inputs, dtype=np.float64)).tolist(),
        "input_float32": x32.tolist(),
        "float32": feature.apply(x32).tolist(),
    }
