"""Verifying a serving step on a domain's arrays: the runs, the comparison per feature,
the report.

A domain builds its probe runs (:class:`ProbeRun`: probe images, spectrograms or series
windows, with the lock's outputs and each feature's rounding bound) and says how to
split an array into its features' values (channels, bins, value columns) and which
domain mistake a mismatching run shows. :func:`domain_parity` runs them through the
target and compares each feature as :func:`normlock.verify.verify` does, into the same
:class:`~normlock.verify.parity.ParityReport`: its verdict, per feature and run the
errors in ulps and as a share of the rounding bound, and the cause of a mismatch: the
domain's, else the per-feature diagnosis of :mod:`normlock.verify.diagnose`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from normlock.domains.targets import ArrayTarget, as_numpy, resolve_array_target
from normlock.errors import NormlockError
from normlock.lock import Lock
from normlock.verify.cause import Cause, Observation
from normlock.verify.compare import Tolerance, compare
from normlock.verify.diagnose import diagnose
from normlock.verify.parity import FeatureParity, ParityReport
from normlock.verify.targets import TargetError

Split = Callable[[np.ndarray], list[np.ndarray]]
"""An array of the domain -> each feature's values (1-D), in lock order."""


@dataclass(frozen=True)
class ProbeRun:
    """One run of probes: what the target is fed, and what the lock makes of it.

    Attributes:
        label: e.g. ``uint8 probe images``.
        inputs: what the target is fed (an array, or a dict of columns).
        expected: the lock's output, as an array that splits into the features' values.
        bounds: per feature, the rounding bound of each of its values.
        values: the inputs as an array that splits like ``expected`` (None: ``inputs``).
    """

    label: str
    inputs: Any
    expected: np.ndarray
    bounds: list[np.ndarray]
    values: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray:
        """The inputs as an array that splits into the features' values."""
        return self.inputs if self.values is None else self.values


Explain = Callable[[ProbeRun, np.ndarray], Cause | None]
"""A domain's diagnosis of a mismatching run (None: no domain mistake fits)."""


Read = Callable[[Any], np.ndarray]
"""A target's output -> an array shaped as a run's ``expected``."""


def run_target(target: ArrayTarget, run: ProbeRun, read: Read = as_numpy) -> np.ndarray:
    """The target's output for a run, as an array checked for shape."""
    got = read(target.run(run.inputs))
    if got.shape != run.expected.shape:
        raise TargetError(
            f"the target returned shape {got.shape} where the lock's output has shape "
            f"{run.expected.shape}; it must return one value per input value"
        )
    with np.errstate(over="ignore"):
        return got.astype(run.expected.dtype)


def domain_parity(
    lock: Lock,
    target: Any,
    runs: Sequence[ProbeRun],
    split: Split,
    explain: Explain,
    tolerance: Tolerance,
    fallback: Callable[[ArrayTarget, ProbeRun, Exception], tuple[np.ndarray, Cause] | None]
    | None = None,
    read: Read = as_numpy,
    names: Sequence[str] | None = None,
) -> ParityReport:
    """Run ``runs`` through ``target`` and compare every feature of every run.

    Args:
        lock: the domain lock.
        target: the serving step (see :mod:`normlock.domains.targets`).
        runs: the probe runs (and the user's data as a run).
        split: how to split an array into the features' values.
        explain: the domain's diagnosis of a mismatching run.
        tolerance: what the outputs are held to.
        fallback: for a run the target fails on: another way of feeding it (the other
            layout) that it runs, its output and the mistake that makes it run, or None.
            Every value of such a run fails, with that cause.
        read: how the target's output becomes an array shaped as ``expected``.
        names: what each split part is called in the report (default: the lock's
            features; ``explain`` must then name every mismatch's cause).

    Raises:
        TargetError: the target fails on every run.
    """
    resolved = resolve_array_target(target)
    results: list[FeatureParity] = []
    notes: list[str] = []
    failures: list[str] = []
    for run in runs:
        dtype = getattr(run.inputs, "dtype", None)
        if resolved.dtype is not None and dtype != resolved.dtype:
            notes.append(f"not run: {run.label} (the target takes {np.dtype(resolved.dtype)})")
            continue
        cause = None
        try:
            got = run_target(resolved, run, read)
        except Exception as exc:  # the target's own failure, or a bad output
            found = fallback(resolved, run, exc) if fallback is not None else None
            if found is None:
                why = exc if isinstance(exc, NormlockError) else f"{type(exc).__name__}: {exc}"
                failures.append(f"{run.label}: the target raised {why}")
                continue
            got, cause = found
        compared = _compare(lock, run, got, split, explain, tolerance, cause, names)
        if cause is not None:  # fed another way than the lock's: every value fails
            compared = [
                replace(r, failing=r.count, differing=r.count, cause=cause) for r in compared
            ]
        results.extend(compared)
    if not results:
        raise TargetError(
            f"{resolved.description} failed on every run: " + "; ".join(failures + notes)
        )
    notes += [f"not run: {f}" for f in failures]
    return ParityReport(lock.fingerprint, resolved.description, tuple(results), tuple(notes))


def _compare(
    lock: Lock,
    run: ProbeRun,
    got: np.ndarray,
    split: Split,
    explain: Explain,
    tolerance: Tolerance,
    cause: Cause | None,
    labels: Sequence[str] | None,
) -> list[FeatureParity]:
    dtype = run.expected.dtype
    inputs, expected, outputs = split(run.array), split(run.expected), split(got)
    found = [
        compare(x.astype(np.float64), e, g, b, tolerance)
        for x, e, g, b in zip(inputs, expected, outputs, run.bounds, strict=True)
    ]
    if cause is None and any(f.failing for f in found):
        cause = explain(run, got)
    names = list(labels or [f.name for f in lock.features] or ["values"])  # a policy: "values"
    wide = {n: e.astype(np.float64) for n, e in zip(names, expected, strict=True)}
    results = []
    for j, (name, comparison) in enumerate(zip(names, found, strict=True)):
        named = None
        if comparison.failing:
            named = cause or diagnose(
                lock,
                Observation(
                    name,
                    dtype,
                    inputs[j].astype(np.float64),
                    wide[name],
                    outputs[j].astype(np.float64),
                    wide,
                    run.bounds[j],
                ),
            )
        results.append(FeatureParity.of(name, run.label, str(dtype), comparison, tolerance, named))
    return results
