"""Window summaries: each window's drift report, stored when its profiles are recorded.

A window is one lock, stage and ``[start, end)`` span of a name, all its sources merged.
Whenever a profile is recorded, its window's profiles are merged and compared with the
lock's reference (:func:`normlock.monitor.build_report`); the findings go to
``window_summaries`` and each feature's statistics and drift metrics to
``window_features``. Browsing a name's history and ``/metrics`` then read a few indexed
rows per window instead of parsing and re-analysing every stored profile.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from normlock.errors import NormlockError
from normlock.registry.profiles import feature_stats, merged
from normlock.registry.records import ProfileRecord, now, utc
from normlock.registry.schema import locks, profiles, window_features, window_summaries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from normlock.lock import Lock
    from normlock.profile import Profile

Window = tuple[str, str, str, datetime, datetime]
"""(name, lock hash, stage, start, end) as stored (naive UTC)."""

DRIFT_METRICS = ("psi", "psi_critical", "smd", "wasserstein_sd")
"""The drift metrics kept per feature and window (see :mod:`normlock.monitor.metrics`)."""


def _number(value: float) -> float | None:
    """A float as stored: NaN and infinities (which SQLite cannot keep) become NULL."""
    return float(value) if math.isfinite(value) else None


def summarize(lock: Lock, profile: Profile) -> tuple[list[dict[str, Any]], dict[str, dict]]:
    """The findings of ``profile``'s drift report and each feature's row of statistics.

    A profile the analysis cannot judge keeps its statistics, with one ``error`` finding
    saying why, so recording never fails on it.
    """
    from normlock.monitor import build_report

    metrics: dict[str, Any] = {}
    fdr = 0.0
    try:
        report = build_report(lock, profile)
    except NormlockError as exc:
        findings = [{"kind": "error", "features": [], "message": str(exc), "confidence": 0.0}]
    else:
        findings = [
            {
                "kind": f.kind,
                "features": list(f.features),
                "message": f.message,
                "confidence": float(f.confidence),
                "root_cause": f.root_cause,
            }
            for f in report.findings
        ]
        metrics, fdr = report.metrics, report.thresholds.fdr
    rows = {}
    for feature in profile.features:
        stats = feature_stats(profile, feature)
        found = metrics.get(feature)
        drift = {k: math.nan if found is None else getattr(found, k) for k in DRIFT_METRICS}
        alarms = [] if found is None else [t.name for t in found.firing(fdr)]
        rows[feature] = {
            "count": int(stats["count"]),
            **{k: _number(v) for k, v in stats.items() if k != "count"},
            **{k: _number(float(v)) for k, v in drift.items()},
            "alarms": ",".join(alarms),
        }
    return findings, rows


def _records(connection: Connection, window: Window) -> list[ProfileRecord]:
    from normlock import artifact
    from normlock.profile import Profile

    name, lock_hash, stage, start, end = window
    query = select(profiles.c.source, profiles.c.document).where(
        profiles.c.name == name,
        profiles.c.lock_hash == lock_hash,
        profiles.c.stage == stage,
        profiles.c.window_start == start,
        profiles.c.window_end == end,
    )
    return [
        ProfileRecord(
            name,
            lock_hash,
            source,
            utc(start),
            utc(end),
            Profile.from_dict(artifact.parse_value(document)),
        )
        for source, document in connection.execute(query.order_by(profiles.c.source))
    ]


def refresh(connection: Connection, window: Window, lock: Lock) -> None:
    """Recompute and store the summary of ``window`` from its stored profiles."""
    records = _records(connection, window)
    profile = merged(records)
    if profile is None:
        return
    findings, rows = summarize(lock, profile)
    name, lock_hash, stage, start, end = window
    key = (
        window_summaries.c.name == name,
        window_summaries.c.lock_hash == lock_hash,
        window_summaries.c.stage == stage,
        window_summaries.c.window_start == start,
        window_summaries.c.window_end == end,
    )
    old = connection.execute(select(window_summaries.c.id).where(*key)).scalar()
    if old is not None:
        connection.execute(delete(window_features).where(window_features.c.window_id == old))
        connection.execute(delete(window_summaries).where(window_summaries.c.id == old))
    inserted = connection.execute(
        window_summaries.insert().values(
            name=name,
            lock_hash=lock_hash,
            stage=stage,
            window_start=start,
            window_end=end,
            sources=",".join(sorted(r.source for r in records)),
            rows=profile.rows,
            problems=sum(1 for f in findings if f["kind"] != "ok"),
            findings=json.dumps(findings, allow_nan=False),
            computed_at=now(),
        )
    )
    window_id = inserted.inserted_primary_key[0]
    connection.execute(
        window_features.insert(),
        [
            {
                "window_id": window_id,
                "feature": feature,
                "name": name,
                "stage": stage,
                "window_start": start,
                "window_end": end,
                "lock_hash": lock_hash,
                **row,
            }
            for feature, row in rows.items()
        ],
    )


def backfill(connection: Connection) -> None:
    """Summarize every window already stored (the upgrade to schema version 2)."""
    from normlock.lock import Lock

    keys = connection.execute(
        select(
            profiles.c.name,
            profiles.c.lock_hash,
            profiles.c.stage,
            profiles.c.window_start,
            profiles.c.window_end,
        ).distinct()
    ).all()
    bodies: dict[str, Lock] = {}
    for name, lock_hash, stage, start, end in keys:
        if lock_hash not in bodies:
            body = connection.execute(select(locks.c.body).where(locks.c.hash == lock_hash))
            bodies[lock_hash] = Lock.from_json(bytes(body.scalar_one()).decode("utf-8"))
        refresh(connection, (name, lock_hash, stage, start, end), bodies[lock_hash])
