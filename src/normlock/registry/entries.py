"""What the browsing catalog returns (:mod:`normlock.registry.catalog`): frozen records,
JSON-ready through ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from normlock.registry.records import utc


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else utc(moment).isoformat()


@dataclass(frozen=True)
class NameEntry:
    """A lock name at a glance.

    Attributes:
        name: the lock name.
        versions: how many versions it holds.
        latest: its newest version number (None without versions).
        updated_at: when its newest version was pushed (UTC).
        aliases: each alias and the version it points to.
        windows: how many served-data windows are summarized.
        last_window_end: the end of its latest window (UTC).
        last_problems: findings other than ``ok`` in its latest window(s).
    """

    name: str
    versions: int
    latest: int | None
    updated_at: datetime | None
    aliases: dict[str, int]
    windows: int
    last_window_end: datetime | None
    last_problems: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "versions": self.versions,
            "latest": self.latest,
            "updated_at": _time(self.updated_at),
            "aliases": self.aliases,
            "windows": self.windows,
            "last_window_end": _time(self.last_window_end),
            "last_problems": self.last_problems,
        }


@dataclass(frozen=True)
class WindowEntry:
    """One window's summary: its lock, span, sources, rows and findings."""

    id: int
    name: str
    lock_hash: str
    version: int | None
    stage: str
    window_start: datetime
    window_end: datetime
    sources: tuple[str, ...]
    rows: int
    problems: int
    findings: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "lock_hash": self.lock_hash,
            "version": self.version,
            "stage": self.stage,
            "window_start": _time(self.window_start),
            "window_end": _time(self.window_end),
            "sources": list(self.sources),
            "rows": self.rows,
            "problems": self.problems,
            "findings": list(self.findings),
        }


@dataclass(frozen=True)
class FeatureSeries:
    """One feature's statistics and drift metrics over windows, oldest first, as columns.

    Attributes:
        feature: the feature.
        starts: each window's start (``datetime64[us]``, UTC).
        ends: each window's end.
        versions: the version of each window's lock (None when since deleted).
        values: per statistic and drift metric, one float per window (NaN where the
            window cannot define it).
        alarms: per window, the alarm tests that fired.
    """

    feature: str
    starts: np.ndarray
    ends: np.ndarray
    versions: tuple[int | None, ...]
    values: dict[str, np.ndarray]
    alarms: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.versions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready columns (NaN becomes None)."""

        def times(moments: np.ndarray) -> list[str]:
            return [t + "+00:00" for t in np.datetime_as_string(moments, unit="s").tolist()]

        return {
            "window_start": times(self.starts),
            "window_end": times(self.ends),
            "version": list(self.versions),
            **{
                key: [
                    None if v != v else (int(v) if key == "count" else v) for v in column.tolist()
                ]
                for key, column in self.values.items()
            },
            "alarms": [list(a) for a in self.alarms],
        }
