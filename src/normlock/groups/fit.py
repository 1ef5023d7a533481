"""Fitting whitening groups: their co-moments during the pass, their matrices after it.

:class:`GroupPass` keeps, per group, the exact co-moments
(:class:`~normlock.stats.comoments.CoMoments`) of its columns' first-stage values (raw,
or after the leading steps of their chains that need no data), chunk by chunk; partial
passes merge exactly, so any split of the rows gives the same groups. :meth:`GroupPass.fit`
turns them into :class:`~normlock.groups.lock.GroupLock` objects: the correctly rounded
mean and covariance, shrinkage (Ledoit–Wolf's share from the fit's row sample, which
holds every row of a fit of at most its size), and the matrices of
:mod:`normlock.methods.whitening`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from normlock.errors import NotFittedError, Origin
from normlock.groups.lock import GroupLock
from normlock.groups.spec import LEDOIT_WOLF, GroupSpec
from normlock.methods.whitening import Whitening, ledoit_wolf, shrunk, whiten
from normlock.stats.comoments import CoMoments

FirstStage = Callable[[int, np.ndarray, Origin], np.ndarray]
"""``stage(j, raw, origin)``: feature ``j``'s first-stage values of its raw values."""


class GroupPass:
    """The co-moments of every group's columns over the chunks seen so far.

    Args:
        groups: the spec's groups.
        positions: per group, its columns' positions among the pass's features.
    """

    def __init__(self, groups: Sequence[GroupSpec], positions: Sequence[Sequence[int]]) -> None:
        self.groups = tuple(groups)
        self.positions = tuple(tuple(p) for p in positions)
        self.moments = [CoMoments.empty(len(g.columns)) for g in self.groups]

    def update(self, columns: Sequence[np.ndarray], stage: FirstStage, origin: Origin) -> None:
        """Add a chunk's feature ``columns`` (raw), staged by ``stage``."""
        staged: dict[int, np.ndarray] = {}
        for number, positions in enumerate(self.positions):
            inputs = [staged.setdefault(j, stage(j, columns[j], origin)) for j in positions]
            self.moments[number] = self.moments[number].update(inputs)

    def merge(self, other: GroupPass) -> GroupPass:
        """The pass over the rows of both; neither changes."""
        merged = GroupPass(self.groups, self.positions)
        merged.moments = [a.merge(b) for a, b in zip(self.moments, other.moments, strict=True)]
        return merged

    def fit(
        self, sample: Callable[[Sequence[int]], tuple[np.ndarray, np.ndarray]]
    ) -> tuple[GroupLock, ...]:
        """Every group's lock; ``sample(positions)`` gives the row sample's first-stage
        values of those features and the rows' counts (for Ledoit–Wolf shrinkage)."""
        return tuple(
            fit_group(group, moments, functools.partial(sample, positions))
            for group, moments, positions in zip(
                self.groups, self.moments, self.positions, strict=True
            )
        )


def fit_group(
    group: GroupSpec,
    moments: CoMoments,
    sample: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None,
) -> GroupLock:
    """The lock of one group from the co-moments of its columns.

    Raises:
        NotFittedError: too few complete rows, or a singular covariance (the message
            names the group and the remedies).
    """
    d = len(group.columns)
    if moments.count <= group.ddof:
        raise NotFittedError(
            f"group {group.name!r}: {moments.count} complete row(s) (every column finite); "
            f"its covariance needs at least {group.ddof + 1}"
        )
    mean, covariance = moments.mean(), moments.covariance(group.ddof)
    shrinkage = group.shrinkage
    if shrinkage == LEDOIT_WOLF:
        if sample is None:
            raise NotFittedError(f"group {group.name!r}: Ledoit-Wolf shrinkage needs the rows")
        values, counts = sample()
        complete = np.isfinite(values).all(axis=1)
        shrinkage = ledoit_wolf(values[complete], counts[complete], mean, moments.count)
    fitted = whiten(
        group.method,
        mean,
        covariance,
        epsilon=group.epsilon,
        shrinkage=float(shrinkage),
        components=group.components,
        share=group.variance,
        standardize=group.standardize,
        label=f"group {group.name!r} ({', '.join(group.columns)})",
    )
    warnings: tuple[str, ...] = ()
    if moments.skipped:
        warnings = (
            f"{moments.skipped} row(s) with a NaN or infinite value in the group were left "
            "out of its covariance",
        )
    return GroupLock(
        name=group.name,
        method=group.method,
        columns=group.columns,
        outputs=group.output_names(fitted.matrix.shape[0]),
        mean=fitted.mean,
        matrix=fitted.matrix,
        inverse=fitted.inverse,
        options={
            "epsilon": group.epsilon,
            "shrinkage": float(shrinkage),
            "shrinkage_method": group.shrinkage if isinstance(group.shrinkage, str) else "fixed",
            "ddof": group.ddof,
            "standardize": group.standardize,
            "rows": moments.count,
            "skipped": moments.skipped,
            "variances": fitted.variances.tolist(),
            "covariance": covariance.tolist(),
            "residual": _residual(fitted, covariance, d),
        },
        warnings=warnings,
    )


def _residual(fitted: Whitening, covariance: np.ndarray, d: int) -> float:
    """The largest entry of ``|W Σ' Wᵀ - I|`` in float64, ``Σ'`` the whitened covariance."""
    sigma = shrunk(covariance, fitted.shrinkage) + fitted.epsilon * np.eye(d)
    product = fitted.matrix @ sigma @ fitted.matrix.T
    return float(np.max(np.abs(product - np.eye(product.shape[0]))))
