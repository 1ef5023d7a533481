"""Small real models for the audit tests, their data, and how they are trained."""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import torch
from torch import nn

IMAGE = (3, 8, 8)


def images(rows: int, seed: int = 0, shift: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalized-looking images whose class sets the mean of channel 0 (plus ``shift``)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (rows,), generator=g)
    x = torch.randn((rows, *IMAGE), generator=g)
    x[:, 0] += 1.5 * labels[:, None, None].float()
    return x + shift, labels


class ConvNet(nn.Module):
    """Two convolutions with batch (or group) normalization, pooled, one linear layer
    (the same initial weights every time)."""

    def __init__(self, norm: str = "batch", **options: object) -> None:
        super().__init__()
        torch.manual_seed(0)
        layer = {
            "batch": lambda c: nn.BatchNorm2d(c, **options),
            "group": lambda c: nn.GroupNorm(2, c, **options),
        }[norm]
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = layer(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn2 = layer(8)
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.head(x.mean(dim=(2, 3)))


class RMSNorm(nn.Module):
    """A hand-written RMSNorm (torch's own has no ONNX export before opset 23)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Block(nn.Module):
    """A pre-norm transformer block: LayerNorm, self-attention, RMSNorm, MLP."""

    def __init__(self, dim: int = 8, eps: float = 1e-3, rms: str = "hand") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.ln = nn.LayerNorm(dim, eps=eps)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.rms = RMSNorm(dim, eps) if rms == "hand" else nn.RMSNorm(dim, eps=eps)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.ln(x)).chunk(3, dim=-1)
        weights = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
        x = x + weights @ v
        return x + self.mlp(self.rms(x))


def train(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, steps: int
) -> nn.Module:
    """``steps`` SGD steps on batches of ``batch_size`` drawn in order (wrapping), then eval()."""
    torch.manual_seed(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for step in range(steps):
        start = (step * batch_size) % (len(x) - batch_size + 1)
        batch = slice(start, start + batch_size)
        loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def calibrate(model: nn.Module, x: torch.Tensor, batch_size: int = 64) -> nn.Module:
    """Recompute every batch normalization's running statistics as an exact average over
    ``x`` (momentum None), then eval(): the statistics describe the data."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            model(x[start : start + batch_size])
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    return model.eval()


def to_onnx(
    model: nn.Module, example: torch.Tensor, *, training: bool = False, opset: int = 17
) -> onnx.ModelProto:
    """``model`` exported with torch's TorchScript-based exporter (batch dimension dynamic)."""
    mode = torch.onnx.TrainingMode.PRESERVE if training else torch.onnx.TrainingMode.EVAL
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            buffer,
            dynamo=False,
            opset_version=opset,
            training=mode,
            do_constant_folding=not training,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        )
    return onnx.load_from_string(buffer.getvalue())


def run_onnx(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    """Every output of ``model`` on ``x`` in onnxruntime."""
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})
