"""A tabular model with a batch normalization at its input, and the locks it stands behind."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import normlock as nl
from tests.audit.models import calibrate


def raw_rows(rows: int = 1024, seed: int = 0) -> dict[str, np.ndarray]:
    """Three features in very different units."""
    rng = np.random.default_rng(seed)
    return {
        "age": rng.normal(40, 10, rows),
        "income": rng.normal(5e4, 1e4, rows),
        "ratio": rng.normal(-3, 0.5, rows),
    }


def matrix(columns: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack(list(columns.values()))


def labels(columns: dict[str, np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(
        ((columns["age"] - 40) / 10 + (columns["ratio"] + 3) / 0.5 > 0).astype(np.int64)
    )


def tabular_model() -> nn.Sequential:
    """Batch normalization at the input, then an MLP."""
    torch.manual_seed(0)
    return nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


def trained_on(inputs: np.ndarray, y: torch.Tensor) -> nn.Sequential:
    """The tabular model trained on ``inputs`` (20 steps of 64 rows), statistics recomputed."""
    model = tabular_model()
    x = torch.from_numpy(inputs.astype(np.float32))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model.train()
    for step in range(20):
        batch = slice((step * 64) % (len(x) - 64), (step * 64) % (len(x) - 64) + 64)
        loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return calibrate(model, x, batch_size=16)


def standard_lock(columns: dict[str, np.ndarray]) -> nl.Lock:
    return nl.fit(columns, {name: "standard" for name in columns})
