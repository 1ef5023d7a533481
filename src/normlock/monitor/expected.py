"""What the lock says served values should look like, per feature and stage.

At the ``raw`` stage that is the training reference itself; at the ``normalized`` stage it
is the reference pushed through the feature's chain. Chains are run here step by step
with each method's canonical formula, values outside a step's domain becoming NaN, so that
hypotheses ("the data was normalized twice") can be evaluated without raising.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from normlock.chain import FeatureLock, Step
from normlock.errors import InputError
from normlock.lock import Lock
from normlock.methods import get_method
from normlock.methods.ops import linear_map
from normlock.monitor.curves import Curve


def run_steps(steps: Sequence[Step], values: np.ndarray) -> np.ndarray:
    """``values`` through ``steps`` in float64; values outside a step's domain become NaN."""
    x = np.array(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        for step in steps:
            method = get_method(step.method)
            bad = method.domain_violations(step.params, x)
            if bad is not None:
                x = np.where(bad, np.nan, x)
            x = np.asarray(method.apply(step.params, x), dtype=np.float64)
    return x


def affine_of(step: Step) -> tuple[float, float] | None:
    """``(a, b)`` with ``step(x) == a * x + b`` for affine steps, else None."""
    return linear_map(get_method(step.method).ops(step.params))


def _input_moments(step: Step) -> tuple[float, float] | None:
    """Mean and population std of a step's input when its parameters record them."""
    params = step.params
    if step.method == "standard" and params["ddof"] == 0 and params["std"] > 0:
        return float(params["mean"]), float(params["std"])
    return None


@dataclass(frozen=True)
class Expected:
    """The training distribution of one feature at one stage.

    Attributes:
        feature: the locked feature.
        stage: ``raw`` or ``normalized``.
        raw: the raw training distribution (the reference's quantile grid).
        curve: the distribution at ``stage``.
        count: finite training values (the reference size m).
        total: training values of every kind.
        missing: training values that were NaN.
        mean: training mean at ``stage``.
        std: training standard deviation (ddof 0) at ``stage``.
        rank_error: rank-error bound of the reference quantiles (0 when exact).
    """

    feature: FeatureLock
    stage: str
    raw: Curve
    curve: Curve
    count: int
    total: int
    missing: int
    mean: float
    std: float
    rank_error: float

    @property
    def missing_rate(self) -> float:
        """Fraction of training values that were NaN."""
        return self.missing / self.total if self.total else 0.0

    @property
    def name(self) -> str:
        """The feature's name."""
        return self.feature.name

    def through_lock(self, values: np.ndarray) -> np.ndarray:
        """Raw ``values`` through the feature's chain (NaN outside its domain)."""
        return run_steps(self.feature.steps, values)


def _stage_moments(feature: FeatureLock, curve: Curve) -> tuple[float, float]:
    """Mean and std after the chain: exact through its affine tail, else from the curve."""
    reference = feature.reference
    steps = feature.steps
    tail_start = len(steps)
    while tail_start > 0 and affine_of(steps[tail_start - 1]) is not None:
        tail_start -= 1
    if tail_start == 0:
        mean, std = float(reference["mean"]), float(reference["std"])
    elif tail_start < len(steps) and _input_moments(steps[tail_start]) is not None:
        mean, std = _input_moments(steps[tail_start])  # type: ignore[misc]
    else:
        return curve.mean(), curve.std()
    for step in steps[tail_start:]:
        a, b = affine_of(step)  # type: ignore[misc]
        mean, std = a * mean + b, abs(a) * std
    return mean, std


def expected_of(feature: FeatureLock, stage: str) -> Expected:
    """The :class:`Expected` distribution of ``feature`` at ``stage``."""
    reference = feature.reference
    quantiles = reference["quantiles"]
    raw = Curve.of(quantiles["probabilities"], quantiles["values"])
    total = reference["count"] + reference["nan"] + reference["posinf"] + reference["neginf"]
    if stage == "normalized":
        curve = raw.mapped(lambda v: run_steps(feature.steps, v))
        mean, std = _stage_moments(feature, curve)
    else:
        curve, mean, std = raw, float(reference["mean"]), float(reference["std"])
    return Expected(
        feature=feature,
        stage=stage,
        raw=raw,
        curve=curve,
        count=int(reference["count"]),
        total=int(total),
        missing=int(reference["nan"]),
        mean=mean,
        std=std if math.isfinite(std) else 0.0,
        rank_error=float(reference.get("rank_error", 0.0)),
    )


def expected_for(lock: Lock, stage: str) -> dict[str, Expected]:
    """:func:`expected_of` for every feature of ``lock``."""
    check_stage(lock, stage)
    return {f.name: expected_of(f, stage) for f in lock.features}


def check_stage(lock: Lock, stage: str) -> None:
    """A lock whose whitening groups mix columns is watched at its raw inputs only."""
    if stage == "normalized" and getattr(lock, "groups", ()):
        raise InputError(
            "stage='normalized' watches each column's own chain output, but this lock's "
            f"whitening groups ({', '.join(g.name for g in lock.groups)}) mix columns; "
            "monitor the raw inputs (stage='raw'), which the groups' columns keep references of"
        )
