"""What every normalization method provides.

A method is a stateless object: options in, parameters out. ``fit`` turns a feature's
:class:`~normlock.stats.Summary` into JSON-ready parameters; ``ops`` writes the one
canonical forward formula down as operations (:mod:`normlock.methods.ops`), which
``apply`` runs on float64 numpy arrays and every exported runtime emits; ``inverse``
undoes it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from normlock.errors import NotFittedError, NotInvertibleError, SpecError
from normlock.methods.ops import DOMAIN_BOUNDS, Op, affine, run
from normlock.stats import Summary

Params = dict[str, Any]


@dataclass(frozen=True)
class Fitted:
    """Parameters of one fitted step, with the warnings the fit raised."""

    params: Params
    warnings: tuple[str, ...] = ()


class Method(ABC):
    """Base class of the normalization methods."""

    name: ClassVar[str]
    defaults: ClassVar[Params] = {}
    invertible: ClassVar[bool] = True

    def configure(self, options: Params) -> Params:
        """Validate user ``options`` and fill in defaults."""
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            allowed = ", ".join(sorted(self.defaults)) or "none"
            raise SpecError(
                f"method {self.name!r} has no option {', '.join(map(repr, unknown))}; "
                f"its options are: {allowed}"
            )
        config = {**self.defaults, **options}
        self.validate(config)
        return config

    def validate(self, config: Params) -> None:  # noqa: B027 - optional hook
        """Raise :class:`SpecError` for an invalid option value (no checks by default)."""

    def needs_data(self, config: Params) -> bool:
        """Whether fitting needs data (False: parameters follow from the options)."""
        return True

    def needs_values(self, config: Params) -> bool:
        """Whether fitting reads order statistics or every value, not only the counts,
        extrema and moments (its input's values are then kept, up to ``exact_limit``)."""
        return False

    def needs_variance(self, config: Params) -> bool:
        """Whether fitting reads the variance (the exact sum of the squares of its input,
        which the pass then computes)."""
        return False

    @abstractmethod
    def fit(self, config: Params, summary: Summary) -> Fitted:
        """Parameters from the summary of the step's input values."""

    @abstractmethod
    def ops(self, params: Params) -> tuple[Op, ...]:
        """The canonical forward formula as operations (see :mod:`normlock.methods.ops`)."""

    def apply(self, params: Params, x: np.ndarray) -> np.ndarray:
        """The canonical forward formula on a float64 array (NaN stays NaN)."""
        return run(self.ops(params), x)

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        """The canonical inverse formula on a float64 array."""
        raise NotInvertibleError(f"method {self.name!r} has no inverse")

    def affine(self, params: Params) -> tuple[float, float] | None:
        """``(center, scale)`` when the formula is exactly ``(x - center) / scale`` (or
        ``x / scale``, the same bits with center 0), else None."""
        ops = self.ops(params)
        kinds = tuple(op.kind for op in ops)
        if kinds == ("sub", "div"):
            return float(ops[0].args[0]), float(ops[1].args[0])
        if kinds == ("div",):
            return 0.0, float(ops[0].args[0])
        return None

    def domain_violations(self, params: Params, x: np.ndarray) -> np.ndarray | None:
        """Mask of values outside the method's domain, or None if all are valid: those
        that reach an operation of :data:`~normlock.methods.ops.DOMAIN_BOUNDS` at or below
        its bound (NaN never is)."""
        ops = self.ops(params)
        bad = None
        for index, op in enumerate(ops):
            bound = DOMAIN_BOUNDS.get(op.kind)
            if bound is not None:
                found = x <= bound
                bad = found if bad is None else bad | found
            if any(later.kind in DOMAIN_BOUNDS for later in ops[index + 1 :]):
                x = run((op,), x)
        return bad if bad is not None and bad.any() else None


class CenterScaleMethod(Method):
    """A method whose formula is ``(x - center) / scale``, inverted as ``y * scale + center``."""

    @staticmethod
    @abstractmethod
    def center_scale(params: Params) -> tuple[float, float]:
        """The ``(center, scale)`` of the formula."""

    def ops(self, params: Params) -> tuple[Op, ...]:
        return affine(*self.center_scale(params))

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        center, scale = self.center_scale(params)
        return y * scale + center


def require_values(method: str, summary: Summary) -> None:
    """Raise a clear error when a summary has no finite value to fit on."""
    if summary.count == 0:
        raise NotFittedError(
            f"method {method!r} found no finite value to fit on "
            f"({summary.nan} NaN, {summary.posinf + summary.neginf} infinite); "
            "check the column or exclude it with 'passthrough'"
        )


def check_range(name: str, value: Any, low: float, high: float) -> float:
    """A float option within [low, high], else :class:`SpecError`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"option {name!r} must be a number, got {value!r}")
    if not low <= value <= high:
        raise SpecError(f"option {name!r} must lie in [{low}, {high}], got {value!r}")
    return float(value)


def check_bool(name: str, value: Any) -> None:
    """Raise :class:`SpecError` unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise SpecError(f"option {name!r} must be true or false, got {value!r}")


def check_pair(name: str, value: Any, low: float, high: float) -> tuple[float, float]:
    """An increasing pair of numbers within [low, high], else :class:`SpecError`."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise SpecError(f"option {name!r} must be a pair [low, high], got {value!r}")
    first = check_range(name, value[0], low, high)
    second = check_range(name, value[1], low, high)
    if not first < second:
        raise SpecError(f"option {name!r} must be increasing, got {value!r}")
    return first, second
