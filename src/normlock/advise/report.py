"""The advisor's result: :class:`Advice`, its spec (as YAML with reasons), JSON and tables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from normlock.advise.conditioning import iterations
from normlock.advise.measure import Measurements
from normlock.advise.precision import Risk
from normlock.advise.recommend import Recommendation

TOLERANCE = 1e-6
"""The relative tolerance of the gradient-descent step counts the report gives."""


@dataclass(frozen=True)
class Conditioning:
    """``κ(XᵀX)`` (with an intercept) of the modelled columns.

    Attributes:
        columns: the columns a linear model reads as numbers.
        raw: of the raw values.
        normalized: after the recommended spec (with its group, if it has one).
        whitened: after whitening all of them (zca of their correlations).
        before_groups: after the spec's per-column methods alone.
        correlated: the pairs with ``|r| >= 0.9`` after normalization, strongest first.
    """

    columns: tuple[str, ...]
    raw: float
    normalized: float
    whitened: float
    before_groups: float
    correlated: tuple[tuple[str, str, float], ...] = ()

    def steps(self, kappa: float) -> float:
        """Gradient-descent steps to a relative tolerance of :data:`TOLERANCE`."""
        return iterations(kappa, TOLERANCE)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (infinite figures as None)."""
        figures = {
            "raw": self.raw,
            "normalized": self.normalized,
            "whitened": self.whitened,
            "per_column": self.before_groups,
        }
        return {
            "columns": list(self.columns),
            "kappa": {k: _number(v) for k, v in figures.items()},
            "steps": {k: _number(self.steps(v)) for k, v in figures.items()},
            "tolerance": TOLERANCE,
            "correlated": [{"a": a, "b": b, "r": r} for a, b, r in self.correlated],
        }


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, recursively."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@dataclass(frozen=True)
class Advice:
    """What the advisor measured and recommends for a table.

    Attributes:
        source: where the data came from.
        rows: rows measured.
        target: the target column, if any.
        measurements: per column, in data order.
        recommendations: per column, in data order.
        entries: the spec's entry per column (a group's columns keep their data-free
            steps only).
        groups: the spec's whitening groups.
        conditioning: the normal equations' conditioning, before and after.
        precision: per modelled column, its :class:`~normlock.advise.precision.Risk` for
            float16, bfloat16 and float32, ``before`` and ``after`` normalization.
        samples: per modelled column, its values before and after (for the plots).
    """

    source: str
    rows: int
    target: str | None
    measurements: tuple[Measurements, ...]
    recommendations: tuple[Recommendation, ...]
    entries: Mapping[str, Any]
    groups: tuple[Mapping[str, Any], ...]
    conditioning: Conditioning
    precision: Mapping[str, Mapping[str, tuple[Risk, ...]]]
    samples: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def recommendation(self, column: str) -> Recommendation:
        """The recommendation for ``column``."""
        return next(r for r in self.recommendations if r.column == column)

    def spec(self) -> dict[str, Any]:
        """The recommended spec: :func:`normlock.fit` and ``normlock fit --spec`` take it."""
        spec: dict[str, Any] = {"features": dict(self.entries), "default": "standard"}
        if self.groups:
            spec["groups"] = [dict(g) for g in self.groups]
        return spec

    def spec_yaml(self) -> str:
        """The spec as YAML, each entry under a comment with its reason."""
        import yaml

        lines = [
            "# normlock spec recommended by `normlock advise`"
            + (f" for {self.source}" if self.source else "")
            + f" ({self.rows:,} rows)",
        ]
        if self.target is not None:
            lines.append(f"# fit with --target {self.target} to lock the target's normalization")
        lines.append("features:")
        for advice in self.recommendations:
            entry = self.entries[advice.column]
            reason = advice.reason
            if advice.column == self.target and advice.kind != "label":
                reason = f"the target: fit with --target (recommended: {advice.method})"
            elif entry != advice.entry:
                reason += "; whitened with the columns it is correlated with (groups below)"
            lines.append(f"  # {reason}")
            text = yaml.safe_dump({advice.column: entry}, default_flow_style=True, width=200)
            lines.append("  " + text.strip()[1:-1].strip())
        lines.append("default: standard")
        if self.groups:
            c = self.conditioning
            lines.append(
                f"# whitened together: correlated after normalization, they kept κ at "
                f"{c.before_groups:.3g} (with the group: {c.normalized:.3g})"
            )
            lines.append(
                yaml.safe_dump({"groups": [dict(g) for g in self.groups]}, sort_keys=False).strip()
            )
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (measurements, recommendations, conditioning, precision, spec;
        figures that are not finite as None)."""
        return _finite(
            {
                "source": self.source,
                "rows": self.rows,
                "target": self.target,
                "columns": [
                    {**m.to_dict(), **r.to_dict()}
                    for m, r in zip(self.measurements, self.recommendations, strict=True)
                ],
                "conditioning": self.conditioning.to_dict(),
                "precision": {
                    name: {stage: [r.to_dict() for r in found] for stage, found in stages.items()}
                    for name, stages in self.precision.items()
                },
                "spec": self.spec(),
            }
        )

    def table(self) -> Any:
        """A rich renderable: the columns, the conditioning and the precision risks."""
        from normlock.advise.tables import advice_table

        return advice_table(self)
