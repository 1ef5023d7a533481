"""What the advisor measures about one column: range, shape, tails, kinds of values.

Every figure comes from the column's finite values (numpy, float64). Shape is read both
from moments (skewness, excess kurtosis) and from quantiles, which a single extreme value
cannot move: Kelly's skewness ``(q90 + q10 - 2 q50) / (q90 - q10)`` and a tail ratio, the
``q01..q99`` span over the interquartile range divided by the normal's (3.45), so 1 for a
normal column and above 1.3 for heavy tails.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

NORMAL_TAIL_SPAN = 2 * 2.3263478740408408 / 1.3489795003921634
"""``(q99 - q01) / (q75 - q25)`` of a normal distribution."""
MODE_BINS = 48
MODE_PROMINENCE = 0.25


@dataclass(frozen=True)
class Measurements:
    """One column, measured.

    Attributes:
        name: the column.
        kind: ``numeric`` or ``text`` (values that are not numbers).
        rows: all values.
        count: finite values.
        missing: NaN or null values.
        infinite: ±inf values.
        distinct: distinct finite values.
        integer: every finite value is a whole number.
        zeros: share of finite values equal to 0.
        negatives: share of finite values below 0.
        min, max, mean, std, q01, q10, q25, median, q75, q90, q99: the values' figures.
        decades: orders of magnitude from the smallest to the largest nonzero magnitude.
        skewness: the moment skewness.
        kurtosis: the excess kurtosis (0 for a normal column).
        kelly: Kelly's quantile skewness.
        tails: the tail ratio (1 for a normal column).
        outliers: share of values beyond the Tukey fences (1.5 IQR past the quartiles).
        at_min, at_max: shares of values equal to the minimum and to the maximum.
        modes: prominent modes of a smoothed histogram.
    """

    name: str
    kind: str
    rows: int
    count: int
    missing: int
    infinite: int
    distinct: int
    integer: bool
    zeros: float
    negatives: float
    min: float
    max: float
    mean: float
    std: float
    q01: float
    q10: float
    q25: float
    median: float
    q75: float
    q90: float
    q99: float
    decades: float
    skewness: float
    kurtosis: float
    kelly: float
    tails: float
    outliers: float
    at_min: float
    at_max: float
    modes: int

    @property
    def iqr(self) -> float:
        """The interquartile range."""
        return self.q75 - self.q25

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def measure(name: str, values: np.ndarray) -> Measurements:
    """The :class:`Measurements` of a column (text columns get counts only)."""
    raw = np.asarray(values)
    if raw.dtype.kind not in "fiub":
        return _text(name, raw)
    x = raw.astype(np.float64)
    finite = x[np.isfinite(x)]
    missing, infinite = int(np.isnan(x).sum()), int(np.isinf(x).sum())
    if finite.size == 0:
        return _empty(name, "numeric", x.size, missing, infinite)
    q = np.quantile(finite, [0.01, 0.10, 0.25, 0.5, 0.75, 0.90, 0.99])
    low, high = float(finite.min()), float(finite.max())
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(np.mean(finite)), float(np.std(finite))
        centered = (finite - mean) / std if std > 0 else np.zeros_like(finite)
        skewness = float(np.mean(centered**3)) if std > 0 else 0.0
        kurtosis = float(np.mean(centered**4) - 3.0) if std > 0 else 0.0
    spread, iqr = q[5] - q[1], q[4] - q[2]
    fences = (q[2] - 1.5 * iqr, q[4] + 1.5 * iqr)
    magnitudes = np.abs(finite[finite != 0])
    decades = math.log10(magnitudes.max() / magnitudes.min()) if magnitudes.size else 0.0
    return Measurements(
        name=name,
        kind="numeric",
        rows=int(x.size),
        count=int(finite.size),
        missing=missing,
        infinite=infinite,
        distinct=int(np.unique(finite).size),
        integer=bool(np.all(finite == np.round(finite))),
        zeros=float(np.mean(finite == 0)),
        negatives=float(np.mean(finite < 0)),
        min=low,
        max=high,
        mean=mean,
        std=std,
        q01=float(q[0]),
        q10=float(q[1]),
        q25=float(q[2]),
        median=float(q[3]),
        q75=float(q[4]),
        q90=float(q[5]),
        q99=float(q[6]),
        decades=float(decades),
        skewness=skewness,
        kurtosis=kurtosis,
        kelly=float((q[5] + q[1] - 2 * q[3]) / spread) if spread > 0 else 0.0,
        tails=float((q[6] - q[0]) / iqr / NORMAL_TAIL_SPAN) if iqr > 0 else math.inf,
        outliers=float(np.mean((finite < fences[0]) | (finite > fences[1]))),
        at_min=float(np.mean(finite == low)),
        at_max=float(np.mean(finite == high)),
        modes=count_modes(finite),
    )


def count_modes(values: np.ndarray) -> int:
    """Prominent modes of the values' smoothed histogram: peaks whose prominence (height
    above the higher of the lowest points on each side before a higher peak) is at least
    ``MODE_PROMINENCE`` of the highest, so noise on a flat or one-peaked histogram counts
    as one mode. Whole numbers of few distinct values get one bin each."""
    low, high = np.quantile(values, [0.005, 0.995])
    if not high > low:
        return 1
    if np.all(values == np.round(values)) and high - low < MODE_BINS:
        counts = np.bincount((values[(values >= low) & (values <= high)] - low).astype(int))
        kernel = np.array([1.0, 2.0, 1.0]) / 4.0
    else:
        bins = int(min(MODE_BINS, max(10, math.sqrt(values.size))))
        counts, _ = np.histogram(values, bins=bins, range=(low, high))
        kernel = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    pad = len(kernel) // 2
    density = np.convolve(np.pad(counts.astype(float), pad, mode="edge"), kernel, mode="valid")
    tall = MODE_PROMINENCE * density.max()
    return max(1, sum(1 for i in _peaks(density) if _prominence(density, i) >= tall))


def _peaks(density: np.ndarray) -> list[int]:
    """Local maxima (a plateau at its first bin)."""
    found = []
    for i in range(len(density)):
        rises = i == 0 or density[i] > density[i - 1]
        falls = i + 1 == len(density) or density[i] >= density[i + 1]
        if rises and falls:
            found.append(i)
    return found


def _prominence(density: np.ndarray, i: int) -> float:
    left = next((j for j in range(i - 1, -1, -1) if density[j] > density[i]), None)
    right = next((j for j in range(i + 1, len(density)) if density[j] > density[i]), None)
    # an end bin's outer side counts as zero: a peak there is a mode at the range's end
    floor_left = 0.0 if i == 0 else density[left if left is not None else 0 : i + 1].min()
    last = len(density) - 1
    floor_right = (
        0.0 if i == last else density[i : (right if right is not None else last) + 1].min()
    )
    return float(density[i] - max(floor_left, floor_right))


def _text(name: str, raw: np.ndarray) -> Measurements:
    present = np.array([v is not None and v == v for v in raw.tolist()], dtype=bool)
    empty = _empty(name, "text", raw.size, int((~present).sum()), 0)
    distinct = len({str(v) for v in raw[present].tolist()})
    return Measurements(**{**asdict(empty), "distinct": distinct, "count": int(present.sum())})


def _empty(name: str, kind: str, rows: int, missing: int, infinite: int) -> Measurements:
    nan = math.nan
    return Measurements(
        name, kind, rows, 0, missing, infinite, 0, False, 0.0, 0.0, nan, nan, nan, nan,
        nan, nan, nan, nan, nan, nan, nan, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0,
    )  # fmt: skip
