"""Logarithms: ``log(x + offset)`` and ``log1p(x)``. Neither needs data to fit."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from normlock.errors import SpecError
from normlock.methods.base import Fitted, Method, Params
from normlock.methods.ops import Op
from normlock.stats import Summary


class Log(Method):
    """Natural log of ``x + offset``; values with ``x + offset <= 0`` are an error."""

    name = "log"
    defaults: ClassVar[Params] = {"offset": 0.0}

    def validate(self, config: Params) -> None:
        offset = config["offset"]
        if (
            isinstance(offset, bool)
            or not isinstance(offset, int | float)
            or not math.isfinite(offset)
        ):
            raise SpecError(f"option 'offset' must be a finite number, got {offset!r}")
        config["offset"] = float(offset)

    def needs_data(self, config: Params) -> bool:
        return False

    def fit(self, config: Params, summary: Summary) -> Fitted:
        return Fitted(dict(config))

    def ops(self, params: Params) -> tuple[Op, ...]:
        return (Op("add", (params["offset"],)), Op("log"))

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        return np.exp(y) - params["offset"]


class Log1p(Method):
    """``log1p(x)``, exact near 0; values ``x <= -1`` are an error."""

    name = "log1p"

    def needs_data(self, config: Params) -> bool:
        return False

    def fit(self, config: Params, summary: Summary) -> Fitted:
        return Fitted({})

    def ops(self, params: Params) -> tuple[Op, ...]:
        return (Op("log1p"),)

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        return np.expm1(y)
