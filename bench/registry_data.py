"""A large registry, built fast: one name with many versions and many served windows.

The first version, its promotions and the first :data:`DISTINCT` windows go through the
registry's own API (``push``, ``promote``, ``record_profile``, which also stores each
window's summary). The other versions are the same lock with other provenance (distinct
files, each sealed) and the other windows copies of those first windows at later hours
(profiles, summaries and feature rows alike), written with bulk inserts; so the database
holds what the API would have written, at a fraction of the cost.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select, text, update

import normlock as nl
from normlock import artifact
from normlock.registry import Registry
from normlock.registry.connection import open_engine, resolve_url
from normlock.registry.schema import (
    locks,
    names,
    profiles,
    versions,
    window_features,
    window_summaries,
)

NAME = "fraud"
FEATURES = ("amount", "age", "tenure", "score")
START = datetime(2024, 1, 1, tzinfo=UTC)
DISTINCT = 12
"""Windows recorded through the API; the others repeat them at later hours."""
CHUNK = 2000


@dataclass(frozen=True)
class Built:
    """What :func:`build` stored."""

    url: str
    versions: int
    windows: int


def _columns(rng: np.random.Generator, rows: int, scale: float) -> dict[str, np.ndarray]:
    return {
        "amount": rng.lognormal(3, 0.6, rows) * scale,
        "age": rng.normal(40, 12, rows),
        "tenure": rng.exponential(30, rows),
        "score": rng.uniform(0, 1, rows),
    }


def _stored(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _copies(
    connection: Any, table: Any, rows: list[dict[str, Any]], shift: dict[str, timedelta]
) -> None:
    """Insert ``rows`` with each datetime column in ``shift`` moved by its delta."""
    moved = [{**r, **{k: r[k] + d for k, d in shift.items()}} for r in rows]
    for at in range(0, len(moved), CHUNK):
        connection.execute(table.insert(), moved[at : at + CHUNK])


def build(
    url: str,
    *,
    version_count: int = 1000,
    window_count: int = 10_000,
    fit_rows: int = 400,
    window_rows: int = 60,
) -> Built:
    """Fill the empty registry at ``url``: ``NAME`` with ``version_count`` versions (locks
    fitted on ``fit_rows`` rows), its ``production`` alias promoted along them, and
    ``window_count`` hourly windows of ``window_rows`` rows."""
    rng = np.random.default_rng(5)
    base = nl.fit(_columns(rng, fit_rows, 1.0), {"amount": ["log1p", "standard"]})
    with Registry(url) as registry:
        registry.push(base, NAME)
        for hour in range(min(DISTINCT, window_count)):
            monitor = base.monitor()
            monitor.update(_columns(rng, window_rows, 100.0 if hour % 5 == 4 else 1.0))
            start = START + timedelta(hours=hour)
            registry.record_profile(
                f"{NAME}@1", monitor.profile, start=start, end=start + timedelta(hours=1)
            )
        engine = open_engine(resolve_url(url))  # bulk writes in one transaction
        with engine.begin() as connection:
            _more_versions(connection, base, version_count, fit_rows)
            _more_windows(connection, window_count)
            if connection.dialect.name == "postgresql":  # ids were given: move the sequence on
                connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('window_summaries', 'id'), "
                        "(SELECT max(id) FROM window_summaries))"
                    )
                )
        engine.dispose()
        for number in range(10, version_count + 1, max(1, version_count // 20)):
            registry.promote(f"{NAME}@{number}", "production")
        registry.promote(f"{NAME}@{version_count}", "staging")
    return Built(url, version_count, window_count)


def _variants(base: nl.Lock, count: int, rows: int) -> list[bytes]:
    """``count`` sealed lock files of ``base``, each with its own provenance.

    The file is rendered once with a placeholder source; each variant substitutes its
    source into the canonical body (to seal it) and into the rendered text, so that it
    is byte for byte what ``to_json`` would write (every read verifies it).
    """
    placeholder = "normlock-bench-source-placeholder"
    document = dataclasses.replace(
        base, provenance={"rows": rows, "sources": [placeholder]}
    ).to_document()
    body = {k: v for k, v in document.items() if k != "seal"}
    canonical, rendered = artifact.canonical(body), artifact.render(document)
    files = []
    for number in range(count):
        source = f"day-{number + 2}"
        seal = artifact.sha256_hex(canonical.replace(placeholder, source))
        text = rendered.replace(placeholder, source).replace(document["seal"], seal)
        files.append(text.encode("utf-8"))
    return files


def _more_versions(connection: Any, base: nl.Lock, count: int, rows: int) -> None:
    now = _stored(datetime.now(UTC))
    lock_rows, version_rows = [], []
    for number, body in enumerate(_variants(base, count - 1, rows), start=2):
        digest = hashlib.sha256(body).hexdigest()
        lock_rows.append(
            {"hash": digest, "body": body, "fingerprint": base.fingerprint, "created_at": now}
        )
        version_rows.append(
            {
                "name": NAME,
                "version": number,
                "lock_hash": digest,
                "model_name": "fraud-gbm",
                "model_version": str(number),
                "created_at": now,
                "actor": "bench",
            }
        )
    for at in range(0, len(lock_rows), CHUNK):
        connection.execute(locks.insert(), lock_rows[at : at + CHUNK])
        connection.execute(versions.insert(), version_rows[at : at + CHUNK])
    connection.execute(update(names).where(names.c.name == NAME).values(last_version=count))


def _more_windows(connection: Any, count: int) -> None:
    """Copies of the first windows at later hours, each block on a later version's lock."""
    held = {r.version: r.lock_hash for r in connection.execute(select(versions))}
    first_profiles = [dict(r._mapping) for r in connection.execute(select(profiles))]
    first_summaries = [dict(r._mapping) for r in connection.execute(select(window_summaries))]
    first_features = [dict(r._mapping) for r in connection.execute(select(window_features))]
    for rows in (first_profiles, first_summaries):
        for row in rows:
            row.pop("id")
    next_id = max(s["window_id"] for s in first_features) + 1
    by_start = {s["window_start"]: s for s in first_summaries}
    start = DISTINCT
    while start < count:
        block = min(DISTINCT, count - start)
        shift = timedelta(hours=start)
        lock_hash = held[min(len(held), 1 + start // 10)]
        summaries, features = [], []
        for row in first_summaries[:block]:
            window_id = next_id + len(summaries)
            summaries.append({**row, "id": window_id, "lock_hash": lock_hash})
            original = by_start[row["window_start"]]
            for feature in first_features:
                if feature["window_start"] == original["window_start"]:
                    features.append({**feature, "window_id": window_id, "lock_hash": lock_hash})
        moved = [{**p, "lock_hash": lock_hash} for p in first_profiles[:block]]
        span = {"window_start": shift, "window_end": shift}
        _copies(connection, profiles, moved, span)
        _copies(connection, window_summaries, summaries, span)
        _copies(connection, window_features, features, span)
        next_id += len(summaries)
        start += block
