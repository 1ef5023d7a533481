"""What casting values to a narrow float type does to them: float16, bfloat16, float32.

:func:`cast` rounds float64 values to the nearest value of a format (ties to even, overflow
to infinity, gradual underflow), exactly, in float64: it gives numpy's ``astype`` for
float16 and float32 and the IEEE rounding for bfloat16, which numpy lacks.
:func:`risks` counts, among a column's finite values, those that overflow, underflow to
zero, become subnormal, or collide with a different value when cast, and compares the
format's spacing at the column's typical magnitude with its spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Format:
    """A binary floating-point format.

    Attributes:
        name: its name.
        precision: significand bits, the implicit one included.
        min_exponent: the exponent of the smallest normal value (``2**min_exponent``).
        max_value: the largest finite value.
    """

    name: str
    precision: int
    min_exponent: int
    max_value: float

    @property
    def tiny(self) -> float:
        """The smallest normal value."""
        return float(2.0**self.min_exponent)

    def spacing(self, magnitude: float) -> float:
        """The gap between neighbouring values of the format at ``magnitude``."""
        _, exponent = np.frexp(abs(magnitude))
        return float(
            2.0 ** max(int(exponent) - self.precision, self.min_exponent + 1 - self.precision)
        )


FORMATS = {
    "float16": Format("float16", 11, -14, 65504.0),
    "bfloat16": Format("bfloat16", 8, -126, float((2 - 2.0**-7) * 2.0**127)),
    "float32": Format("float32", 24, -126, float(np.finfo(np.float32).max)),
}
"""The narrow formats a model runs in, by name."""


def cast(values: np.ndarray, fmt: Format) -> np.ndarray:
    """``values`` (float64) rounded to the nearest value of ``fmt``, as float64."""
    x = np.asarray(values, dtype=np.float64)
    _, exponent = np.frexp(x)  # |x| in [2**(e-1), 2**e)
    step = np.maximum(exponent - fmt.precision, fmt.min_exponent + 1 - fmt.precision)
    with np.errstate(invalid="ignore"):
        rounded = np.ldexp(np.rint(np.ldexp(x, -step)), step)  # exact scalings
        return np.where(np.abs(rounded) > fmt.max_value, np.copysign(np.inf, x), rounded)


@dataclass(frozen=True)
class Risk:
    """What casting a column's finite values to a format does to them (shares of them).

    Attributes:
        format: the format's name.
        overflow: values that become infinite.
        underflow: nonzero values that become zero.
        subnormal: values that become subnormal (fewer significant bits).
        collisions: values that become equal to the cast of a different value.
        spacing: the format's spacing at the median magnitude, divided by the standard
            deviation (near or above 1: the format cannot tell typical values apart).
    """

    format: str
    overflow: float
    underflow: float
    subnormal: float
    collisions: float
    spacing: float

    @property
    def worst(self) -> float:
        """The largest share of values harmed in any way."""
        return max(self.overflow, self.underflow, self.subnormal, self.collisions)

    def to_dict(self) -> dict[str, float | str]:
        """JSON-ready form."""
        return {
            "format": self.format,
            "overflow": self.overflow,
            "underflow": self.underflow,
            "subnormal": self.subnormal,
            "collisions": self.collisions,
            "spacing": self.spacing,
        }


def risks(values: np.ndarray, fmt: Format) -> Risk:
    """The :class:`Risk` of casting the finite ``values`` to ``fmt``."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Risk(fmt.name, 0.0, 0.0, 0.0, 0.0, 0.0)
    cast_x = cast(x, fmt)
    n = x.size
    overflow = np.isinf(cast_x)
    underflow = (x != 0) & (cast_x == 0)
    subnormal = (cast_x != 0) & (np.abs(cast_x) < fmt.tiny)
    distinct, counts = np.unique(x, return_counts=True)  # -0.0 and 0.0 are one value
    landed = cast(distinct, fmt)
    shared = np.zeros(len(distinct), dtype=bool)
    same = landed[1:] == landed[:-1]  # ascending values land in ascending order
    shared[1:] |= same
    shared[:-1] |= same
    with np.errstate(over="ignore", invalid="ignore"):
        std = float(np.std(x))
    typical = fmt.spacing(float(np.median(np.abs(x))))
    spacing = typical / std if 0 < std < np.inf else 0.0
    return Risk(
        fmt.name,
        float(overflow.sum() / n),
        float(underflow.sum() / n),
        float(subnormal.sum() / n),
        float(counts[shared].sum() / n),
        spacing,
    )
