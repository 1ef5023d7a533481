"""Summaries in transit between normlock's Spark driver and its Python workers.

Spark moves Arrow record batches between its JVM and the Python workers, not Python
objects: a partition's summary (a partial fit, a profile, a feature's summary) leaves a
worker as bytes in a binary column, and the driver's arguments reach the workers as
bytes. Those bytes are pickles, made here and read here only: between normlock's own
driver and worker code, within one job. Nothing pickled is ever written to disk or read
from a user; locks and profiles are JSON artifacts (:mod:`normlock.artifact`).
"""

from __future__ import annotations

import pickle
from typing import Any


def dumps(value: Any) -> bytes:
    """``value`` as bytes for the other side of the same job."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """The value :func:`dumps` made on the other side of the same job."""
    return pickle.loads(data)  # noqa: S301 - bytes made by dumps within this job
