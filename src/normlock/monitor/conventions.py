"""Served data already normalized by another convention, read off the batch's summaries.

A pipeline that normalizes before the lock with some other scaler gives every feature one
common scale, whatever its units: each column of unit L2 norm, every value in [0, 1] or in
[-1, 1], or mean ≈ 0 and std ≈ 1. Per feature that is just a shift and a rescaling (drift,
or a unit factor); across the batch it is a *signature*, read from each feature's count,
extremes, mean and standard deviation:

* ``l2``: every |x| < 1 and Σx² a whole number k ≥ 1 (one per batch scaled to unit norm),
  within :data:`L2_TOLERANCE` of it;
* ``minmax01`` / ``minmax11``: every value within [0, 1] / [-1, 1], give or take
  :data:`RANGE_SLACK` of the width (a scaler fitted on other data), covering at least
  :data:`RANGE_COVER` of it ([-1, 1] also needs values below the slack under 0);
* ``standard``: mean within :data:`STANDARD_MEAN` of 0 and std within :data:`STANDARD_STD`.

A batch carries a convention when at least two features, and more than
``root_cause_share`` of the judged features whose *training* data lacks that signature, carry
it. A feature whose training data already has the signature abstains: a training column in
[0, 1] counts neither for nor against [0, 1], nor does one in [-1, 1] with negative values
for [-1, 1] (a column never negative in training cannot be served raw down to -1).
Conventions are tried most specific first. At the ``normalized`` stage the signature is read
on the lock's inputs, recovered through an affine chain (features with other chains abstain).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from normlock.monitor.diagnosis import Verdict
from normlock.monitor.expected import Expected, affine_of
from normlock.stats import Summary

RANGE_SLACK = 0.05
"""Share of a range's width by which values may pass its ends (a scaler fitted elsewhere)."""

RANGE_COVER = 0.5
"""Least share of the range's width the values must cover."""

STANDARD_MEAN = 0.5
"""Largest |mean| of standardized values."""

STANDARD_STD = (2 / 3, 1.5)
"""Smallest and largest std of standardized values."""

L2_TOLERANCE = 1e-6
"""Relative distance of Σx² from a whole number (float32 rounding included)."""

TWICE = "normalized twice"
"""Label of the per-feature cause "served values match the lock's own output"."""


@dataclass(frozen=True)
class Spread:
    """What a signature reads of one feature's finite values.

    Attributes:
        count: finite values.
        min: smallest value.
        max: largest value.
        mean: their mean.
        std: their standard deviation (ddof 0).
    """

    count: int
    min: float
    max: float
    mean: float
    std: float

    @classmethod
    def of_summary(cls, summary: Summary) -> Spread:
        """The spread of a served summary."""
        return cls(summary.count, summary.min, summary.max, summary.mean, summary.std(0))

    @classmethod
    def of_reference(cls, reference: dict[str, Any]) -> Spread:
        """The spread of a feature's training reference."""
        return cls(
            int(reference["count"]),
            float(reference["min"]),
            float(reference["max"]),
            float(reference["mean"]),
            float(reference["std"]),
        )

    @property
    def square_sum(self) -> float:
        """Σx² of the values."""
        return self.count * (self.std**2 + self.mean**2)

    def before(self, a: float, b: float) -> Spread:
        """The spread of ``x`` when this is the spread of ``a * x + b`` (``a != 0``)."""
        ends = sorted(((self.min - b) / a, (self.max - b) / a))
        return Spread(self.count, ends[0], ends[1], (self.mean - b) / a, self.std / abs(a))

    def to_dict(self) -> dict[str, float]:
        """JSON-ready evidence."""
        return {
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
            "square_sum": self.square_sum,
        }


def _unit_norm(spread: Spread) -> bool:
    total = spread.square_sum
    whole = round(total) if math.isfinite(total) else 0
    largest = max(abs(spread.min), abs(spread.max))
    return (
        spread.count >= 2
        and largest < 1
        and whole >= 1
        and abs(total - whole) <= L2_TOLERANCE * whole
    )


def _in_range(low: float, high: float, negative: bool = False) -> Callable[[Spread], bool]:
    slack = RANGE_SLACK * (high - low)

    def test(spread: Spread) -> bool:
        inside = low - slack <= spread.min and spread.max <= high + slack
        return inside and (spread.min < -slack or not negative)

    return test


def _covering(low: float, high: float, negative: bool = False) -> Callable[[Spread], bool]:
    inside = _in_range(low, high, negative)
    return lambda spread: inside(spread) and spread.max - spread.min >= RANGE_COVER * (high - low)


def _standardized(spread: Spread) -> bool:
    low, high = STANDARD_STD
    return abs(spread.mean) <= STANDARD_MEAN and low <= spread.std <= high


