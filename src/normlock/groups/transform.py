"""``transform`` and ``inverse_transform`` of a lock with whitening groups.

The columns outside every group take the lock's usual path. A group's columns run their
own chains in float64 (``identity`` unless the spec gave them data-free steps), then the
group's canonical map (:meth:`~normlock.groups.lock.GroupLock.forward`), and are rounded
once to the output dtype: float32 when every input column of the group is float32, else
float64. A pca group's components replace its columns where the first of them stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from normlock.chain import as_float64, output_dtype
from normlock.errors import ColumnNotFoundError, DomainError, InputError, Origin
from normlock.frames import Columns, allocator, read_columns, write_columns
from normlock.fused import forward_columns
from normlock.groups.containers import relayout, replaced
from normlock.groups.lock import GroupLock

if TYPE_CHECKING:
    from normlock.lock import Lock


def output_columns(columns: Sequence[str], groups: Sequence[GroupLock]) -> tuple[str, ...]:
    """The columns of a transform's output for input ``columns``: zca and cholesky
    outputs in their inputs' places, pca components where its first input stood."""
    return tuple(replaced(columns, _renaming(groups)))


def output_positions(columns: Sequence[str], groups: Sequence[GroupLock]) -> list[int]:
    """Where each output column is in ``[columns..., group 0's outputs..., ...]``: the
    layout an export assembles its output from (plain columns from the chains' outputs,
    a group's from its own)."""
    slots = {name: j for j, name in enumerate(columns)}
    at = len(columns)
    for group in groups:
        for name in group.outputs:
            slots[name] = at
            at += 1
    return [slots[name] for name in output_columns(columns, groups)]


def _renaming(groups: Sequence[GroupLock]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    return [(g.columns, g.outputs) for g in groups if g.outputs != g.columns]


def run(lock: Lock, data: Any, *, inverse: bool, extra: str, origin: Origin) -> Any:
    """The lock's transform (or inverse) of ``data``, in a container of its type."""
    if extra not in ("error", "keep"):
        raise InputError(f"extra must be 'error' or 'keep', got {extra!r}")
    layout = lock.output_columns if inverse else lock.columns
    read = read_columns(data, default_names=layout)
    _check(read, layout, extra)
    grouped = {c for g in lock.groups for c in g.columns}
    plain = [f for f in lock.features if f.name not in grouped]
    if inverse:
        return _backward(lock, data, read, plain, origin)
    outputs, _ = forward_columns(plain, read, origin=origin, allocate=allocator(read))
    renamed: dict[str, np.ndarray] = {}
    for group in lock.groups:
        x = np.column_stack(
            [
                lock.feature(c).apply(as_float64(c, read.arrays[c], origin), origin=origin)
                for c in group.columns
            ]
        )
        y = _rounded(group, x, group.forward(x), _dtype(read, group.columns), origin)
        found = dict(zip(group.outputs, y.T, strict=True))
        (outputs if group.outputs == group.columns else renamed).update(found)
    written = write_columns(data, read, outputs)
    if not renamed:
        return written
    names = replaced(read.names, _renaming(lock.groups))
    return relayout(written, read_columns(written, read.names), names, renamed)


def _backward(lock: Lock, data: Any, read: Columns, plain: list[Any], origin: Origin) -> Any:
    outputs = {f.name: f.apply(read.arrays[f.name], inverse=True, origin=origin) for f in plain}
    restored: dict[str, np.ndarray] = {}
    for group in lock.groups:
        y = np.column_stack([as_float64(c, read.arrays[c], origin) for c in group.outputs])
        x = group.backward(y)
        dtype = _dtype(read, group.outputs)
        found: dict[str, np.ndarray] = {
            c: lock.feature(c).apply(x[:, j], inverse=True, origin=origin).astype(dtype)
            for j, c in enumerate(group.columns)
        }
        (outputs if group.outputs == group.columns else restored).update(found)
    written = write_columns(data, read, outputs)
    if not restored:
        return written
    if tuple(read.names) == lock.output_columns:  # the transform's layout: the lock's back
        names: Sequence[str] = lock.columns
    else:  # other columns or order: each group's columns where its first output stood
        order = {c: j for j, c in enumerate(lock.columns)}
        spans = [
            (g.outputs, sorted(g.columns, key=order.__getitem__))
            for g in lock.groups
            if g.outputs != g.columns
        ]
        names = replaced(read.names, spans)
    return relayout(written, read_columns(written, read.names), names, restored)


def _check(read: Columns, layout: Sequence[str], extra: str) -> None:
    missing = [n for n in layout if n not in set(read.names)]
    if missing:
        raise ColumnNotFoundError.from_missing(missing, read.names)
    if read.named and extra == "error":
        unknown = [n for n in read.names if n not in set(layout)]
        if unknown:
            raise InputError(
                f"column(s) {unknown} are not in the lock (it expects {list(layout)}); drop "
                "them, or pass extra='keep' to carry them through unchanged"
            )


def _dtype(read: Columns, names: Sequence[str]) -> type:
    """float32 when every one of the columns is float32 (or float16), else float64."""
    kinds = {output_dtype(read.arrays[n].dtype) for n in names}
    return np.float32 if kinds == {np.float32} else np.float64


def _rounded(
    group: GroupLock, x: np.ndarray, y: np.ndarray, dtype: type, origin: Origin
) -> np.ndarray:
    """``y`` rounded to ``dtype``; a row of finite inputs whose outputs are not all finite
    is an error."""
    with np.errstate(over="ignore", invalid="ignore"):
        out: np.ndarray = y.astype(dtype)
    bad = np.isfinite(x).all(axis=1) & ~np.isfinite(out).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DomainError(
            f"group {group.name!r}, {origin.at(row)}: finite inputs "
            f"{x[row].tolist()} give a non-finite {np.dtype(dtype).name} output "
            f"({int(bad.sum())} such row(s)); they are far outside the training range, so "
            "check their units"
        )
    return out
