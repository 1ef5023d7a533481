"""Verifying a serving step's per-window normalization against a window lock.

The probes are batches of windows (float64 and float32) of very different levels and
spreads, one of them constant; the target gets the batch and returns it normalized.
Mismatches are explained, when the outputs fit, by the window mistakes: the
statistics of the whole batch instead of each window's, each window's sample std
(``ddof=1``), another epsilon (0, 1e-5, 1e-8), or the statistics taken over the
channels instead of the time steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from normlock.domains.instance import instance_statistics
from normlock.domains.parity import ProbeRun, domain_parity
from normlock.domains.series.windows import WindowLock
from normlock.verify.cause import Cause
from normlock.verify.compare import candidate_residual
from normlock.verify.diagnose import EXPLAINED
from normlock.verify.parity import ParityReport, tolerance_of
from normlock.verify.rounding import ROUNDING_ULPS

_EPS64 = float(np.finfo(np.float64).eps)
_EPS32 = float(np.finfo(np.float32).eps)


def probe_windows() -> np.ndarray:
    """Four windows of 12 steps and 3 channels, each channel at its own level."""
    steps = np.linspace(-1.0, 1.0, 12)
    levels = np.array([[0.0, 1e3, -5.0], [1e6, 2.5, 0.01], [-40.0, 7.0, 3.0], [9.0, 9.0, 9.0]])
    spreads = np.array([[1.0, 10.0, 0.5], [1e3, 0.1, 1e-4], [4.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    wiggle = np.sin(np.arange(12))[None, :, None]
    return levels[:, None, :] + spreads[:, None, :] * (steps[None, :, None] + 0.3 * wiggle)


def verify_windows(
    lock: WindowLock, target: Any, data: Any = None, *, exact: bool = False, ulps: int | None = None
) -> ParityReport:
    """Check ``target`` against the window policy on probe windows (and ``data``)."""
    batches = [("float64", probe_windows()), ("float32", probe_windows().astype(np.float32))]
    if data is not None:
        batches.append(("data", np.asarray(data)))
    runs = [
        _run(lock, f"{label} probe windows" if label != "data" else label, w)
        for label, w in batches
    ]
    return domain_parity(
        lock,
        target,
        runs,
        lambda array: [array.reshape(-1)],
        lambda run, got: explain(lock, run, got),
        tolerance_of(exact, ulps),
    )


def _run(lock: WindowLock, label: str, windows: np.ndarray) -> ProbeRun:
    expected = lock.transform(windows)
    stats = lock.statistics(windows)
    z = np.abs(expected.astype(np.float64))
    relative = (np.abs(stats.mean) + stats.scale) / stats.scale
    bound = ROUNDING_ULPS * _EPS64 * (2 * z + relative)
    if expected.dtype == np.float32:
        bound = bound + np.spacing(z.astype(np.float32)).astype(np.float64)
    return ProbeRun(label, windows, expected, [bound.reshape(-1)])


def explain(lock: WindowLock, run: ProbeRun, got: np.ndarray) -> Cause:
    """The window mistake that fits ``got``, or an unexplained cause."""
    x = np.asarray(run.inputs, dtype=np.float64)
    axis = lock._axis(x)
    wide = got.astype(np.float64)
    eps = float(np.finfo(run.expected.dtype).eps)
    with np.errstate(divide="ignore", invalid="ignore"):  # an epsilon of 0 on a constant window
        candidates = _candidates(lock, x, axis)
    for kind, message, candidate in candidates:
        if candidate_residual(wide, candidate, np.ones(wide.shape)) <= EXPLAINED * eps:
            return Cause(kind, message)
    exact = run.expected.astype(np.float64)
    stats = lock.statistics(x)  # float32 rounding of the data's level, in units of its spread
    conditioning = np.broadcast_to((np.abs(stats.mean) + stats.scale) / stats.scale, x.shape)
    if candidate_residual(wide, exact, conditioning) <= EXPLAINED * _EPS32:
        return Cause(
            "precision",
            "float32 arithmetic: the statistics or the formula computed in float32; compute "
            "in float64 and round the output once",
        )
    return Cause("unexplained", "the outputs differ in a way no window mistake explains")


def _candidates(lock: WindowLock, x: np.ndarray, axis: int) -> list[tuple[str, str, np.ndarray]]:
    found = []
    batch_axes = tuple(range(x.ndim - 1)) if x.ndim > 2 else (0, 1)
    mean, variance = instance_statistics(x, batch_axes)
    found.append(
        (
            "batch",
            "standardized with the whole batch's statistics where the lock uses each window's own",
            (x - mean) / np.sqrt(variance + lock.epsilon),
        )
    )
    mean, variance = instance_statistics(x, (axis,))
    length = x.shape[axis]
    sample = variance * length / max(length - 1, 1)
    found.append(
        (
            "ddof",
            "each window's sample std (ddof=1) where the lock uses the population std (ddof=0)",
            (x - mean) / np.sqrt(sample + lock.epsilon),
        )
    )
    for epsilon in (0.0, 1e-5, 1e-8):
        if epsilon != lock.epsilon:
            found.append(
                (
                    "epsilon",
                    f"epsilon {epsilon:g} where the lock adds {lock.epsilon:g} to each "
                    "window's variance",
                    (x - mean) / np.sqrt(variance + epsilon),
                )
            )
    if x.ndim > 2:
        other = x.ndim - 1 if axis != x.ndim - 1 else x.ndim - 2
        m, v = instance_statistics(x, (other,))
        found.append(
            (
                "axis",
                "statistics taken over the channels where the lock takes them over the time steps",
                (x - m) / np.sqrt(v + lock.epsilon),
            )
        )
    return found
