"""Naming the likely cause of a mismatch between a serving pipeline and its lock.

For one feature in one run, the target's outputs are compared with what each known
mistake would produce, computed with the lock's own formulas:

1. rounding only: every difference within the rounding bound
   (:mod:`normlock.verify.rounding`); a failure only where bit identity was asked for;
2. a mistake that predicts the outputs to rounding level: normalization not applied
   or applied twice, another feature's parameters (swapped feature order), outputs in
   another column order, inputs rescaled by 255 (0–255 against 0–1), the sample std
   (ddof=1) in place of the population std (ddof=0) or the reverse;
3. a clean affine relation to the lock's last affine step: parameters fitted on other
   data (estimated, with their relative difference), or parameters rounded to a
   narrower float;
4. noise at the level of float32 (in a float32 run too: the lock computes in float64
   and rounds once), float16 or bfloat16 arithmetic;
5. otherwise: unexplained, with the worst value.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from normlock.chain import FeatureLock
from normlock.lock import Lock
from normlock.verify.affine import affine_cause
from normlock.verify.cause import Cause, Observation
from normlock.verify.chains import (
    output_scale,
    run_feature,
    run_steps,
    with_standard_ddof_flipped,
)
from normlock.verify.compare import candidate_residual, differences, scaled_residual, shares
from normlock.verify.floats import EPSILON, NARROWER, representable

EXPLAINED = 64
"""A candidate explains the outputs when its scaled residual is within this many
machine epsilons of the run's dtype."""
PRECISION_MARGIN = 2
"""Noise within this many epsilons of a narrower float is attributed to that float
(when the outputs themselves are not all values of one narrower format)."""
UNIT_FACTOR = 255.0


def diagnose(lock: Lock, seen: Observation) -> Cause:
    """The most likely cause of the difference between ``seen.got`` and ``seen.expected``."""
    feature = lock.feature(seen.name)
    eps = float(np.finfo(seen.dtype).eps)
    scale = output_scale(feature, seen.x)
    share = float(shares(differences(seen.expected, seen.got), seen.rounding).max(initial=0.0))
    if share <= 1:
        return _rounding(share)
    mismatch = scaled_residual(seen.got, seen.expected, scale)
    best: tuple[float, Cause] | None = None
    for cause, candidate in _candidates(lock, feature, seen):
        residual = candidate_residual(seen.got, candidate, scale)
        if residual <= EXPLAINED * eps and (best is None or residual < best[0]):
            best = (residual, cause)
    if best is not None:
        return best[1]
    affine = affine_cause(feature, seen, scale, EXPLAINED * eps)
    if affine is not None:
        return affine
    return _precision(seen, mismatch, eps) or _unexplained(seen)


def _rounding(share: float) -> Cause:
    return Cause(
        "rounding",
        "equivalent up to rounding, not bit-identical: every difference is within the "
        f"rounding bound (at most {share:.2g} of it), as from parameters a few ulps off or "
        "another operation order such as a multiplication by a reciprocal; it passes "
        "unless bit identity is required",
        {"rounding_share": share},
    )


