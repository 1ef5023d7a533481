"""Robust scaling: ``(x - median) / (q_high - q_low)``, optionally unit-variance."""

from __future__ import annotations

from typing import ClassVar

from scipy.special import ndtri

from normlock.methods.base import (
    CenterScaleMethod,
    Fitted,
    Params,
    check_bool,
    check_pair,
    require_values,
)
from normlock.stats import Summary


class Robust(CenterScaleMethod):
    """Center on the median, scale by an inter-quantile range (the IQR by default).

    With ``unit_variance`` the range is divided by the same range of a standard normal
    (1.349 for the IQR), so normal data ends with variance about 1. A zero range gives
    scale 1 and a warning. Quantiles are numpy's ``linear`` quantiles when exact.
    """

    name = "robust"
    defaults: ClassVar[Params] = {
        "with_centering": True,
        "with_scaling": True,
        "quantile_range": [25.0, 75.0],
        "unit_variance": False,
    }

    def needs_values(self, config: Params) -> bool:
        """Its parameters are quantiles."""
        return True

    def validate(self, config: Params) -> None:
        check_bool("with_centering", config["with_centering"])
        check_bool("with_scaling", config["with_scaling"])
        check_bool("unit_variance", config["unit_variance"])
        config["quantile_range"] = list(
            check_pair("quantile_range", config["quantile_range"], 0, 100)
        )

    def fit(self, config: Params, summary: Summary) -> Fitted:
        require_values(self.name, summary)
        low, high = config["quantile_range"]
        median, q_low, q_high = (
            float(v) for v in summary.quantiles.quantiles([0.5, low / 100, high / 100])
        )
        iqr = q_high - q_low
        warnings: tuple[str, ...] = ()
        scale = iqr
        if iqr == 0.0 and config["with_scaling"]:
            warnings = (f"quantile range {low}-{high} is 0, so the scale is 1",)
            scale = 1.0
        if config["unit_variance"]:
            scale = scale / float(ndtri(high / 100) - ndtri(low / 100))
        return Fitted(
            {
                **config,
                "median": median,
                "q_low": q_low,
                "q_high": q_high,
                "iqr": iqr,
                "scale": scale,
                "rank_error": summary.quantiles.rank_error,
            },
            warnings,
        )

    @staticmethod
    def center_scale(params: Params) -> tuple[float, float]:
        """The ``(center, scale)`` of the formula ``(x - center) / scale``."""
        center = params["median"] if params["with_centering"] else 0.0
        scale = params["scale"] if params["with_scaling"] else 1.0
        return center, scale
