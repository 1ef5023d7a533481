"""A feature's fitted chain of steps and the canonical way to run it on an array.

The rules that make every container give the same bits:

* the input is converted to float64 (exact for float32 and small integers);
* each step's formula runs in float64;
* the result is rounded once to the output dtype: float32 stays float32, everything
  else becomes float64.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from normlock.errors import NO_ORIGIN, DomainError, InputError, NotInvertibleError, Origin
from normlock.methods import get_method
from normlock.stats.kernel import AffineResult, affine_columns

_COMPILED_FROM = 256
"""Values from which a one-step affine chain takes the compiled pass: for fewer (probes,
single rows) numpy's few operations cost less than the pass's setup, for the same bits."""


@dataclass(frozen=True)
class Step:
    """One fitted step: the method's name and its parameters."""

    method: str
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"method": self.method, "params": self.params}


@dataclass(frozen=True)
class FeatureLock:
    """Everything the lock keeps about one normalized column.

    Attributes:
        name: the column name.
        steps: the fitted chain, applied in order.
        nan: NaN policy, ``keep`` or ``error``.
        inf: infinity policy, ``error`` or ``keep``.
        reference: summary of the training values (see :mod:`normlock.reference`).
        warnings: what the fit had to fall back on (e.g. a constant column).
    """

    name: str
    steps: tuple[Step, ...]
    nan: str = "keep"
    inf: str = "error"
    reference: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def invertible(self) -> bool:
        """Whether every step has an inverse."""
        return all(get_method(s.method).invertible for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "steps": [s.to_dict() for s in self.steps],
            "nan": self.nan,
            "inf": self.inf,
            "reference": dict(self.reference),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureLock:
        """Inverse of :meth:`to_dict`; unknown methods are an error."""
        steps = []
        for raw in data["steps"]:
            get_method(raw["method"])
            steps.append(Step(raw["method"], dict(raw["params"])))
        return cls(
            name=data["name"],
            steps=tuple(steps),
            nan=data["nan"],
            inf=data["inf"],
            reference=data["reference"],
            warnings=tuple(data["warnings"]),
        )

    def apply(
        self, raw: np.ndarray, *, inverse: bool = False, origin: Origin = NO_ORIGIN
    ) -> np.ndarray:
        """Run the chain (or its inverse) on one column, with the canonical rounding.

        ``origin`` says where the rows come from, for error messages.
        """
        out_dtype = output_dtype(raw.dtype)
        if not inverse:
            fast = self._affine_fast_path(raw, out_dtype)
            if fast is not None:
                return fast
        x = as_float64(self.name, raw, origin)
        if inverse:
            for step in reversed(self.steps):
                method = get_method(step.method)
                if not method.invertible:
                    raise NotInvertibleError(
                        f"feature {self.name!r}: step {step.method!r} cannot be inverted "
                        "(it discards information); inverse_transform is not available for it"
                    )
                x = method.inverse(step.params, x)
            return x.astype(out_dtype, copy=False)
        self._check_policies(x, origin)
        finite_in = np.isfinite(x)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked below
            x = self._forward(x, origin)
            result = x.astype(out_dtype, copy=False)
        overflow = finite_in & ~np.isfinite(result)
        if overflow.any():
            row = int(np.flatnonzero(overflow)[0])
            raise DomainError(
                f"feature {self.name!r}, {origin.at(row)}: the finite input "
                f"{float(raw[row])!r} gives a non-finite {np.dtype(out_dtype).name} output "
                f"({int(overflow.sum())} such value(s)); it is far outside the training range, "
                "so check its units"
            )
        return result

    def affine(self) -> tuple[float, float] | None:
        """``(center, scale)`` when the whole chain is one ``(x - center) / scale`` step."""
        return self._affine

    @functools.cached_property
    def _affine(self) -> tuple[float, float] | None:
        if len(self.steps) != 1:
            return None
        return get_method(self.steps[0].method).affine(self.steps[0].params)

    def _affine_fast_path(self, raw: np.ndarray, out_dtype: type) -> np.ndarray | None:
        """The compiled fused pass for a one-step affine chain; None when it does not apply
        or when the input needs an error (the general path then raises it)."""
        affine = self.affine()
        if affine is None or raw.ndim != 1 or raw.size < _COMPILED_FROM:
            return None
        result = affine_columns([raw], np.array([affine[0]]), np.array([affine[1]]), out_dtype)
        if result is None or not accepts(self, result, 0):
            return None
        return result.out[:, 0]

    def _forward(self, x: np.ndarray, origin: Origin = NO_ORIGIN) -> np.ndarray:
        for step in self.steps:
            method = get_method(step.method)
            bad = method.domain_violations(step.params, x)
            if bad is not None:
                row = int(np.flatnonzero(bad)[0])
                raise DomainError(
                    f"feature {self.name!r}, {origin.at(row)}: value {float(x[row])!r} is outside "
                    f"the domain of step {step.method!r} ({int(bad.sum())} such value(s)); "
                    "clean the data, or add an offset/clip step before it in the spec"
                )
            x = method.apply(step.params, x)
        return x

    def _check_policies(self, x: np.ndarray, origin: Origin) -> None:
        if self.nan == "error":
            nan = np.isnan(x)
            if nan.any():
                raise DomainError(
                    f"feature {self.name!r}, {origin.at(int(np.flatnonzero(nan)[0]))}: NaN/missing "
                    f"value ({int(nan.sum())} in all) but its policy is nan='error'; impute "
                    "it first, or refit with nan='keep'"
                )
        if self.inf == "error":
            inf = np.isinf(x)
            if inf.any():
                row = int(np.flatnonzero(inf)[0])
                raise DomainError(
                    f"feature {self.name!r}, {origin.at(row)}: infinite value {float(x[row])!r} "
                    f"({int(inf.sum())} in all); replace it, or refit with inf='keep'"
                )


def output_dtype(dtype: np.dtype[Any]) -> type:
    """The dtype a transform returns for input of ``dtype``: float32 for float32 (and
    float16, which cannot hold normalized values well), float64 for everything else."""
    return np.float32 if dtype in (np.float32, np.float16) else np.float64


def accepts(feature: FeatureLock, result: AffineResult, column: int) -> bool:
    """Whether a fused pass's counts show nothing the feature's policies reject."""
    return not (
        result.overflow[column]
        or (feature.nan == "error" and result.nan[column])
        or (feature.inf == "error" and result.inf[column])
    )


def as_float64(name: str, raw: np.ndarray, origin: Origin = NO_ORIGIN) -> np.ndarray:
    """A column as float64, or an error naming the column and the first bad row."""
    if raw.dtype.kind in "fiub":
        return raw.astype(np.float64, copy=False)
    try:
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        for row, value in enumerate(raw):
            try:
                float(value)
            except (TypeError, ValueError):
                raise InputError(
                    f"column {name!r}, {origin.at(row)}: {value!r} is not a number; convert the "
                    "column to numbers (or mark it passthrough in the spec)"
                ) from None
        raise
