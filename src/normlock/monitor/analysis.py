"""The drift report of a profile: metrics, FDR-controlled alarms, diagnosis, findings."""

from __future__ import annotations

from dataclasses import replace

from normlock.errors import InputError
from normlock.lock import Lock
from normlock.monitor.conventions import lock_inputs, relabel
from normlock.monitor.diagnosis import Verdict, diagnose
from normlock.monitor.expected import Expected, expected_for
from normlock.monitor.findings import DriftReport, Finding
from normlock.monitor.messages import ok_message
from normlock.monitor.metrics import FeatureMetrics, Served, measure
from normlock.monitor.rootcause import assemble, mutual_swaps, shared_causes
from normlock.monitor.thresholds import Thresholds, benjamini_hochberg
from normlock.profile import Profile


def _adjust(metrics: dict[str, FeatureMetrics]) -> dict[str, FeatureMetrics]:
    """Every test's Benjamini-Hochberg adjusted p-value, across all features."""
    adjusted = benjamini_hochberg([t.p_value for m in metrics.values() for t in m.tests])
    out, start = {}, 0
    for name, m in metrics.items():
        out[name] = m.with_adjusted(adjusted[start : start + len(m.tests)])
        start += len(m.tests)
    return out


def _swaps(
    verdicts: dict[str, Verdict],
    expected: dict[str, Expected],
    served: dict[str, Served | None],
    metrics: dict[str, FeatureMetrics],
    settings: Thresholds,
) -> list[tuple[str, str]]:
    """Swapped column pairs among the flagged features no shared cause explains; their
    verdicts in ``verdicts`` become the swap verdicts."""
    judged = sum(1 for m in metrics.values() if m.n >= settings.min_rows)
    shared = set(shared_causes(verdicts, judged, settings.root_cause_share))
    free = [n for n, v in verdicts.items() if not v.causes & shared and expected[n].count]
    swapped = {
        name: diagnose(expected[name], served[name], {g: expected[g] for g in free if g != name})
        for name in free
    }
    pairs = mutual_swaps(swapped)
    for pair in pairs:
        for name in pair:
            verdicts[name] = swapped[name]
    return pairs


def build_report(lock: Lock, profile: Profile, thresholds: Thresholds | None = None) -> DriftReport:
    """Compare ``profile`` with ``lock``'s reference and explain what differs.

    Raises:
        InputError: the profile belongs to another lock.
    """
    settings = thresholds or Thresholds()
    if profile.fingerprint != lock.fingerprint:
        raise InputError(
            f"the profile was recorded for lock {profile.fingerprint[:12]}, not for this lock "
            f"({lock.fingerprint[:12]}); monitor it with the lock it was recorded for"
        )
    expected = expected_for(lock, profile.stage)
    raw_metrics: dict[str, FeatureMetrics] = {}
    served: dict[str, Served | None] = {}
    for name, reference in expected.items():
        outside = profile.below[name] + profile.above[name]
        raw_metrics[name], served[name] = measure(
            reference,
            profile.features[name],
            outside,
            profile.buckets[name],
            profile.edges[name],
            settings,
        )
    metrics = _adjust(raw_metrics)
    firing = {name: {t.name for t in m.firing(settings.fdr)} for name, m in metrics.items()}
    missing = [name for name, tests in firing.items() if "missing" in tests]
    shifted = [name for name, tests in firing.items() if tests - {"missing"}]
    verdicts = {name: diagnose(expected[name], served[name]) for name in shifted}
    judged = [name for name, m in metrics.items() if m.n >= settings.min_rows]
    spreads = {n: lock_inputs(expected[n], profile.features[n]) for n in judged}
    known = {n: s for n, s in spreads.items() if s is not None}
    relabel(verdicts, known, expected, settings.root_cause_share)
    pairs = _swaps(verdicts, expected, served, metrics, settings)
    findings = assemble(verdicts, pairs, missing, metrics, expected, settings)
    if not findings:
        findings = [
            Finding("ok", tuple(metrics), ok_message(len(metrics), profile.rows), 1 - settings.fdr)
        ]
    findings = [
        replace(f, metrics={n: metrics[n].headline() for n in f.features}) for f in findings
    ]
    return DriftReport(
        fingerprint=lock.fingerprint,
        stage=profile.stage,
        rows=profile.rows,
        findings=tuple(findings),
        metrics=metrics,
        thresholds=settings,
    )
