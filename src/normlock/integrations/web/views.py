"""What each page shows, as JSON-ready data: the same dict feeds the HTML page and its
``/api/...`` endpoint, so scripts read exactly what people see."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from normlock.errors import InputError
from normlock.monitor.metrics import json_ready

if TYPE_CHECKING:
    from normlock.lock import Lock
    from normlock.registry import PulledLock, Registry
    from normlock.registry.catalog import FeatureSeries

STAGES = ("raw", "normalized")
PAGE_SIZE = 50
RECENT = 10
CACHED_LOCKS = 64


def stage_of(value: str | None) -> str:
    """The ``stage`` query parameter, checked."""
    stage = value or "raw"
    if stage not in STAGES:
        raise InputError(f"stage must be 'raw' or 'normalized', got {stage!r}")
    return stage


def page_of(value: str | None) -> int:
    """The ``page`` query parameter (1, 2, ...), checked."""
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"page must be a whole number from 1, got {value!r}")
    return int(value)


def moment_of(value: str | None, what: str) -> datetime | None:
    """An ISO-8601 time query parameter (UTC when it names no zone), checked."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{what} must be an ISO-8601 time such as 2025-01-31 or 2025-01-31T12:00, got {value!r}"
        ) from None


class Views:
    """The pages' data, read from one registry.

    Verified locks are kept by content hash (a hash names one content forever), so a lock
    page parses and checks a lock once; downloads always read and verify the stored bytes.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.catalog = registry.catalog()
        self._locks: OrderedDict[str, PulledLock] = OrderedDict()
        self._guard = threading.Lock()

    def pulled(self, ref: str) -> PulledLock:
        """The verified lock ``ref`` names (kept for later pages)."""
        from normlock.registry import PulledLock

        version = self.registry.show(ref)
        with self._guard:
            found = self._locks.get(version.hash)
            if found is not None:
                self._locks.move_to_end(version.hash)
        if found is None:
            found = self.registry.pull(version.ref)
            with self._guard:
                self._locks[version.hash] = found
                while len(self._locks) > CACHED_LOCKS:
                    self._locks.popitem(last=False)
        return PulledLock(version=version, text=found.text, lock=found.lock)

    def index(self) -> dict[str, Any]:
        """Every name at a glance."""
        return {"registry": self.registry.url, "names": [e.to_dict() for e in self.catalog.names()]}

    def name(self, name: str, page: int = 1) -> dict[str, Any]:
        """A name: a page of its versions (newest first), aliases and their history,
        features with windows, the latest findings."""
        total, versions = self.catalog.versions(
            name, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        pages = max(1, math.ceil(total / PAGE_SIZE))
        if page > pages:
            raise InputError(f"page {page} is past the last page ({pages})")
        stages = {}
        for stage in self.catalog.stages(name):
            flagged, recent = self.catalog.windows(
                name, stage=stage, limit=RECENT, problems_only=True
            )
            stages[stage] = {
                "features": self.catalog.features(name, stage=stage),
                "windows": self.catalog.windows(name, stage=stage, limit=0)[0],
                "problem_windows": flagged,
                "recent_problems": [w.to_dict() for w in recent],
            }
        return {
            "name": name,
            "total_versions": total,
            "page": page,
            "pages": pages,
            "versions": [v.to_dict() for v in versions],
            "previous": self.catalog.previous(name, versions[-1].version) if versions else None,
            "aliases": self.registry.aliases(name),
            "history": [e.to_dict() for e in self.registry.history(name)],
            "stages": stages,
        }

    def lock(self, ref: str) -> dict[str, Any]:
        """A lock: its record, methods, parameters, training reference and warnings."""
        from normlock.render import lock_overview, step_text

        pulled = self.pulled(ref)
        overview = lock_overview(pulled.lock)
        texts = {f.name: step_text(f)[1] for f in _features(pulled.lock)}
        for feature in overview["features"]:
            feature["parameters"] = texts[feature["name"]]
        earlier = self.catalog.previous(pulled.version.name, pulled.version.version)
        return json_ready(
            {
                "version": pulled.version.to_dict(),
                "lock": overview,
                "previous": None if earlier is None else f"{pulled.version.name}@{earlier}",
                "spec": pulled.lock.spec,
            }
        )

    def diff(self, a: str | None, b: str | None) -> dict[str, Any]:
        """What changed from ``a`` to ``b`` (both ``NAME@REF``); empty until both are given."""
        if not a or not b:
            return {"a": a or "", "b": b or "", "changes": None}
        left, right = self.pulled(a), self.pulled(b)
        from normlock.diff import diff_locks

        found = diff_locks(left.lock, right.lock)
        return json_ready(
            {
                **found.to_dict(),
                "a": left.version.ref,
                "b": right.version.ref,
                "a_fingerprint": found.a_fingerprint,
                "b_fingerprint": found.b_fingerprint,
                "changes": [
                    {**change, "text": c.describe()}
                    for change, c in zip(found.to_dict()["changes"], found.changes, strict=True)
                ],
            }
        )

    def windows(self, name: str, stage: str, page: int, problems_only: bool) -> dict[str, Any]:
        """A page of ``name``'s windows at ``stage``, newest first."""
        total, found = self.catalog.windows(
            name,
            stage=stage,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            problems_only=problems_only,
        )
        if not total:
            self.registry.versions(name)  # an unknown name is a 404 with hints
        pages = max(1, math.ceil(total / PAGE_SIZE))
        if page > pages:
            raise InputError(f"page {page} is past the last page ({pages})")
        return {
            "name": name,
            "stage": stage,
            "problems_only": problems_only,
            "total": total,
            "page": page,
            "pages": pages,
            "windows": [w.to_dict() for w in found],
        }

    def feature(
        self,
        name: str,
        feature: str,
        stage: str,
        since: datetime | None,
        until: datetime | None,
        *,
        columns: bool = True,
    ) -> tuple[dict[str, Any], FeatureSeries]:
        """``feature``'s statistics and drift metrics per window (the arrays the charts
        draw, and as JSON-ready columns unless ``columns`` is false), with the training
        reference of the lock behind the latest window and the recent findings that name
        the feature."""
        from normlock.errors import ColumnNotFoundError

        known = self.catalog.features(name, stage=stage)
        if feature not in known:
            self.registry.versions(name)  # an unknown name is a 404 with hints
            raise ColumnNotFoundError.from_missing(
                [feature], known, where=f"the {stage} windows of {name}"
            )
        series = self.catalog.series(name, feature, stage=stage, start=since, end=until)
        reference = None
        versions = [v for v in series.versions if v is not None]
        if versions:
            lock = self.pulled(f"{name}@{versions[-1]}").lock
            if stage == "raw" and feature in lock.feature_names:
                found = lock.feature(feature).reference
                reference = {"version": versions[-1], "mean": found["mean"], "std": found["std"]}
        _, recent = self.catalog.windows(name, stage=stage, limit=PAGE_SIZE, problems_only=True)
        concerning = [
            {**w.to_dict(), "findings": [f for f in w.findings if feature in f["features"]]}
            for w in recent
        ]
        data = {
            "name": name,
            "feature": feature,
            "stage": stage,
            "since": None if since is None else since.isoformat(),
            "until": None if until is None else until.isoformat(),
            "windows": len(series),
            "reference": json_ready(reference),
            "series": series.to_dict() if columns else None,
            "findings": [w for w in concerning if w["findings"]],
        }
        return data, series


def _features(lock: Lock) -> list[Any]:
    return list(lock.features) + ([lock.target] if lock.target is not None else [])
