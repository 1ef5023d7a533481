"""Running a locked chain the way a mistaken serving pipeline would.

These helpers run a feature's steps, or altered versions of them, on float64 values
without the lock's input checks (a value outside a step's domain becomes NaN, as it
would in a serving runtime), then round once to the run's dtype. Each step's formula
is the method's own :meth:`~normlock.methods.base.Method.apply`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, Step
from normlock.methods import get_method

_RELATIVE_STEP = 2.0**-20


def run_steps(steps: tuple[Step, ...], x: np.ndarray, dtype: Any) -> np.ndarray:
    """``steps`` applied to float64 ``x``, rounded to ``dtype``, returned as float64."""
    values = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        for step in steps:
            values = get_method(step.method).apply(step.params, values)
        return values.astype(dtype).astype(np.float64)


def run_feature(feature: FeatureLock, x: np.ndarray, dtype: Any) -> np.ndarray:
    """The feature's chain on ``x`` (see :func:`run_steps`)."""
    return run_steps(feature.steps, x, dtype)


def input_magnitude(feature: FeatureLock) -> float:
    """The size of typical raw values of the feature: its largest reference |value|."""
    reference = feature.reference
    values = [abs(reference.get(k, 0.0)) for k in ("min", "max", "mean")]
    return max([v for v in values if math.isfinite(v)] + [0.0])


def output_scale(feature: FeatureLock, x: np.ndarray) -> np.ndarray:
    """Per value, how much the output moves when the input, or a parameter of the input's
    size, is perturbed in its last bits: ``|f'(x)| * max(|x|, typical |value|)``.

    Rounding errors of any correct implementation are a small multiple of
    ``eps * (output_scale + |output|)``.
    """
    values = np.asarray(x, dtype=np.float64)
    magnitude = np.maximum(np.abs(values), input_magnitude(feature))
    magnitude[magnitude == 0] = 1.0
    base = run_steps(feature.steps, values, np.float64)
    up = run_steps(feature.steps, values + magnitude * _RELATIVE_STEP, np.float64)
    with np.errstate(invalid="ignore"):
        scale = np.abs(up - base) / _RELATIVE_STEP
    scale[~np.isfinite(scale)] = 0.0
    return scale


def with_standard_ddof_flipped(feature: FeatureLock) -> FeatureLock | None:
    """The feature with its last ``standard`` step's std switched between population
    (ddof 0) and sample (ddof 1) std, or None when it has no such step."""
    count = feature.reference.get("count", 0)
    for index in range(len(feature.steps) - 1, -1, -1):
        step = feature.steps[index]
        params = step.params
        if step.method != "standard" or not params.get("with_std") or count < 2:
            continue
        if params["std"] == 0.0:
            return None
        factor = count / (count - 1) if params["ddof"] == 0 else (count - 1) / count
        flipped = Step(
            "standard", {**params, "ddof": 1 - params["ddof"], "std": params["std"] * factor**0.5}
        )
        steps = (*feature.steps[:index], flipped, *feature.steps[index + 1 :])
        return replace(feature, steps=steps)
    return None


AFFINE_LABELS: dict[str, tuple[str, str]] = {
    "standard": ("mean", "std"),
    "robust": ("median", "scale"),
    "minmax": ("min", "max - min"),
    "maxabs": ("center", "max |x|"),
}


def final_affine(feature: FeatureLock) -> tuple[float, float] | None:
    """``(center, scale)`` when the last step is ``(v - center) / scale`` (standard,
    robust, max-abs, or min-max onto [0, 1] without clipping), else None."""
    if not feature.steps:
        return None
    last = feature.steps[-1]
    return get_method(last.method).affine(last.params)
