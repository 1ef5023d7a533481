"""Arrays of the domains: numpy arrays and torch tensors, the same container out as in."""

from __future__ import annotations

from typing import Any

import numpy as np


def is_tensor(data: Any) -> bool:
    """Whether ``data`` is a torch tensor (without importing torch)."""
    return type(data).__module__.split(".")[0] == "torch" and hasattr(data, "detach")


def as_array(data: Any) -> np.ndarray:
    """A numpy array of ``data`` (a torch tensor is detached and moved to the CPU)."""
    if is_tensor(data):
        return data.detach().cpu().numpy()
    return np.asarray(data)


def like(data: Any, result: np.ndarray) -> Any:
    """``result`` in ``data``'s container: a numpy array, or a CPU torch tensor."""
    if not is_tensor(data):
        return result
    import torch

    return torch.from_numpy(np.ascontiguousarray(result))
