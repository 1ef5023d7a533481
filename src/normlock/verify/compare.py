"""Comparing a target's outputs with the lock's: how far apart they are, and whether
that is within the tolerance (by default the rounding bound of
:mod:`normlock.verify.rounding`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """What a target's outputs are held to.

    Attributes:
        kind: ``rounding`` (the default: within the rounding bound, value by value),
            ``exact`` (the same values, NaN where the lock has NaN) or ``ulps`` (within a
            flat number of ulps of ``max(|expected|, 1)``).
        ulps: the number of ulps for ``kind="ulps"``, else None.
    """

    kind: str = "rounding"
    ulps: int | None = None

    def allowed(self, expected: np.ndarray, rounding: np.ndarray) -> np.ndarray:
        """Per value, the largest difference allowed (float64)."""
        if self.kind == "exact":
            return np.zeros(expected.shape)
        if self.kind == "ulps":
            assert self.ulps is not None
            return self.ulps * _unit(expected)
        return rounding

    def describe(self) -> str:
        """``rounding bound``, ``exact`` or ``N ulps``."""
        return {"rounding": "rounding bound", "exact": "exact"}.get(self.kind, f"{self.ulps} ulps")


@dataclass(frozen=True)
class Comparison:
    """How one feature's outputs compare with the lock's in one run.

    Attributes:
        count: values compared.
        differing: values that are not the lock's (NaN matches NaN, ``-0.0`` matches
            ``0.0``).
        failing: values beyond the tolerance.
        max_abs_error: largest ``|got - expected|`` (``inf`` for a NaN/inf mismatch).
        max_ulp: largest difference in units in the last place (of the run's dtype) of
            ``max(|expected|, 1)``: the true ulp distance for outputs of magnitude 1 or
            more, and for smaller ones the same absolute step, so that a sign change
            around 0 is not counted in billions of tiny ulps.
        rounding_share: largest difference as a share of the rounding bound (0 when
            identical, above 1 beyond what rounding explains).
        worst: the input, expected and actual output of the value with the largest share
            of the rounding bound (the largest difference among equal shares).
    """

    count: int
    differing: int
    failing: int
    max_abs_error: float
    max_ulp: float
    rounding_share: float
    worst: tuple[float, float, float]


def _unit(expected: np.ndarray) -> np.ndarray:
    return np.spacing(np.maximum(np.abs(expected), expected.dtype.type(1))).astype(np.float64)


def differences(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """``|got - expected|`` in float64: 0 for equal values and NaN against NaN, ``inf``
    for NaN or inf against anything else."""
    wide_expected, wide_got = expected.astype(np.float64), got.astype(np.float64)
    same = (wide_got == wide_expected) | (np.isnan(wide_got) & np.isnan(wide_expected))
    with np.errstate(invalid="ignore"):
        error = np.abs(wide_got - wide_expected)
    error[same] = 0.0
    error[np.isnan(error)] = np.inf
    return error


def shares(error: np.ndarray, rounding: np.ndarray) -> np.ndarray:
    """``error / rounding``: 0 where the error is 0, ``inf`` where only the bound is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = error / rounding
    share[error == 0] = 0.0
    share[np.isnan(share)] = np.inf
    return share


def compare(
    x: np.ndarray,
    expected: np.ndarray,
    got: np.ndarray,
    rounding: np.ndarray,
    tolerance: Tolerance,
) -> Comparison:
    """Compare ``got`` with ``expected`` (same float dtype), given the rounding bound of
    each value (see :func:`normlock.verify.rounding.rounding_bound`)."""
    error = differences(expected, got)
    with np.errstate(invalid="ignore"):
        distance = error / _unit(expected)
    distance[error == 0] = 0.0
    share = shares(error, rounding)
    worst = int(np.lexsort((-np.arange(len(x)), error, share))[-1]) if len(x) else 0
    return Comparison(
        count=len(expected),
        differing=int((error > 0).sum()),
        failing=int((error > tolerance.allowed(expected, rounding)).sum()),
        max_abs_error=float(error.max(initial=0.0)),
        max_ulp=float(distance.max(initial=0.0)),
        rounding_share=float(share.max(initial=0.0)),
        worst=(float(x[worst]), float(expected[worst]), float(got[worst]))
        if len(x)
        else (np.nan, np.nan, np.nan),
    )


def scaled_residual(got: np.ndarray, candidate: np.ndarray, scale: np.ndarray) -> float:
    """Largest ``|got - candidate| / (|candidate| + scale)`` (float64 arrays); equal values
    (and NaN against NaN) count 0, a NaN or inf against anything else counts ``inf``."""
    equal = (got == candidate) | (np.isnan(got) & np.isnan(candidate))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        residual = np.abs(got - candidate) / (np.abs(candidate) + scale + np.finfo(float).tiny)
    residual[equal] = 0.0
    residual[~np.isfinite(residual)] = np.inf
    return float(residual.max(initial=0.0))


def candidate_residual(got: np.ndarray, candidate: np.ndarray, scale: np.ndarray) -> float:
    """:func:`scaled_residual` with the candidate's largest finite magnitude added to
    every denominator: a formula reproduced in another operation order differs by a few
    epsilons of the largest intermediate value, wherever its output is near 0."""
    finite = np.abs(candidate[np.isfinite(candidate)])
    return scaled_residual(got, candidate, scale + float(finite.max(initial=0.0)))
