"""The normalization layers of a torch module: eager, or loaded from TorchScript.

Layers are recognized by class: torch's own (``BatchNorm1d/2d/3d``, ``SyncBatchNorm``,
``InstanceNorm1d/2d/3d``, ``LayerNorm``, ``RMSNorm``, ``GroupNorm``,
``LocalResponseNorm`` and their lazy and derived classes), a TorchScript module's
original class name, and the usual hand-written ones by name: classes called
``...RMSNorm``, ``...LayerNorm``, ``...GroupNorm`` with an ``eps`` (or
``variance_epsilon``, as Hugging Face's RMSNorm names it), and ``...BatchNorm...`` with
running statistics (torchvision's ``FrozenBatchNorm2d``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from normlock.audit.layers import BATCH, PER_SAMPLE, RUNNING, TRAINING, Layer, RunningStats

_CLASSES: tuple[tuple[type[nn.Module], str], ...] = (
    (nn.modules.batchnorm._BatchNorm, "batch"),
    (nn.modules.instancenorm._InstanceNorm, "instance"),
    (nn.LayerNorm, "layer"),
    (nn.RMSNorm, "rms"),
    (nn.GroupNorm, "group"),
    (nn.LocalResponseNorm, "local_response"),
)
_NAMES = {
    **{f"BatchNorm{d}d": "batch" for d in (1, 2, 3)},
    **{f"LazyBatchNorm{d}d": "batch" for d in (1, 2, 3)},
    "SyncBatchNorm": "batch",
    **{f"InstanceNorm{d}d": "instance" for d in (1, 2, 3)},
    **{f"LazyInstanceNorm{d}d": "instance" for d in (1, 2, 3)},
    "LayerNorm": "layer",
    "RMSNorm": "rms",
    "GroupNorm": "group",
    "LocalResponseNorm": "local_response",
}
_SUFFIXES = (("RMSNorm", "rms"), ("LayerNorm", "layer"), ("GroupNorm", "group"))
_SETTINGS = {
    "batch": ("num_features", "affine", "track_running_stats"),
    "instance": ("num_features", "affine", "track_running_stats"),
    "layer": ("normalized_shape", "elementwise_affine"),
    "rms": ("normalized_shape", "elementwise_affine"),
    "group": ("num_groups", "num_channels", "affine"),
    "local_response": ("size", "alpha", "beta", "k"),
}


def type_name(module: nn.Module) -> str:
    """The module's class name (a TorchScript module's original class)."""
    return str(getattr(module, "original_name", None) or type(module).__name__)


def family_by_name(name: str) -> tuple[str | None, bool]:
    """The normalization family a class name says, and whether that is a guess from a
    hand-written class's name (to be confirmed by an ``eps`` or running statistics)."""
    if name in _NAMES:
        return _NAMES[name], False
    for suffix, family in _SUFFIXES:
        if name.endswith(suffix):
            return family, True
    return ("batch", True) if "BatchNorm" in name else (None, False)


def family_of(module: nn.Module) -> str | None:
    """The normalization family of ``module``, or None when it is no normalization."""
    for cls, known in _CLASSES:
        if isinstance(module, cls):
            return known
    family, guessed = family_by_name(type_name(module))
    if family is None or not guessed:
        return family
    if family == "batch":
        return family if _buffer(module, "running_mean") is not None else None
    return family if _epsilon(module) is not None else None


def torch_layers(model: nn.Module) -> list[Layer]:
    """Every normalization layer of ``model``, in registration order."""
    layers: list[Layer] = []
    for name, module in model.named_modules():
        family = family_of(module)
        if family is not None:
            layers.append(describe(place_of(name, module), module, family, len(layers)))
    return layers


def place_of(name: str, module: nn.Module) -> str:
    """A module's place: its path in the model, or its class name for the model itself."""
    return name or type_name(module)


def describe(place: str, module: nn.Module, family: str, order: int) -> Layer:
    """The :class:`Layer` of one normalization module."""
    running = _running(module)
    params: dict[str, Any] = {}
    for name in _SETTINGS[family]:
        value = getattr(module, name, None)
        if value is not None:
            params[name] = tuple(value) if isinstance(value, list | tuple) else value
    eps = _epsilon(module)
    if eps is None and family == "rms":
        params["eps"] = "input dtype's machine epsilon"
    momentum = getattr(module, "momentum", None) if running is not None else None
    return Layer(
        place=place,
        type=type_name(module),
        family=family,
        mode=_mode(module, family, running),
        eps=eps,
        momentum=None if momentum is None else float(momentum),
        params=params,
        running=running,
        order=order,
    )


def _mode(module: nn.Module, family: str, running: RunningStats | None) -> str:
    trains = bool(module.training) and hasattr(module, "momentum")  # frozen layers never train
    if family == "batch":
        if trains:
            return TRAINING
        return RUNNING if running is not None else BATCH
    if family == "instance" and running is not None:
        return TRAINING if trains else RUNNING
    return PER_SAMPLE


def _epsilon(module: nn.Module) -> float | None:
    for name in ("eps", "variance_epsilon", "epsilon"):
        value = getattr(module, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _buffer(module: nn.Module, name: str) -> torch.Tensor | None:
    value = getattr(module, name, None)
    return value if isinstance(value, torch.Tensor) else None


def _running(module: nn.Module) -> RunningStats | None:
    mean, var = _buffer(module, "running_mean"), _buffer(module, "running_var")
    if mean is None or var is None or mean.is_meta:
        return None
    tracked = _buffer(module, "num_batches_tracked")
    return RunningStats(
        mean=_numpy(mean),
        var=_numpy(var),
        batches=None if tracked is None else int(tracked.item()),
    )


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(device="cpu", dtype=torch.float64).numpy().reshape(-1)


def inference_dtype(model: nn.Module) -> str:
    """The dtype of the model's first floating-point parameter or buffer (float32 if none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return str(tensor.dtype).removeprefix("torch.")
    return "float32"


def active_dropout(model: nn.Module) -> list[str]:
    """The places of dropout modules in training mode (active at inference)."""
    return [
        place_of(name, m)
        for name, m in model.named_modules()
        if type_name(m).startswith(("Dropout", "AlphaDropout", "FeatureAlphaDropout"))
        and m.training
        and float(getattr(m, "p", 0.0)) > 0
    ]
