"""Decibels of a power: ``10 log10(x + eps)``, written ``log(x + eps) * (10 / ln 10)``.

Needs no data. The formula uses the natural logarithm and one multiplication by the
float64 constant ``10 / ln 10`` (every runtime has them; not every one has ``log10``),
so it can differ from a ``10 * log10`` pipeline by an ulp or so, which the rounding bound
allows. Values with ``x + eps <= 0`` are outside its domain.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from normlock.errors import SpecError
from normlock.methods.base import Fitted, Method, Params
from normlock.methods.ops import Op
from normlock.stats import Summary

DECIBELS = 10.0 / math.log(10.0)
"""The float64 factor from a natural logarithm to decibels of a power."""


class Decibels(Method):
    """``10 log10(x + eps)`` of a power (a power spectrogram's bins)."""

    name = "db"
    defaults: ClassVar[Params] = {"eps": 1e-10}

    def validate(self, config: Params) -> None:
        eps = config["eps"]
        if isinstance(eps, bool) or not isinstance(eps, int | float) or not 0 <= eps < math.inf:
            raise SpecError(f"option 'eps' must be a finite number >= 0, got {eps!r}")
        config["eps"] = float(eps)

    def needs_data(self, config: Params) -> bool:
        return False

    def fit(self, config: Params, summary: Summary) -> Fitted:
        return Fitted(dict(config))

    def ops(self, params: Params) -> tuple[Op, ...]:
        return (Op("add", (params["eps"],)), Op("log"), Op("mul", (DECIBELS,)))

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        return np.exp(y / DECIBELS) - params["eps"]
