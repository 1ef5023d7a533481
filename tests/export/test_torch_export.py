"""The torch module gives lock.transform's bits, eager, compiled and exported."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import normlock as nl
from normlock.export.tolerance import allowed_difference

from .parity import (
    AFFINE_SPEC,
    NONLINEAR_SPEC,
    assert_same_bits,
    fitted,
    inputs,
    probe_matrix,
)

AFFINE, AFFINE_DATA = fitted(AFFINE_SPEC)
NONLINEAR, NONLINEAR_DATA = fitted(NONLINEAR_SPEC)
DTYPES = [np.float64, np.float32]
TORCH_DTYPES = {np.float64: torch.float64, np.float32: torch.float32}


def _export(module: torch.nn.Module, dtype: type) -> torch.nn.Module:
    example = torch.zeros((4, len(module.columns)), dtype=TORCH_DTYPES[dtype])
    rows = torch.export.Dim("rows")
    program = torch.export.export(module, (example,), dynamic_shapes={"x": {0: rows}})
    return program.module()


@pytest.fixture(scope="module")
def affine_runtimes() -> dict[str, object]:
    """Eager, compiled (inductor) and exported versions of the affine lock's module."""
    module = AFFINE.to_torch()
    return {
        "eager": module,
        "compiled": torch.compile(module, dynamic=True, fullgraph=True),
        "exported float64": _export(module, np.float64),
        "exported float32": _export(module, np.float32),
    }


def _run(runtime, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return runtime(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", ["eager", "compiled", "exported"])
def test_affine_methods_are_bit_identical_to_numpy(affine_runtimes, kind: str, dtype) -> None:
    runtime = affine_runtimes[kind if kind != "exported" else f"exported {dtype.__name__}"]
    x = inputs(AFFINE, AFFINE_DATA).astype(dtype)
    assert_same_bits(_run(runtime, x), AFFINE.transform(x), AFFINE.columns)
    probes, expected = probe_matrix(AFFINE, dtype.__name__)
    assert_same_bits(_run(runtime, probes), expected, AFFINE.columns)


def test_the_parity_data_would_catch_a_reciprocal_multiply() -> None:
    """(x - c) * (1 / s) differs from (x - c) / s on these inputs, so the test above can fail."""
    x = inputs(AFFINE, AFFINE_DATA)[:, list(AFFINE.columns).index("offset")]
    feature = AFFINE.feature("offset")
    params = feature.steps[0].params
    divided = (x - params["mean"]) / params["std"]
    multiplied = (x - params["mean"]) * (1.0 / params["std"])
    assert np.sum(divided != multiplied) > 10
    assert np.array_equal(feature.apply(x), divided, equal_nan=True)


def test_integers_become_float64_like_lock_transform() -> None:
    x = np.arange(-3 * len(AFFINE.columns), 3 * len(AFFINE.columns)).reshape(6, -1)
    assert_same_bits(_run(AFFINE.to_torch(), x), AFFINE.transform(x))


def test_state_dict_holds_every_parameter_and_round_trips() -> None:
    other, _ = fitted(AFFINE_SPEC, seed=99)
    source, target = AFFINE.to_torch(), other.to_torch()
    state = source.state_dict()
    assert state and all(t.dtype == torch.float64 for t in state.values())
    assert "groups.0.stages.1.value" in state  # the first group's divisors
    x = inputs(AFFINE, AFFINE_DATA)
    assert not np.array_equal(_run(target, x), _run(source, x), equal_nan=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    target.load_state_dict(torch.load(buffer, weights_only=True))
    assert_same_bits(_run(target, x), AFFINE.transform(x))


def test_dtype_casts_set_the_output_dtype_and_never_round_the_constants() -> None:
    module = AFFINE.to_torch()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    x = inputs(AFFINE, AFFINE_DATA)
    x32 = x.astype(np.float32)
    canonical = AFFINE.transform(x32.astype(np.float64))
    fits = ~np.any(np.abs(canonical) > np.finfo(np.float16).max, axis=1)  # NaN fits
    x32, canonical = x32[fits], torch.from_numpy(canonical[fits])
    wrapped = torch.nn.Sequential(module).half()  # a parent's cast reaches the module
    out = wrapped(torch.from_numpy(x32))
    assert out.dtype == torch.float16
    assert torch.equal(out.isnan(), canonical.isnan())
    assert torch.equal(out.nan_to_num(), canonical.to(torch.float16).nan_to_num())
    for key, value in module.state_dict().items():
        assert value.dtype == torch.float64 and torch.equal(value, before[key])
    x16 = np.clip(x, -6e4, 6e4).astype(np.float16)  # 'offset' (mean 1e6, std 1e-3) overflows
    with pytest.raises(nl.DomainError, match=r"feature 'offset', row 0: .* non-finite float16"):
        wrapped(torch.from_numpy(x16))
    module.to(torch.float64)
    x32 = x.astype(np.float32)
    assert_same_bits(_run(module, x32), AFFINE.transform(x32.astype(np.float64)))
    module.to(torch.device("meta"))
    assert all(v.device.type == "meta" for v in module.state_dict().values())
    with pytest.raises(nl.InputError, match="cannot become"):
        AFFINE.to_torch().type(torch.int32)


def test_wrong_width_names_the_columns() -> None:
    with pytest.raises(nl.InputError, match="has 2 entries along dimension -1 but the lock has"):
        AFFINE.to_torch()(torch.zeros(3, 2))


# ---- non-linear methods: within the stated tolerance ---------------------------------


def _within_tolerance(lock: nl.Lock, x: np.ndarray, out: np.ndarray, runtime: str) -> None:
    expected = lock.transform(x)
    assert out.dtype == expected.dtype
    assert np.array_equal(np.isnan(out), np.isnan(expected))
    for j, name in enumerate(lock.columns):
        allowed = allowed_difference(lock.feature(name), x[:, j], runtime, x.dtype.type)
        gap = np.abs(out[:, j].astype(np.float64) - expected[:, j])
        gap = np.where(np.isnan(expected[:, j]), 0.0, gap)
        worst = int(np.argmax(gap - allowed))
        assert gap[worst] <= allowed[worst], (name, x[worst, j], gap[worst], allowed[worst])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", ["eager", "exported"])
def test_nonlinear_methods_agree_within_the_stated_ulps(kind: str, dtype) -> None:
    module = NONLINEAR.to_torch()
    runtime = module if kind == "eager" else _export(module, dtype)
    x = inputs(NONLINEAR, NONLINEAR_DATA).astype(dtype)
    _within_tolerance(NONLINEAR, x, _run(runtime, x), "torch")


def test_nonlinear_methods_compiled_agree_within_the_stated_ulps() -> None:
    compiled = torch.compile(NONLINEAR.to_torch(), dynamic=True, fullgraph=True)
    x = inputs(NONLINEAR, NONLINEAR_DATA)
    _within_tolerance(NONLINEAR, x, _run(compiled, x), "torch")


def test_uniform_quantile_map_is_bit_identical() -> None:
    x = inputs(NONLINEAR, NONLINEAR_DATA)
    column = list(NONLINEAR.columns).index("quantile")
    out = _run(NONLINEAR.to_torch(), x)[:, [column]]
    assert_same_bits(out, NONLINEAR.transform(x)[:, [column]])
