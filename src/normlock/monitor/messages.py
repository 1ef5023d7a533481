"""Plain sentences: one per finding, naming the feature(s), the evidence and the remedy.

A sentence has three parts: a headline (what the data looks like), the evidence in
parentheses (numbers a user can check) and, after a dash, what to do. Root causes use the
same parts with a headline that counts the features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from normlock.monitor.conventions import LABELS, convention_of
from normlock.monitor.diagnosis import Verdict
from normlock.monitor.expected import Expected
from normlock.monitor.metrics import FeatureMetrics

METHOD_WORDS = {
    "standard": "standardized",
    "minmax": "min-max scaled",
    "maxabs": "max-abs scaled",
    "robust": "robust-scaled",
    "quantile": "quantile-transformed",
    "yeo-johnson": "power-transformed",
    "box-cox": "power-transformed",
}

CAUSE_PHRASES = {
    "identity": "ordinary drift",
    "affine": "ordinary drift (a shift or rescaling)",
    "normalized twice": "normalized twice",
    "normalization skipped": "normalization skipped",
    "other parameters": "other scaler parameters",
}


def number(value: float) -> str:
    """A number for people: ``52 340``, ``94.5``, ``1.00``, ``0.00108``."""
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    size = abs(value)
    if size < 1e-12:
        return "0.00"
    if size >= 1e12:
        return f"{value:.3g}"
    if size >= 1000:
        rounded = float(f"{value:.4g}")
        return f"{rounded:,.0f}".replace(",", " ")
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.01 or value == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def percent(rate: float) -> str:
    """A rate as a percentage: ``23.0%``, ``0.5%``, ``0.02%``."""
    if not math.isfinite(rate):
        return "n/a"
    shown = rate * 100
    return f"{shown:.1f}%" if shown >= 0.1 or shown == 0 else f"{shown:.2g}%"


def method_word(method: str) -> str:
    """``standard`` -> ``standardized``."""
    return METHOD_WORDS.get(method, "normalized")


def cause_phrase(label: str) -> str:
    """A cause label as words (``swap bp`` -> ``the values of bp``)."""
    if label.startswith("swap "):
        return f"the values of {label[5:]}"
    if label.startswith("method "):
        return method_word(label[7:]) + " data"
    if label.startswith("step "):
        return f"a skipped {label[5:]} step"
    if label.startswith(("unit ", "offset ")):
        return "values " + label.split(" ", 1)[1]
    return CAUSE_PHRASES.get(label, label)


@dataclass(frozen=True)
class Sentence:
    """The parts of a finding's message.

    Attributes:
        headline: what the data looks like, about one feature.
        evidence: numbers, shown in parentheses.
        advice: what to do.
        group: the headline for many features sharing the cause, with ``{count}`` and
            ``{total}`` placeholders.
    """

    headline: str
    evidence: str
    advice: str
    group: str = ""

    def single(self, feature: str) -> str:
        """``feature: headline (evidence) — advice.``"""
        evidence = f" ({self.evidence})" if self.evidence else ""
        return f"{feature}: {self.headline}{evidence} — {self.advice}."

    def shared(self, feature: str, count: int, total: int, names: list[str]) -> str:
        """The root-cause sentence, with ``feature`` as the example."""
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        head = self.group.format(count=count, total=total)
        return f"{head} ({shown}); e.g. {feature}: {self.evidence} — {self.advice}."


def _moments(metrics: FeatureMetrics) -> str:
    return f"mean {number(metrics.mean)}, std {number(metrics.std)}"


def _expects(metrics: FeatureMetrics) -> str:
    return (
        f"where the model expects mean {number(metrics.training_mean)}, "
        f"std {number(metrics.training_std)}"
    )


def _chain(steps: list[str]) -> str:
    return " -> ".join(steps) or "nothing"


def sentence(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    """The sentence for one feature's verdict."""
    if verdict.rivals:
        return _cannot_tell(verdict, metrics)
    build = _BUILDERS[verdict.kind]
    return build(verdict, metrics, expected)


