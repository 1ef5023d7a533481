"""Browsing the registry: names, windows and feature histories, from indexed summary rows.

Every query here reads aggregates or the window summaries (:mod:`.summaries`), never the
stored locks or profiles, so a page costs a few indexed queries whatever the registry
holds (1,000 versions and 10,000 windows answer in milliseconds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Float, and_, cast, extract, func, select

from normlock.registry.names import check_name
from normlock.registry.records import utc
from normlock.registry.schema import aliases, names, versions, window_features, window_summaries
from normlock.registry.summaries import DRIFT_METRICS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from normlock.registry.records import Version
    from normlock.registry.store import Store

STATISTICS = ("count", "mean", "std", "missing_rate", "out_of_range_rate")
"""Each feature's statistics per window, beside :data:`DRIFT_METRICS`."""


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


def _moments(seconds: tuple[float, ...]) -> np.ndarray:
    """POSIX seconds (as the databases extract them, to the second) as ``datetime64[us]``."""
    return (np.array(seconds, dtype=np.float64) * 1e6).round().astype("datetime64[us]")


def _numbers(connection: Connection, hashes: set[str]) -> dict[tuple[str, str], int]:
    """The version number of each (name, lock hash) among the locks ``hashes``."""
    query = select(versions.c.name, versions.c.lock_hash, versions.c.version).where(
        versions.c.lock_hash.in_(sorted(hashes))
    )
    return {(n, h): int(v) for n, h, v in connection.execute(query)} if hashes else {}


def _window(row: Row, numbers: dict[tuple[str, str], int]) -> WindowEntry:
    return WindowEntry(
        id=int(row.id),
        name=row.name,
        lock_hash=row.lock_hash,
        version=numbers.get((row.name, row.lock_hash)),
        stage=row.stage,
        window_start=utc(row.window_start),
        window_end=utc(row.window_end),
        sources=tuple(row.sources.split(",")) if row.sources else (),
        rows=int(row.rows),
        problems=int(row.problems),
        findings=tuple(json.loads(row.findings)),
    )


def _window_counts(connection: Connection) -> dict[str, tuple[int, datetime, int]]:
    """Per name: how many windows, the latest window end, and the problems found then."""
    last = (
        select(window_summaries.c.name, func.max(window_summaries.c.window_end).label("end"))
        .group_by(window_summaries.c.name)
        .subquery()
    )
    problems = dict(
        connection.execute(
            select(window_summaries.c.name, func.sum(window_summaries.c.problems))
            .join(
                last,
                and_(
                    last.c.name == window_summaries.c.name,
                    last.c.end == window_summaries.c.window_end,
                ),
            )
            .group_by(window_summaries.c.name)
        ).all()
    )
    counted = connection.execute(
        select(
            window_summaries.c.name,
            func.count(window_summaries.c.id),
            func.max(window_summaries.c.window_end),
        ).group_by(window_summaries.c.name)
    )
    return {name: (int(n), end, int(problems.get(name) or 0)) for name, n, end in counted}


