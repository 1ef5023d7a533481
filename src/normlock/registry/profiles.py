"""Served-data profiles over time: append per window and source, merge, feature history.

A profile (:class:`normlock.profile.Profile`) is stored per lock name, lock, stage,
source (a replica, a region) and time window ``[start, end)``; windows are immutable
(recording the same one again is a no-op, a different one for the same key an error).
A time-range query takes the windows lying wholly inside the range; profiles merge
exactly, so any range, any set of sources, in any order, gives the same merged profile.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import reduce
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from normlock import artifact
from normlock.errors import ColumnNotFoundError, InputError
from normlock.profile import Profile
from normlock.registry.errors import ConflictError
from normlock.registry.records import ProfileRecord, WindowStats, now, stored_time, utc
from normlock.registry.schema import profiles, versions

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The window as stored (naive UTC); naive inputs are taken as UTC."""
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        raise InputError("a profile window needs two datetimes, start and end")
    begin, finish = stored_time(start), stored_time(end)
    if finish <= begin:
        raise InputError(f"a profile window must end after it starts ({start} -> {end})")
    return begin, finish


def record(
    connection: Connection,
    name: str,
    lock_hash: str,
    fingerprint: str,
    profile: Profile,
    span: tuple[datetime, datetime],
    source: str,
) -> bool:
    """Store ``profile``; True if stored, False if the identical window was already there.

    Raises:
        InputError: the profile belongs to another lock.
        ConflictError: a different profile holds the same window, source and stage.
    """
    if profile.fingerprint != fingerprint:
        raise InputError(
            f"the profile was taken against lock {profile.fingerprint[:16]}, not against "
            f"{name}'s lock {fingerprint[:16]}; record it under the version it was served with"
        )
    document = artifact.canonical(profile.to_dict())
    key = {
        "name": name,
        "lock_hash": lock_hash,
        "stage": profile.stage,
        "source": source,
        "window_start": span[0],
        "window_end": span[1],
    }
    held = connection.execute(
        select(profiles.c.document).where(*(profiles.c[k] == v for k, v in key.items()))
    ).scalar()
    if held is not None:
        if held == document:
            return False
        raise ConflictError(
            f"{name} already holds a different {profile.stage} profile from {source!r} for "
            f"{utc(span[0]).isoformat()} -> {utc(span[1]).isoformat()}; windows are immutable"
        )
    connection.execute(
        profiles.insert().values(**key, rows=profile.rows, document=document, recorded_at=now())
    )
    return True


def query(
    connection: Connection,
    name: str,
    *,
    lock_hash: str | None = None,
    stage: str = "raw",
    start: datetime | None = None,
    end: datetime | None = None,
    sources: list[str] | None = None,
) -> list[ProfileRecord]:
    """Stored profiles of ``name`` whose windows lie inside ``[start, end)``, by time."""
    statement = select(profiles).where(profiles.c.name == name, profiles.c.stage == stage)
    if lock_hash is not None:
        statement = statement.where(profiles.c.lock_hash == lock_hash)
    if start is not None:
        statement = statement.where(profiles.c.window_start >= stored_time(start))
    if end is not None:
        statement = statement.where(profiles.c.window_end <= stored_time(end))
    if sources is not None:
        statement = statement.where(profiles.c.source.in_(sources))
    ordered = statement.order_by(profiles.c.window_start, profiles.c.window_end, profiles.c.source)
    return [
        ProfileRecord(
            name=row.name,
            lock_hash=row.lock_hash,
            source=row.source,
            window_start=utc(row.window_start),
            window_end=utc(row.window_end),
            profile=Profile.from_dict(artifact.parse_value(row.document)),
        )
        for row in connection.execute(ordered)
    ]


def merged(records: list[ProfileRecord]) -> Profile | None:
    """All ``records`` merged into one profile (None when there are none)."""
    if not records:
        return None
    return reduce(Profile.merge, (r.profile for r in records))


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def feature_stats(profile: Profile, feature: str) -> dict[str, Any]:
    """One feature of a (merged) profile: count, mean, std (ddof 0), missing rate (NaN and
    infinite values over all values) and out-of-range rate (finite values outside the
    lock's training range over finite values)."""
    summary = profile.features[feature]
    outside = profile.below[feature] + profile.above[feature]
    return {
        "count": summary.count,
        "mean": summary.mean,
        "std": summary.std(0) if summary.count else math.nan,
        "missing_rate": _rate(summary.total - summary.count, summary.total),
        "out_of_range_rate": _rate(outside, summary.count),
    }


def feature_history(
    connection: Connection, records: list[ProfileRecord], feature: str
) -> list[WindowStats]:
    """Per window (sources merged, per lock): count, mean, std, missing and out-of-range rates."""
    numbers: dict[str, int] = {
        row.lock_hash: row.version
        for row in connection.execute(
            select(versions.c.lock_hash, versions.c.version).where(
                versions.c.name.in_({r.name for r in records})
            )
        )
    }
    groups: dict[tuple[str, datetime, datetime], list[ProfileRecord]] = {}
    for item in records:
        if feature not in item.profile.features:
            raise ColumnNotFoundError.from_missing(
                [feature], item.profile.features, where=f"the profiles of {item.name}"
            )
        groups.setdefault((item.lock_hash, item.window_start, item.window_end), []).append(item)
    history = []
    for (lock_hash, begin, finish), members in sorted(groups.items(), key=_window_order):
        profile: Any = merged(members)
        history.append(
            WindowStats(
                window_start=begin,
                window_end=finish,
                lock_hash=lock_hash,
                version=numbers.get(lock_hash),
                sources=tuple(sorted(m.source for m in members)),
                rows=profile.rows,
                **feature_stats(profile, feature),
            )
        )
    return history


def _window_order(item: tuple[tuple[str, datetime, datetime], Any]) -> tuple[datetime, datetime]:
    (_, begin, finish), _members = item
    return begin, finish
