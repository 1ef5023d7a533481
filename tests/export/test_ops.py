"""Each method's formula is one sequence of operations, which every runtime implements."""

from __future__ import annotations

import numpy as np
import pytest

from normlock.export.onnx_ops import EMITTERS
from normlock.export.torch_module import _MODULES
from normlock.methods import METHODS, get_method
from normlock.methods.ops import ARGUMENTS, EXACT, NONLINEAR, Op, affine, run

from .parity import AFFINE_SPEC, NONLINEAR_SPEC, fitted


def test_every_operation_has_arguments_a_torch_module_and_an_onnx_emitter() -> None:
    kinds = set(ARGUMENTS)
    assert kinds == set(EXACT) | {"log", "log1p"} | set(NONLINEAR)
    assert set(_MODULES) == kinds
    assert set(EMITTERS) == kinds


def test_every_method_describes_itself_with_known_operations() -> None:
    lock, _ = fitted({**AFFINE_SPEC, **NONLINEAR_SPEC, "kept": "identity"})
    seen = set()
    for feature in lock.features:
        for step in feature.steps:
            for op in get_method(step.method).ops(step.params):
                assert op.kind in ARGUMENTS
                assert len(op.args) == len(ARGUMENTS[op.kind])
            seen.add(step.method)
    assert seen == set(METHODS)


def test_affine_methods_are_sub_then_true_division() -> None:
    standard = get_method("standard")
    params = {"with_mean": True, "with_std": True, "ddof": 0, "mean": 3.0, "std": 7.0}
    assert standard.ops(params) == affine(3.0, 7.0) == (Op("sub", (3.0,)), Op("div", (7.0,)))
    assert get_method("maxabs").ops({"max_abs": 0.0}) == (Op("div", (1.0,)),)


@pytest.mark.parametrize(
    ("feature_range", "clip", "kinds"),
    [
        ([0.0, 1.0], False, ["sub", "div"]),
        ([0.0, 1.0], True, ["sub", "div", "clip"]),
        ([-1.0, 3.0], False, ["sub", "div", "mul", "add"]),
        ([-1.0, 3.0], True, ["sub", "div", "mul", "add", "clip"]),
    ],
)
def test_minmax_operations_follow_the_canonical_order(feature_range, clip, kinds) -> None:
    params = {"feature_range": feature_range, "clip": clip, "min": 2.0, "max": 6.0}
    ops = get_method("minmax").ops(params)
    assert [op.kind for op in ops] == kinds
    low, high = feature_range
    assert ops[1].args == (4.0,)  # max - min, divided by, never multiplied by its reciprocal
    if len(kinds) > 3:
        assert ops[2].args == (high - low,) and ops[3].args == (low,)
    x = np.array([2.0, 6.0, 4.0, 10.0, -0.0, np.nan])
    expected = (x - 2.0) / 4.0
    if (low, high) != (0.0, 1.0):
        expected = low + expected * (high - low)
    if clip:
        expected = np.clip(expected, low, high)
    assert np.array_equal(run(ops, x), expected, equal_nan=True)


def test_numpy_clip_keeps_nan_and_negative_zero_as_the_exports_must() -> None:
    out = run((Op("clip", (0.0, 1.0)),), np.array([-0.0, np.nan, -1.0, 2.0, 0.5]))
    assert np.signbit(out[0]) and np.isnan(out[1])
    assert out[2:].tolist() == [0.0, 1.0, 0.5]
