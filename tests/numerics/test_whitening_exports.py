"""Whitening groups in the torch module and the ONNX graph: the bits of lock.transform."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import normlock as nl
from normlock.errors import DomainError
from tests.export.parity import LEVELS, run_onnx

SPEC = {
    "features": {"e": "standard", "f": "minmax"},
    "groups": [
        {"columns": ["a", "c", "d"], "method": "zca", "nan": "error"},
        {"columns": ["b", "g"], "method": "pca", "components": 1, "outputs": ["pc"]},
        {"columns": ["h", "i"], "method": "cholesky", "shrinkage": 0.1},
    ],
}
NAMES = list("abcdefghi")


def training(rows: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(21)
    x = rng.normal(size=(rows, 9)) @ (np.eye(9) + 0.4 * rng.normal(size=(9, 9)))
    scales = rng.uniform(0.5, 3.0, 9) * [1, 1, 1, 1, 1, 1, 1, 1e-2, 1e-2]  # h, i: small
    return x * scales + rng.uniform(-1e3, 1e3, 9)


LOCK = nl.fit(training(), SPEC, names=NAMES)


def probes(dtype: type) -> np.ndarray:
    rng = np.random.default_rng(5)
    x = training(300) + rng.normal(scale=0.5, size=(300, 9))
    return x.astype(dtype)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_torch_module_gives_the_lock_s_bits(dtype: type) -> None:
    x = probes(dtype)
    expected = LOCK.transform(x)
    assert expected.shape == (300, len(LOCK.output_columns)) == (300, 8)
    module = LOCK.to_torch()
    assert same_bits(module(torch.from_numpy(x)).numpy(), expected)
    half = module(torch.from_numpy(x).to(torch.float16)).numpy()
    assert same_bits(half, LOCK.transform(x.astype(np.float16)))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_onnx_graph_gives_the_lock_s_bits_at_every_optimization_level(dtype, level) -> None:
    x = probes(dtype)
    out, invalid = run_onnx(LOCK.to_onnx(dtype=dtype.__name__), {"input": x}, level)
    assert same_bits(out, LOCK.transform(x))
    assert invalid.shape == out.shape and not invalid.any()


def test_rejected_rows_raise_in_torch_and_are_flagged_in_onnx() -> None:
    x = probes(np.float32)[:4].copy()
    x[1, NAMES.index("c")] = np.nan  # the zca group's policy is nan: error
    x[2, NAMES.index("h")] = 3e38  # finite, but its cholesky outputs overflow float32
    module = LOCK.to_torch()
    with pytest.raises(DomainError, match="NaN"):
        module(torch.from_numpy(x))
    with pytest.raises(DomainError, match="NaN"):
        LOCK.transform(x)
    _, invalid = run_onnx(LOCK.to_onnx(dtype="float32"), {"input": x})
    columns = LOCK.output_columns
    zca = [columns.index(c) for c in ("a", "c", "d")]
    cholesky = [columns.index(c) for c in ("h", "i")]
    assert invalid[1, zca].all() and not invalid[1, cholesky].any()
    assert invalid[2, cholesky].all() and not invalid[2, zca].any()
    assert not invalid[[0, 3]].any()
    overflow = x[[2]].copy()
    with pytest.raises(DomainError, match="group 'group2'"):
        module(torch.from_numpy(overflow))
    with pytest.raises(DomainError, match="group 'group2'"):
        LOCK.transform(overflow)
