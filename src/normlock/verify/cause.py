"""What a diagnosis works on (:class:`Observation`) and what it finds (:class:`Cause`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def json_number(value: float) -> float | str:
    """``value``, or its text (``"nan"``, ``"inf"``, ``"-inf"``) when not finite: strict
    JSON has no non-finite numbers."""
    return value if math.isfinite(value) else str(value)


@dataclass(frozen=True)
class Cause:
    """The likely cause of a mismatch, in plain words.

    Attributes:
        kind: ``rounding``, ``not_applied``, ``applied_twice``, ``feature_order``,
            ``output_order``, ``units``, ``ddof``, ``other_data``,
            ``parameter_precision``, ``precision`` or ``unexplained``.
        message: one sentence for people.
        details: numbers and names behind the message (JSON-ready).
    """

    kind: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers as strings)."""
        details = {
            k: json_number(v) if isinstance(v, float) else v for k, v in self.details.items()
        }
        return {"kind": self.kind, "message": self.message, "details": details}


@dataclass(frozen=True)
class Observation:
    """One feature's values in one run: inputs, expected and actual outputs (float64
    arrays holding values of the run's ``dtype``), every feature's expected outputs of
    the same rows, and the feature's rounding bound per value
    (:func:`~normlock.verify.rounding.rounding_bound`)."""

    name: str
    dtype: Any
    x: np.ndarray
    expected: np.ndarray
    got: np.ndarray
    outputs: dict[str, np.ndarray]
    rounding: np.ndarray
