"""The tasks :mod:`normlock.engines.spark` runs on each partition, in Spark's Python workers.

Summaries (a partial fit, a profile, a feature's summary) leave the worker as one row of
``STATE_SCHEMA``: the partition's number, the summary as bytes
(:mod:`~normlock.engines.transport`), or the normlock error it raised (its class and
message), which the driver raises again as itself. Transforms yield the partition's
record batches normalized.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from normlock.errors import NormlockError

from . import tasks, transport

STATE_SCHEMA = "partition int, state binary, kind string, error string"
"""The rows summarizing tasks yield (Spark's DDL)."""

_ARROW_STATE = pa.schema(
    [
        ("partition", pa.int32()),
        ("state", pa.binary()),
        ("kind", pa.string()),
        ("error", pa.string()),
    ]
)


def _state_row(index: int, state: bytes | None, error: NormlockError | None) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(
        [
            {
                "partition": index,
                "state": state,
                "kind": None if error is None else type(error).__name__,
                "error": None if error is None else str(error),
            }
        ],
        schema=_ARROW_STATE,
    )


def _summarizing(
    work: Callable[[Iterator[Any], Any, int], Any],
) -> Callable[[Iterator[Any], Any, int], Iterator[pa.RecordBatch]]:
    def task(batches: Iterator[Any], args: Any, index: int) -> Iterator[pa.RecordBatch]:
        try:
            found = work(batches, args, index)
        except NormlockError as exc:  # sent as data: the driver raises it as itself
            yield _state_row(index, None, exc)
            return
        yield _state_row(index, transport.dumps(found), None)

    return task


def _transform(batches: Iterator[Any], args: Any, index: int) -> Iterator[pa.RecordBatch]:
    text, extra = args
    for batch in batches:
        yield tasks.transform_chunk(text, batch, index, extra)


def _summarize(batches: Iterator[Any], args: tuple[Any, ...], index: int) -> Any:
    name, steps, exact_limit, names = args
    return tasks.summarize_partition(batches, name, steps, exact_limit, names, index)


TASKS: dict[str, Callable[[Iterator[Any], Any, int], Iterator[pa.RecordBatch]]] = {
    "fit": _summarizing(tasks.fit_partition),
    "profile": _summarizing(tasks.profile_partition),
    "summarize": _summarizing(_summarize),
    "transform": _transform,
}


def run(task: str, payload: bytes, batches: Iterator[Any]) -> Iterator[pa.RecordBatch]:
    """Run ``task`` on this partition's ``batches`` with the driver's ``payload``."""
    from pyspark import TaskContext

    context = TaskContext.get()
    index = context.partitionId() if context is not None else 0
    args = transport.loads(payload)
    return TASKS[task](batches, args, index)
