"""Reading a torch module (eager or TorchScript) for the audit.

The input layer is found by a forward pass where one can run: on the sample, or else on
the lock's probes normalized by the lock (tabular models); otherwise it is assumed to be
the first module registered, and the report says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from normlock.audit.inspection import Inspection
from normlock.audit.layers import RUNNING, TRAINING, Layer
from normlock.audit.seam import InputLayer
from normlock.audit.torch_layers import (
    describe,
    family_of,
    inference_dtype,
    place_of,
    torch_layers,
    type_name,
)
from normlock.audit.torch_trace import Trace, as_tensor, trace
from normlock.errors import InputError, NormlockError
from normlock.export.torch_attach import attached_stage
from normlock.lock import Lock


def inspect_torch(model: nn.Module, description: str, sample: Any, lock: Lock | None) -> Inspection:
    """The :class:`Inspection` of a torch module; ``sample`` is its input (or None)."""
    scripted = isinstance(model, torch.jit.ScriptModule)
    stage = attached_stage(model)
    body: nn.Module = model.model if stage else model  # type: ignore[assignment]
    prefix = "model." if stage else ""
    layers = [layer for layer in torch_layers(model) if not layer.place.startswith("lock.")]
    found = Inspection(
        "torchscript" if scripted else "torch", description, layers, inference_dtype(body)
    )
    if stage is not None:
        source = getattr(model, "source", None)  # the Lock, in an eager combined module
        columns: Any = getattr(stage[1], "columns", None) or getattr(source, "columns", ())
        found.attached = (stage[0], tuple(columns))
        found.lock_stage = stage[1]
    found.pretrained = getattr(body, "pretrained_cfg", None) or getattr(body, "default_cfg", None)
    named = {
        (prefix + n if n else prefix.rstrip(".") or place_of(n, m)): m
        for n, m in body.named_modules()
    }
    watched = {layer.place for layer in layers if layer.running is not None}
    lock_stage = None if stage is None else stage[1]
    seen = None
    if scripted:
        if sample is not None:
            found.notes.append(
                "a TorchScript module takes no forward hooks: the sample was not compared "
                "with the running statistics (audit the eager module for that)"
            )
    elif sample is not None:
        x = as_tensor(sample, model)
        seen = trace(body, x if lock_stage is None else _run(lock_stage, x), watched, prefix)
        found.stats = seen.stats
    else:
        seen = _probe_pass(body, lock_stage, lock or getattr(model, "source", None), prefix)
    if seen is not None:
        place = seen.input_layer
        how = "traced"
    else:
        place = next((p for p, m in named.items() if not any(True for _ in m.children())), None)
        how = "module order"
    if place is not None:
        found.input_layer = input_layer(place, named[place], how)
    return found


def _run(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The lock stage's output (an error that the input does not fit is an InputError)."""
    try:
        with torch.no_grad():
            return module(x)
    except Exception as exc:
        raise InputError(
            f"the lock stage cannot run on the sample of shape {tuple(x.shape)}: "
            f"{type(exc).__name__}: {exc}"
        ) from None


def _probe_pass(
    body: nn.Module, lock_stage: nn.Module | None, lock: Lock | None, prefix: str
) -> Trace | None:
    """A pass on the lock's probes, to find the input layer; None where there is no lock
    or the model does not take rows of its columns (images, sequences)."""
    if lock is None:
        return None
    try:
        x = _probe_input(lock, normalized=lock_stage is None)
        return trace(body, x if lock_stage is None else _run(lock_stage, x), set(), prefix)
    except NormlockError:
        return None


def _probe_input(lock: Lock, *, normalized: bool) -> torch.Tensor:
    """The lock's float32 probes as rows of every column (normalized by the lock when the
    model stands behind it): what a tabular model serves on."""
    probes = lock.probes()
    columns = [
        np.array(probes[c]["input_float32"]) if c in probes else np.zeros(1) for c in lock.columns
    ]
    rows = max(len(c) for c in columns)
    matrix = np.column_stack([np.resize(c, rows) for c in columns]).astype(np.float32)
    matrix = matrix[np.isfinite(matrix).all(axis=1)]
    return torch.from_numpy(np.ascontiguousarray(lock.transform(matrix) if normalized else matrix))


def input_layer(place: str, module: nn.Module, how: str) -> InputLayer | None:
    """The :class:`InputLayer` of the module that first reads the input, when it normalizes."""
    family = family_of(module)
    if family is not None:
        layer: Layer = describe(place, module, family, 0)
        if layer.running is None or layer.mode not in (RUNNING, TRAINING):
            return None
        spread = np.sqrt(layer.running.var)
        return InputLayer(place, layer.type, "batch", layer.running.mean, spread, how)
    constants = _constants(module)
    if constants is None:
        return None
    return InputLayer(place, type_name(module), "constants", constants[0], constants[1], how)


def _constants(module: nn.Module) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mean, std)`` of a torchvision-style ``Normalize`` (``mean`` and ``std``
    attributes), or the per-column center and scale of a lock's module."""
    columns = getattr(module, "columns", None)
    if type_name(module) == "LockModule" and columns:
        return _lock_constants(module, len(columns))
    mean, std = getattr(module, "mean", None), getattr(module, "std", None)
    if mean is None or std is None or callable(mean) or callable(std):
        return None
    try:
        center = np.asarray(torch.as_tensor(mean, dtype=torch.float64)).reshape(-1)
        scale = np.asarray(torch.as_tensor(std, dtype=torch.float64)).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        return None
    if center.shape != scale.shape or not center.size:
        return None
    return center, scale


def _lock_constants(module: nn.Module, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Center and scale of a lock module from its outputs at 0 and 1 (NaN where they
    are outside its domain, or its features are not laid out last)."""
    unknown = np.full(width, np.nan)
    if getattr(module, "feature_dim", -1) != -1:
        return unknown, unknown
    try:
        with torch.no_grad():
            out = module(torch.tensor([[0.0] * width, [1.0] * width], dtype=torch.float64))
    except Exception:  # a domain error at 0 or 1: the constants stay unknown
        return unknown, unknown
    values = out.numpy()
    slope = values[1] - values[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / slope
    return -values[0] * scale, scale