def _candidates(
    lock: Lock, feature: FeatureLock, seen: Observation
) -> Iterator[tuple[Cause, np.ndarray]]:
    name, x, dtype = seen.name, seen.x, seen.dtype
    yield (
        Cause("not_applied", "normalization not applied: the output equals the input"),
        x.astype(dtype).astype(np.float64),
    )
    once = run_feature(feature, x, np.float64)
    yield (
        Cause(
            "applied_twice",
            "normalization applied twice: the output is the lock's transform of its own output",
        ),
        run_feature(feature, once, dtype),
    )
    for other in lock.features:
        if other.name == name:
            continue
        yield (
            Cause(
                "feature_order",
                f"swapped feature order: column {name!r} was normalized with the parameters "
                f"of {other.name!r}",
                {"column": name, "parameters_of": other.name},
            ),
            run_feature(other, x, dtype),
        )
        yield (
            Cause(
                "output_order",
                f"outputs in another column order: the output for {name!r} holds the "
                f"normalized {other.name!r}",
                {"column": name, "holds": other.name},
            ),
            seen.outputs[other.name],
        )
    yield (
        Cause(
            "units",
            f"inputs rescaled to 0–1 (divided by {UNIT_FACTOR:g}) before normalizing, but "
            f"the lock was fitted on values in 0–{UNIT_FACTOR:g}",
            {"input_factor": 1 / UNIT_FACTOR},
        ),
        run_feature(feature, x / UNIT_FACTOR, dtype),
    )
    yield (
        Cause(
            "units",
            f"inputs scaled to 0–{UNIT_FACTOR:g} (multiplied by {UNIT_FACTOR:g}) before "
            "normalizing, but the lock was fitted on values in 0–1",
            {"input_factor": UNIT_FACTOR},
        ),
        run_feature(feature, x * UNIT_FACTOR, dtype),
    )
    if len(feature.steps) > 1:
        for index, step in enumerate(feature.steps):
            kept = feature.steps[:index] + feature.steps[index + 1 :]
            yield (
                Cause(
                    "not_applied",
                    f"step {step.method!r} of the chain "
                    f"{' -> '.join(s.method for s in feature.steps)} not applied",
                    {"skipped_step": step.method},
                ),
                run_steps(kept, x, dtype),
            )
    flipped = with_standard_ddof_flipped(feature)
    if flipped is not None:
        yield _ddof_cause(feature, flipped), run_feature(flipped, x, dtype)


def _ddof_cause(feature: FeatureLock, flipped: FeatureLock) -> Cause:
    def last_standard(f: FeatureLock) -> dict[str, float]:
        return next(s for s in reversed(f.steps) if s.method == "standard").params

    locked, used = last_standard(feature), last_standard(flipped)
    kind = {0: "population", 1: "sample"}
    return Cause(
        "ddof",
        f"{kind[used['ddof']]} std (ddof={used['ddof']}) used where the lock uses the "
        f"{kind[locked['ddof']]} std (ddof={locked['ddof']}): std {used['std']:.9g} vs "
        f"locked {locked['std']:.9g} (n = {feature.reference.get('count')})",
        {"ddof_used": used["ddof"], "std": used["std"], "locked_std": locked["std"]},
    )


def _precision(seen: Observation, mismatch: float, eps: float) -> Cause | None:
    # a float32 run counts float32 too: the lock computes in float64 and rounds once
    narrower = [n for n in NARROWER if EPSILON[n] >= eps]
    by_format = [n for n in reversed(narrower) if representable(n, seen.got)]
    loose = [n for n in narrower if mismatch <= PRECISION_MARGIN * EPSILON[n]]
    fitting = [n for n in by_format[:1] if mismatch <= 4 * PRECISION_MARGIN * EPSILON[n]]
    if fitting or loose:
        name = (fitting + loose)[0]
        return Cause(
            "precision",
            f"{name} precision loss: relative errors up to {mismatch:.2g}, the size of "
            f"{name} rounding (epsilon {EPSILON[name]:.2g}), as when the inputs, "
            f"parameters or arithmetic are {name}; compute in float64 with the lock's "
            "parameters and round the output once",
            {"precision": name, "relative_error": mismatch},
        )
    overflow = np.isfinite(seen.expected) & ~np.isfinite(seen.got)
    if overflow.any() and np.all(np.abs(seen.x[overflow]) > float(np.finfo(np.float16).max)):
        return Cause(
            "precision",
            "float16 overflow: inputs above 65504 became infinite; compute in float32 or float64",
            {"precision": "float16", "overflowed": int(overflow.sum())},
        )
    return None


def _unexplained(seen: Observation) -> Cause:
    with np.errstate(invalid="ignore"):
        error = np.abs(seen.got - seen.expected)
    error[np.isnan(error)] = np.inf
    error[(seen.got == seen.expected) | (np.isnan(seen.got) & np.isnan(seen.expected))] = 0.0
    worst = int(np.argmax(error))
    x, expected, got = (float(a[worst]) for a in (seen.x, seen.expected, seen.got))
    return Cause(
        "unexplained",
        f"the outputs differ in a way none of the known mistakes explains; worst at input "
        f"{x!r}: expected {expected!r}, got {got!r}",
        {"input": x, "expected": expected, "got": got},
    )
