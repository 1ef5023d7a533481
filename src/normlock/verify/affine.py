"""Estimating the parameters a target actually used, when its last step is affine.

If the lock's chain ends in ``(v - center) / scale`` and the target's outputs are an
exact affine function of ``v`` (the values entering that step), a least-squares line
recovers the target's own ``center'`` and ``scale'``. Their relation to the locked
parameters names the mistake: both off by one factor (inputs in other units), equal to
the locked ones rounded to a narrower float, or simply different (fitted on other
data, by so much).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from normlock.chain import FeatureLock
from normlock.verify.cause import Cause, Observation
from normlock.verify.chains import AFFINE_LABELS, final_affine, run_steps
from normlock.verify.compare import candidate_residual
from normlock.verify.floats import NARROWER, round_to

_SAME = 1e-9


def _close(a: float, b: float, tolerance: float) -> bool:
    """Whether ``a`` and ``b`` are finite and within ``tolerance`` relative of each other
    (a parameter beyond float16's range rounds to inf, which is close to nothing)."""
    return math.isfinite(a - b) and abs(a - b) <= tolerance * max(abs(a), abs(b))


def _change(new: float, old: float) -> float | None:
    return (new - old) / abs(old) if old else None


def _fit_line(pre: np.ndarray, got: np.ndarray) -> tuple[float, float] | None:
    """``(slope, intercept)`` of ``got ~ slope * pre + intercept`` over the finite pairs."""
    usable = np.isfinite(pre) & np.isfinite(got)
    if usable.sum() < 3 or np.ptp(pre[usable]) == 0:
        return None
    middle = float(pre[usable].mean())
    design = np.column_stack([pre[usable] - middle, np.ones(int(usable.sum()))])
    (slope, level), *_ = np.linalg.lstsq(design, got[usable], rcond=None)
    if not (np.isfinite(slope) and slope):
        return None
    return float(slope), float(level - slope * middle)


def affine_cause(
    feature: FeatureLock, seen: Observation, scale: np.ndarray, limit: float
) -> Cause | None:
    """The cause when the outputs are a clean affine function of the last step's input."""
    form = final_affine(feature)
    if form is None:
        return None
    pre = run_steps(feature.steps[:-1], seen.x, np.float64)
    line = _fit_line(pre, seen.got)
    if line is None:
        return None
    slope, intercept = line
    with np.errstate(all="ignore"):
        fitted = slope * pre + intercept
    if candidate_residual(seen.got, fitted, scale) > limit:
        return None
    center, spread = form
    used_center, used_scale = -intercept / slope, 1.0 / slope
    tolerance = max(_SAME, 16 * float(np.finfo(seen.dtype).eps))
    return _classify(feature, (center, spread), (used_center, used_scale), tolerance)


def _classify(
    feature: FeatureLock,
    locked: tuple[float, float],
    used: tuple[float, float],
    tolerance: float,
) -> Cause:
    (center, spread), (used_center, used_scale) = locked, used
    method = feature.steps[-1].method
    center_name, scale_name = AFFINE_LABELS[method]
    if len(feature.steps) > 1:
        after = " -> ".join(s.method for s in feature.steps[:-1])
        center_name, scale_name = (f"{n} (after {after})" for n in (center_name, scale_name))
    details: dict[str, Any] = {
        "center": used_center,
        "scale": used_scale,
        "locked_center": center,
        "locked_scale": spread,
        "center_change": _change(used_center, center),
        "scale_change": _change(used_scale, spread),
        "names": [center_name, scale_name],
    }
    for name in NARROWER:
        rounded_center, rounded_scale = round_to(name, np.array([center, spread]))
        if _close(used_center, rounded_center, tolerance) and _close(
            used_scale, rounded_scale, tolerance
        ):
            return Cause(
                "parameter_precision",
                f"parameters rounded to {name}: {center_name} {used_center!r} and "
                f"{scale_name} {used_scale!r} are the locked values in {name}; keep them "
                "in float64",
                {**details, "precision": name},
            )
    ratio = used_scale / spread
    if center and _close(used_center / center, ratio, tolerance) and not _close(ratio, 1, 1e-6):
        factor = 1 / ratio
        return Cause(
            "units",
            f"inputs in other units: the target scales them by {factor:.6g} before "
            f"normalizing ({center_name} and {scale_name} are both {ratio:.6g} times the "
            "locked ones)",
            {**details, "input_factor": factor},
        )
    pairs = ((center_name, used_center, center), (scale_name, used_scale, spread))
    changed = [p for p in pairs if not _close(p[1], p[2], tolerance)]
    what = "parameters fitted on other data"
    if not changed:  # beyond the rounding bound, yet within a relative 1e-9
        changed = list(pairs)
        what = (
            "parameters slightly off, by more than rounding (a less accurate sum, or "
            "nearly the same rows)"
        )
    return Cause(
        "other_data",
        f"{what}: " + ", ".join(_describe(label, new, old) for label, new, old in changed),
        details,
    )


def _describe(label: str, new: float, old: float) -> str:
    """``label new vs locked old (+x%)``, with as many digits as tell the two apart."""
    change = _change(new, old)
    relative = f" ({change * 100:+.3g}%)" if change is not None else ""
    digits = 9 if f"{new:.9g}" != f"{old:.9g}" else 17
    return f"{label} {new:.{digits}g} vs locked {old:.{digits}g}{relative}"
