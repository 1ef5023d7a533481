"""A fitted whitening group, as the lock keeps it: :class:`GroupLock`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from normlock.errors import LockIntegrityError
from normlock.methods.ops import combine
from normlock.methods.whitening import METHODS


def _matrix(rows: Any) -> np.ndarray:
    return np.array(rows, dtype=np.float64).reshape(len(rows), -1)


@dataclass(frozen=True, eq=False)
class GroupLock:
    """Everything the lock keeps about one whitening group.

    The transform is ``y = combine(x - mean, matrix)`` (:func:`~normlock.methods.ops.combine`)
    on the float64 outputs of the columns' own chains, rounded once to the output dtype;
    the inverse is ``x = combine(y, inverse) + mean``.

    Attributes:
        name: the group's name.
        method: ``pca``, ``zca`` or ``cholesky``.
        columns: the input columns, in order.
        outputs: the output columns (the inputs' names but for pca).
        mean: the centers.
        matrix: the forward map, one row per output.
        inverse: the map back, one row per input.
        options: the fit's settings and figures: ``epsilon``, ``shrinkage`` (the share
            used), ``ddof``, ``rows`` and ``skipped`` (rows left out for a non-finite
            value), ``variances`` (eigenvalues of the whitened covariance, largest first),
            ``covariance`` (the correctly rounded covariance of the inputs) and
            ``residual`` (the largest entry of ``|W Σ Wᵀ - I|`` in float64).
        warnings: what the fit had to point out.
    """

    name: str
    method: str
    columns: tuple[str, ...]
    outputs: tuple[str, ...]
    mean: np.ndarray
    matrix: np.ndarray
    inverse: np.ndarray
    options: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GroupLock) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, self.method, self.columns))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The group's float64 outputs of float64 inputs ``(rows, len(columns))``."""
        return combine(x - self.mean, self.matrix)

    def backward(self, y: np.ndarray) -> np.ndarray:
        """The float64 inputs (or, for a truncated pca, their reconstruction) of outputs."""
        return combine(y, self.inverse) + self.mean

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (every float64 round-trips bit for bit)."""
        return {
            "name": self.name,
            "method": self.method,
            "columns": list(self.columns),
            "outputs": list(self.outputs),
            "mean": self.mean.tolist(),
            "matrix": self.matrix.tolist(),
            "inverse": self.inverse.tolist(),
            "options": dict(self.options),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupLock:
        """Inverse of :meth:`to_dict`; a malformed group is a :class:`LockIntegrityError`."""
        try:
            group = cls(
                name=str(data["name"]),
                method=str(data["method"]),
                columns=tuple(data["columns"]),
                outputs=tuple(data["outputs"]),
                mean=np.array(data["mean"], dtype=np.float64),
                matrix=_matrix(data["matrix"]),
                inverse=_matrix(data["inverse"]),
                options=dict(data["options"]),
                warnings=tuple(data["warnings"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LockIntegrityError(f"a whitening group of the lock is damaged ({exc})") from None
        d, k = len(group.columns), len(group.outputs)
        shapes = (group.mean.shape, group.matrix.shape, group.inverse.shape)
        if group.method not in METHODS or shapes != ((d,), (k, d), (d, k)):
            raise LockIntegrityError(
                f"whitening group {group.name!r} is damaged: method {group.method!r}, "
                f"shapes {shapes} for {d} inputs and {k} outputs"
            )
        return group
