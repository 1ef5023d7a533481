"""Many features over a container's columns, the affine ones in one compiled pass.

:func:`forward_columns` gives every feature's transform of its column with the bits
and the errors of :meth:`~normlock.chain.FeatureLock.apply` column by column; the
one-step affine features of float32 and float64 columns run together through
:func:`~normlock.stats.kernel.affine_columns` (one pass per dtype), over the container's
own matrix when it holds its columns as one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from normlock.chain import FeatureLock
from normlock.errors import NO_ORIGIN, Origin
from normlock.frames import Columns
from normlock.stats.kernel import AffineResult, affine_columns

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
    read: Columns,
    *,
    plan: AffinePlan | None = None,
    origin: Origin = NO_ORIGIN,
    out: np.ndarray | None = None,
    allocate: Allocate = np.empty,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Every feature's transform of its column of ``read``, the one-step affine features
    of float32 and float64 columns fused into one compiled pass per dtype.

    A column whose values a feature's policies reject goes through
    :meth:`~normlock.chain.FeatureLock.apply`, which raises, in feature order.

    Args:
        features: the features to run, each on the column of its name.
        read: the container's columns (its matrix, when it has one, is the pass's input).
        plan: ``AffinePlan.of(features, read.names)``, when the caller keeps it.
        origin: where the rows come from, for error messages.
        out: for the pass over ``read.matrix``, an array of its shape and output dtype to
            write into.
        allocate: ``allocate(shape, dtype)`` gives the fused passes' arrays (C-ordered,
            uninitialized): ``np.empty``, or an allocator for the container's memory.

    Returns:
        The outputs by feature name, and the outputs of every column of ``read`` as one
        2-D array in its order when one pass covered them all (else None).
    """
    plan = plan if plan is not None else AffinePlan.of(features, read.names)
    dtypes = [_values(read, name).dtype for name in plan.names]
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
        covers = len(positions) == len(read.names)
        accepted, block = _fused_pass(
            plan, positions, read, dtype, covers, out if covers else None, allocate
        )
        fused.update(accepted)
        if covers and len(accepted) == len(positions):
            whole = block
    if len(fused) == len(features):
        return fused, whole
    outputs = {
        f.name: fused[f.name] if f.name in fused else f.apply(read.arrays[f.name], origin=origin)
        for f in features
    }
    return outputs, whole


def _values(read: Columns, name: str) -> np.ndarray:
    """A column's stored values where it has them (its NaN-filled copy is then not made),
    else its array."""
    stored = read.stored.get(name)
    return stored if stored is not None else read.arrays[name]


def _fused_pass(
    plan: AffinePlan,
    positions: list[int],
    read: Columns,
    dtype: np.dtype,
    covers: bool,
    out: np.ndarray | None,
    allocate: Allocate,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """One compiled pass of the plan's features at ``positions`` over their columns of
    ``dtype`` (over the matrix when they ``cover`` it): the outputs of the features that
    accept what the pass met, and the pass's 2-D output."""
    every = len(positions) == len(plan.features)
    pick = slice(None) if every else np.array(positions)
    centers, scales = plan.centers[pick], plan.scales[pick]
    names = plan.names if every else [plan.names[j] for j in positions]
    null_rows: list[np.ndarray | None] = []
    if covers and read.matrix is not None:
        block: np.ndarray | list[np.ndarray] = read.matrix
    elif any(n in read.nulls for n in names):
        block, null_rows = _stand_ins(names, read, centers, allocate)
    else:
        block = [read.arrays[n] for n in names]
    result = affine_columns(block, centers, scales, dtype.type, out, allocate)
    if result is None:
        return {}, None
    for j, rows in enumerate(null_rows):
        if rows is not None:
            _count_nulls_as_nan(result, j, block[j][rows], centers[j], scales[j])
            result.out[rows, j] = np.nan
    if not (result.overflow.any() or result.nan.any() or result.inf.any()):
        return dict(zip(names, result.out.T, strict=True)), result.out
    refused = (
        (result.overflow > 0)
        | ((result.nan > 0) & plan.nan_error[pick])
        | ((result.inf > 0) & plan.inf_error[pick])
    )
    outputs = zip(names, result.out.T, refused, strict=True)
    return {name: column for name, column, bad in outputs if not bad}, result.out


def _stand_ins(
    names: Sequence[str], read: Columns, centers: np.ndarray, allocate: Allocate
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """The pass's inputs, which hold no NaN at null rows (NaN sends its block of rows down
    the kernel's slow counting path), and each column's null rows (None without nulls).

    A column with nulls stands in its stored values where they are finite at its nulls
    (no copy); else a copy of it with its center there, the copies in one block."""
    inputs: list[np.ndarray] = []
    null_rows: list[np.ndarray | None] = []
    to_fill: list[int] = []
    for j, name in enumerate(names):
        mask = read.nulls.get(name)
        rows = None if mask is None or not mask.any() else np.flatnonzero(mask)
        null_rows.append(rows)
        stored = read.stored.get(name)
        if rows is None or (stored is not None and np.isfinite(stored[rows]).all()):
            inputs.append(_values(read, name))
        else:
            inputs.append(read.arrays[name])
            to_fill.append(j)
    if to_fill:
        block = allocate((len(to_fill), read.rows), inputs[to_fill[0]].dtype.type)
        for row, j in zip(block, to_fill, strict=True):
            np.copyto(row, inputs[j])
            row[null_rows[j]] = centers[j]
            inputs[j] = row
    return inputs, null_rows


def _count_nulls_as_nan(
    result: AffineResult, column: int, standing: np.ndarray, center: float, scale: float
) -> None:
    """Count a column's nulls as NaN inputs in ``result``, in place of the values that
    stood in for them (their counts, from the same kernel, come off)."""
    found = affine_columns([standing], np.array([center]), np.array([scale]), result.out.dtype.type)
    assert found is not None  # the pass over the whole column ran
    result.nan[column] += len(standing) - found.nan[0]
    result.inf[column] -= found.inf[0]
    result.overflow[column] -= found.overflow[0]
