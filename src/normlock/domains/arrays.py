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


def finite_float64(x: np.ndarray, what: str) -> np.ndarray:
    """``x`` as float64, or an error naming the first NaN or infinite ``what`` (its index)."""
    from normlock.errors import DomainError

    values = x.astype(np.float64)
    if not np.isfinite(values).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise DomainError(f"{what} at {index} is {values[index]!r}; the values must be finite")
    return values
