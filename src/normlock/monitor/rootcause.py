"""From per-feature verdicts to findings: pair swapped columns, report shared causes once.

When more than ``thresholds.root_cause_share`` of the features that could be judged point
at one cause (normalization skipped, one unit factor, ...), that cause becomes a single
root-cause finding listing them. Features whose own data could not tell that cause from
another join it, since the rest of the batch decides between them.
"""

from __future__ import annotations

import math
from collections import Counter

from normlock.monitor.conventions import LABELS
from normlock.monitor.diagnosis import Verdict, weight
from normlock.monitor.expected import Expected
from normlock.monitor.findings import KINDS, Finding
from normlock.monitor.hypotheses import GROUPABLE
from normlock.monitor.messages import missing_sentence, sentence, swap_message
from normlock.monitor.metrics import FeatureMetrics
from normlock.monitor.thresholds import Thresholds


def mutual_swaps(verdicts: dict[str, Verdict]) -> list[tuple[str, str]]:
    """Pairs of features each of which fits the other's training values.

    One column fitting another's distribution is weak evidence (similar features exist);
    two columns fitting each other's is a swap.
    """
    pairs = []
    names = list(verdicts)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if (
                f"swap {second}" in verdicts[first].causes
                and f"swap {first}" in verdicts[second].causes
            ):
                pairs.append((first, second))
    taken: set[str] = set()
    unique = []
    for first, second in pairs:
        if first not in taken and second not in taken:
            unique.append((first, second))
            taken.update((first, second))
    return unique


def shared_causes(verdicts: dict[str, Verdict], judged: int, share: float) -> list[str]:
    """Causes (labels) that more than ``share`` of the ``judged`` features point at.

    A feature counts for a cause when the cause is its verdict or one it cannot be told
    from; at least one feature must point at it unambiguously, and two features in all. A
    normalization convention (:mod:`~normlock.monitor.conventions`) was established over
    the batch already, so two features suffice for it.
    """
    counts = Counter(v.label for v in verdicts.values() if v.kind in GROUPABLE and not v.rivals)
    found = []
    for label, _ in counts.most_common():
        members = [n for n, v in verdicts.items() if label in v.causes]
        if len(members) >= 2 and (len(members) > share * judged or label in LABELS):
            found.append(label)
    return found


def _root_causes(
    verdicts: dict[str, Verdict],
    metrics: dict[str, FeatureMetrics],
    expected: dict[str, Expected],
    thresholds: Thresholds,
) -> list[Finding]:
    """Root-cause findings; the verdicts they cover are removed from ``verdicts``."""
    judged = sum(1 for m in metrics.values() if m.n >= thresholds.min_rows)
    findings = []
    for label in shared_causes(verdicts, judged, thresholds.root_cause_share):
        members = [n for n, v in verdicts.items() if label in v.causes]
        leaders = [n for n in members if verdicts[n].label == label and not verdicts[n].rivals]
        if not leaders:
            continue
        example = max(leaders, key=lambda n: verdicts[n].confidence)
        lead = verdicts[example]
        text = sentence(lead, metrics[example], expected[example])
        findings.append(
            Finding(
                kind=lead.kind,
                features=tuple(members),
                message=text.shared(example, len(members), len(metrics), members),
                confidence=sum(verdicts[n].confidence for n in leaders) / len(leaders),
                evidence={"cause": label, "features": {n: verdicts[n].evidence() for n in members}},
                root_cause=True,
            )
        )
        for name in members:
            del verdicts[name]
    return findings


def _drift_like(verdict: Verdict) -> bool:
    """Drift, or a cause that drift explains as well (drift is among its rivals)."""
    return verdict.kind == "drift" or "affine" in verdict.causes


