"""What changed between two locks, per feature: methods, parameters, reference statistics.

A change *affects the transform* when it changes outputs (a method, a parameter, a policy,
a column added or removed); reference statistics alone (count, mean, quantiles kept for
monitoring) do not.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from normlock.chain import FeatureLock
from normlock.lock import Lock

REFERENCE_KEYS = ("count", "nan", "posinf", "neginf", "min", "max", "mean", "std")


@dataclass(frozen=True)
class Change:
    """One difference between lock A and lock B.

    Attributes:
        feature: the feature (or ``"*"`` for the lock as a whole).
        kind: ``added``, ``removed``, ``method``, ``parameter``, ``policy``, ``reference``,
            ``columns`` or ``domain`` (a domain lock's setting, see :mod:`normlock.domains`).
        key: what changed (a parameter or statistic name, ``step 2``, ...).
        old: the value in A (None when absent).
        new: the value in B (None when absent).
        relative: ``|new - old| / |old|`` for numbers (None otherwise).
        affects_transform: whether the change alters transformed outputs.
    """

    feature: str
    kind: str
    key: str
    old: Any
    new: Any
    relative: float | None
    affects_transform: bool

    def describe(self) -> str:
        """One line in plain words."""
        if self.kind in ("added", "removed"):
            return f"{self.feature}: feature {self.kind}"
        change = f"{_short(self.old)} -> {_short(self.new)}"
        if self.relative is not None and math.isfinite(self.relative):
            change += (
                f" ({self.relative:+.3%})" if self.relative < 10 else f" (x{self.relative:.3g})"
            )
        return f"{self.feature}: {self.kind} {self.key}: {change}"


@dataclass(frozen=True)
class LockDiff:
    """All differences between two locks."""

    a_fingerprint: str
    b_fingerprint: str
    changes: tuple[Change, ...]

    @property
    def transforms_differ(self) -> bool:
        """True when the two locks transform some input differently."""
        return any(c.affects_transform for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "a": self.a_fingerprint,
            "b": self.b_fingerprint,
            "transforms_differ": self.transforms_differ,
            "changes": [asdict(c) for c in self.changes],
        }


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.9g}"
    if isinstance(value, list) and len(value) > 4:
        return f"<{len(value)} values>"
    return repr(value)


def _relative(old: Any, new: Any) -> float | None:
    numeric = (int, float)
    if isinstance(old, bool) or isinstance(new, bool):
        return None
    if isinstance(old, numeric) and isinstance(new, numeric):
        if old == new:
            return 0.0
        if old == 0 or not (math.isfinite(old) and math.isfinite(new)):
            return math.inf
        return (new - old) / abs(old)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        ratios = [_relative(a, b) for a, b in zip(old, new, strict=True)]
        sizes = [abs(r) for r in ratios if r is not None]
        return max(sizes, default=None)
    return None


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float):
        return (math.isnan(old) and math.isnan(new)) or (
            old == new and math.copysign(1.0, old) == math.copysign(1.0, new)
        )
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    return bool(type(old) is type(new) and old == new)


def _feature_changes(a: FeatureLock, b: FeatureLock) -> list[Change]:
    name = a.name
    changes: list[Change] = []
    methods_a, methods_b = [s.method for s in a.steps], [s.method for s in b.steps]
    if methods_a != methods_b:
        changes.append(Change(name, "method", "chain", methods_a, methods_b, None, True))
    else:
        for index, (step_a, step_b) in enumerate(zip(a.steps, b.steps, strict=True)):
            for key in sorted(set(step_a.params) | set(step_b.params)):
                old, new = step_a.params.get(key), step_b.params.get(key)
                if not _same(old, new):
                    affects = key != "rank_error"
                    label = key if len(a.steps) == 1 else f"step {index + 1} {step_a.method}.{key}"
                    changes.append(
                        Change(name, "parameter", label, old, new, _relative(old, new), affects)
                    )
    for policy in ("nan", "inf"):
        old, new = getattr(a, policy), getattr(b, policy)
        if old != new:
            changes.append(Change(name, "policy", policy, old, new, None, True))
    for key in REFERENCE_KEYS:
        old, new = a.reference.get(key), b.reference.get(key)
        if not _same(old, new):
            changes.append(Change(name, "reference", key, old, new, _relative(old, new), False))
    return changes


def diff_locks(a: Lock, b: Lock) -> LockDiff:
    """Every difference between lock ``a`` and lock ``b``, feature by feature."""
    changes: list[Change] = []
    features_a = {f.name: f for f in a.features}
    features_b = {f.name: f for f in b.features}
    if a.target is not None:
        features_a[f"{a.target.name} (target)"] = a.target
    if b.target is not None:
        features_b[f"{b.target.name} (target)"] = b.target
    for name in features_a:
        if name not in features_b:
            changes.append(Change(name, "removed", "", name, None, None, True))
        else:
            changes.extend(_feature_changes(features_a[name], features_b[name]))
    for name in features_b:
        if name not in features_a:
            changes.append(Change(name, "added", "", None, name, None, True))
    if list(a.columns) != list(b.columns):
        changes.append(
            Change("*", "columns", "order", list(a.columns), list(b.columns), None, True)
        )
    if list(a.passthrough) != list(b.passthrough):
        old, new = list(a.passthrough), list(b.passthrough)
        changes.append(Change("*", "columns", "passthrough", old, new, None, True))
    changes.extend(_group_changes(a, b))
    changes.extend(_domain_changes(a, b))
    return LockDiff(a.fingerprint, b.fingerprint, tuple(changes))


def _group_changes(a: Lock, b: Lock) -> list[Change]:
    """Whitening groups added, removed, or with another method, columns or matrices (a
    matrix's change is its largest relative change)."""
    groups_a = {g.name: g for g in a.groups}
    groups_b = {g.name: g for g in b.groups}
    changes = [
        Change(f"group {n}", "removed", "", n, None, None, True)
        for n in groups_a
        if n not in groups_b
    ]
    changes += [
        Change(f"group {n}", "added", "", None, n, None, True)
        for n in groups_b
        if n not in groups_a
    ]
    for name in groups_a.keys() & groups_b.keys():
        old, new = groups_a[name].to_dict(), groups_b[name].to_dict()
        for key in ("method", "columns", "outputs", "mean", "matrix"):
            if not _same(old[key], new[key]):
                relative = None
                if key in ("mean", "matrix") and np.shape(old[key]) == np.shape(new[key]):
                    gap = np.abs(np.subtract(new[key], old[key]))
                    relative = float(np.max(gap / np.maximum(np.abs(old[key]), 1e-300)))
                changes.append(
                    Change(f"group {name}", "parameter", key, old[key], new[key], relative, True)
                )
    return changes


def _domain_changes(a: Lock, b: Lock) -> list[Change]:
    """The domain settings that differ (layout, mode, ...; see :mod:`normlock.domains`)."""
    from normlock.domains.base import DomainLock

    if isinstance(a, DomainLock):
        found = a.domain_changes(b)
    elif isinstance(b, DomainLock):
        found = [(key, new, old) for key, old, new in b.domain_changes(a)]
    else:
        return []
    return [Change("*", "domain", k, old, new, _relative(old, new), True) for k, old, new in found]
