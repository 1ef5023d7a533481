"""Models trained once per test session: the same convolutional network trained well
(batches of 64, statistics recomputed over the data), for a few steps only, and with
batches of 2."""

from __future__ import annotations

import copy

import pytest
import torch

from tests.audit.models import ConvNet, calibrate, images, train


@pytest.fixture(scope="session")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    """Training images and labels."""
    return images(640)


@pytest.fixture(scope="session")
def held_out() -> torch.Tensor:
    """Images from the training distribution that the models never saw."""
    return images(256, seed=1)[0]


@pytest.fixture(scope="session")
def _healthy(data: tuple[torch.Tensor, torch.Tensor]) -> ConvNet:
    x, y = data
    return calibrate(train(ConvNet(), x, y, batch_size=64, steps=40), x, batch_size=16)


@pytest.fixture
def healthy(_healthy: ConvNet) -> ConvNet:
    """Trained with batches of 64, statistics recomputed over the data, eval(): a copy
    each test may break."""
    return copy.deepcopy(_healthy)


@pytest.fixture(scope="session")
def few_steps(data: tuple[torch.Tensor, torch.Tensor]) -> ConvNet:
    """Trained for 3 steps with batches of 64: its running statistics are mostly initial."""
    x, y = data
    return train(ConvNet(), x, y, batch_size=64, steps=3)


@pytest.fixture(scope="session")
def small_batches(data: tuple[torch.Tensor, torch.Tensor]) -> ConvNet:
    """Trained for 40 steps with batches of 2."""
    x, y = data
    return train(ConvNet(), x, y, batch_size=2, steps=40)
