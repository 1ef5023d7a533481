"""Helpers for users' own test suites.

>>> import numpy as np, normlock as nl
>>> from normlock.testing import assert_parity
>>> lock = nl.fit({"a": np.array([1.0, 2.0, 4.0])}, {"a": "minmax"})
>>> assert_parity(lock, lambda x: ((x.astype(float) - 1.0) / 3.0).astype(x.dtype)).identical
True
>>> report = assert_parity(lock, lambda x: (x.astype(float) * (1 / 3.0) - 1 / 3.0).astype(x.dtype))
>>> report.verdict
'equivalent'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from normlock.lock import Lock
    from normlock.verify.parity import ParityReport


def assert_parity(
    lock: Lock,
    target: Any,
    data: Any = None,
    *,
    exact: bool = False,
    ulps: int | None = None,
    feed: str = "matrix",
    trusted_types: Sequence[str] = (),
) -> ParityReport:
    """Fail with a readable message unless ``target`` reproduces ``lock``.

    Runs :func:`normlock.verify.verify` (probes in float64 and float32, plus ``data``)
    and raises ``AssertionError`` listing each differing feature, its errors and the
    likely cause (swapped columns, sample std, parameters from other data, ...).
    Outputs that differ only by rounding pass unless ``exact=True``
    (``report.verdict`` is then ``"equivalent"`` rather than ``"identical"``).

    Args:
        lock: the lock the serving code must reproduce.
        target: a function, ONNX model, torch module, scikit-learn estimator, or a
            reference to one (file path or ``module:function``).
        data: optional extra rows to compare on.
        exact: require the lock's outputs bit for bit.
        ulps: instead of the rounding bound, a flat tolerance in units in the last place
            of ``max(|expected|, 1)``.
        feed: ``"matrix"`` (a 2-D array) or ``"columns"`` (a dict of columns).
        trusted_types: extra type names a skops file may contain.

    Returns:
        The report, when parity holds.
    """
    from normlock.verify.parity import verify

    report = verify(
        lock, target, data, exact=exact, ulps=ulps, feed=feed, trusted_types=trusted_types
    )
    if not report.passed:
        raise AssertionError(report.summary())
    return report
