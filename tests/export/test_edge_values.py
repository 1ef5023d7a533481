"""NaN, infinities, values near the float maximum and outside a step's domain: the torch
module and the ONNX graph reject exactly what ``lock.transform`` rejects, and give its
bits for everything it keeps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import normlock as nl
from normlock.export.tolerance import allowed_difference
from normlock.export.torch_checks import COMPILED_MESSAGE

from .parity import LEVELS, assert_same_bits, fitted, kept, reference, rejected, run_onnx

POLICIES = [(nan, inf) for nan in ("keep", "error") for inf in ("error", "keep")]
DTYPES = [np.float64, np.float32]
TORCH_DTYPES = {np.float64: torch.float64, np.float32: torch.float32}


def _edge_lock() -> nl.Lock:
    """Per policy pair, a standard feature (std 0.25: values near the float maximum
    overflow) and a clipped min-max feature (they do not: the clip bounds them); and a
    passthrough column, which is never checked."""
    rng = np.random.default_rng(11)
    spec: dict = {}
    data = {}
    for nan, inf in POLICIES:
        spec[f"standard_{nan}_{inf}"] = {"method": "standard", "nan": nan, "inf": inf}
        data[f"standard_{nan}_{inf}"] = rng.normal(3.0, 0.25, 400)
        spec[f"clip_{nan}_{inf}"] = {"method": "minmax", "clip": True, "nan": nan, "inf": inf}
        data[f"clip_{nan}_{inf}"] = rng.normal(0.0, 1e-3, 400)
    spec["id"] = "passthrough"
    data["id"] = rng.normal(size=400)
    return nl.fit(data, spec)


EDGE = _edge_lock()
DOMAIN, DOMAIN_DATA = fitted(
    {
        "log": {"steps": [{"method": "log", "offset": 1.0}], "inf": "keep"},
        "log1p": {"steps": ["log1p", "standard"], "inf": "keep"},
        "box_cox": {"method": "box-cox", "inf": "keep"},
        "box_cox_raw": {"method": "box-cox", "standardize": False},
    }
)


def edge_values(dtype: type) -> np.ndarray:
    """NaN, ±inf, values at and near the dtype's maximum (some overflow after the
    division, some only when rounded to float32), tiny values, signed zeros, plain ones."""
    big = np.finfo(dtype).max
    values = [np.nan, np.inf, -np.inf, big, -big, np.nextafter(big, dtype(0)), big / 2]
    values += [-big / 4, big / 8, np.finfo(dtype).tiny, np.finfo(dtype).smallest_subnormal]
    values += [0.0, -0.0, 1.0, 3.0, -2.5]
    return np.array(values, dtype=dtype)


def domain_values(dtype: type) -> np.ndarray:
    """Values at, below and above every domain bound (0 for log and box-cox, -1 for
    log1p, -1 for a log with offset 1), with NaN and ±inf."""
    values = [np.nan, -np.inf, -2.0, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 1.0, 7.0, np.inf]
    return np.array(values, dtype=dtype)


def matrix(lock: nl.Lock, values: np.ndarray) -> np.ndarray:
    """Every value in every column."""
    return np.tile(values[:, None], (1, len(lock.columns)))


def test_the_edge_values_hit_every_policy_both_ways() -> None:
    """Each policy rejects some of the edge values and keeps others, so the tests can fail."""
    for dtype in DTYPES:
        x = matrix(EDGE, edge_values(dtype))
        mask = rejected(EDGE, x)
        for j, name in enumerate(EDGE.columns):
            column = mask[:, j]
            if name == "id":
                assert not column.any()
                continue
            feature = EDGE.feature(name)
            assert column[0] == (feature.nan == "error")
            assert column[1] == column[2] == (feature.inf == "error")
            overflows = name.startswith("standard")
            assert column[3] == overflows and column[6] == overflows  # big / 2: on rounding
            assert not column[8] and not column[-1]


# ---- ONNX: the normlock_invalid output -------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_onnx_flags_exactly_the_values_transform_rejects(dtype, level: str) -> None:
    x = matrix(EDGE, edge_values(dtype))
    expected, mask = reference(EDGE, x)
    out, invalid = run_onnx(EDGE.to_onnx(dtype=np.dtype(dtype).name), {"input": x}, level)
    assert invalid.dtype == bool and invalid.shape == x.shape
    assert np.array_equal(invalid, mask)
    assert_same_bits(kept(out, mask), kept(expected, mask), EDGE.columns)


@pytest.mark.parametrize("level", LEVELS)
def test_onnx_flags_follow_the_layout_of_per_feature_and_transposed_graphs(level: str) -> None:
    x = matrix(EDGE, edge_values(np.float32))
    expected, mask = reference(EDGE, x)
    per_feature = EDGE.to_onnx(per_feature=True)
    feeds = {name: x[:, [j]] for j, name in enumerate(EDGE.columns)}
    out, invalid = run_onnx(per_feature, feeds, level)
    assert np.array_equal(invalid, mask)
    assert_same_bits(kept(out, mask), kept(expected, mask))
    transposed = EDGE.to_onnx(feature_axis=0)
    out, invalid = run_onnx(transposed, {"input": np.ascontiguousarray(x.T)}, level)
    assert np.array_equal(invalid.T, mask)
    assert_same_bits(kept(out.T, mask), kept(expected, mask))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_onnx_flags_values_outside_a_steps_domain(dtype, level: str) -> None:
    x = matrix(DOMAIN, domain_values(dtype))
    expected, mask = reference(DOMAIN, x)
    assert mask.any() and not mask.all()
    out, invalid = run_onnx(DOMAIN.to_onnx(dtype=np.dtype(dtype).name), {"input": x}, level)
    assert np.array_equal(invalid, mask)
    accepted = np.where(mask, x.dtype.type(1.0), x)
    _assert_within_tolerance(DOMAIN, accepted, kept(out, mask), kept(expected, mask), "onnx")


def _assert_within_tolerance(lock, x, out, expected, runtime: str) -> None:
    """``out`` within the stated tolerance of ``expected``, the outputs for ``x``."""
    assert np.array_equal(np.isnan(out), np.isnan(expected))
    assert np.array_equal(np.isinf(out), np.isinf(expected))
    for j, name in enumerate(lock.columns):
        allowed = allowed_difference(lock.feature(name), x[:, j], runtime, x.dtype.type)
        with np.errstate(invalid="ignore"):
            gap = np.abs(out[:, j].astype(np.float64) - expected[:, j])
        assert np.all(np.nan_to_num(gap) <= np.nan_to_num(allowed, nan=0.0)), name


# ---- torch: eager errors, compiled and exported assertions -----------------------------


def _cases(lock: nl.Lock, values: np.ndarray) -> list[np.ndarray]:
    """Two plain rows with one edge value placed in one column, for every value and column."""
    cases = []
    for j in range(len(lock.columns)):
        for value in values:
            x = np.full((2, len(lock.columns)), 3.0, dtype=values.dtype)
            x[1, j] = value
            cases.append(x)
    return cases


def _outcome(run, x: np.ndarray):
    """``("ok", output)`` or ``("error", type, message)``; ``run`` is ``lock.transform``
    or a torch module."""
    try:
        if isinstance(run, torch.nn.Module):
            with torch.no_grad():
                return ("ok", run(torch.from_numpy(x)).numpy())
        return ("ok", run(x))
    except (nl.DomainError, RuntimeError) as error:
        return ("error", type(error), str(error))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("lock", [EDGE, DOMAIN], ids=["policies", "domains"])
def test_torch_eager_raises_what_transform_raises_with_its_message(lock, dtype) -> None:
    module = lock.to_torch()
    values = edge_values(dtype) if lock is EDGE else domain_values(dtype)
    for x in [*_cases(lock, values), matrix(lock, values)]:
        expected = _outcome(lock.transform, x)
        got = _outcome(module, x)
        if expected[0] == "error":
            assert got == expected, (x, got)
        elif lock is EDGE:
            assert got[0] == "ok", (x, got)
            assert_same_bits(got[1], expected[1], lock.columns)
        else:
            assert got[0] == "ok", (x, got)
            _assert_within_tolerance(lock, x, got[1], expected[1], "torch")


def _export(module: torch.nn.Module, dtype: type) -> torch.nn.Module:
    example = torch.ones((4, len(module.columns)), dtype=TORCH_DTYPES[dtype])
    rows = torch.export.Dim("rows")
    return torch.export.export(module, (example,), dynamic_shapes={"x": {0: rows}}).module()


@pytest.fixture(scope="module")
def compiled_edge_modules() -> dict[str, object]:
    module = EDGE.to_torch()
    return {
        "compiled": torch.compile(module, dynamic=True, fullgraph=True),
        "exported float64": _export(module, np.float64),
        "exported float32": _export(module, np.float32),
    }


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", ["compiled", "exported"])
def test_torch_compiled_and_exported_assert_where_transform_raises(
    compiled_edge_modules, kind: str, dtype
) -> None:
    run = compiled_edge_modules[kind if kind == "compiled" else f"exported {dtype.__name__}"]
    values = edge_values(dtype)
    for x in [*_cases(EDGE, values), matrix(EDGE, values)]:
        expected = _outcome(EDGE.transform, x)
        got = _outcome(run, x)
        if expected[0] == "error":
            assert got == ("error", RuntimeError, COMPILED_MESSAGE), (x, got)
        else:
            assert got[0] == "ok", (x, got)
            assert_same_bits(got[1], expected[1], EDGE.columns)


def test_torch_compiled_asserts_outside_a_steps_domain() -> None:
    compiled = torch.compile(DOMAIN.to_torch(), dynamic=True, fullgraph=True)
    for x in _cases(DOMAIN, domain_values(np.float64)):
        expected = _outcome(DOMAIN.transform, x)
        got = _outcome(compiled, x)
        assert (got[0] == "error") == (expected[0] == "error"), (x, got)
        if got[0] == "error":
            assert got[1:] == (RuntimeError, COMPILED_MESSAGE)


def test_torch_rows_of_an_image_tensor_count_positions_along_the_other_dimensions() -> None:
    lock = nl.fit(
        {c: np.random.default_rng(1).normal(size=50) for c in ("r", "g", "b")},
        {c: {"method": "standard", "nan": "error"} for c in ("r", "g", "b")},
    )
    images = torch.zeros(2, 3, 4, 5, dtype=torch.float64)  # NCHW, channels on dim 1
    images[1, 2, 0, 3] = float("nan")
    images.requires_grad_()  # a tensor in an autograd graph is read for the message too
    with pytest.raises(nl.DomainError, match=r"feature 'b', row 24: NaN/missing value"):
        lock.to_torch(feature_dim=1)(images)  # (n=1, h=0, w=3): position 23


def test_passthrough_columns_are_never_checked() -> None:
    lock = nl.fit(
        {"a": np.arange(5.0), "b": np.arange(5.0)}, {"a": "passthrough", "b": "passthrough"}
    )
    x = matrix(lock, edge_values(np.float32))
    out, invalid = run_onnx(lock.to_onnx(), {"input": x})
    assert invalid.shape == x.shape and not invalid.any()
    assert_same_bits(out, lock.transform(x))
    with torch.no_grad():
        assert_same_bits(lock.to_torch()(torch.from_numpy(x)).numpy(), lock.transform(x))
