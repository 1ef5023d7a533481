"""For any affine parameters and inputs, torch and ONNX Runtime give numpy's bits, and
reject what lock.transform rejects."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import normlock as nl
from normlock.chain import Step
from normlock.export.imported import imported_lock

from .parity import LEVELS, assert_same_bits, kept, normalize_onnx, reference, run_onnx

LIMITS = {np.float64: 1e100, np.float32: 1e15}
"""Bounds on parameters and inputs that keep every output finite in the dtype."""


def affine_steps(data: st.DataObject, limit: float) -> list[Step]:
    finite = st.floats(-limit, limit)
    scale = data.draw(st.floats(1 / limit, limit))
    kind = data.draw(st.sampled_from(["standard", "robust", "maxabs", "minmax"]))
    if kind == "standard":
        params = {"with_mean": True, "with_std": True, "ddof": 0}
        return [Step(kind, {**params, "mean": data.draw(finite), "std": scale})]
    if kind == "robust":
        options = {"with_centering": True, "with_scaling": True, "unit_variance": False}
        extra = {"quantile_range": [25.0, 75.0], "q_low": None, "q_high": None, "iqr": None}
        values = {"median": data.draw(finite), "scale": scale, "rank_error": 0.0}
        return [Step(kind, {**options, **extra, **values})]
    if kind == "maxabs":
        return [Step(kind, {"max_abs": scale})]
    pair = st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2, unique=True)
    low, high = sorted(data.draw(pair))
    minimum = data.draw(st.floats(-limit / 2, limit / 2))
    params = {"feature_range": [low, high], "clip": data.draw(st.booleans())}
    return [Step(kind, {**params, "min": minimum, "max": minimum + scale / 2})]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@settings(max_examples=30)
@given(data=st.data())
def test_torch_and_onnx_match_numpy_for_any_affine_parameters(dtype, data) -> None:
    limit = LIMITS[dtype]
    lock = imported_lock({"a": affine_steps(data, limit)}, ["a"], source="test", details={})
    elements = st.floats(-limit, limit) | st.sampled_from([0.0, -0.0, np.nan])
    x = data.draw(arrays(np.float64, st.integers(1, 30), elements=elements)).astype(dtype)[:, None]
    expected = lock.transform(x)
    assert_same_bits(lock.to_torch()(torch.from_numpy(x)).numpy(), expected)
    out = normalize_onnx(lock.to_onnx(dtype=np.dtype(dtype).name), {"input": x})
    assert_same_bits(out, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_a_clip_to_a_range_end_of_minus_zero_gives_one_zero_everywhere(dtype) -> None:
    params = {"feature_range": [-0.0, 1.0], "clip": True, "min": 1.0, "max": 1.5}
    lock = imported_lock({"a": [Step("minmax", params)]}, ["a"], source="test", details={})
    x = np.array([[0.0], [-0.0], [2.0]], dtype=dtype)
    expected = lock.transform(x)
    assert not np.signbit(expected[0, 0])
    assert_same_bits(lock.to_torch()(torch.from_numpy(x)).numpy(), expected)
    out = normalize_onnx(lock.to_onnx(dtype=np.dtype(dtype).name), {"input": x})
    assert_same_bits(out, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_torch_and_onnx_reject_and_keep_what_transform_does_for_any_input(dtype, data) -> None:
    """Any policies, any affine parameters, any input (NaN, ±inf, up to the float
    maximum): torch raises transform's error or gives its bits; ONNX Runtime, at any
    optimization level, flags the values transform rejects and gives its bits elsewhere."""
    lock = imported_lock({"a": affine_steps(data, LIMITS[dtype])}, ["a"], source="test", details={})
    policies = {
        "nan": data.draw(st.sampled_from(["keep", "error"])),
        "inf": data.draw(st.sampled_from(["error", "keep"])),
    }
    lock = replace(lock, features=(replace(lock.features[0], **policies),))
    elements = st.floats(width=32 if dtype == np.float32 else 64)
    x = data.draw(arrays(dtype, st.integers(1, 30), elements=elements))[:, None]
    try:
        expected = lock.transform(x)
    except nl.DomainError as error:
        with pytest.raises(nl.DomainError) as raised:
            lock.to_torch()(torch.from_numpy(x))
        assert str(raised.value) == str(error)
    else:
        assert_same_bits(lock.to_torch()(torch.from_numpy(x)).numpy(), expected)
    level = data.draw(st.sampled_from(list(LEVELS)))
    out, invalid = run_onnx(lock.to_onnx(dtype=np.dtype(dtype).name), {"input": x}, level)
    canonical, mask = reference(lock, x)
    assert np.array_equal(invalid, mask)
    assert_same_bits(kept(out, mask), kept(canonical, mask))
