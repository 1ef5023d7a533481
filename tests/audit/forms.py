"""One torch model audited in each form it is served in: eager, ONNX, torch.export."""

from __future__ import annotations

from typing import Any

import torch

import normlock as nl
from normlock.audit import AuditReport
from tests.audit.models import to_onnx

FORMS = ("torch", "onnx", "export")


def audited(
    model: torch.nn.Module, form: str, example: torch.Tensor, **options: Any
) -> AuditReport:
    """``nl.audit`` of ``model`` as ``form``; an ONNX export keeps batch normalization
    layers as they are (torch folds them into convolutions otherwise)."""
    sample = options.pop("sample", None)
    if form == "torch":
        return nl.audit(model, sample=sample, **options)
    if form == "onnx":
        exported = to_onnx(model, example, training=True)
        return nl.audit(exported, sample=None if sample is None else sample.numpy(), **options)
    batch = {0: torch.export.Dim.DYNAMIC}
    program = torch.export.export(model, (example,), dynamic_shapes=(batch,))
    return nl.audit(program, sample=sample, **options)
