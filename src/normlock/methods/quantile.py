"""Quantile transform to a uniform or a normal distribution (scikit-learn's definition)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import ndtr, ndtri

from normlock.errors import SpecError
from normlock.methods.base import Fitted, Method, Params, require_values
from normlock.methods.ops import Op
from normlock.stats import Summary

BOUNDS_THRESHOLD = 1e-7
"""Normal output is clipped at the normal quantiles of 1e-7 and 1 - 1e-7."""

NORMAL_LIMIT = float(ndtri(BOUNDS_THRESHOLD - np.spacing(1)))
"""The lower clip of normal output (the upper one is its negation)."""


class Quantile(Method):
    """Map values through the training CDF, interpolated between ``n_quantiles`` points.

    Forward and backward interpolations are averaged so that a repeated quantile maps to
    the middle of its rank range; values at or beyond the extreme quantiles map to the
    ends of the output range.
    """

    name = "quantile"
    defaults: ClassVar[Params] = {"n_quantiles": 1000, "output_distribution": "uniform"}

    def needs_values(self, config: Params) -> bool:
        """Its parameters are quantiles."""
        return True

    def validate(self, config: Params) -> None:
        n = config["n_quantiles"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise SpecError(f"option 'n_quantiles' must be an integer >= 2, got {n!r}")
        if config["output_distribution"] not in ("uniform", "normal"):
            raise SpecError(
                "option 'output_distribution' must be 'uniform' or 'normal', "
                f"got {config['output_distribution']!r}"
            )

    def fit(self, config: Params, summary: Summary) -> Fitted:
        require_values(self.name, summary)
        n = min(config["n_quantiles"], summary.count)
        references = np.linspace(0.0, 1.0, n) if n > 1 else np.array([0.0, 1.0])
        # Percentiles at references * 100, as scikit-learn asks numpy for them: the same
        # float probabilities give the same quantiles, ties included.
        probabilities = (references * 100) / 100
        quantiles = np.maximum.accumulate(summary.quantiles.quantiles(probabilities))
        return Fitted(
            {
                **config,
                "references": references.tolist(),
                "quantiles": quantiles.tolist(),
                "rank_error": summary.quantiles.rank_error,
            }
        )

    def ops(self, params: Params) -> tuple[Op, ...]:
        args = (tuple(params["quantiles"]), tuple(params["references"]))
        return (Op(self.name, (*args, params["output_distribution"])),)

    def apply(self, params: Params, x: np.ndarray) -> np.ndarray:
        quantiles = np.asarray(params["quantiles"])
        references = np.asarray(params["references"])
        normal = params["output_distribution"] == "normal"
        with np.errstate(invalid="ignore"):
            if normal:
                at_low = x - BOUNDS_THRESHOLD < quantiles[0]
                at_high = x + BOUNDS_THRESHOLD > quantiles[-1]
            else:
                at_low = x == quantiles[0]
                at_high = x == quantiles[-1]
        out = 0.5 * (
            np.interp(x, quantiles, references) - np.interp(-x, -quantiles[::-1], -references[::-1])
        )
        out[at_high] = 1.0
        out[at_low] = 0.0
        if normal:
            out = np.clip(ndtri(out), NORMAL_LIMIT, -NORMAL_LIMIT)
        return out

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        quantiles = np.asarray(params["quantiles"])
        references = np.asarray(params["references"])
        with np.errstate(invalid="ignore"):
            if params["output_distribution"] == "normal":
                u = ndtr(y)
                at_low = u - BOUNDS_THRESHOLD < 0
                at_high = u + BOUNDS_THRESHOLD > 1
            else:
                u = y
                at_low = u == 0
                at_high = u == 1
        out = np.interp(u, references, quantiles)
        out[at_high] = quantiles[-1]
        out[at_low] = quantiles[0]
        return out
