"""normlock on Spark: fit a lock on a PySpark DataFrame, transform and profile it.

Each partition's record batches are summarized in Spark's Python workers
(``mapInArrow``): a :class:`~normlock.partial.PartialFit` per partition, sent to the
driver as one row and merged there in a tree into the lock, the same bits as
:func:`normlock.fit` on all the rows. Transforms run the lock itself on the Arrow
batches. Use it as ``normlock.spark``; the workers need normlock and pyarrow (point
``PYSPARK_PYTHON`` at the driver's interpreter on one machine).

Errors raised in a worker by a fit or a profile reach the driver as normlock's own,
naming the partition; a transform's surface when its result is computed, inside
Spark's error, with the same message (:func:`raised_in_worker` finds it).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from normlock import errors
from normlock.chain import Step
from normlock.fitting import lock_from, warn_of
from normlock.lock import Extra, Lock
from normlock.profile import DEFAULT_PROFILE_EXACT_LIMIT, Profile, Stage
from normlock.spec import Spec, load_spec
from normlock.stats import DEFAULT_EXACT_LIMIT, Summary

from . import tasks, transport
from .spark_entry import worker_function
from .spark_models import from_spark
from .spark_worker import STATE_SCHEMA


def fit(
    df: Any,
    spec: Mapping[str, Any] | str | Path | Spec | None = None,
    *,
    default: str | None = None,
    target: str | None = None,
    target_spec: Any = "standard",
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> Lock:
    """Fit a lock on a PySpark DataFrame, partition by partition.

    Args:
        df: the training rows (``pyspark.sql.DataFrame``).
        spec: as for :func:`normlock.fit`.
        default: method for columns the spec does not name.
        target: name of the target column.
        target_spec: the target's spec entry.
        exact_limit: values per feature kept exactly (see :func:`normlock.fit`).

    Returns:
        The lock :func:`normlock.fit` gives on the same rows, bit for bit.
    """
    options = tasks.FitOptions(load_spec(spec, default), target, target_spec, exact_limit, None)
    partial = tasks.tree_merge(_states(df, "fit", options), _merge)

    def summarize(name: str, steps: list[Step]) -> Summary:
        found = _states(df, "summarize", (name, steps, exact_limit, None))
        return tasks.tree_merge(found, _merge)

    lock = lock_from(
        partial,
        sources=[f"pyspark.sql.DataFrame ({df.rdd.getNumPartitions()} partitions)"],
        replay=tasks.engine_replayer(summarize, options),
    )
    warn_of(lock, stacklevel=3)
    return lock


def transform(lock: Lock, df: Any, *, extra: Extra = "error") -> Any:
    """``df`` normalized by ``lock``: a lazy DataFrame computed by ``lock.transform`` on
    each partition's Arrow batches.

    Args:
        lock: the lock.
        df: a PySpark DataFrame with the lock's columns.
        extra: ``"keep"`` carries columns the lock does not know through unchanged.

    Returns:
        A DataFrame with the same columns: the lock's features as ``double`` (``float``
        stays ``float``), the others unchanged. Missing or unknown columns raise here.
    """
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    empty = to_arrow_schema(df.schema).empty_table()
    schema = from_arrow_schema(lock.transform(empty, extra=extra).schema)
    payload = transport.dumps((lock.to_json(), extra))
    return df.mapInArrow(worker_function("transform", payload, sys.executable), schema)


def profile(
    lock: Lock,
    df: Any,
    stage: Stage = "raw",
    *,
    exact_limit: int = DEFAULT_PROFILE_EXACT_LIMIT,
) -> Profile:
    """The merged :class:`~normlock.profile.Profile` of ``df`` for ``lock`` at ``stage``
    (``raw``: the lock's inputs; ``normalized``: the model's inputs)."""
    empty = Profile.empty(lock, stage, exact_limit)
    return tasks.tree_merge(_states(df, "profile", empty), _merge)


def raised_in_worker(error: Exception) -> errors.NormlockError | None:
    """The normlock error that a Spark error reports from a worker (a transform's bad
    value, found when its result is computed), or None when it reports none."""
    found = _WORKER_ERROR.search(str(error))
    if found is None:
        return None
    return _error_class(found["kind"])(found["message"])


_WORKER_ERROR = re.compile(r"normlock\.errors\.(?P<kind>\w+): (?P<message>partition \d+: [^\n]*)")


def _error_class(kind: str) -> type[errors.NormlockError]:
    found = getattr(errors, kind, None)
    if isinstance(found, type) and issubclass(found, errors.NormlockError):
        return found
    return errors.NormlockError


def _merge(a: Any, b: Any) -> Any:
    return a.merge(b)


def _states(df: Any, task: str, args: Any) -> list[Any]:
    """Run a summarizing ``task`` on every partition: the summaries in partition order,
    or the first partition's error raised as itself."""
    payload = transport.dumps(args)
    rows = df.mapInArrow(worker_function(task, payload, sys.executable), STATE_SCHEMA).collect()
    rows.sort(key=lambda row: row.partition)
    failed = [row for row in rows if row.error is not None]
    if failed:
        raise _error_class(failed[0].kind)(failed[0].error)
    return [transport.loads(row.state) for row in rows]


__all__ = ["fit", "from_spark", "profile", "transform"]
