"""Per-window instance normalization, locked as a policy (as forecasting models use it).

Each input window is standardized by its own statistics over its time steps, per
channel: ``(x - mean) / sqrt(var + epsilon)``, with the window's correctly rounded mean
and population variance (:mod:`normlock.domains.instance`); the model's forecast is
mapped back with the same numbers, ``y * sqrt(var + epsilon) + mean``. Nothing is
fitted: the lock holds the policy (its epsilon, the time axis) so that training and
serving cannot disagree on it, and verifies a serving step against it.

Windows are arrays (numpy or torch) of shape ``(batch, length, channels)`` (time axis
``-2``) or ``(batch, length)`` (time axis ``-1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np

from normlock.domains.arrays import as_array, finite_float64, like
from normlock.domains.base import DomainLock, stamp
from normlock.domains.instance import instance_statistics
from normlock.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class WindowStatistics:
    """The statistics of a batch of windows, to de-normalize their forecasts.

    Attributes:
        mean: each window's mean per channel (the time axis kept, of size 1).
        scale: ``sqrt(var + epsilon)``, the same shape.
    """

    mean: np.ndarray
    scale: np.ndarray


@dataclass(frozen=True)
class WindowLock(DomainLock):
    """The per-window policy (see the module docs).

    Attributes:
        epsilon: added to each window's variance before the square root.
        time_axis: the axis of the time steps in a window batch, or None for the rank's
            default (``-2`` for ``(batch, length, channels)``, ``-1`` for ``(batch, length)``).
    """

    KIND: ClassVar[str] = "windows"
    epsilon: float = 1e-5
    time_axis: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.epsilon, float) and self.epsilon >= 0):
            raise InputError(f"epsilon must be a number >= 0, got {self.epsilon!r}")

    def section(self) -> dict[str, Any]:
        """The epsilon and the time axis."""
        return {"epsilon": self.epsilon, "time_axis": self.time_axis}

    @classmethod
    def fields_of_section(cls, section: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`section`."""
        axis = section["time_axis"]
        return {
            "epsilon": float(section["epsilon"]),
            "time_axis": None if axis is None else int(axis),
        }

    def fitted_on(self) -> str:
        """A window lock is a policy: it is fitted on nothing."""
        return "a policy (nothing fitted)"

    def _axis(self, windows: np.ndarray) -> int:
        if windows.ndim < 2:
            raise InputError(
                f"windows must be (batch, length[, channels]), got shape {windows.shape}"
            )
        axis = self.time_axis if self.time_axis is not None else (-2 if windows.ndim >= 3 else -1)
        return axis % windows.ndim

    def statistics(self, windows: Any) -> WindowStatistics:
        """Each window's mean and ``sqrt(var + epsilon)`` per channel."""
        x = finite_float64(as_array(windows), "window value")
        mean, variance = instance_statistics(x, (self._axis(x),))
        return WindowStatistics(mean, np.sqrt(variance + self.epsilon))

    def transform(self, data: T, **_: Any) -> T:  # type: ignore[override]
        """Standardize each window by its own statistics; float32 stays float32, other
        input becomes float64; same container (numpy or torch)."""
        x = as_array(data)
        stats = self.statistics(x)
        z = (finite_float64(x, "window value") - stats.mean) / stats.scale
        return like(data, z.astype(_dtype(x)))

    def inverse_transform(  # type: ignore[override]
        self, data: T, statistics: WindowStatistics | None = None, **_: Any
    ) -> T:
        """Map a forecast back with the statistics of its input windows:
        ``y * sqrt(var + epsilon) + mean`` (the forecast may have another length)."""
        if statistics is None:
            raise InputError(
                "a window forecast is de-normalized with its input windows' statistics: pass "
                "statistics=lock.statistics(windows)"
            )
        y = as_array(data)
        try:
            x = y.astype(np.float64) * statistics.scale + statistics.mean
        except ValueError:
            raise InputError(
                f"the forecast has shape {y.shape}, its windows' statistics {statistics.mean.shape}"
                "; they must match but for the time axis"
            ) from None
        return like(data, x.astype(_dtype(y)))

    def verify(self, target: Any, data: Any = None, **options: Any) -> Any:
        """Check a serving step's per-window normalization against the policy, on probe
        windows (see :mod:`normlock.domains.series.window_parity`)."""
        from normlock.domains.series.window_parity import verify_windows

        return verify_windows(self, target, data, **options)

    def monitor(self, stage: str = "raw", **options: Any) -> Any:
        """A window lock fits nothing to compare served data with."""
        raise InputError(
            "a window lock is a policy with no training reference; monitor the series lock "
            "of the panel, or the model's inputs"
        )


def instance_norm(epsilon: float = 1e-5, *, time_axis: int | None = None) -> WindowLock:
    """The per-window normalization policy, as a lock.

    Example:
        >>> import numpy as np
        >>> from normlock.domains import series
        >>> lock = series.instance_norm(epsilon=0.0)
        >>> windows = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
        >>> lock.transform(windows)[1]
        array([-1.22474487,  0.        ,  1.22474487])
    """
    return WindowLock(
        features=(),
        columns=(),
        spec={"domain": "windows", "epsilon": float(epsilon)},
        provenance={"sources": ["declared policy"], "rows": 0},
        **stamp(),
        epsilon=float(epsilon),
        time_axis=time_axis,
    )


def _dtype(x: np.ndarray) -> type:
    return np.float32 if x.dtype in (np.float32, np.float16) else np.float64
