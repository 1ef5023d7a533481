"""Standardization: ``(x - mean) / std``, with the correctly rounded mean and std."""

from __future__ import annotations

from typing import ClassVar

from normlock.errors import SpecError
from normlock.methods.base import CenterScaleMethod, Fitted, Params, check_bool, require_values
from normlock.stats import Summary


class Standard(CenterScaleMethod):
    """z-score. ``ddof`` 0 is the population std (scikit-learn's), 1 the sample std.

    A column whose exact variance is 0 gets scale 1 (output ``x - mean``) and a warning.
    """

    name = "standard"
    defaults: ClassVar[Params] = {"with_mean": True, "with_std": True, "ddof": 0}

    def validate(self, config: Params) -> None:
        check_bool("with_mean", config["with_mean"])
        check_bool("with_std", config["with_std"])
        if config["ddof"] not in (0, 1) or isinstance(config["ddof"], bool):
            raise SpecError(f"option 'ddof' must be 0 or 1, got {config['ddof']!r}")

    def needs_variance(self, config: Params) -> bool:
        return True

    def fit(self, config: Params, summary: Summary) -> Fitted:
        require_values(self.name, summary)
        warnings: tuple[str, ...] = ()
        if summary.count <= config["ddof"]:
            std = 0.0
            warnings = ("a single value has no sample std (ddof=1), so the scale is 1",)
        else:
            std = summary.std(config["ddof"])
            if std == 0.0 and config["with_std"]:
                warnings = ("constant column: std is 0, so the scale is 1 (output is x - mean)",)
        return Fitted({**config, "mean": summary.mean, "std": std}, warnings)

    @staticmethod
    def center_scale(params: Params) -> tuple[float, float]:
        """The ``(center, scale)`` of the formula ``(x - center) / scale``."""
        center = params["mean"] if params["with_mean"] else 0.0
        scale = params["std"] if params["with_std"] and params["std"] != 0.0 else 1.0
        return center, scale
