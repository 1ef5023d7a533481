"""normlock on Dask: fit a lock on a Dask DataFrame or 2-D array, transform and profile it.

Each partition's :class:`~normlock.partial.PartialFit` is computed where the partition
lives; the partial fits merge in a tree of tasks and the client turns the one that
arrives into the lock, the same bits as :func:`normlock.fit` on all the rows. Use it as
``normlock.dask``:

>>> import dask.dataframe as dd, pandas as pd, normlock.dask as nld  # doctest: +SKIP
>>> ddf = dd.from_pandas(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), npartitions=2)  # doctest: +SKIP
>>> lock = nld.fit(ddf, {"x": "minmax"})  # doctest: +SKIP
>>> nld.transform(lock, ddf).compute()["x"].tolist()  # doctest: +SKIP
[0.0, 0.5, 1.0]

Errors raised on a worker reach the client as normlock's own, naming the partition
(``partition 3: feature 'x', row 17: NaN/missing value ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
from dask.delayed import Delayed, delayed

from normlock.chain import Step, output_dtype
from normlock.errors import InputError, NormlockError
from normlock.fitting import lock_from, warn_of
from normlock.lock import Extra, Lock
from normlock.profile import DEFAULT_PROFILE_EXACT_LIMIT, Profile, Stage
from normlock.spec import Spec, load_spec
from normlock.stats import DEFAULT_EXACT_LIMIT, Summary

from . import tasks

T = TypeVar("T")


def fit(
    data: dd.DataFrame | da.Array,
    spec: Mapping[str, Any] | str | Path | Spec | None = None,
    *,
    default: str | None = None,
    target: str | None = None,
    target_spec: Any = "standard",
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    names: list[str] | None = None,
    scheduler: Any = None,
) -> Lock:
    """Fit a lock on a Dask DataFrame (or a 2-D Dask array), partition by partition.

    Args:
        data: the training rows.
        spec: as for :func:`normlock.fit`.
        default: method for columns the spec does not name.
        target: name of the target column.
        target_spec: the target's spec entry.
        exact_limit: values per feature kept exactly (see :func:`normlock.fit`).
        names: column names of a 2-D array (default ``x0, x1, ...``).
        scheduler: passed to :func:`dask.compute` (default: the active client, else
            Dask's default scheduler).

    Returns:
        The lock :func:`normlock.fit` gives on the same rows, bit for bit.
    """
    options = tasks.FitOptions(load_spec(spec, default), target, target_spec, exact_limit, names)
    parts = _partitions(data)
    partials = [delayed(tasks.fit_partition)([p], options, i) for i, p in enumerate(parts)]
    partial = _compute(tasks.tree_merge(partials, delayed(_merge)), scheduler)

    def summarize(name: str, steps: list[Step]) -> Summary:
        found = [
            delayed(tasks.summarize_partition)([p], name, steps, exact_limit, names, i)
            for i, p in enumerate(parts)
        ]
        return _compute(tasks.tree_merge(found, delayed(_merge)), scheduler)

    lock = lock_from(
        partial,
        sources=[f"dask.{type(data).__name__} ({len(parts)} partitions)"],
        replay=tasks.engine_replayer(summarize, options),
    )
    warn_of(lock, stacklevel=3)
    return lock


def transform(lock: Lock, data: T, *, extra: Extra = "error") -> T:
    """``data`` normalized by ``lock``, lazily, partition by partition.

    Args:
        lock: the lock.
        data: a Dask DataFrame, or a 2-D Dask array with the lock's columns in order.
        extra: ``"keep"`` carries columns the lock does not know through unchanged.

    Returns:
        A Dask collection of the same kind whose partitions are ``lock.transform`` of
        the input's; its ``meta`` has the lock's output dtypes. Missing or unknown
        columns raise here; bad values raise when it is computed, naming the partition.
    """
    text = lock.to_json()
    if isinstance(data, dd.DataFrame):
        meta = lock.transform(data._meta, extra=extra)
        return data.map_partitions(_transform_partition, text, extra, meta=meta)
    if isinstance(data, da.Array):
        matrix = _columns_in_one_block(data)
        dtype = output_dtype(matrix.dtype)
        lock.transform(np.empty((0, matrix.shape[1]), dtype=matrix.dtype), extra=extra)
        return da.map_blocks(
            _transform_block, matrix, text, extra, dtype=dtype, meta=np.empty((0, 0), dtype)
        )
    raise InputError(_unsupported(data))


def profile(
    lock: Lock,
    data: dd.DataFrame | da.Array,
    stage: Stage = "raw",
    *,
    exact_limit: int = DEFAULT_PROFILE_EXACT_LIMIT,
    scheduler: Any = None,
) -> Profile:
    """The merged :class:`~normlock.profile.Profile` of ``data`` for ``lock`` at ``stage``
    (``raw``: the lock's inputs; ``normalized``: the model's inputs)."""
    empty = Profile.empty(lock, stage, exact_limit)
    parts = _partitions(data)
    found = [delayed(tasks.profile_partition)([p], empty, i) for i, p in enumerate(parts)]
    return _compute(tasks.tree_merge(found, delayed(_merge)), scheduler)


def _merge(a: Any, b: Any) -> Any:
    return a.merge(b)


def _compute(root: Delayed, scheduler: Any) -> Any:
    """Compute ``root``; a normlock error raised on a worker is raised here as itself."""
    try:
        (result,) = dask.compute(root, scheduler=scheduler)
    except NormlockError as exc:
        raise exc.with_traceback(None) from None
    return result


def _partitions(data: Any) -> list[Delayed]:
    """One delayed chunk per partition (row block of an array)."""
    if isinstance(data, dd.DataFrame):
        return list(data.to_delayed())
    if isinstance(data, da.Array):
        return list(_columns_in_one_block(data).to_delayed()[:, 0])
    raise InputError(_unsupported(data))


def _columns_in_one_block(array: da.Array) -> da.Array:
    if array.ndim != 2:
        raise InputError(f"expected a 2-D Dask array (rows x columns), got {array.ndim}-D")
    return array if array.numblocks[1] == 1 else array.rechunk({1: -1})


def _unsupported(data: Any) -> str:
    return (
        f"normlock.dask works on a dask.dataframe.DataFrame or a 2-D dask.array.Array, got "
        f"{type(data).__module__}.{type(data).__name__}"
    )


def _transform_partition(
    frame: Any, text: str, extra: Extra, partition_info: dict[str, Any] | None = None
) -> Any:
    index = partition_info["number"] if partition_info else 0
    return tasks.transform_chunk(text, frame, index, extra)


def _transform_block(
    block: np.ndarray, text: str, extra: Extra, block_info: dict[Any, Any] | None = None
) -> np.ndarray:
    index = block_info[0]["chunk-location"][0] if block_info else 0
    return tasks.transform_chunk(text, block, index, extra)


__all__ = ["fit", "profile", "transform"]
