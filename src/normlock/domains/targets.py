"""Serving steps that take a domain's arrays whole (image batches, spectrograms, series
windows), resolved into a function of a numpy array.

The same targets as :mod:`normlock.verify.targets`, fed the domain's array as it is
instead of a matrix of columns: a Python callable (or a ``module:function`` /
``path/to/file.py:function`` reference), a torch module (or a TorchScript / exported
``.pt``/``.pt2`` file), an ONNX model (or ``.onnx`` file) with one input. An ONNX
graph's ``normlock_invalid`` output is read as flags: a run it flags fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from normlock.export import INVALID_OUTPUT
from normlock.verify.targets import TORCH_SUFFIXES, TargetError, import_object

_ONNX_TYPES = {
    "tensor(double)": np.float64,
    "tensor(float)": np.float32,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
}


@dataclass(frozen=True)
class ArrayTarget:
    """A serving step on whole arrays.

    Attributes:
        description: what it is, for reports.
        run: the domain's input -> the target's output, as it returns it (see
            :func:`as_numpy`).
        dtype: the one input dtype it takes (an ONNX graph's), or None for any.
    """

    description: str
    run: Callable[[Any], Any]
    dtype: type | None = None


def as_numpy(out: Any) -> np.ndarray:
    """A target's output as a numpy array (torch tensors detached, on the CPU)."""
    if type(out).__module__.split(".")[0] == "torch" and hasattr(out, "detach"):
        tensor = out.detach().cpu()
        return (tensor.float() if tensor.dtype.itemsize < 4 else tensor).numpy()
    return np.asarray(out)


def resolve_array_target(target: Any) -> ArrayTarget:
    """An :class:`ArrayTarget` from an object or a reference (see the module docs)."""
    if isinstance(target, ArrayTarget):
        return target
    if isinstance(target, str | Path):
        text = str(target)
        path = Path(text)
        suffix = path.suffix.lower()
        if suffix in (".onnx", *TORCH_SUFFIXES) and not path.is_file():
            raise TargetError(f"target file {text!r} does not exist")
        if suffix == ".onnx":
            return _onnx(path.read_bytes(), f"ONNX model {text}")
        if suffix in TORCH_SUFFIXES:
            from normlock.verify.runtimes import torch_file_target

            found = torch_file_target(path)
            return ArrayTarget(found.description, found.run)
        if ":" in text:
            return _from_object(import_object(text), text)
        raise TargetError(
            f"cannot tell what target {text!r} is: give a .onnx or .pt/.pt2 file, or a "
            "callable as module:function or path/to/file.py:function"
        )
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return _from_object(target, f"{getattr(target, '__module__', None) or ''}.{name}".lstrip("."))


def _from_object(obj: Any, description: str) -> ArrayTarget:
    from normlock.verify.runtimes import is_torch_module, torch_target

    kind = type(obj)
    if kind.__module__.startswith("onnx") and kind.__name__ == "ModelProto":
        return _onnx(obj.SerializeToString(), description)
    if is_torch_module(obj):
        found = torch_target(obj, description)
        return ArrayTarget(description, found.run)
    if callable(obj):
        return ArrayTarget(description, obj)
    raise TargetError(
        f"cannot verify a {kind.__module__}.{kind.__name__}: pass a function, an ONNX model "
        "or a torch module"
    )


def _onnx(model: bytes, description: str) -> ArrayTarget:
    from normlock.verify.runtimes import onnx_session

    session = onnx_session(model, description)
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].type not in _ONNX_TYPES:
        found = ", ".join(f"{i.name}: {i.type}" for i in inputs)
        raise TargetError(
            f"{description}: expected one float or integer tensor input, found {found}"
        )
    dtype = _ONNX_TYPES[inputs[0].type]
    outputs = [o.name for o in session.get_outputs()]
    values = next(o for o in outputs if o != INVALID_OUTPUT)

    def run(array: np.ndarray) -> np.ndarray:
        fetched = [values] + ([INVALID_OUTPUT] if INVALID_OUTPUT in outputs else [])
        results = session.run(fetched, {inputs[0].name: array.astype(dtype, copy=False)})
        if len(results) > 1 and np.asarray(results[1]).any():
            flags = np.asarray(results[1])
            raise TargetError(
                f"{description}'s {INVALID_OUTPUT!r} flags {int(flags.sum())} value(s) that "
                f"lock.transform rejects, the first at index {tuple(np.argwhere(flags)[0])}"
            )
        return np.asarray(results[0])

    return ArrayTarget(description, run, dtype)