@dataclass(frozen=True)
class Convention:
    """One normalization convention and its signature.

    Attributes:
        key: ``l2``, ``minmax01``, ``minmax11`` or ``standard``.
        label: the cause label its features share.
        batch: the common scale, said of every feature.
        single: the common scale, said of one feature.
        served: whether served values carry the signature.
        trained: whether training values already carry it (then the feature abstains).
    """

    key: str
    label: str
    batch: str
    single: str
    served: Callable[[Spread], bool]
    trained: Callable[[Spread], bool]


CONVENTIONS = (
    Convention(
        "l2",
        "already of unit L2 norm",
        "columns have unit L2 norm, each value ≈ x/‖x‖",
        "the column has unit L2 norm, each value ≈ x/‖x‖",
        _unit_norm,
        _unit_norm,
    ),
    Convention(
        "minmax01",
        "already min-max scaled to [0, 1]",
        "every feature lies in [0, 1], min-max to [0, 1]",
        "values lie in [0, 1], min-max to [0, 1]",
        _covering(0.0, 1.0),
        _in_range(0.0, 1.0),
    ),
    Convention(
        "minmax11",
        "already min-max scaled to [-1, 1]",
        "every feature lies in [-1, 1], min-max to [-1, 1]",
        "values lie in [-1, 1], min-max to [-1, 1]",
        _covering(-1.0, 1.0, negative=True),
        _in_range(-1.0, 1.0, negative=True),
    ),
    Convention(
        "standard",
        "already standardized elsewhere",
        "mean ≈ 0 and std ≈ 1 but not the lock's parameters, a StandardScaler fitted on other data",
        "mean ≈ 0 and std ≈ 1 but not the lock's parameters, a StandardScaler fitted on other data",
        _standardized,
        _standardized,
    ),
)
"""Every convention, most specific first."""

LABELS = frozenset(c.label for c in CONVENTIONS)
"""Cause labels established over the whole batch (they need no further share)."""


def convention_of(key: str) -> Convention:
    """The convention with ``key``."""
    return next(c for c in CONVENTIONS if c.key == key)


def lock_inputs(expected: Expected, summary: Summary) -> Spread | None:
    """The spread of the values that reached the lock (None when it cannot be recovered:
    no finite value, or a non-affine chain at the ``normalized`` stage)."""
    if summary.count == 0:
        return None
    spread = Spread.of_summary(summary)
    if expected.stage == "raw":
        return spread
    a, b = 1.0, 0.0
    for step in expected.feature.steps:
        affine = affine_of(step)
        if affine is None:
            return None
        a, b = affine[0] * a, affine[0] * b + affine[1]
    return spread.before(a, b) if a != 0 and math.isfinite(a) else None


@dataclass(frozen=True)
class Carried:
    """A convention a batch carries.

    Attributes:
        convention: the convention.
        features: the features carrying it.
        eligible: how many judged features' training data lacks its signature.
    """

    convention: Convention
    features: tuple[str, ...]
    eligible: int


def detect(
    spreads: dict[str, Spread], expected: dict[str, Expected], share: float
) -> Carried | None:
    """The convention the batch carries, if any.

    Args:
        spreads: the lock inputs' spread of each judged feature.
        expected: every feature's expected distribution.
        share: the share of eligible features that must carry it.
    """
    for convention in CONVENTIONS:
        eligible = [
            n
            for n in spreads
            if not convention.trained(Spread.of_reference(expected[n].feature.reference))
        ]
        carrying = [n for n in eligible if convention.served(spreads[n])]
        if len(carrying) >= 2 and len(carrying) > share * len(eligible):
            return Carried(convention, tuple(carrying), len(eligible))
    return None


def relabel(
    verdicts: dict[str, Verdict],
    spreads: dict[str, Spread],
    expected: dict[str, Expected],
    share: float,
) -> None:
    """Give the flagged features of a batch that carries a convention its verdict.

    When most of them match the lock's own output ("normalized twice"), the rest join that
    cause, with the least confidence among those matching; otherwise all of them get the
    convention's label, with the share of eligible features carrying it as confidence.
    ``verdicts`` changes in place.
    """
    carried = detect(spreads, expected, share)
    if carried is None:
        return
    convention = carried.convention
    members = [n for n in carried.features if n in verdicts]
    twice = [n for n in members if verdicts[n].label == TWICE and not verdicts[n].rivals]
    if 2 * len(twice) > len(members):
        label, confidence = TWICE, min(verdicts[n].confidence for n in twice)
    else:
        label, confidence = convention.label, len(carried.features) / carried.eligible
    for name in members:
        if verdicts[name].label == label and not verdicts[name].rivals:
            continue
        detail = {"convention": convention.key, "lock_inputs": spreads[name].to_dict()}
        verdicts[name] = Verdict(name, "double_normalization", label, confidence, detail=detail)