def _cannot_tell(verdict: Verdict, metrics: FeatureMetrics) -> Sentence:
    first = cause_phrase(verdict.label)
    if "conversion" in verdict.detail:
        first += f" ({verdict.detail['conversion'].likely})"
    causes = [first] + [cause_phrase(r[0]) for r in verdict.rivals[:3]]
    evidence = f"{_moments(metrics)}; training mean {number(metrics.training_mean)}, " + (
        f"std {number(metrics.training_std)}"
    )
    return Sentence(
        f"cannot tell whether this is {' or '.join(causes)}: each fits the {metrics.n:,} "
        "served values",
        evidence,
        "collect more rows, or check the pipeline for each of these",
    )


def _convention(verdict: Verdict, expected: Expected) -> Sentence:
    """Values normalized by another convention before the lock."""
    convention = convention_of(verdict.detail["convention"])
    seen = verdict.detail["lock_inputs"]
    training = expected.feature.reference
    if convention.key == "l2":
        total = round(seen["square_sum"])
        batches = f": {total} batches of unit norm each" if total > 1 else ""
        largest = max(abs(seen["min"]), abs(seen["max"]))
        shown = f"Σx² {number(seen['square_sum'])}{batches}, largest |x| {number(largest)}"
    elif convention.key == "standard":
        shown = f"mean {number(seen['mean'])}, std {number(seen['std'])}"
    else:
        shown = f"range {number(seen['min'])} to {number(seen['max'])}"
    evidence = (
        f"{shown}; training mean {number(training['mean'])}, std {number(training['std'])}, "
        f"range {number(training['min'])} to {number(training['max'])}"
    )
    where = "" if expected.stage == "raw" else " before the lock"
    return Sentence(
        f"values arrive already normalized by another convention{where}: {convention.single}",
        evidence,
        "the pipeline normalizes them twice; undo that scaling and feed the lock raw values",
        f"{{count}} of {{total}} features arrive already normalized by another convention"
        f"{where}: {convention.batch}",
    )


