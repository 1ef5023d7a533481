"""Window summaries and the browsing catalog, on SQLite and PostgreSQL.

Each stored summary is checked against the drift report of the window's merged profiles
(``build_report``) and against ``feature_history``, which reads the profiles themselves.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import text, update

import normlock as nl
from normlock.monitor import build_report
from normlock.profile import Profile
from normlock.registry import Registry
from normlock.registry.connection import open_engine, resolve_url
from normlock.registry.schema import SCHEMA_VERSION, schema_migrations

DAY = datetime(2025, 3, 1, tzinfo=UTC)


def _lock() -> nl.Lock:
    rng = np.random.default_rng(7)
    return nl.fit({"grams": rng.normal(500, 40, 800), "km": rng.uniform(1, 30, 800)})


def _profile(lock: nl.Lock, seed: int, rows: int = 300, scale: float = 1.0) -> Profile:
    rng = np.random.default_rng(seed)
    monitor = lock.monitor()
    grams = rng.normal(500, 40, rows) * scale
    grams[:3] = np.nan
    monitor.update({"grams": grams, "km": rng.uniform(1, 30, rows)})
    return monitor.profile


def _same(stored: float | None, expected: float) -> bool:
    return (stored is None and not math.isfinite(expected)) or stored == expected


def test_a_window_summary_is_the_report_of_its_merged_sources(registry: Registry) -> None:
    lock = _lock()
    registry.push(lock, "parcels")
    a, b = _profile(lock, 1), _profile(lock, 2, scale=1000.0)
    end = DAY + timedelta(hours=1)
    assert registry.record_profile("parcels@1", a, start=DAY, end=end, source="eu")
    assert registry.record_profile("parcels@1", b, start=DAY, end=end, source="us")
    assert not registry.record_profile("parcels@1", b, start=DAY, end=end, source="us")
    catalog = registry.catalog()
    total, windows = catalog.windows("parcels")
    assert total == 1 and windows[0].sources == ("eu", "us") and windows[0].rows == 600
    report = build_report(lock, a.merge(b))
    assert [f["kind"] for f in windows[0].findings] == [f.kind for f in report.findings]
    assert windows[0].problems == sum(f.kind != "ok" for f in report.findings) > 0
    history = registry.feature_history("parcels", "grams")
    series = catalog.series("parcels", "grams")
    metrics = report.metrics["grams"]
    assert len(series) == 1 and series.versions == (1,)
    point = series.to_dict()
    for key in ("count", "mean", "std", "missing_rate", "out_of_range_rate"):
        assert point[key] == [getattr(history[0], key)], key
    for key in ("psi", "psi_critical", "smd", "wasserstein_sd"):
        assert _same(point[key][0], float(getattr(metrics, key))), key
    assert set(series.alarms[0]) == {t.name for t in metrics.firing(report.thresholds.fdr)}
    assert point["window_start"] == [DAY.isoformat()]


def test_the_catalog_pages_windows_newest_first_and_names_the_latest(registry: Registry) -> None:
    lock = _lock()
    registry.push(lock, "parcels")
    registry.promote("parcels@1", "production")
    registry.push(nl.fit({"x": np.arange(5.0)}), "quiet")
    for hour in range(7):
        drifted = 1000.0 if hour in (2, 6) else 1.0
        start = DAY + timedelta(hours=hour)
        profile = _profile(lock, hour, scale=drifted)
        registry.record_profile("parcels", profile, start=start, end=start + timedelta(hours=1))
    catalog = registry.catalog()
    entries = {e.name: e for e in catalog.names()}
    assert entries["parcels"].versions == 1 and entries["parcels"].aliases == {"production": 1}
    assert entries["parcels"].windows == 7 and entries["parcels"].last_problems > 0
    assert entries["parcels"].last_window_end == DAY + timedelta(hours=7)
    assert entries["quiet"].windows == 0 and entries["quiet"].last_window_end is None
    total, page = catalog.windows("parcels", limit=3, offset=1)
    assert total == 7 and [w.window_start.hour for w in page] == [5, 4, 3]
    flagged, found = catalog.windows("parcels", problems_only=True)
    assert flagged == 2 and [w.window_start.hour for w in found] == [6, 2]
    assert catalog.features("parcels") == {"grams": 7, "km": 7}
    assert catalog.stages("parcels") == ["raw"]
    since = catalog.series("parcels", "km", start=DAY + timedelta(hours=4)).to_dict()
    assert since["window_start"] == [(DAY + timedelta(hours=h)).isoformat() for h in (4, 5, 6)]
    (latest, values) = next((w, v) for w, v in catalog.latest() if w.name == "parcels")
    assert latest.window_start.hour == 6 and set(values) == {"grams", "km"}
    assert values["km"]["count"] == 300


def test_upgrading_a_version_1_registry_summarizes_its_stored_windows(registry_url: str) -> None:
    lock = _lock()
    with Registry(registry_url) as registry:
        registry.push(lock, "parcels")
        for hour in range(3):
            start = DAY + timedelta(hours=hour)
            registry.record_profile(
                "parcels", _profile(lock, hour), start=start, end=start + timedelta(hours=1)
            )
        before = registry.catalog().series("parcels", "grams").to_dict()
    engine = open_engine(resolve_url(registry_url))
    with engine.begin() as connection:  # back to the version 1 schema
        connection.execute(text("DROP TABLE window_features"))
        connection.execute(text("DROP TABLE window_summaries"))
        connection.execute(update(schema_migrations).values(version=1))
    engine.dispose()
    assert SCHEMA_VERSION == 2
    with Registry(registry_url) as registry:
        after = registry.catalog().series("parcels", "grams").to_dict()
    assert after == before and len(after["mean"]) == 3
