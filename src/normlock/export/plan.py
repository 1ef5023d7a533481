"""A lock laid out for a runtime: features grouped so each group runs one chain of ops.

Features whose chains have the same sequence of elementwise operations (say, every
``standard`` feature) form one group; the runtime applies each operation to all of
them at once, with one constant per feature. A feature with a non-linear step (a
power transform, a quantile map) is a group of its own. Passthrough columns are a
group with no operations.

The plan also keeps the features themselves, for the checks ``lock.transform`` makes
(NaN/inf policies, domains, overflow), which every export applies too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from normlock.chain import FeatureLock
from normlock.errors import NotExportableError
from normlock.lock import Lock
from normlock.methods import get_method
from normlock.methods.ops import DOMAIN_BOUNDS, Op


@dataclass(frozen=True)
class Stage:
    """One operation applied to every feature of a group.

    Attributes:
        kind: the operation (see :mod:`normlock.methods.ops`).
        args: per feature of the group, the operation's arguments.
    """

    kind: str
    args: tuple[tuple[Any, ...], ...]

    def argument(self, index: int) -> list[Any]:
        """The ``index``-th argument of every feature of the group."""
        return [values[index] for values in self.args]

    @property
    def bound(self) -> float | None:
        """The operation's domain bound (inputs at or below it are rejected), if any."""
        return DOMAIN_BOUNDS.get(self.kind)


@dataclass(frozen=True)
class Group:
    """Features that run the same chain of operations.

    Attributes:
        positions: the features' positions among the lock's columns.
        names: the features' names.
        stages: the chain, in order (empty for passthrough columns).
    """

    positions: tuple[int, ...]
    names: tuple[str, ...]
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class Plan:
    """A lock as groups of columns.

    Attributes:
        columns: every input column, in the lock's order.
        groups: the groups; their positions together cover every column once.
        features: the lock's features, in the order ``lock.transform`` checks them.
    """

    columns: tuple[str, ...]
    groups: tuple[Group, ...]
    features: tuple[FeatureLock, ...]

    @property
    def order(self) -> list[int]:
        """Column positions in the order the groups produce them."""
        return [p for g in self.groups for p in g.positions]

    @property
    def in_order(self) -> bool:
        """Whether the groups produce the columns in the lock's order."""
        return self.order == list(range(len(self.columns)))

    def columns_where(self, test: Callable[[FeatureLock], bool]) -> tuple[bool, ...]:
        """Per column, whether it is a feature for which ``test`` holds."""
        chosen = {f.name for f in self.features if test(f)}
        return tuple(name in chosen for name in self.columns)


Unsupported = Callable[[Op], str | None]
"""Why a runtime cannot emit an operation, or None when it can."""


def feature_ops(feature: FeatureLock, unsupported: Unsupported, runtime: str) -> tuple[Op, ...]:
    """The operations of a feature's whole chain, or a clear error if ``runtime`` lacks one."""
    ops: list[Op] = []
    for step in feature.steps:
        for op in get_method(step.method).ops(step.params):
            reason = unsupported(op)
            if reason is not None:
                raise NotExportableError(
                    f"feature {feature.name!r}: step {step.method!r} cannot be exported to "
                    f"{runtime}: {reason}. Apply this feature with lock.transform, or choose "
                    "another method for it"
                )
            ops.append(op)
    return tuple(ops)


def plan(lock: Lock, unsupported: Unsupported, runtime: str) -> Plan:
    """Group the lock's columns for ``runtime``, whose gaps ``unsupported`` names."""
    features = {f.name: f for f in lock.features}
    keyed: dict[Any, list[tuple[int, str, tuple[Op, ...]]]] = {}
    for position, name in enumerate(lock.columns):
        ops = feature_ops(features[name], unsupported, runtime) if name in features else ()
        shareable = all(op.elementwise for op in ops)
        key = tuple(op.kind for op in ops) if shareable else ("alone", position)
        keyed.setdefault(key, []).append((position, name, ops))
    groups = []
    for members in keyed.values():
        chains = [ops for _, _, ops in members]
        stages = tuple(
            Stage(chains[0][i].kind, tuple(chain[i].args for chain in chains))
            for i in range(len(chains[0]))
        )
        groups.append(
            Group(tuple(p for p, _, _ in members), tuple(n for _, n, _ in members), stages)
        )
    return Plan(tuple(lock.columns), tuple(groups), tuple(lock.features))
