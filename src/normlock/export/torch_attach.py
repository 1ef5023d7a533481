"""A lock in front of a torch model, as one module: the artifact to deploy.

:class:`AttachedModule` is an ``nn.Sequential`` of two named stages, ``lock`` (the
lock's module, :mod:`normlock.export.torch_module`) and ``model``: it takes raw
features. The lock's fingerprint is a buffer of the module
(:data:`~normlock.export.FINGERPRINT_BUFFER`), so it stays in ``state_dict()``, in a
``torch.export`` program and in its saved file, where ``normlock audit`` and ``normlock
verify`` read it back. :meth:`AttachedModule.to_onnx` exports it to one ONNX model whose
lock stage is the lock's own graph (the lock's bits in ONNX Runtime).
"""

from __future__ import annotations

import io
import warnings
from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from normlock.errors import InputError
from normlock.export import FINGERPRINT_BUFFER
from normlock.export.attach import own_axis
from normlock.export.torch_module import to_torch
from normlock.lock import Lock


class AttachedModule(nn.Sequential):
    """``model(lock(x))``: the stages ``lock`` and ``model`` in a ``Sequential``.

    Attributes:
        lock: the lock's module (first stage).
        model: the model (second stage).
        source: the :class:`~normlock.Lock` attached (not part of the module's state).
        feature_axis: the input axis that holds the lock's columns.
    """

    def __init__(self, lock: Lock, model: nn.Module, stage: nn.Module, feature_axis: int) -> None:
        super().__init__(OrderedDict([("lock", stage), ("model", model)]))
        self.source = lock
        self.feature_axis = feature_axis
        self.register_buffer(FINGERPRINT_BUFFER, encode_fingerprint(lock.fingerprint))

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the attached lock, as recorded in the module's buffer."""
        return decode_fingerprint(getattr(self, FINGERPRINT_BUFFER))

    def to_onnx(
        self,
        example: torch.Tensor,
        *,
        opset: int = 17,
        input_name: str = "input",
        output_names: list[str] | None = None,
        dynamic_batch: bool = True,
    ) -> Any:
        """The combined model in ONNX: the model exported with ``torch.onnx`` (on
        ``example`` normalized by the lock) behind the lock's own graph
        (:func:`normlock.export.onnx_graph.attach`).

        Args:
            example: raw input rows, as the combined module takes them.
            opset: the ONNX operator set.
            input_name: the combined model's input name.
            output_names: the model's output names (default ``output``, ``output1``, ...).
            dynamic_batch: let the first dimension vary.

        Returns:
            An ``onnx.ModelProto`` whose outputs are ``normlock_invalid`` and the model's.

        Raises:
            InputError: the model is in training mode (its batch normalization would be
                exported normalizing each batch with itself): call ``eval()`` first.
        """
        import onnx

        from normlock.export.onnx_graph import attach

        lock_stage = self.get_submodule("lock")
        model = self.get_submodule("model")
        training = [name or "the model" for name, m in model.named_modules() if m.training]
        if training:
            raise InputError(
                f"{training[0]} is in training mode; call eval() before exporting (a batch "
                "normalization would normalize each served batch with itself)"
            )
        with torch.no_grad():
            normalized = lock_stage(example)
            outputs = model(normalized)
        count = len(outputs) if isinstance(outputs, tuple | list) else 1
        names = output_names or ["output"] + [f"output{i}" for i in range(1, count)]
        axes = {n: {0: "batch"} for n in (input_name, *names)} if dynamic_batch else None
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on tracing
            torch.onnx.export(
                model,
                (normalized,),
                buffer,  # type: ignore[arg-type]  # a file object is accepted, as documented
                dynamo=False,
                opset_version=opset,
                input_names=[input_name],
                output_names=names,
                dynamic_axes=axes,
            )
        exported = onnx.load_from_string(buffer.getvalue())
        return attach(self.source, exported, input_name=input_name, feature_axis=self.feature_axis)


def attach_torch(
    lock: Lock, model: nn.Module, *, feature_axis: int | None = None
) -> AttachedModule:
    """``lock`` in front of ``model`` (see :class:`AttachedModule`): the lock's own module
    (``lock.to_torch()``, which for an image lock follows its layout), or with
    ``feature_axis`` the columns along that axis."""
    if not isinstance(model, nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if feature_axis is None:
        return AttachedModule(lock, model, lock.to_torch(), own_axis(lock))
    return AttachedModule(lock, model, to_torch(lock, feature_dim=feature_axis), feature_axis)


def encode_fingerprint(fingerprint: str) -> torch.Tensor:
    """The fingerprint as a tensor of its ASCII bytes."""
    return torch.tensor(list(fingerprint.encode("ascii")), dtype=torch.uint8)


def decode_fingerprint(tensor: torch.Tensor) -> str:
    """Inverse of :func:`encode_fingerprint`."""
    return bytes(tensor.detach().cpu().to(torch.uint8).tolist()).decode("ascii")


def attached_stage(module: Any) -> tuple[str, Any] | None:
    """``(fingerprint, lock stage)`` of a module with a lock attached (eager, TorchScript
    or an unflattened exported program), else None."""
    buffers = dict(module.named_buffers(recurse=False)) if hasattr(module, "named_buffers") else {}
    recorded = buffers.get(FINGERPRINT_BUFFER)
    if recorded is None or not hasattr(module, "lock"):
        return None
    return decode_fingerprint(recorded), module.lock
