"""A model's normalization layers, described the same way for every framework.

A :class:`Layer` is what the checks read: its place in the model, its family (batch,
layer, RMS, group, instance or local-response normalization), its settings, the mode
it runs in, and its running statistics when it keeps them. Discovery lives in one
module per framework (:mod:`normlock.audit.torch_layers`,
:mod:`normlock.audit.exported_layers`, :mod:`normlock.audit.onnx_layers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

FAMILIES = ("batch", "instance", "layer", "rms", "group", "local_response")
"""Normalization families: ``batch`` normalizes each channel over the batch (and
space); the others over parts of one sample."""

TRAINING = "training"
RUNNING = "running statistics"
BATCH = "batch statistics"
PER_SAMPLE = "per sample"
MODES = (TRAINING, RUNNING, BATCH, PER_SAMPLE)
"""What a layer normalizes with when the model serves: ``training`` (batch statistics,
and it updates its running statistics), its ``running statistics``, the ``batch
statistics`` of whatever batch it is in (no running statistics kept), or each sample's
own statistics (``per sample``)."""


@dataclass(frozen=True)
class RunningStats:
    """The statistics a batch or instance normalization layer keeps for inference.

    Attributes:
        mean: per channel, float64.
        var: per channel, float64.
        batches: batches tracked while training (torch's ``num_batches_tracked``); None
            where the format does not keep it (ONNX).
    """

    mean: np.ndarray
    var: np.ndarray
    batches: int | None = None

    @property
    def initial(self) -> bool:
        """True when the statistics are exactly their initial values (mean 0, var 1)."""
        return bool(np.all(self.mean == 0.0) and np.all(self.var == 1.0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (ranges, not every channel)."""
        return {
            "channels": int(self.mean.size),
            "mean_min": float(self.mean.min(initial=np.inf)),
            "mean_max": float(self.mean.max(initial=-np.inf)),
            "var_min": float(self.var.min(initial=np.inf)),
            "var_max": float(self.var.max(initial=-np.inf)),
            "batches_tracked": self.batches,
        }


@dataclass(frozen=True)
class Layer:
    """One normalization layer.

    Attributes:
        place: where it is: the module path (``features.1``) or, in ONNX, the module
            path the exporter recorded in the node name, else the node name.
        type: the framework's name for it (``BatchNorm2d``, ``LayerNormalization``).
        family: one of :data:`FAMILIES`.
        mode: one of :data:`MODES`.
        eps: the epsilon added to the variance (None where it follows the input dtype,
            as torch's ``RMSNorm(eps=None)`` does).
        momentum: the running statistics' update factor (torch: the new batch's weight;
            None for a cumulative average or where there is none).
        params: the other settings (channels, groups, shapes, affine, ...).
        running: the running statistics, for layers that keep them.
        order: position among the model's layers (execution or graph order).
    """

    place: str
    type: str
    family: str
    mode: str
    eps: float | None
    momentum: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    running: RunningStats | None = None
    order: int = 0

    def settings(self) -> str:
        """Its settings in one short line, for tables."""
        parts = [f"{k}={_short(v)}" for k, v in self.params.items() if k != "node"]
        if self.eps is not None:
            parts.append(f"eps={self.eps:.3g}")
        if self.family in ("batch", "instance") and self.mode != PER_SAMPLE:
            momentum = "cumulative" if self.momentum is None else f"{self.momentum:g}"
            parts.append(f"momentum={momentum}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "place": self.place,
            "type": self.type,
            "family": self.family,
            "mode": self.mode,
            "eps": self.eps,
            "momentum": self.momentum,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "running": None if self.running is None else self.running.to_dict(),
        }


def _short(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
