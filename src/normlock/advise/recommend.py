"""A method for each column from its measurements, with the reason and what it rejected.

The rules, in order (the first that applies decides):

1. text, no finite value, or one value: ``passthrough``;
2. an ID (distinct whole numbers, densely spread, or a name that says so): ``passthrough``;
3. two values: ``minmax`` (they become exactly 0 and 1);
4. bounded (values pile at both ends, or fill a range evenly): ``minmax``;
5. several modes: ``quantile``;
6. skewed (skewness above 1 and Kelly's above 0.2): the simplest of ``log1p``, ``log``
   and ``yeo-johnson`` that makes it symmetric (measured), then ``standard``;
7. heavy tails or outliers: ``robust``;
8. otherwise ``standard``.

A target that looks like class labels gets no normalization.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from normlock.advise.measure import Measurements
from normlock.advise.targets import MAX_CLASSES

SKEWED, KELLY = 1.0, 0.2
SYMMETRIC = 0.5
HEAVY_TAILS, OUTLIERS = 1.3, 0.02
FLAT = -1.0
PILED = 0.01
MAX_ONE_HOT = 20
ID_NAME = re.compile(r"(^|[_\W])(id|uuid|key|index)($|[_\W])|[a-z]Id$", re.IGNORECASE)


@dataclass(frozen=True)
class Recommendation:
    """The advice for one column.

    Attributes:
        column: the column.
        kind: what it is (``continuous``, ``skewed``, ``bounded``, ``heavy-tailed``,
            ``multi-modal``, ``binary``, ``id``, ``constant``, ``empty``, ``text``,
            ``label``).
        entry: its spec entry (``"standard"``, ``["log1p", "standard"]``, ...).
        reason: why, in one sentence with the figures that decided.
        rejected: the alternatives considered, each with why not.
    """

    column: str
    kind: str
    entry: Any
    reason: str
    rejected: tuple[tuple[str, str], ...] = ()

    @property
    def method(self) -> str:
        """The entry as one short label (``log1p + standard``)."""
        if isinstance(self.entry, list):
            return " + ".join(str(e) for e in self.entry)
        return str(self.entry)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "entry": self.entry,
            "reason": self.reason,
            "rejected": [{"method": m, "why": w} for m, w in self.rejected],
        }


def _g(value: float) -> str:
    return f"{value:.3g}"


def id_like(m: Measurements) -> bool:
    """Whether a column reads as an identifier: distinct whole numbers spread about as
    densely as the rows (or a name that says ID and nearly all values distinct)."""
    if m.kind != "numeric" or not m.integer or m.count < 20:
        return False
    if m.distinct == m.count and m.max - m.min + 1 <= 3 * m.count:
        return True
    return bool(ID_NAME.search(m.name)) and m.distinct >= 0.9 * m.count


def label_like(m: Measurements) -> bool:
    """Whether a target reads as class labels: 2 to ``MAX_CLASSES`` whole numbers."""
    return m.kind == "numeric" and m.integer and 1 < m.distinct <= MAX_CLASSES


def recommend(m: Measurements, values: np.ndarray, *, target: bool = False) -> Recommendation:
    """The :class:`Recommendation` for a column with measurements ``m`` and ``values``."""
    if target and label_like(m):
        return Recommendation(
            m.name,
            "label",
            "passthrough",
            f"a classification target ({m.distinct} whole-number classes): labels need no "
            "normalization",
            (("standard", "would turn class labels into arbitrary real numbers"),),
        )
    found = _not_numeric(m)
    if found is not None:
        return found
    if id_like(m):
        return Recommendation(
            m.name,
            "id",
            "passthrough",
            f"an ID: {m.count:,} distinct whole numbers from {_g(m.min)} to {_g(m.max)}, about "
            "one per row; a model should not read it as a quantity",
            (("standard", "would make the ID's order a signal the model can overfit"),),
        )
    if m.distinct == 2:
        return Recommendation(
            m.name,
            "binary",
            "minmax",
            f"two values ({_g(m.min)} and {_g(m.max)}): min-max maps them to exactly 0 and 1",
            (("standard", "would give two arbitrary levels instead of 0 and 1"),),
        )
    for rule in (_bounded, _multimodal, _skewed, _heavy):
        found = rule(m, values)
        if found is not None:
            return found
    return Recommendation(
        m.name,
        "continuous",
        "standard",
        f"continuous and near-symmetric (skewness {m.skewness:.2f}, excess kurtosis "
        f"{m.kurtosis:.2f}, {m.outliers:.1%} outliers): a z-score",
        (
            ("minmax", "unbounded: a value beyond the training range leaves [0, 1]"),
            ("robust", f"no outliers to resist ({m.outliers:.1%} beyond the Tukey fences)"),
        ),
    )


def _not_numeric(m: Measurements) -> Recommendation | None:
    if m.kind == "text":
        encoding = "one-hot" if m.distinct <= MAX_ONE_HOT else "an embedding"
        return Recommendation(
            m.name,
            "text",
            "passthrough",
            f"text with {m.distinct:,} distinct values: encode it outside the lock ({encoding})",
            (("standard", "the values are not numbers"),),
        )
    if m.count == 0:
        return Recommendation(m.name, "empty", "passthrough", "no finite value to fit on")
    if m.distinct == 1:
        return Recommendation(
            m.name,
            "constant",
            "passthrough",
            f"constant ({_g(m.min)}): it carries no information; drop it",
            (("standard", "its std is 0: the output would be 0 everywhere"),),
        )
    return None


def _central_half(m: Measurements) -> str:
    """Where min-max would put the middle half of the values."""
    span = m.max - m.min
    return f"[{(m.q25 - m.min) / span:.2f}, {(m.q75 - m.min) / span:.2f}]"


def _bounded(m: Measurements, values: np.ndarray) -> Recommendation | None:
    piled = m.at_min >= PILED and m.at_max >= PILED
    flat = m.kurtosis < FLAT and m.modes == 1 and m.outliers == 0
    if not (piled or flat):
        return None
    if piled:
        reason = (
            f"bounded: {m.at_min:.0%} of the values sit at the minimum {_g(m.min)} and "
            f"{m.at_max:.0%} at the maximum {_g(m.max)} (hard limits), so min-max maps "
            "the range onto [0, 1] exactly"
        )
    else:
        reason = (
            f"bounded and flat (excess kurtosis {m.kurtosis:.2f}, a uniform's is -1.2): "
            f"min-max maps [{_g(m.min)}, {_g(m.max)}] onto [0, 1] without wasting any of it"
        )
    low, high = (m.min - m.mean) / m.std, (m.max - m.mean) / m.std
    return Recommendation(
        m.name,
        "bounded",
        "minmax",
        reason,
        (
            ("standard", f"the limits would land at {low:.2f} and {high:.2f}, not fixed values"),
            ("quantile", "discards the spacing of the values, which is meaningful here"),
        ),
    )


def _multimodal(m: Measurements, values: np.ndarray) -> Recommendation | None:
    if m.modes < 2:
        return None
    return Recommendation(
        m.name,
        "multi-modal",
        "quantile",
        f"multi-modal ({m.modes} modes): a quantile map spreads the modes evenly over [0, 1]",
        (
            ("standard", "keeps the empty gap between the modes in the middle of the scale"),
            ("minmax", f"the middle half of the values would land in {_central_half(m)}"),
        ),
    )


def _skewness(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    std = float(np.std(x))
    return float(np.mean(((x - x.mean()) / std) ** 3)) if std > 0 else 0.0


def _candidates(m: Measurements, values: np.ndarray) -> list[tuple[str, float]]:
    """Each transform that can take the column, with the skewness it leaves (measured)."""
    import scipy.stats

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    found = []
    with np.errstate(divide="ignore", invalid="ignore"):
        if m.min > -1:
            found.append(("log1p", _skewness(np.log1p(x))))
        if m.min > 0:
            found.append(("log", _skewness(np.log(x))))
        sample = x if x.size <= 20_000 else x[:: max(1, x.size // 20_000)]
        _, lmbda = scipy.stats.yeojohnson(sample)
        found.append(("yeo-johnson", _skewness(scipy.stats.yeojohnson(x, lmbda))))
    return found


def _skewed(m: Measurements, values: np.ndarray) -> Recommendation | None:
    if not (abs(m.skewness) > SKEWED and abs(m.kelly) > KELLY):
        return None
    found = _candidates(m, values)
    chosen = next(
        ((name, left) for name, left in found if abs(left) <= SYMMETRIC),
        min(found, key=lambda item: abs(item[1])),
    )
    name, left = chosen
    entry: Any = "yeo-johnson" if name == "yeo-johnson" else [name, "standard"]
    span = f" over {m.decades:.1f} decades" if m.decades >= 2 else ""
    then = "" if name == "yeo-johnson" else ", then standard centers and scales it"
    rejected = [
        ("standard", f"leaves the skewness at {m.skewness:.2f}: most values crowd on one side"),
        ("robust", f"keeps the skewness ({m.skewness:.2f}); only the center and scale change"),
    ]
    rejected += [(other, f"leaves skewness {s:.2f}") for other, s in found if other != name]
    return Recommendation(
        m.name,
        "skewed",
        entry,
        f"skewed (skewness {m.skewness:.2f}, Kelly {m.kelly:.2f}){span}: {name} brings the "
        f"skewness to {left:.2f}{then}",
        tuple(rejected),
    )


def _heavy(m: Measurements, values: np.ndarray) -> Recommendation | None:
    if not (m.tails > HEAVY_TAILS or m.outliers > OUTLIERS):
        return None
    robust_std = m.iqr / 1.3489795003921634 if m.iqr > 0 else math.nan
    ratio = m.std / robust_std if robust_std > 0 else math.inf
    return Recommendation(
        m.name,
        "heavy-tailed",
        "robust",
        f"heavy tails ({m.outliers:.1%} of the values beyond the Tukey fences, tail span "
        f"{m.tails:.2f}x a normal's): the median and IQR ignore them, the mean and std follow "
        "them",
        (
            ("standard", f"the outliers inflate the std to {ratio:.2f}x the IQR-based spread"),
            ("minmax", f"the extremes set the range: the middle half lands in {_central_half(m)}"),
        ),
    )
