"""Many features over a container's columns, the affine ones in one compiled pass.

:func:`forward_columns` gives every feature's transform of its column with the bits
and the errors of :meth:`~normlock.chain.FeatureLock.apply` column by column; the
one-step affine features of float32 and float64 columns run together through
:func:`~normlock.stats.kernel.affine_columns` (one pass per dtype), over the container's
own matrix when it holds its columns as one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from normlock.chain import FeatureLock
from normlock.errors import NO_ORIGIN, Origin
from normlock.stats.kernel import affine_columns

_FUSED = (np.dtype(np.float32), np.dtype(np.float64))  # their outputs keep their dtype
Allocate = Callable[[tuple[int, int], type], np.ndarray]


@dataclass(frozen=True)
class AffinePlan:
    """The one-step affine features among a container's columns, in the container's
    order, with their centers, scales and NaN/infinity policies as arrays."""

    features: tuple[FeatureLock, ...]
    names: tuple[str, ...]
    centers: np.ndarray
    scales: np.ndarray
    nan_error: np.ndarray
    inf_error: np.ndarray

    @classmethod
    def of(cls, features: Sequence[FeatureLock], order: Sequence[str]) -> AffinePlan:
        """The plan of ``features`` over a container whose columns are ``order``."""
        by_name = {f.name: f for f in features}
        found = [by_name[n] for n in order if n in by_name and by_name[n].affine() is not None]
        affines = np.array([f.affine() for f in found], dtype=np.float64).reshape(-1, 2)
        return cls(
            tuple(found),
            tuple(f.name for f in found),
            affines[:, 0].copy(),
            affines[:, 1].copy(),
            np.array([f.nan == "error" for f in found], dtype=bool),
            np.array([f.inf == "error" for f in found], dtype=bool),
        )


def forward_columns(
    features: Sequence[FeatureLock],
    columns: Mapping[str, np.ndarray],
    order: Sequence[str],
    matrix: np.ndarray | None = None,
    *,
    plan: AffinePlan | None = None,
    nulls: Mapping[str, np.ndarray] | None = None,
    origin: Origin = NO_ORIGIN,
    out: np.ndarray | None = None,
    allocate: Allocate = np.empty,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Every feature's transform of its column, the one-step affine features of float32
    and float64 columns fused into one compiled pass per dtype.

    A column whose values a feature's policies reject goes through
    :meth:`~normlock.chain.FeatureLock.apply`, which raises, in feature order.

    Args:
        features: the features to run; ``columns[feature.name]`` is each one's input.
        columns: the input columns by name (1-D arrays of one length).
        order: the container's column names in order (features and any others).
        matrix: those columns as one 2-D array, when the container holds them so.
        plan: ``AffinePlan.of(features, order)``, when the caller keeps it.
        nulls: masks of the columns' nulls (their values are NaN there).
        origin: where the rows come from, for error messages.
        out: for the pass over ``matrix``, an array of its shape and output dtype to
            write into.
        allocate: ``allocate(shape, dtype)`` gives the fused passes' arrays (C-ordered,
            uninitialized): ``np.empty``, or an allocator for the container's memory.

    Returns:
        The outputs by feature name, and the outputs of every column of ``order`` as one
        2-D array in that order when one pass covered them all (else None).
    """
    plan = plan if plan is not None else AffinePlan.of(features, order)
    dtypes = [columns[name].dtype for name in plan.names]
    groups: dict[np.dtype, list[int]] = {}
    if dtypes and dtypes.count(dtypes[0]) == len(dtypes):  # the usual case: one dtype
        if dtypes[0] in _FUSED:
            groups[dtypes[0]] = list(range(len(dtypes)))
    else:
        for j, dtype in enumerate(dtypes):
            if dtype in _FUSED:
                groups.setdefault(dtype, []).append(j)
    fused: dict[str, np.ndarray] = {}
    whole = None
    for dtype, positions in groups.items():
        covers = len(positions) == len(order)
        accepted, block = _fused_pass(
            plan,
            positions,
            columns,
            nulls or {},
            dtype,
            matrix if covers else None,
            out if covers else None,
            allocate,
        )
        fused.update(accepted)
        if covers and len(accepted) == len(positions):
            whole = block
    if len(fused) == len(features):
        return fused, whole
    outputs = {
        f.name: fused[f.name] if f.name in fused else f.apply(columns[f.name], origin=origin)
        for f in features
    }
    return outputs, whole


def _fused_pass(
    plan: AffinePlan,
    positions: list[int],
    columns: Mapping[str, np.ndarray],
    nulls: Mapping[str, np.ndarray],
    dtype: np.dtype,
    matrix: np.ndarray | None,
    out: np.ndarray | None,
    allocate: Allocate,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """One compiled pass of the plan's features at ``positions`` over their columns of
    ``dtype`` (or over ``matrix``, which holds them): the outputs of the features that
    accept what the pass met, and the pass's 2-D output."""
    every = len(positions) == len(plan.features)
    pick = slice(None) if every else np.array(positions)
    centers, scales = plan.centers[pick], plan.scales[pick]
    names = plan.names if every else [plan.names[j] for j in positions]
    block: np.ndarray | list[np.ndarray] = matrix if matrix is not None else []
    null_rows: list[np.ndarray | None] = []
    if matrix is None:
        block = [columns[n] for n in names]
        if any(n in nulls for n in names):
            masks = [nulls.get(n) for n in names]
            block, null_rows = _nulls_at_centers(block, masks, centers, allocate)
    result = affine_columns(block, centers, scales, dtype.type, out, allocate)
    if result is None:
        return {}, None
    for j, rows in enumerate(null_rows):
        if rows is not None:  # the nulls' outputs are NaN, and they count as NaN inputs
            result.out[rows, j] = np.nan
            result.nan[j] += len(rows)
    if not (result.overflow.any() or result.nan.any() or result.inf.any()):
        return dict(zip(names, result.out.T, strict=True)), result.out
    refused = (
        (result.overflow > 0)
        | ((result.nan > 0) & plan.nan_error[pick])
        | ((result.inf > 0) & plan.inf_error[pick])
    )
    outputs = zip(names, result.out.T, refused, strict=True)
    return {name: column for name, column, bad in outputs if not bad}, result.out


def _nulls_at_centers(
    columns: list[np.ndarray],
    nulls: list[np.ndarray | None],
    centers: np.ndarray,
    allocate: Allocate,
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """The columns with their centers in their null rows, so that the fused pass meets no
    NaN there (NaN sends its block of rows down the kernel's slow counting path), and
    each column's null rows (None for a column without nulls). The columns with nulls are
    copied into one block: one allocation, not one per column."""
    null_rows = [None if m is None or not m.any() else np.flatnonzero(m) for m in nulls]
    with_nulls = [j for j, rows in enumerate(null_rows) if rows is not None]
    filled = list(columns)
    if with_nulls:
        block = allocate((len(with_nulls), len(columns[0])), columns[0].dtype.type)
        for row, j in zip(block, with_nulls, strict=True):
            np.copyto(row, columns[j])
            row[null_rows[j]] = centers[j]
            filled[j] = row
    return filled, null_rows
