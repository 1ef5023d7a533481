"""One forward pass of a sample through an eager torch module, watched by hooks.

The pass runs in eval mode without gradients (the modules' modes are restored after;
no running statistic is updated) and records, per batch or instance normalization with
running statistics, the statistics of its input, and which module first read the
model's input (the *input layer*).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from normlock.audit.sample import ChannelStats, channel_stats
from normlock.audit.torch_layers import place_of
from normlock.errors import InputError


@dataclass(frozen=True)
class Trace:
    """What a pass saw.

    Attributes:
        stats: per layer place, the statistics of the layer's input.
        input_layer: the place of the first module that read the model's input (None
            when no module did, e.g. the input went through a functional op first).
    """

    stats: dict[str, ChannelStats] = field(default_factory=dict)
    input_layer: str | None = None


def as_tensor(sample: Any, model: nn.Module) -> torch.Tensor:
    """The sample as a tensor on the model's device; floats in the model's dtype."""
    tensors = (*model.parameters(), *model.buffers())
    reference = next((t for t in tensors if t.is_floating_point()), None)
    dtype = reference.dtype if reference is not None else torch.float32
    device = reference.device if reference is not None else torch.device("cpu")
    if isinstance(sample, torch.Tensor):
        tensor = sample.detach()
    else:
        array = np.asarray(sample)
        if array.dtype.kind not in "fiub":
            raise InputError(f"the sample must be numeric, got an array of {array.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.dim() == 0 or tensor.shape[0] == 0:
        raise InputError(
            f"the sample must be a batch of at least one row, got shape {tuple(tensor.shape)}"
        )
    if not tensor.is_floating_point():  # token ids and the like stay integers
        return tensor.to(device=device)
    return tensor.to(device=device, dtype=dtype)


def trace(model: nn.Module, x: torch.Tensor, watched: set[str], prefix: str = "") -> Trace:
    """Run ``x`` through ``model`` and record the inputs of the ``watched`` layers (by
    place, each module's path after ``prefix``) and the module that first reads ``x``.

    Raises:
        InputError: the model cannot run on the sample (with the model's own message).
    """
    stats: dict[str, ChannelStats] = {}
    first: list[str] = []
    storage = x.untyped_storage().data_ptr()
    handles = []

    def watch(place: str, leaf: bool, module: nn.Module) -> Any:
        def hook(_: nn.Module, args: tuple[Any, ...]) -> None:
            value = args[0] if args else None
            if not isinstance(value, torch.Tensor):
                return
            if leaf and not first and value.untyped_storage().data_ptr() == storage:
                first.append(place)
            if place in watched and place not in stats and value.dim() >= 2:
                stats[place] = channel_stats(value.detach().to(torch.float64).cpu().numpy())

        return module.register_forward_pre_hook(hook)

    modes = {m: m.training for m in model.modules()}
    try:
        for name, module in model.named_modules():
            place = prefix + name if name else prefix.rstrip(".") or place_of(name, module)
            leaf = not any(True for _ in module.children())
            if leaf or place in watched:
                handles.append(watch(place, leaf, module))
        model.eval()
        with torch.no_grad():
            model(x)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"the model cannot run on the sample of shape {tuple(x.shape)}: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes.items():
            module.training = mode
    return Trace(stats, first[0] if first else None)
