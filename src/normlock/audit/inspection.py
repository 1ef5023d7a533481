"""What a framework adapter reads from a model, before any check runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from normlock.audit.layers import Layer
from normlock.audit.sample import ChannelStats
from normlock.audit.seam import InputLayer


@dataclass
class Inspection:
    """A model, read.

    Attributes:
        framework: ``torch``, ``torchscript``, ``torch.export`` or ``onnx``.
        description: what the model is, for reports.
        layers: its normalization layers (of the model part, for a combined model).
        dtype: the dtype it computes in.
        input_layer: the normalization that first reads the model's input, if any.
        attached: ``(fingerprint, columns)`` of the lock a combined model carries.
        lock_stage: the combined model's lock stage, as ``verify`` runs it.
        stats: per layer place, the statistics a sample produced at its input.
        pretrained: a preprocessing config the model carries (timm's ``pretrained_cfg``).
        notes: what the adapter could not do, and why.
    """

    framework: str
    description: str
    layers: list[Layer]
    dtype: str
    input_layer: InputLayer | None = None
    attached: tuple[str, tuple[str, ...]] | None = None
    lock_stage: Any = None
    stats: dict[str, ChannelStats] | None = None
    pretrained: Any = None
    notes: list[str] = field(default_factory=list)