class Catalog:
    """Read-only views of a registry for browsing (see :meth:`Registry.catalog`)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def token(self) -> tuple[int, ...]:
        """A value that changes whenever what the catalog shows changes: a push (each
        advances a name's last version), a delete, an alias move or a recorded window (each
        summary gets a new id). Cheap: four aggregates over small tables or a key."""
        from normlock.registry.schema import alias_events

        with self._store.reading() as connection:
            found = connection.execute(
                select(
                    select(func.coalesce(func.sum(names.c.last_version), 0)).scalar_subquery(),
                    select(func.count()).select_from(versions).scalar_subquery(),
                    select(func.count()).select_from(alias_events).scalar_subquery(),
                    select(func.coalesce(func.max(window_summaries.c.id), 0)).scalar_subquery(),
                )
            ).one()
        return tuple(int(v) for v in found)

    def names(self) -> list[NameEntry]:
        """Every name with its counts, newest version, aliases and latest window, by name."""
        with self._store.reading() as connection:
            held = connection.execute(
                select(
                    names.c.name,
                    func.count(versions.c.version),
                    func.max(versions.c.version),
                    func.max(versions.c.created_at),
                )
                .select_from(names.outerjoin(versions, versions.c.name == names.c.name))
                .group_by(names.c.name)
                .order_by(names.c.name)
            ).all()
            pointing: dict[str, dict[str, int]] = {}
            for name, alias, number in connection.execute(
                select(aliases.c.name, aliases.c.alias, aliases.c.version).order_by(aliases.c.alias)
            ):
                pointing.setdefault(name, {})[alias] = int(number)
            windows = _window_counts(connection)
        entries = []
        for name, count, newest, pushed in held:
            total, end, problems = windows.get(name, (0, None, 0))
            entries.append(
                NameEntry(
                    name=name,
                    versions=int(count),
                    latest=None if newest is None else int(newest),
                    updated_at=None if pushed is None else utc(pushed),
                    aliases=pointing.get(name, {}),
                    windows=total,
                    last_window_end=None if end is None else utc(end),
                    last_problems=problems,
                )
            )
        return entries

    def versions(self, name: str, *, limit: int = 50, offset: int = 0) -> tuple[int, list[Version]]:
        """How many versions ``name`` has, and a page of their records, newest first.

        Raises:
            NotFoundError: the registry holds no such name.
        """
        from normlock.registry import versions as version_ops

        check_name(name)
        with self._store.reading() as connection:
            version_ops.require_name(connection, name)
            numbers = list(
                connection.execute(
                    select(versions.c.version)
                    .where(versions.c.name == name)
                    .order_by(versions.c.version.desc())
                ).scalars()
            )
            shown = numbers[offset : offset + limit]
            found = version_ops.describe(connection, name, shown) if shown else []
        return len(numbers), found[::-1]

    def refs(self) -> list[str]:
        """``NAME@ALIAS`` for every alias and ``NAME@N`` for every name's newest version."""
        with self._store.reading() as connection:
            aliased = connection.execute(
                select(aliases.c.name, aliases.c.alias).order_by(aliases.c.name, aliases.c.alias)
            ).all()
            newest = connection.execute(
                select(versions.c.name, func.max(versions.c.version))
                .group_by(versions.c.name)
                .order_by(versions.c.name)
            ).all()
        return [f"{n}@{a}" for n, a in aliased] + [f"{n}@{v}" for n, v in newest]

    def previous(self, name: str, version: int) -> int | None:
        """The newest version of ``name`` older than ``version`` (None when there is none)."""
        check_name(name)
        with self._store.reading() as connection:
            found = connection.execute(
                select(func.max(versions.c.version)).where(
                    versions.c.name == name, versions.c.version < version
                )
            ).scalar()
        return None if found is None else int(found)

    def stages(self, name: str) -> list[str]:
        """The stages (``raw``, ``normalized``) ``name`` has windows for."""
        check_name(name)
        with self._store.reading() as connection:
            query = select(window_summaries.c.stage).where(window_summaries.c.name == name)
            return sorted(connection.execute(query.distinct()).scalars())

    def windows(
        self,
        name: str,
        *,
        stage: str = "raw",
        limit: int = 50,
        offset: int = 0,
        problems_only: bool = False,
    ) -> tuple[int, list[WindowEntry]]:
        """How many windows ``name`` has at ``stage`` (with problems, if asked), and a page
        of them, newest first."""
        check_name(name)
        where = [window_summaries.c.name == name, window_summaries.c.stage == stage]
        if problems_only:
            where.append(window_summaries.c.problems > 0)
        with self._store.reading() as connection:
            total = connection.execute(
                select(func.count(window_summaries.c.id)).where(*where)
            ).scalar_one()
            rows = connection.execute(
                select(window_summaries)
                .where(*where)
                .order_by(window_summaries.c.window_end.desc(), window_summaries.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            numbers = _numbers(connection, {row.lock_hash for row in rows})
        return int(total), [_window(row, numbers) for row in rows]

    def features(self, name: str, *, stage: str = "raw") -> dict[str, int]:
        """Each feature with windows for ``name`` at ``stage``, and how many windows it has."""
        check_name(name)
        with self._store.reading() as connection:
            rows = connection.execute(
                select(window_features.c.feature, func.count(window_features.c.window_id))
                .where(window_features.c.name == name, window_features.c.stage == stage)
                .group_by(window_features.c.feature)
                .order_by(window_features.c.feature)
            )
            return {feature: int(count) for feature, count in rows}

    def series(
        self,
        name: str,
        feature: str,
        *,
        stage: str = "raw",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> FeatureSeries:
        """``feature``'s statistics and drift metrics per window of ``name``, oldest first
        (window times to the second)."""
        from normlock.registry.records import stored_time

        check_name(name)
        keys = (*STATISTICS, *DRIFT_METRICS)
        features = window_features.c
        query = (
            select(
                cast(extract("epoch", features.window_start), Float),
                cast(extract("epoch", features.window_end), Float),
                features.lock_hash,
                features.alarms,
                *(features[k] for k in keys),
            )
            .where(features.name == name, features.stage == stage, features.feature == feature)
            .order_by(features.window_start, features.window_end)
        )
        if start is not None:
            query = query.where(features.window_start >= stored_time(start))
        if end is not None:
            query = query.where(features.window_end <= stored_time(end))
        with self._store.reading() as connection:
            rows = connection.execute(query).all()
            numbers = _numbers(connection, {row.lock_hash for row in rows})
        columns = list(zip(*rows, strict=True)) if rows else [()] * (4 + len(keys))
        starts, ends, hashes, alarms = columns[:4]
        return FeatureSeries(
            feature=feature,
            starts=_moments(starts),
            ends=_moments(ends),
            versions=tuple(numbers.get((name, h)) for h in hashes),
            values={
                k: np.array(c, dtype=np.float64) for k, c in zip(keys, columns[4:], strict=True)
            },
            alarms=tuple(tuple(a.split(",")) if a else () for a in alarms),
        )

    def latest(self) -> list[tuple[WindowEntry, dict[str, dict[str, float | None]]]]:
        """Per name and stage, the latest window and each feature's values in it."""
        last = (
            select(
                window_summaries.c.name,
                window_summaries.c.stage,
                func.max(window_summaries.c.window_end).label("end"),
            )
            .group_by(window_summaries.c.name, window_summaries.c.stage)
            .subquery()
        )
        newest = (
            select(func.max(window_summaries.c.id))
            .join(
                last,
                and_(
                    last.c.name == window_summaries.c.name,
                    last.c.stage == window_summaries.c.stage,
                    last.c.end == window_summaries.c.window_end,
                ),
            )
            .group_by(window_summaries.c.name, window_summaries.c.stage)
        )
        columns = [window_features.c[k] for k in (*STATISTICS, *DRIFT_METRICS)]
        with self._store.reading() as connection:
            windows = connection.execute(
                select(window_summaries)
                .where(window_summaries.c.id.in_(newest))
                .order_by(window_summaries.c.name, window_summaries.c.stage)
            ).all()
            values: dict[int, dict[str, dict[str, float | None]]] = {}
            for row in connection.execute(
                select(window_features.c.window_id, window_features.c.feature, *columns)
                .where(window_features.c.window_id.in_([w.id for w in windows]))
                .order_by(window_features.c.feature)
            ):
                values.setdefault(int(row.window_id), {})[row.feature] = {
                    c.name: getattr(row, c.name) for c in columns
                }
            numbers = _numbers(connection, {w.lock_hash for w in windows})
        return [(_window(w, numbers), values.get(int(w.id), {})) for w in windows]
