"""The function Spark runs in its Python workers, built so that it arrives without normlock.

Spark pickles the function it runs in a worker; a function of an importable module would
be pickled as a reference to it, and a worker without normlock would fail to unpickle it
with an error that says nothing of the fix. The function built here is a closure (pickled
by value) that refers only to the standard library: it imports normlock in the worker,
and when that fails says which interpreter ``PYSPARK_PYTHON`` should name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def worker_function(
    task: str, payload: bytes, driver_python: str
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The ``mapInArrow`` function that runs ``task`` of
    :mod:`normlock.engines.spark_worker` with ``payload`` on a partition's record batches.

    Args:
        task: the worker task's name.
        payload: its arguments, pickled by the driver (read only by that task).
        driver_python: the driver's interpreter, named in the error a worker without
            normlock raises.
    """

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import sys

        try:
            from normlock.engines import spark_worker
        except ImportError as exc:
            raise ImportError(
                f"the Spark worker's Python ({sys.executable}) cannot import normlock and "
                f"pyarrow ({exc}); point PYSPARK_PYTHON at the driver's interpreter "
                f"({driver_python}) or install normlock[spark] in the workers' environment"
            ) from None
        return spark_worker.run(task, payload, batches)

    return run
