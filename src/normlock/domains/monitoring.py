"""Monitoring a domain lock's served data: its arrays as columns of the lock's features.

A :class:`DomainMonitor` is a :class:`~normlock.monitor.Monitor` whose batches are the
domain's own (image batches, spectrograms, series frames): each is split into one column
per feature (a channel's pixels, a bin's frames, a value column) and folded into the
same exact, mergeable profile, against the lock's per-feature training reference. Every
drift test and diagnosis of :mod:`normlock.monitor` applies: pixels in 0-1 where 0-255
was fitted is a unit change, a channel or bin standardized before the lock a double
normalization.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from normlock.lock import Lock
from normlock.monitor import Monitor
from normlock.profile import Stage

Columns = Callable[[Any, Any], dict[str, np.ndarray]]
"""(lock, a served batch of the domain) -> one column of values per feature."""


class DomainMonitor(Monitor):
    """A monitor of a domain lock's batches (see the module docs).

    Args:
        lock: the domain lock.
        stage: ``raw`` (the lock's inputs) or ``normalized`` (its outputs).
        columns: how the domain splits a batch into its features' columns.
        **options: passed to :class:`~normlock.monitor.Monitor`.
    """

    def __init__(self, lock: Lock, stage: Stage, columns: Columns, **options: Any) -> None:
        super().__init__(lock, stage, **options)
        self._columns = columns

    def update(self, batch: Any) -> None:
        """Fold a served batch of the domain (or a frame of its feature columns) in."""
        if isinstance(batch, dict) or hasattr(batch, "columns"):
            super().update(batch)
            return
        super().update(self._columns(self.lock, batch))