def _population_drift(
    verdicts: dict[str, Verdict],
    metrics: dict[str, FeatureMetrics],
    expected: dict[str, Expected],
    thresholds: Thresholds,
) -> list[Finding]:
    """One drift finding when most features drifted; removes the verdicts it covers.

    Across a batch where most features drift, a cause that drift explains as well (a
    factor such as ×1.609 on a skewed feature) is reported as part of that drift.
    """
    judged = sum(1 for m in metrics.values() if m.n >= thresholds.min_rows)
    members = [n for n, v in verdicts.items() if _drift_like(v)]
    drifted = [n for n in members if verdicts[n].kind == "drift" and not verdicts[n].rivals]
    if len(members) < 2 or len(members) <= thresholds.root_cause_share * judged or not drifted:
        return []
    example = max(drifted, key=lambda n: abs(metrics[n].smd))
    text = sentence(verdicts[example], metrics[example], expected[example])
    finding = Finding(
        kind="drift",
        features=tuple(members),
        message=(
            f"the served population changed: {len(members)} of {len(metrics)} features drifted "
            f"({', '.join(members[:5])}{', …' if len(members) > 5 else ''}); e.g. {example}: "
            f"{text.evidence} — {text.advice}."
        ),
        confidence=sum(verdicts[n].confidence for n in drifted) / len(drifted),
        evidence={"cause": "drift", "features": {n: verdicts[n].evidence() for n in members}},
        root_cause=True,
    )
    for name in members:
        del verdicts[name]
    return [finding]


def _swaps(verdicts: dict[str, Verdict], pairs: list[tuple[str, str]]) -> list[Finding]:
    """Swapped-column findings; the verdicts they cover are removed from ``verdicts``."""
    findings = []
    for first, second in pairs:
        features = {n: verdicts.pop(n) for n in (first, second)}
        doubt = 1.0
        for name, other in ((first, second), (second, first)):
            verdict = features[name]
            alternative = min(
                (m for cause, _, m in verdict.closest if not cause.startswith("swap ")),
                default=math.inf,
            )
            doubt *= 1 - weight(alternative - verdict.misfit_of(f"swap {other}"))
        findings.append(
            Finding(
                "swapped_columns",
                (first, second),
                swap_message(first, second),
                1 - doubt,
                {"cause": "swap", "features": {n: v.evidence() for n, v in features.items()}},
            )
        )
    return findings


def assemble(
    verdicts: dict[str, Verdict],
    pairs: list[tuple[str, str]],
    missing: list[str],
    metrics: dict[str, FeatureMetrics],
    expected: dict[str, Expected],
    thresholds: Thresholds,
) -> list[Finding]:
    """Every finding of a report, root causes first, then by kind and lock order.

    Args:
        verdicts: diagnoses of the features whose distribution tests fired.
        pairs: swapped columns (see :func:`mutual_swaps`).
        missing: features whose missing-rate test fired.
        metrics: every feature's metrics.
        expected: every feature's expected distribution.
        thresholds: the settings.
    """
    remaining = dict(verdicts)
    findings = _swaps(remaining, pairs)  # the pairs exclude features of shared causes
    findings += _root_causes(remaining, metrics, expected, thresholds)
    findings += _population_drift(remaining, metrics, expected, thresholds)
    for name, verdict in remaining.items():
        text = sentence(verdict, metrics[name], expected[name])
        evidence = verdict.evidence()
        findings.append(
            Finding(verdict.kind, (name,), text.single(name), verdict.confidence, evidence)
        )
    for name in missing:
        m = metrics[name]
        test = next(t for t in m.tests if t.name == "missing")
        evidence = {
            "missing_rate": m.missing_rate,
            "training_missing_rate": m.training_missing_rate,
            "p_value": test.p_value,
            "adjusted_p_value": test.adjusted,
        }
        findings.append(
            Finding(
                "missing_surge",
                (name,),
                missing_sentence(m).single(name),
                1 - test.adjusted,
                evidence,
            )
        )
    order = {n: i for i, n in enumerate(metrics)}
    findings.sort(key=lambda f: (not f.root_cause, KINDS.index(f.kind), order[f.features[0]]))
    return findings