def _double(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    if verdict.label in LABELS:
        return _convention(verdict, expected)
    last = expected.feature.steps[-1].method if expected.feature.steps else ""
    if expected.stage == "raw":
        if last == "minmax":
            evidence = (
                f"range {number(metrics.min)} to {number(metrics.max)}; training range "
                f"{number(metrics.training_min)} to {number(metrics.training_max)}"
            )
        else:
            evidence = (
                f"{_moments(metrics)}; training mean {number(metrics.training_mean)}, "
                f"std {number(metrics.training_std)}"
            )
        return Sentence(
            f"values look already {method_word(last)}",
            evidence,
            "the pipeline will normalize them twice",
            "the whole batch looks already normalized: {count} of {total} features match the "
            "lock's output",
        )
    return Sentence(
        "model inputs look normalized twice",
        f"{_moments(metrics)} {_expects(metrics)}",
        "the values were normalized before the lock; feed the lock raw values",
        "the whole batch was normalized twice: {count} of {total} features",
    )


def _skipped(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    return Sentence(
        "model inputs are raw values",
        f"{_moments(metrics)} {_expects(metrics)}",
        "the normalization step was skipped; apply the lock before the model",
        "normalization was skipped for the whole batch: {count} of {total} features reach the "
        "model as raw values",
    )


def _conversion(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    conversion = verdict.detail["conversion"]
    advice = f"likely {conversion.likely}; convert with {conversion.undo}"
    verb = "scaled" if conversion.offset == 0 else "converted"
    relation = f"{verb} {conversion.name}"
    if expected.stage == "raw":
        return Sentence(
            f"values look {relation}",
            f"median {number(metrics.median)} vs training {number(metrics.training_median)}",
            advice,
            f"{{count}} of {{total}} features look {relation}",
        )
    return Sentence(
        f"model inputs match raw values {relation}",
        f"{_moments(metrics)} {_expects(metrics)}",
        advice + " before the lock",
        f"{{count}} of {{total}} features reach the lock {relation}",
    )


def _wrong_method(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    locked = expected.feature.steps[-1].method
    word = method_word(verdict.detail["method"])
    return Sentence(
        f"model inputs look {word} where the lock uses {locked}",
        f"{_moments(metrics)}, range {number(metrics.min)} to {number(metrics.max)}",
        "apply the lock instead of a re-implemented scaler",
        f"{{count}} of {{total}} features look {word} where the lock uses {locked}",
    )


def _missing_step(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    steps = [s.method for s in expected.feature.steps]
    step, position = verdict.detail["step"], verdict.detail["position"]
    kept = steps[: position - 1] + steps[position:]
    return Sentence(
        f"the {step} step looks skipped: model inputs match {_chain(kept)} instead of "
        f"{_chain(steps)}",
        f"{_moments(metrics)} {_expects(metrics)}",
        "apply the whole chain (the lock) before the model",
        f"the {step} step was skipped for {{count}} of {{total}} features",
    )


def _wrong_parameters(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    implied = verdict.detail["implied"]
    locked = expected.feature.steps[-1].params
    pairs = [(k, v, locked.get(k, math.nan)) for k, v in implied.items()]
    shown = ", ".join(f"{k} {number(v)}" for k, v, _ in pairs)
    was = ", ".join(f"{k} {number(o)}" for k, _, o in pairs)
    return Sentence(
        "model inputs look normalized with other parameters",
        f"implied {shown}; locked {was}",
        "the serving side computes its own statistics (or the raw data moved); apply the lock",
    )


def _stuck(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    detail = verdict.detail
    return Sentence(
        f"{percent(detail['share'])} of served values equal {number(detail['value'])}",
        f"training: {percent(detail['training_share'])} had that value",
        "the feature looks stuck; check for a default or fill value upstream",
    )


def missing_sentence(metrics: FeatureMetrics) -> Sentence:
    """The sentence for a missing-value surge."""
    return Sentence(
        f"{percent(metrics.missing_rate)} of served values are missing",
        f"training {percent(metrics.training_missing_rate)}",
        "check the upstream source or join that fills this feature",
    )


def _drift(verdict: Verdict, metrics: FeatureMetrics, expected: Expected) -> Sentence:
    if verdict.label == "too few rows":
        return Sentence(
            f"{percent(metrics.out_of_range_rate)} of values fall outside the training range",
            f"{metrics.n} finite values",
            "too few rows to name a cause; collect more",
        )
    if verdict.label == "identity" and metrics.out_of_range_rate > 0:
        return Sentence(
            f"{percent(metrics.out_of_range_rate)} of values fall outside the training range "
            "while the bulk still matches training",
            f"training range {number(metrics.training_min)} to {number(metrics.training_max)}, "
            f"served {number(metrics.min)} to {number(metrics.max)}",
            "check the source of the extreme values, or refit the lock if they are the new normal",
        )
    parts = [f"shift {metrics.smd:+.2f} training SDs"]
    if math.isfinite(metrics.sd_ratio):
        parts.append(f"spread ×{metrics.sd_ratio:.2f}")
    if math.isfinite(metrics.psi):
        parts.append(f"PSI {metrics.psi:.2f}")
    if metrics.out_of_range_rate > 0:
        parts.append(f"{percent(metrics.out_of_range_rate)} outside the training range")
    if verdict.label == "affine":
        a, b = verdict.detail["a"], verdict.detail["b"]
        parts.append(f"served ≈ {a:.3g} × training {'+' if b >= 0 else '-'} {number(abs(b))}")
    shape = "shifted or rescaled" if verdict.label == "affine" else "changed"
    return Sentence(
        f"the distribution {shape}",
        ", ".join(parts),
        "investigate the source, or refit the lock if this is the new normal",
    )


_BUILDERS = {
    "double_normalization": _double,
    "skipped_normalization": _skipped,
    "unit_change": _conversion,
    "offset_change": _conversion,
    "wrong_method": _wrong_method,
    "missing_step": _missing_step,
    "wrong_parameters": _wrong_parameters,
    "stuck_feature": _stuck,
    "drift": _drift,
}


def swap_message(first: str, second: str) -> str:
    """The sentence for swapped columns."""
    return (
        f"{first} and {second} look swapped: served {first} matches training {second} and "
        f"served {second} matches training {first} — check the column order or mapping."
    )


def ok_message(features: int, rows: int) -> str:
    """The sentence when all is well."""
    return f"all {features} features match the training reference ({rows:,} rows)."
