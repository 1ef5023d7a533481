"""An image lock as a torch module and as an ONNX graph of rank-4 batches.

Both emit the lock's channel chains (:mod:`normlock.export.torch_module`,
:mod:`normlock.export.onnx_graph`) along the layout's channel axis, in float64, and
round once: a ``pooled`` lock gives the same bits as ``lock.transform``. Integer pixels
give float32, float pixels their own dtype, as :meth:`ImageLock.transform` does.

A ``per_image`` lock's torch module computes each image's mean and population
variance with torch in float64 (not correctly rounded, as the lock's are), so its
outputs may differ from ``lock.transform`` by a few float64 ulps: after rounding to
float32 almost always none. ONNX graphs are exported for ``pooled`` locks.
"""

from __future__ import annotations

import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

from normlock.domains.images.layout import channel_axis, layout_of
from normlock.domains.images.lock import ImageLock
from normlock.errors import InputError, NotExportableError
from normlock.lock import Lock

_ONNX_INPUTS = {
    "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16,
    "float32": TensorProto.FLOAT,
    "float64": TensorProto.DOUBLE,
}


def to_torch(lock: ImageLock, *, layout: str | None = None) -> ImageModule:
    """The lock as a module taking batches ``(N, C, H, W)`` or images ``(C, H, W)`` in
    ``layout`` (default the lock's; ``(N, H, W, C)``/``(H, W, C)`` for NHWC)."""
    order = layout_of(layout, None) if layout is not None else lock.layout
    dim = -3 if order == "NCHW" else -1
    return ImageModule(Lock.to_torch(lock, feature_dim=dim), order, lock.epsilon)


class ImageModule(nn.Module):
    """Normalizes image tensors as an :class:`ImageLock` does.

    Attributes:
        layout: the layout of the batches it takes.
        epsilon: the ``per_image`` epsilon (None for a ``pooled`` lock).
    """

    def __init__(self, chains: nn.Module, layout: str, epsilon: float | None) -> None:
        super().__init__()
        self.chains, self.layout, self.epsilon = chains, layout, epsilon
        if epsilon is not None:  # the rescale's output stays float64 for the statistics
            chains.output_dtype = torch.float64

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x``; the result has its shape."""
        wide = x.dtype == torch.float64
        y = self.chains(x)
        if self.epsilon is not None:
            dims = (-2, -1) if self.layout == "NCHW" else (-3, -2)
            mean = y.mean(dim=dims, keepdim=True)
            variance = (y - mean).square().mean(dim=dims, keepdim=True)
            y = (y - mean) / torch.sqrt(variance + self.epsilon)
        return y if wide else y.to(torch.float32)

    def extra_repr(self) -> str:
        mode = "pooled" if self.epsilon is None else f"per_image, epsilon={self.epsilon}"
        return f"layout={self.layout}, {mode}"


def to_onnx(
    lock: ImageLock,
    *,
    input_dtype: str = "float32",
    layout: str | None = None,
    opset: int = 17,
    input_name: str = "input",
    output_name: str = "normalized",
) -> onnx.ModelProto:
    """The ``pooled`` lock as an ONNX graph of rank-4 batches in ``layout`` (default the
    lock's), with inputs of ``input_dtype`` (``uint8``, ``uint16``, ``float32``,
    ``float64``): float32 outputs for integer and float32 inputs, float64 for float64.
    Its second output, ``normlock_invalid``, flags the values ``lock.transform`` rejects.
    """
    if lock.mode == "per_image":
        raise NotExportableError(
            "a per_image lock is exported to torch only (lock.to_torch()); ONNX graphs are "
            "made for pooled locks"
        )
    if input_dtype not in _ONNX_INPUTS:
        raise InputError(
            f"input_dtype must be one of {', '.join(_ONNX_INPUTS)}, got {input_dtype!r}"
        )
    order = layout_of(layout, None) if layout is not None else lock.layout
    integer = input_dtype.startswith("uint")
    inner = f"{input_name}/float" if integer else input_name
    model = Lock.to_onnx(
        lock,
        dtype="float32" if integer else input_dtype,
        feature_axis=channel_axis(order),
        rank=4,
        opset=opset,
        input_name=inner,
        output_name=output_name,
    )
    if integer:
        _integer_input(model, input_name, inner, _ONNX_INPUTS[input_dtype])
    return model


def _integer_input(model: onnx.ModelProto, name: str, inner: str, elem: int) -> None:
    """Make the graph take integers under ``name``, cast exactly to the float input
    ``inner`` it had."""
    graph = model.graph
    shape = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    graph.input.pop()
    graph.input.append(helper.make_tensor_value_info(name, elem, shape))
    cast = helper.make_node("Cast", [name], [inner], name="normlock/pixels", to=TensorProto.FLOAT)
    graph.node.insert(0, cast)
    onnx.checker.check_model(model, full_check=True)
