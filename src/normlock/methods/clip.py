"""Clipping to fixed bounds or to fitted percentiles of the training data."""

from __future__ import annotations

import math
from typing import ClassVar

from normlock.errors import NotFittedError, SpecError
from normlock.methods.base import Fitted, Method, Params, check_range, require_values
from normlock.methods.ops import Op
from normlock.stats import Summary


class Clip(Method):
    """Clip to ``[lower, upper]``; either bound may instead be a training percentile.

    Clipping loses information, so a chain with a clip step has no inverse.
    """

    name = "clip"
    invertible = False
    defaults: ClassVar[Params] = {
        "lower": None,
        "upper": None,
        "lower_percentile": None,
        "upper_percentile": None,
    }

    def validate(self, config: Params) -> None:
        for side in ("lower", "upper"):
            fixed, percentile = config[side], config[f"{side}_percentile"]
            if fixed is not None and percentile is not None:
                raise SpecError(f"give either {side!r} or '{side}_percentile', not both")
            if fixed is not None:
                config[side] = check_range(side, fixed, -math.inf, math.inf)
            if percentile is not None:
                config[f"{side}_percentile"] = check_range(f"{side}_percentile", percentile, 0, 100)
        if all(config[k] is None for k in self.defaults):
            raise SpecError("method 'clip' needs a bound: lower, upper, or a *_percentile")
        low, high = config["lower"], config["upper"]
        if low is not None and high is not None and low > high:
            raise SpecError(f"clip bounds are reversed: lower={low} > upper={high}")
        low_p, high_p = config["lower_percentile"], config["upper_percentile"]
        if low_p is not None and high_p is not None and low_p > high_p:
            raise SpecError(
                f"clip percentiles are reversed: lower_percentile={low_p} > "
                f"upper_percentile={high_p}"
            )

    def needs_data(self, config: Params) -> bool:
        return config["lower_percentile"] is not None or config["upper_percentile"] is not None

    def needs_values(self, config: Params) -> bool:
        """Fitted bounds are percentiles."""
        return self.needs_data(config)

    def fit(self, config: Params, summary: Summary) -> Fitted:
        params = dict(config)
        if self.needs_data(config):
            require_values(self.name, summary)
            for side in ("lower", "upper"):
                percentile = config[f"{side}_percentile"]
                if percentile is not None:
                    params[side] = float(summary.quantiles.quantiles([percentile / 100])[0])
            params["rank_error"] = summary.quantiles.rank_error
            low, high = params["lower"], params["upper"]
            if low is not None and high is not None and low > high:
                raise NotFittedError(
                    f"the fitted clip bounds are reversed (lower {low!r} > upper {high!r}); "
                    "choose a lower bound below the upper one"
                )
        return Fitted(params)

    def ops(self, params: Params) -> tuple[Op, ...]:
        low = -math.inf if params["lower"] is None else params["lower"]
        high = math.inf if params["upper"] is None else params["upper"]
        return (Op("clip", (low, high)),)
