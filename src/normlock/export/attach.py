"""``lock.attach(model)``: the lock in front of a model, as one deployable artifact.

* a torch ``nn.Module`` becomes an :class:`~normlock.export.torch_attach.AttachedModule`
  (``Sequential`` of ``lock`` then ``model``, the fingerprint in a buffer);
* an ONNX model (``onnx.ModelProto`` or an ``.onnx`` path) gets the lock's graph in
  front of its input (:func:`normlock.export.onnx_graph.attach`, the fingerprint and the
  lock stage's output in the metadata).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from normlock.errors import InputError
from normlock.lock import Lock


def attach(
    lock: Lock, model: Any, *, feature_axis: int | None = None, input_name: str | None = None
) -> Any:
    """``model`` behind ``lock``: it takes raw features.

    Args:
        lock: the lock.
        model: a torch module, an ONNX model or the path of an ``.onnx`` file.
        feature_axis: the input axis that holds the lock's columns (``1`` for ``NCHW``);
            default: the last, or an image lock's channel axis.
        input_name: for ONNX, the model input to feed (default: its only one).

    Returns:
        The combined torch module, or the merged ``onnx.ModelProto``.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        if input_name is not None:
            raise InputError("input_name names an ONNX model's input; a torch module has none")
        from normlock.export.torch_attach import attach_torch

        return attach_torch(lock, model, feature_axis=feature_axis)
    if isinstance(model, str | os.PathLike):
        path = Path(model)
        if path.suffix.lower() != ".onnx" or not path.is_file():
            raise InputError(f"cannot attach to {str(model)!r}: give an existing .onnx file")
        import onnx

        model = onnx.load(str(path))
    kind = type(model)
    if kind.__module__.startswith("onnx") and kind.__name__ == "ModelProto":
        from normlock.export.onnx_graph import attach as attach_onnx

        axis = own_axis(lock) if feature_axis is None else feature_axis
        return attach_onnx(lock, model, input_name=input_name, feature_axis=axis)
    raise InputError(
        f"cannot attach a lock to a {kind.__module__}.{kind.__name__}: pass a torch.nn.Module, "
        "an onnx.ModelProto or an .onnx file"
    )


def own_axis(lock: Lock) -> int:
    """The input axis of a lock's columns in its own exports: the channels of an ``NCHW``
    image lock, else the last."""
    return 1 if getattr(lock, "layout", None) == "NCHW" else -1
